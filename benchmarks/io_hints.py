"""What do the I/O hints add to one attempt? (issue 18's benchmark)

1. phase bookkeeping: one `a.phase(name)` block (start + end) in an attempt without a sink or
   sampler, and `start_attempt + finish` with four phases against the same without any (the
   row's phase and rate columns included): wall and CPU microseconds.
2. io counters: what the sampler adds for them, per attempt and per sample:
   - the tree's io counters read at start() and at stop() (`_tree_io`: our own /proc/PID/io,
     the children listing, each child's counters), with 0 and with 3 live children;
   - per sample, the two reads of the sampling thread's own counters (/proc/thread-self/io)
     that let its /proc reads be subtracted;
   - how many bytes of /proc one sample reads (what would otherwise be counted as the job's).
3. the whole sampler (`children_sampler` start + stop around a job of `--job-ms` whose child
   is a sleeping process), its own CPU (`sampler_cpu_s`), for scale.

    .venv/bin/python benchmarks/io_hints.py [--runs 2000] [--job-ms 300]

Results: benchmarks/results/io_hints.json (medians, p10/p90). CPU figures (thread_time) are
steadier than wall figures on a shared machine; the load average is recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from benchmarks.collector_overhead import _stats  # noqa: E402 - one summary shape for both
from collectors import InMemorySink, start_attempt  # noqa: E402
from collectors.sampler import children_sampler, thread_io, tree_sampler  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "io_hints.json"
PHASES = ("download", "probe", "transcode", "upload")


def repeat_us(fn: Callable[[], Any], runs: int) -> dict[str, dict[str, float]]:
    """Wall and CPU (this thread) microseconds of `fn`, per run."""
    wall, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.thread_time(), time.perf_counter()
        fn()
        t1, c1 = time.perf_counter(), time.thread_time()
        wall.append((t1 - t0) * 1e6)
        cpu.append((c1 - c0) * 1e6)
    return {"wall_us": _stats(wall), "cpu_us": _stats(cpu)}


def one_phase(runs: int) -> dict[str, dict[str, float]]:
    a = start_attempt("upload_thumb_v1", "bench-phase", sink=None, sampler=None)

    def block() -> None:
        with a.phase("transcode"):
            pass

    out = repeat_us(block, runs)
    a.finish()
    return out


def attempt_with_phases(runs: int, phases: tuple[str, ...]) -> dict[str, dict[str, float]]:
    sink = InMemorySink()

    def run() -> None:
        a = start_attempt("upload_thumb_v1", "bench-attempt", sink=sink, sampler=None)
        for name in phases:
            a.phase_start(name)
            a.phase_end(name)
        a.finish()

    out = repeat_us(run, runs)
    assert all(r["metrics_error"] is None for r in sink.rows)
    return out


def tree_io(runs: int, children: int) -> dict[str, Any]:
    """`_tree_io` of the attempt API's sampler (children=0: only our own counters, as at
    start()) or of a tree_sampler on a shell with `children` sleeping children (its root's
    counters and each child's, as at stop() with live children)."""
    if children == 0:
        sampler = children_sampler(interval=600)
        sampler.start()
        out = repeat_us(sampler._tree_io, runs)  # noqa: SLF001 - the part being measured
        sampler.stop()
        return out
    script = " ".join(["sleep 30 &"] * children) + " wait"
    root = subprocess.Popen(["sh", "-c", script])
    try:
        while len(psutil.Process(root.pid).children()) < children:
            time.sleep(0.01)
        sampler = tree_sampler(root.pid, interval=600)
        sampler.start()
        out = repeat_us(sampler._tree_io, runs)  # noqa: SLF001
        sampler.stop()
        return out
    finally:
        for proc in psutil.Process(root.pid).children():
            proc.kill()
        root.kill()
        root.wait()


def proc_bytes_per_sample(samples: int) -> dict[str, Any]:
    """Bytes of /proc one sample reads (the sampler subtracts them), and the two thread_io
    reads around it."""
    sampler = children_sampler(interval=600)
    child = subprocess.Popen(["sleep", "30"])
    try:
        sampler.start()
        before = sampler._own_io  # noqa: SLF001 - the figure being measured
        for _ in range(samples):
            sampler.sample_now()
        read = (sampler._own_io.read - before.read) / samples  # noqa: SLF001
        sampler.stop()
    finally:
        child.kill()
        child.wait()
    processes = sum(1 for name in os.listdir("/proc") if name.isdigit())
    return {"proc_bytes_read_per_sample": round(read), "processes_on_machine": processes}


def whole_sampler(runs: int, job_ms: int) -> dict[str, Any]:
    sampler_cpu, wall = [], []
    for _ in range(runs):
        s = children_sampler()
        t0 = time.perf_counter()
        s.start()
        subprocess.run(["sleep", f"{job_ms / 1000:.3f}"], check=True)
        summary = s.stop()
        wall.append((time.perf_counter() - t0) * 1000)
        sampler_cpu.append(summary.sampler_cpu_s * 1000)
        assert summary.bytes_read is not None
    return {"attempt_wall_ms": _stats(wall, 1), "sampler_cpu_ms": _stats(sampler_cpu, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--job-ms", type=int, default=300)
    args = parser.parse_args()
    out: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "loadavg_1m_before": round(os.getloadavg()[0], 2)},
        "command": f"benchmarks/io_hints.py --runs {args.runs} --job-ms {args.job_ms}",
    }
    out["one_phase_block"] = one_phase(args.runs)
    out["attempt_no_phase"] = attempt_with_phases(args.runs // 4, ())
    out["attempt_four_phases"] = attempt_with_phases(args.runs // 4, PHASES)
    out["tree_io_0_children"] = tree_io(args.runs // 4, 0)
    out["tree_io_3_children"] = tree_io(args.runs // 4, 3)
    out["thread_io_read"] = repeat_us(thread_io, args.runs)
    out["per_sample"] = proc_bytes_per_sample(50)
    out["whole_sampler"] = whole_sampler(20, args.job_ms)
    out["machine"]["loadavg_1m_after"] = round(os.getloadavg()[0], 2)

    four = out["attempt_four_phases"]["cpu_us"]["median"]
    none = out["attempt_no_phase"]["cpu_us"]["median"]
    tree = out["tree_io_0_children"]["cpu_us"]["median"]
    thread = out["thread_io_read"]["cpu_us"]["median"]
    out["per_attempt"] = {
        "phase_bookkeeping_4_phases_cpu_us": round(four - none, 1),
        # start() and stop() each read the tree's counters once (and the thread's counters
        # twice around it); every sample reads the thread's counters twice.
        "io_counters_start_stop_cpu_us": round(2 * tree + 4 * thread, 1),
        "io_counters_per_sample_cpu_us": round(2 * thread, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    summary = {
        **out["per_attempt"],
        "one_phase_block_cpu_us": out["one_phase_block"]["cpu_us"]["median"],
        "tree_io_3_children_cpu_us": out["tree_io_3_children"]["cpu_us"]["median"],
        "proc_bytes_read_per_sample": out["per_sample"]["proc_bytes_read_per_sample"],
        "whole_sampler_cpu_ms": out["whole_sampler"]["sampler_cpu_ms"]["median"],
        "loadavg_1m": [out["machine"]["loadavg_1m_before"], out["machine"]["loadavg_1m_after"]],
    }
    print(json.dumps(summary, indent=2))
    print(f"written: {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
