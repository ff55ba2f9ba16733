"""What does measuring cost? Sampling CPU per job-minute, and collector overhead per job type.

Part 1, sampling: the sampler (psutil, default 2 s interval) watches a real ffmpeg encode
(640x360 lavfi -> libx264 -> null, `--job-seconds` of wall time, 60 by default) and reports its
own CPU (its thread, plus start/stop). Figure: sampler CPU seconds per job-minute. It also
samples an idle 4-process tree at a 0.05 s interval for 10 s to get the CPU cost of one sample.

Part 2, the whole collector, per job type: each pipeline of `collectors.jobtypes` runs on a
10 s 640x360 H.264/AAC source (audio for the envelope), `--runs` times:
- bare: the pipeline alone (wall time);
- attempt API: inside `collectors.attempt.attempt(...)` with the default sampler and an
  in-memory sink; the collector's own time is what the attempt adds: probe wall + sampler CPU +
  the rest (host facts, row building), measured as attempt-block wall minus the job's wall;
- mjcollect run: the same ffmpeg command under `mjcollect run` (a new Python process: imports,
  probe, host, sampling, row to a local dataset), compared with the bare command's wall; once
  waiting for the upload in its own process (`--upload-timeout 30`) and once spooling only
  (the default since issue 14; benchmarks/run_overhead.py measures that in detail).
Figures: collector overhead in seconds per attempt (a fixed cost, mostly the probe and, for
`mjcollect run`, a Python start-up) and as a fraction of these short jobs' wall time (medians
of the runs); for a job of W seconds the fraction is about overhead / W.

    .venv/bin/python benchmarks/sampling_overhead.py [--job-seconds 60] [--runs 3]

Results: benchmarks/results/sampling_overhead.json. The machine is shared, so wall-time
differences are noisy; CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors import config, jobtypes  # noqa: E402
from collectors.sampler import TreeSampler, tree_sampler  # noqa: E402
from collectors.schema import JOB_TYPES  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "sampling_overhead.json"


def sampling_cost(job_seconds: float) -> dict[str, Any]:
    """Sampler CPU per job-minute at the default interval, on a real ffmpeg encode."""
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi",
            "-i", f"testsrc2=size=640x360:rate=25:duration={job_seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-f", "null", "-"]
    # -re: read at real-time speed, so the job lasts job_seconds of wall whatever the load.
    proc = subprocess.Popen(argv)
    sampler = tree_sampler(proc.pid)  # default interval (MEDIAJOB_SAMPLE_INTERVAL or 2 s)
    sampler.start()
    proc.wait()
    s = sampler.stop()
    per_min = s.sampler_cpu_s / (s.wall_s / 60.0)
    return {
        "interval_s": sampler.interval_s,
        "job_wall_s": round(s.wall_s, 2),
        "samples": s.sample_count,
        "job_cpu_pct_avg": s.cpu_pct_avg,
        "job_cpu_pct_max": s.cpu_pct_max,
        "job_mem_rss_mb_max": s.mem_rss_mb_max,
        "sampler_cpu_s": round(s.sampler_cpu_s, 4),
        "sampler_cpu_s_per_job_minute": round(per_min, 4),
        "sampler_cpu_fraction_of_one_core": round(s.sampler_cpu_s / s.wall_s, 6),
    }


def per_sample_cost(seconds: float = 10.0, interval: float = 0.05) -> dict[str, Any]:
    """CPU per sample of an idle 4-process tree (a parent and 3 sleeping children)."""
    code = ("import subprocess, sys, time\n"
            "ps = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])"
            " for _ in range(3)]\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(1.0)  # let the children start
    sampler = TreeSampler(root_pid=proc.pid, interval=interval)
    sampler.start()
    time.sleep(seconds)
    s = sampler.stop()
    for child in __import__("psutil").Process(proc.pid).children(recursive=True):
        child.kill()
    proc.kill()
    proc.wait()
    per_sample = s.sampler_cpu_s / max(s.sample_count, 1)
    return {
        "interval_s": interval,
        "samples": s.sample_count,
        "processes": 4,
        "sampler_cpu_s": round(s.sampler_cpu_s, 4),
        "cpu_ms_per_sample": round(per_sample * 1000, 3),
        "implied_cpu_s_per_job_minute_at_2s": round(per_sample * 30, 4),
    }


def make_source(folder: Path) -> Path:
    src = folder / "src_640x360_10s.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=10",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=10:sample_rate=48000",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(src)], check=True)
    return src


def _argv_for(job_type: str, src: Path, dst: Path) -> list[str]:
    if job_type == "upload_audio_envelope_v1":
        return [sys.executable, "-m", "collectors.jobtypes", job_type, str(src), str(dst)]
    if job_type == "upload_thumb_v1":
        return jobtypes.thumb_argv(src, dst, 1.0)
    if job_type == "upload_edit_proxy_v1":
        return jobtypes.proxy_argv(src, dst)
    return jobtypes.export_argv(src, dst)


def collector_overhead(folder: Path, runs: int) -> dict[str, Any]:
    """Per job type: bare wall, attempt-API overhead and `mjcollect run` overhead (medians)."""
    from collectors.attempt import attempt
    from collectors.sampler import children_sampler
    from collectors.sink import InMemorySink

    src = make_source(folder)
    mjcollect = str(Path(sys.executable).with_name("mjcollect"))
    env = {**os.environ, config.MEDIAJOB_METRICS_SPOOL: str(folder / "spool"),
           config.AWS_EC2_METADATA_DISABLED: "true"}
    out: dict[str, Any] = {}
    for jt in JOB_TYPES:
        bare: list[float] = []
        api_over: list[float] = []
        api_probe: list[float] = []
        api_sampler: list[float] = []
        cli: list[tuple[float, float]] = []
        detached: list[float] = []
        for i in range(runs):
            dst = folder / f"{jt}-{i}{jobtypes.OUTPUT_SUFFIX[jt]}"
            # bare pipeline, in process (what a Python worker runs without the collector)
            t0 = time.perf_counter()
            jobtypes.run_job(jt, src, dst, duration_s=10.0)
            bare.append(time.perf_counter() - t0)
            # the same pipeline inside the attempt API (default 2 s sampling)
            sink = InMemorySink()
            sampler = children_sampler()
            t0 = time.perf_counter()
            with attempt(jt, f"bench-{i}", inputs=[src], sink=sink, sampler=sampler) as a:
                t1 = time.perf_counter()
                jobtypes.run_job(jt, src, dst, duration_s=10.0,
                                 on_command=a.add_ffmpeg_command)
                job_wall = time.perf_counter() - t1
                a.set_output(dst)
            total = time.perf_counter() - t0
            api_over.append(total - job_wall)
            api_probe.append((sink.rows[-1].get("probe_ms") or 0) / 1000.0)
            api_sampler.append(sampler.stop().sampler_cpu_s)
            # the bare command vs the same command under `mjcollect run` (a new process)
            argv = _argv_for(jt, src, dst)
            t0 = time.perf_counter()
            subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            cmd_wall = time.perf_counter() - t0
            t0 = time.perf_counter()
            subprocess.run([mjcollect, "run", "--upload-timeout", "30", "--job-type", jt,
                            "--job-id", f"bench-{i}", "--input", str(src), "--output", str(dst),
                            "--data", str(folder / "dataset"), "--", *argv],
                           check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            cli.append((time.perf_counter() - t0, cmd_wall))
            t0 = time.perf_counter()
            subprocess.run([mjcollect, "run", "--detach-upload", "--job-type", jt, "--job-id",
                            f"bench-d{i}", "--input", str(src), "--output", str(dst),
                            "--data", str(folder / "dataset"), "--", *argv],
                           check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            detached.append(time.perf_counter() - t0 - cmd_wall)
        med_bare = statistics.median(bare)
        med_over = statistics.median(api_over)
        cli_over = statistics.median(w - c for w, c in cli)
        cli_cmd = statistics.median(c for _, c in cli)
        out[jt] = {
            "job_wall_s_median": round(med_bare, 3),
            "attempt_api_overhead_s_median": round(med_over, 4),
            "attempt_api_probe_s_median": round(statistics.median(api_probe), 4),
            "attempt_api_sampler_cpu_s_median": round(statistics.median(api_sampler), 4),
            "attempt_api_overhead_fraction": round(med_over / med_bare, 4),
            "command_wall_s_median": round(cli_cmd, 3),
            "mjcollect_run_overhead_s_median": round(cli_over, 4),
            "mjcollect_run_overhead_fraction": round(cli_over / cli_cmd, 4),
            "mjcollect_run_detached_overhead_s_median": round(statistics.median(detached), 4),
            "mjcollect_run_detached_overhead_fraction": round(
                statistics.median(detached) / cli_cmd, 4),
        }
        print(jt, json.dumps(out[jt]), flush=True)
    # The detached uploads are other processes: let them finish (and check they did) before
    # the temporary folder goes.
    rows_dirs = list((folder / "spool").glob("*/rows"))
    deadline = time.monotonic() + 120
    while any(any(d.iterdir()) for d in rows_dirs) and time.monotonic() < deadline:
        time.sleep(0.5)
    out["detached_rows_left_in_spool"] = sum(len(list(d.iterdir())) for d in rows_dirs)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--job-seconds", type=float, default=60.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--skip-overhead", action="store_true", help="part 1 only")
    args = p.parse_args()
    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "note": "2 shared cores, other test runs in parallel"},
        "command": "python benchmarks/sampling_overhead.py " + " ".join(sys.argv[1:]),
    }
    result["load_average_at_start"] = os.getloadavg()
    result["sampling_on_ffmpeg"] = sampling_cost(args.job_seconds)
    print("sampling", json.dumps(result["sampling_on_ffmpeg"]), flush=True)
    result["per_sample"] = per_sample_cost()
    print("per sample", json.dumps(result["per_sample"]), flush=True)
    if not args.skip_overhead:
        with tempfile.TemporaryDirectory(prefix="mjbench-", ignore_cleanup_errors=True) as d:
            result["collector_overhead"] = collector_overhead(Path(d), args.runs)
    result["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
