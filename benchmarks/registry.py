"""What does the host-local registry (host_running_at_start) add to each attempt? (issue 13)

The registry is on the job's path: an attempt registers just before its clock starts and
releases right after it stops. Measured here, per attempt, in one process:

1. register + release (collectors.registry), with 0, 3, 15 and 63 other live entries in the
   folder (the count tests each with a non-blocking flock): wall and CPU microseconds, in a
   folder in memory (/dev/shm, the default) and on the disk (/tmp).
2. the whole attempt API bookkeeping (start_attempt + finish, no probe input, no sampler,
   in-memory sink) with the registry against the same with the registry made unavailable
   (MEDIAJOB_HOST_REGISTRY on a path under a regular file: mkdir fails at once), so the
   difference is the registry's cost inside an attempt.

    .venv/bin/python benchmarks/registry.py [--runs 400]

Results: benchmarks/results/registry.json (medians and p90, microseconds). The machine is
shared, so wall figures carry the load they ran at.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors import InMemorySink, config, start_attempt  # noqa: E402
from collectors.registry import Entry, register, registry_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "registry.json"


def _timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w0) * 1e6)
        cpu.append((time.process_time() - c0) * 1e6)
    wall.sort()
    return {
        "wall_us_p50": round(statistics.median(wall), 1),
        "wall_us_p90": round(wall[int(0.9 * (len(wall) - 1))], 1),
        "cpu_us_mean": round(statistics.fmean(cpu), 1),
    }


def _register_release(folder: Path, runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for others in (0, 3, 15, 63):
        held: list[Entry] = [register(f"other-{i}", folder) for i in range(others)]
        names = (f"bench-{i}" for i in range(10**9))

        def once(names: Iterator[str] = names, others: int = others) -> None:
            entry = register(next(names), folder)
            assert entry.running_at_start == others + 1
            entry.release()

        result[f"{others}_others"] = _timed(once, runs)
        for e in held:
            e.release()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=400)
    args = ap.parse_args()
    os.environ[config.AWS_INSTANCE_TYPE] = "c7i.large"
    out: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "runs": args.runs,
    }
    out["default_folder"] = str(registry_dir())
    for where, base in (("memory_dev_shm", "/dev/shm"), ("disk_tmp", None)):
        if base is not None and not Path(base).is_dir():
            continue
        with tempfile.TemporaryDirectory(prefix="registry-bench-", dir=base) as tmp:
            out[f"register_release_{where}"] = _register_release(Path(tmp) / "running",
                                                                 args.runs)
    with tempfile.TemporaryDirectory(prefix="registry-bench-", dir="/dev/shm") as tmp:
        folder = Path(tmp) / "running"

        sink = InMemorySink()

        def bookkeeping() -> None:
            a = start_attempt("upload_thumb_v1", "job", sink=sink, sampler=None)
            a.finish()
            sink.rows.clear()

        os.environ[config.MEDIAJOB_HOST_REGISTRY] = str(folder)
        bookkeeping()  # host facts and the ffmpeg version, once per process, not counted
        with_registry = _timed(bookkeeping, args.runs)
        blocker = Path(tmp) / "file"
        blocker.write_text("")
        os.environ[config.MEDIAJOB_HOST_REGISTRY] = str(blocker / "running")
        without = _timed(bookkeeping, args.runs)
        out["attempt_bookkeeping"] = {
            "with_registry": with_registry,
            "registry_unavailable": without,
            "registry_share_wall_us_p50": round(
                with_registry["wall_us_p50"] - without["wall_us_p50"], 1),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
