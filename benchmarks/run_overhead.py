"""What does `mjcollect run` add to a job's wall time? (issue 14, items 1 and 2)

The same short job (an ffmpeg thumbnail of a 2 s 1920x1080 H.264 file, about the shortest real
job) runs bare and under `mjcollect run`, interleaved, `--runs` times each, on two installs, each
a venv in $TMPDIR (outside the checkout) named after this checkout, with the project installed
as a user installs it (`pip install .`, not editable: an editable install's finder runs at
every interpreter start, ~10 ms no worker pays), reinstalled from this checkout at every run:

- worker: `pip install .` only (pyarrow, psutil, boto3; no pandas);
- planner: `pip install '.[planner]'` (pandas, duckdb... installed beside pyarrow), versions of
  .ci/constraints.txt.

Each runs its own `mjcollect` console script (what a worker runs), from a scratch folder.

Modes of `mjcollect run` (all with `--input`, so the probe runs; its cost is reported apart as
a bare ffprobe measured in the same run):
- local: dataset in a folder; the row is spooled, a detached flusher uploads it;
- s3-up / s3-down: dataset on SeaweedFS, running / stopped (a closed port);
- s3-down-wait1: `--upload-timeout 1` with S3 stopped: the bounded in-process wait;
- agent: `mjcollect agent` running, S3 up: the run only spools.
Beside them, for the breakdown: `python -c pass` of the install (interpreter start), the path
before a job starts (`mjcollect run ... --` without a command: start, imports, parsing; it
exits 2 there), and
`mjcollect run --input SRC -- true` (a job that is over at once: nothing to overlap, so all of
mjcollect's own path shows).

`mjcollect run` starts the job first and does its set-up (imports, probe, host, sampler) while
the job runs, so on a machine with a spare core the probe no longer adds to the job's wall time:
"added wall" is the honest figure, "beyond the probe" (the issue's goal) subtracts a probe that
now mostly overlaps.
Between two runs the benchmark waits until the flusher a run started has exited, so a flusher
(background work, not on the job's path) does not slow the next measurement; one mode measures
that too:
- local-back-to-back: a local run started right after another, while the flusher of the first
  (at nice 19, collectors.commands.agent) writes its Parquet file: jobs back to back on a worker
  without an agent.

Figures: added wall = median(run wall) - median(bare wall), and that minus the probe's median
wall ("beyond the probe"; goal <= 0.08 s); the same in CPU seconds (the run's process and the
children it waited for), which a loaded machine disturbs far less than wall time: on an idle
machine these short sequential steps take about their CPU time in wall time. The machine is
shared: medians, with p10/p90, and the load average at the start.

    .venv/bin/python benchmarks/run_overhead.py [--runs 9]

Results: benchmarks/results/run_overhead.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors import jobtypes  # noqa: E402
from collectors.hostlock import agent_alive  # noqa: E402
from tests.media import make_media  # noqa: E402
from tests.s3server import SeaweedS3  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "run_overhead.json"
CONSTRAINTS = ROOT / ".ci" / "constraints.txt"
#: Where the measured commands run (not the checkout: its collectors/ must not shadow the install).
SCRATCH = tempfile.gettempdir()
#: The extras of each install measured.
INSTALLS = {"worker": "", "planner": "[planner]"}


def install_venv(name: str, extras: str) -> Path:
    """The venv of install `name` for this checkout, in $TMPDIR (outside the checkout: mypy
    and ruff walk benchmarks/), made on first use; this checkout's code reinstalled (not
    editable) each time, from a copy (setuptools builds in the source tree: build/,
    *.egg-info). Returns its bin folder."""
    tag = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    venv = Path(tempfile.gettempdir()) / f"mj-bench-{name}-venv-{tag}"
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    constraints = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.exists() else []
    with tempfile.TemporaryDirectory(prefix="mj-bench-src-") as tmp:
        src = Path(tmp)
        for file in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / file, src / file)
        for package in ("collectors", "planner"):
            shutil.copytree(ROOT / package, src / package,
                            ignore=shutil.ignore_patterns("__pycache__"))
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([*pip, f"{src}{extras}", *constraints], check=True, cwd=tmp)
        # This checkout's code as a wheel install (compiled .pyc, no editable finder).
        subprocess.run([*pip, "--no-deps", "--force-reinstall", str(src)], check=True, cwd=tmp)
    return venv / "bin"


def _stats(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    q = statistics.quantiles(v, n=10) if len(v) >= 2 else [v[0]] * 9
    return {"median": round(statistics.median(v), 4), "p10": round(q[0], 4),
            "p90": round(q[-1], 4), "n": len(v)}


def _children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv: list[str], env: dict[str, str], code: int = 0) -> tuple[float, float]:
    """(wall s, CPU s of the process and the children it waited for) of one run, which must
    exit with `code`. The CPU figure holds up on a loaded machine; a detached flusher is not
    in it (not waited for)."""
    c0, t0 = _children_cpu_s(), time.perf_counter()
    done = subprocess.run(argv, check=False, env=env, cwd=SCRATCH, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if done.returncode != code:
        raise subprocess.CalledProcessError(done.returncode, argv)
    return time.perf_counter() - t0, _children_cpu_s() - c0


def flushers_of(base: Path) -> list[int]:
    """The pids of the flushers (`mjcollect agent --until-empty --spool-base BASE`) alive."""
    want = ["--until-empty", "--spool-base", str(base)]
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:  # gone meanwhile
            continue
        if any(argv[i:i + 3] == want for i in range(len(argv))):
            pids.append(int(proc.name))
    return pids


def wait_for_flushers(base: Path, limit_s: float = 60.0) -> float:
    """Seconds until the flusher a run started has gone (background work, not the job's).
    `mjcollect run` starts it (Popen returns once it has exec'd) before it exits, so it is
    there to be seen now; its lock is not (it takes it after its imports)."""
    t0 = time.perf_counter()
    while flushers_of(base) and time.perf_counter() - t0 < limit_s:
        time.sleep(0.01)
    return time.perf_counter() - t0


def measure_install(name: str, bin_dir: Path, s3: SeaweedS3, work: Path, src: Path,
                    runs: int) -> dict[str, Any]:
    mjcollect = [str(bin_dir / "mjcollect")]
    python_start = [str(bin_dir / "python"), "-c", "pass"]
    # Everything before the job's Popen, then the usage error "no command given" (exit 2).
    pre_job = [*mjcollect, "run", "--data", str(work / f"ds-{name}"), "--job-type",
               "upload_thumb_v1", "--job-id", "b-pre", "--input", str(src), "--"]
    dst = work / f"{name}.jpg"
    job = jobtypes.thumb_argv(src, dst, jobtypes.thumb_time(2.0))
    probe = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(src)]
    closed = "http://127.0.0.1:9"  # discard port: nothing listens, as a stopped S3
    base_env = {**os.environ, **s3.env(), "AWS_INSTANCE_TYPE": "c7i.large",
                "MEDIAJOB_METRICS_SPOOL": str(work / f"spool-{name}")}
    base_env.pop("MEDIAJOB_METRICS_URL", None)
    # As installed: modules compiled once (a session that sets this compiles every module of
    # every run, ~0.15 s here, which no worker pays).
    base_env.pop("PYTHONDONTWRITEBYTECODE", None)
    spool_base = work / f"spool-{name}"

    def measured_run(opts: list[str], job_id: str) -> list[str]:
        return [*mjcollect, "run", *opts, "--job-type", "upload_thumb_v1", "--job-id", job_id,
                "--input", str(src), "--", *job]

    modes: dict[str, tuple[list[str], dict[str, str]]] = {
        "local": (["--data", str(work / f"ds-{name}")], {}),
        "s3-up": (["--data", s3.url(f"bench-{name}")], {}),
        "s3-down": (["--data", s3.url(f"bench-{name}")],
                    {"AWS_ENDPOINT_URL": closed, "AWS_ENDPOINT_URL_S3": closed}),
        "s3-down-wait1": (["--data", s3.url(f"bench-{name}"), "--upload-timeout", "1"],
                          {"AWS_ENDPOINT_URL": closed, "AWS_ENDPOINT_URL_S3": closed}),
    }
    walls: dict[str, list[float]] = {
        m: [] for m in ["bare", "probe", "python", "pre-job", "null-job", *modes,
                        "local-back-to-back", "agent"]}
    cpus: dict[str, list[float]] = {m: [] for m in walls}
    flusher_s: list[float] = []
    for i in range(runs + 1):  # the first round warms caches and is dropped
        record = i > 0
        for mode in ["bare", "probe", "python", "pre-job", "null-job", *modes,
                     "local-back-to-back"]:
            if mode == "bare":
                wall, cpu = timed(job, base_env)
            elif mode == "probe":
                wall, cpu = timed(probe, base_env)
            elif mode == "python":
                wall, cpu = timed(python_start, base_env)
            elif mode == "pre-job":
                wall, cpu = timed(pre_job, base_env, code=2)
            elif mode == "null-job":
                wall, cpu = timed([*mjcollect, "run", *modes["local"][0], "--job-type",
                                   "upload_thumb_v1", "--job-id", f"b-null-{i}", "--input",
                                   str(src), "--", "true"], base_env)
                wait_for_flushers(spool_base)
            elif mode == "local-back-to-back":
                timed(measured_run(modes["local"][0], f"b-first-{i}"), base_env)
                wall, cpu = timed(measured_run(modes["local"][0], f"b-second-{i}"), base_env)
                wait_for_flushers(spool_base)
            else:
                opts, extra = modes[mode]
                wall, cpu = timed(measured_run(opts, f"b-{mode}-{i}"), {**base_env, **extra})
                waited = wait_for_flushers(spool_base)
                if record and mode in ("local", "s3-up"):
                    flusher_s.append(waited)
            if record:
                walls[mode].append(wall)
                cpus[mode].append(cpu)
    agent = subprocess.Popen([*mjcollect, "agent"], env=base_env, cwd=SCRATCH,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not agent_alive(spool_base):
            time.sleep(0.05)
        for i in range(runs):
            wall, cpu = timed(
                [*mjcollect, "run", "--data", s3.url(f"bench-{name}"), "--job-type",
                 "upload_thumb_v1", "--job-id", f"b-agent-{i}", "--input", str(src), "--",
                 *job], base_env)
            walls["agent"].append(wall)
            cpus["agent"].append(cpu)
    finally:
        agent.terminate()
        agent.wait(timeout=60)
    bare = statistics.median(walls["bare"])
    probe_s = statistics.median(walls["probe"])
    out: dict[str, Any] = {"wall_s": {m: _stats(v) for m, v in walls.items()}}
    out["added_wall_s"] = {m: round(statistics.median(walls[m]) - bare, 4)
                           for m in [*modes, "local-back-to-back", "agent"]}
    out["added_beyond_probe_s"] = {m: round(v - probe_s, 4)
                                   for m, v in out["added_wall_s"].items()}
    out["ratio_to_bare"] = {m: round(statistics.median(walls[m]) / bare, 3)
                            for m in [*modes, "local-back-to-back", "agent"]}
    out["cpu_s"] = {m: _stats(v) for m, v in cpus.items()}
    bare_cpu, probe_cpu = statistics.median(cpus["bare"]), statistics.median(cpus["probe"])
    out["added_cpu_s"] = {m: round(statistics.median(cpus[m]) - bare_cpu, 4)
                          for m in [*modes, "local-back-to-back", "agent"]}
    out["added_cpu_beyond_probe_s"] = {m: round(v - probe_cpu, 4)
                                       for m, v in out["added_cpu_s"].items()}
    out["flusher_background_s"] = _stats(flusher_s) if flusher_s else None
    out["breakdown_s"] = {
        "python_start_wall": round(statistics.median(walls["python"]), 4),
        "python_start_cpu": round(statistics.median(cpus["python"]), 4),
        # Always in series with the job: start, imports, parsing, up to its Popen.
        "pre_job_wall": round(statistics.median(walls["pre-job"]), 4),
        "pre_job_cpu": round(statistics.median(cpus["pre-job"]), 4),
        "probe_wall": round(probe_s, 4),
        "probe_cpu": round(probe_cpu, 4),
        # A job over at once: interpreter, imports, probe, row, spool, exit, all in series.
        "null_job_wall": round(statistics.median(walls["null-job"]), 4),
        "null_job_cpu": round(statistics.median(cpus["null-job"]), 4),
    }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=9, help="measured runs of each mode")
    args = p.parse_args()
    load_at_start = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="mj-run-bench-"))
    src = make_media("h264_aac", work, seconds=2.0)
    s3 = SeaweedS3(data_dir=work / "weed")
    s3.start()
    try:
        installs = {name: install_venv(name, extras) for name, extras in INSTALLS.items()}
        results = {name: measure_install(name, bin_dir, s3, work, src, args.runs)
                   for name, bin_dir in installs.items()}
    finally:
        s3.stop()
        for name in INSTALLS:  # a flusher still writing there, then the scratch folder
            wait_for_flushers(work / f"spool-{name}")
        shutil.rmtree(work, ignore_errors=True)
    doc = {
        "question": "What does `mjcollect run` add to a short job's wall time on a worker "
                    "install and a planner install, with a local dataset, S3 up, S3 down, "
                    "and with an agent running?",
        "command": f".venv/bin/python benchmarks/run_overhead.py --runs {args.runs}",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m_at_start": load_at_start,
                    "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
        "job": "upload_thumb_v1 ffmpeg thumbnail of a 2 s 1920x1080 H.264/AAC file",
        "goal": "added wall beyond the probe <= 0.08 s",
        "installs": results,
    }
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    for name, r in results.items():
        print(name, "added wall (s):", r["added_wall_s"])
        print(name, "added wall beyond probe (s):", r["added_beyond_probe_s"])
        print(name, "added CPU beyond probe (s):", r["added_cpu_beyond_probe_s"])
        print(name, "breakdown (s):", r["breakdown_s"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
