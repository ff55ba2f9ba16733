"""The concurrency curve of this machine, as `mjcollect bench` measures it (issue 13).

Runs `mjcollect bench --concurrency 1,2` over the four job types into a temporary dataset, then
reads it back with `mjplan density`'s core (planner.density) and writes, per job type and level:
attempts, RTF per attempt, one instance's throughput and the slowdown against level 1.

    .venv/bin/python benchmarks/bench_curve.py [--seconds 45] [--input-seconds 10]
        [--classes h264_1080p,aac_audio --out benchmarks/results/bench_curve_1080p.json]

One class per job type (`--classes`) keeps the input mix the same at every level, so the
levels differ by concurrency alone.

Results: benchmarks/results/bench_curve.json, with the 1-minute load average before and after
the run: the machine's 2 cores are shared with other people's work, so the figures are those of
a loaded machine, not of an idle one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.dataset import open_dataset  # noqa: E402
from planner.density import density_curve  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_curve.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=45.0, help="seconds per step")
    ap.add_argument("--input-seconds", type=float, default=10.0)
    ap.add_argument("--cache", type=Path, default=Path("~/.cache/mediajobs/bench-inputs"))
    ap.add_argument("--classes", help="input classes (mjcollect bench --classes; default all)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-curve-") as tmp:
        data = Path(tmp) / "ds"
        env = {**os.environ, "MEDIAJOB_METRICS_SPOOL": str(Path(tmp) / "spool"),
               "MEDIAJOB_HOST_REGISTRY": str(Path(tmp) / "running"),
               "AWS_EC2_METADATA_DISABLED": "true"}
        argv = [str(Path(sys.executable).with_name("mjcollect")), "bench", "--out", str(data),
                "--concurrency", "1,2", "--seconds", f"{args.seconds:g}",
                "--input-seconds", f"{args.input_seconds:g}",
                "--cache", str(args.cache.expanduser()),
                *(["--classes", args.classes] if args.classes else [])]
        t0 = time.monotonic()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - t0
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        ds = open_dataset(str(data))
        try:
            curve = density_curve(ds, min_attempts=1)
        finally:
            ds.close()
    rows: list[dict[str, Any]] = [
        {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()
         if k in ("job_type", "running", "attempts", "rtf", "service_s", "throughput",
                  "throughput_unit", "slowdown")}
        for r in curve.to_dicts()
    ]
    out = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["mjcollect", *argv[1:]]),
        "cpus": os.cpu_count(),
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "note": "2 cores shared with other engineers' test runs: figures of a loaded machine",
        "wall_s": round(wall, 1),
        "bench_output": done.stdout.strip().splitlines(),
        "curve": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
