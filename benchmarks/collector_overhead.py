"""What does the collector add to one attempt? (issue 2's benchmark)

Measured on real media (lavfi -> H.264/AAC MP4, 1920x1080, `--seconds` long) and real ffprobe:

1. bare ffprobe: `ffprobe -v error -show_format -show_streams -of json FILE` as a subprocess,
   the floor any probe pays (wall ms, and the child's CPU ms).
2. probe_media_info, uncached: the same plus our argument checks, whitelists, JSON parsing.
3. probe_media_info, cached (second call in an attempt): what a job's own re-probe costs.
4. host metrics, first call of a process (cpu, cgroup, RAM, name; instance type from
   AWS_INSTANCE_TYPE, i.e. no IMDS) and cached calls; and the IMDS path when nothing answers
   (the default link-local endpoint; bounded by the 1 s budget).
5. bookkeeping: start_attempt + finish with the input already probed and the host cached, no
   sampler, an in-memory sink: row building, validation, manifest dict (wall and CPU us).
6. the whole collector per attempt (probe + bookkeeping, host cached, no sampler) against the
   job's own wall time for two real jobs on the same input: upload_thumb_v1 (short) and
   upload_edit_proxy_v1 (long).
7. `import collectors` in a fresh interpreter: `-X importtime` cumulative microseconds of the
   `collectors` package, and wall of `python -c "import collectors"` minus `python -c pass`.

    .venv/bin/python benchmarks/collector_overhead.py [--runs 15] [--seconds 10]

Results: benchmarks/results/collector_overhead.json (medians, with p10/p90 where repeated).
The machine is shared by several people running tests, so wall figures are noisy; CPU figures
are steadier.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors import InMemorySink, jobtypes, start_attempt  # noqa: E402
from collectors import host as host_mod  # noqa: E402
from collectors.probe import ProbeCache, probe_media_info  # noqa: E402
from tests.media import make_media  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "collector_overhead.json"


def _children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _stats(values: list[float], digits: int = 2) -> dict[str, float]:
    v = sorted(values)
    q = statistics.quantiles(v, n=10) if len(v) >= 2 else [v[0]] * 9
    return {"median": round(statistics.median(v), digits), "p10": round(q[0], digits),
            "p90": round(q[-1], digits), "n": len(v)}


def repeat(fn: Callable[[], Any], runs: int) -> dict[str, dict[str, float]]:
    """Wall ms, own CPU ms and children's CPU ms of `fn`, per run."""
    wall, cpu, child = [], [], []
    for _ in range(runs):
        c0, k0, t0 = time.process_time(), _children_cpu_s(), time.perf_counter()
        fn()
        t1 = time.perf_counter()
        wall.append((t1 - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        child.append((_children_cpu_s() - k0) * 1000)
    return {"wall_ms": _stats(wall), "cpu_ms": _stats(cpu), "child_cpu_ms": _stats(child)}


def bare_ffprobe(path: Path) -> None:
    subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
                    str(path)], stdin=subprocess.DEVNULL, capture_output=True, check=True)


def host_first_call(env: dict[str, str | None], runs: int) -> dict[str, Any]:
    """collect_host_metrics() with `env` applied (None: unset), as a new process would."""
    saved = {k: os.environ.get(k) for k in env}
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        result: dict[str, Any] = repeat(host_mod.collect_host_metrics, runs)
        result["instance_type"] = host_mod.collect_host_metrics().instance_type
        return result
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def import_time(runs: int) -> dict[str, Any]:
    py = sys.executable
    cumulative_us: list[float] = []
    wall_import: list[float] = []
    wall_pass: list[float] = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for _ in range(runs):
        err = subprocess.run([py, "-X", "importtime", "-c", "import collectors"], cwd=ROOT,
                             env=env, capture_output=True, text=True, check=True).stderr
        line = next(ln for ln in err.splitlines() if ln.rstrip().endswith("| collectors"))
        cumulative_us.append(float(line.split("|")[1]))
        for code, into in (("import collectors", wall_import), ("pass", wall_pass)):
            t0 = time.perf_counter()
            subprocess.run([py, "-c", code], cwd=ROOT, env=env, check=True)
            into.append((time.perf_counter() - t0) * 1000)
    return {
        "importtime_cumulative_ms": _stats([u / 1000 for u in cumulative_us]),
        "process_wall_ms_import_collectors": _stats(wall_import),
        "process_wall_ms_pass": _stats(wall_pass),
        "added_wall_ms_median": round(statistics.median(wall_import)
                                      - statistics.median(wall_pass), 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=15, help="repetitions of each quick step")
    p.add_argument("--job-runs", type=int, default=3, help="repetitions of each real job")
    p.add_argument("--seconds", type=float, default=10.0, help="length of the input, s")
    args = p.parse_args()

    os.environ["AWS_INSTANCE_TYPE"] = "c7i.large"  # host steps without IMDS unless stated
    os.environ.pop("MEDIAJOB_METRICS", None)
    work = Path(tempfile.mkdtemp(prefix="mj-bench-"))
    src = make_media("h264_aac", work, seconds=args.seconds)
    size_mb = src.stat().st_size / 1e6
    print(f"input: {src.name} {size_mb:.1f} MB", file=sys.stderr)
    out: dict[str, Any] = {
        "question": "What does the collector add to one attempt, against a bare ffprobe and "
                    "against the job's own time? How long does `import collectors` take?",
        "command": (".venv/bin/python benchmarks/collector_overhead.py "
                    f"--runs {args.runs} --job-runs {args.job_runs} --seconds {args.seconds:g}"),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m_at_start": round(os.getloadavg()[0], 2)},
        "input": {"kind": "h264_aac 1920x1080 25 fps", "seconds": args.seconds,
                  "size_mb": round(size_mb, 2)},
    }

    bare_ffprobe(src)  # warm the page cache and the binary
    out["bare_ffprobe"] = repeat(lambda: bare_ffprobe(src), args.runs)
    out["probe_media_info_uncached"] = repeat(
        lambda: probe_media_info(src, cache=None), args.runs)
    cache = ProbeCache()
    probe_media_info(src, cache=cache)
    out["probe_media_info_cached"] = repeat(lambda: probe_media_info(src, cache=cache),
                                            args.runs)

    out["host_first_call_env_instance_type"] = host_first_call({}, args.runs)
    out["host_first_call_imds_unreachable_default_endpoint"] = host_first_call(
        {"AWS_INSTANCE_TYPE": None}, 3)
    host_mod.reset_host_metrics()
    host_mod.get_host_metrics()
    out["host_cached_call"] = repeat(host_mod.get_host_metrics, args.runs)

    sink = InMemorySink()

    def bookkeeping() -> None:
        # primary_input=None and no inputs: nothing to probe, so this is the rest of it.
        a = start_attempt("upload_thumb_v1", "bench", sink=sink, sampler=None)
        a.add_ffmpeg_command(["ffmpeg", "-i", str(src), "-frames:v", "1", "out.jpg"])
        a.finish()

    out["bookkeeping_no_probe"] = repeat(bookkeeping, args.runs)

    jobs: dict[str, Any] = {}
    runners: tuple[tuple[str, Callable[[Path], object]], ...] = (
        ("upload_thumb_v1",
         lambda dst: jobtypes.run_thumb(src, dst, duration_s=args.seconds)),
        ("upload_edit_proxy_v1", lambda dst: jobtypes.run_proxy(src, dst)),
    )
    for job_type, run in runners:
        suffix = jobtypes.OUTPUT_SUFFIX[job_type]
        bare_ms, collector_ms, probe_ms = [], [], []
        for i in range(args.job_runs):
            dst = work / f"{job_type}-{i}{suffix}"
            t0 = time.perf_counter()
            run(dst)
            bare_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            a = start_attempt(job_type, f"bench-{i}", inputs=[src], sink=sink, sampler=None)
            t1 = time.perf_counter()
            run(dst)
            t2 = time.perf_counter()
            a.set_output(dst)
            a.finish()
            t3 = time.perf_counter()
            assert a.row is not None and a.row["metrics_error"] is None, a.row
            collector_ms.append(((t1 - t0) + (t3 - t2)) * 1000)
            probe_ms.append(float(a.row["probe_ms"]))
        job = statistics.median(bare_ms)
        coll = statistics.median(collector_ms)
        jobs[job_type] = {
            "job_wall_ms": _stats(bare_ms, 1),
            "collector_wall_ms": _stats(collector_ms, 1),
            "of_which_probe_ms": _stats(probe_ms, 1),
            "collector_share_of_job_pct": round(100 * coll / job, 2),
        }
    out["attempts"] = jobs
    out["import_collectors"] = import_time(max(5, args.runs // 2))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    summary = {
        "bare_ffprobe_ms": out["bare_ffprobe"]["wall_ms"]["median"],
        "probe_media_info_ms": out["probe_media_info_uncached"]["wall_ms"]["median"],
        "probe_cached_ms": out["probe_media_info_cached"]["wall_ms"]["median"],
        "host_first_ms": out["host_first_call_env_instance_type"]["wall_ms"]["median"],
        "host_imds_unreachable_ms":
            out["host_first_call_imds_unreachable_default_endpoint"]["wall_ms"]["median"],
        "bookkeeping_ms": out["bookkeeping_no_probe"]["wall_ms"]["median"],
        "bookkeeping_cpu_ms": out["bookkeeping_no_probe"]["cpu_ms"]["median"],
        **{f"{k}_share_pct": v["collector_share_of_job_pct"] for k, v in jobs.items()},
        **{f"{k}_job_ms": v["job_wall_ms"]["median"] for k, v in jobs.items()},
        "import_collectors_ms": out["import_collectors"]["importtime_cumulative_ms"]["median"],
    }
    print(json.dumps(summary, indent=2))
    print(f"written: {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
