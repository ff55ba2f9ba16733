"""How fast the TUI shows data: start -> first rows shown, and filter key -> updated table.

Generates synthetic datasets of 1 and 10 million attempts (Hive layout, one file per job type x
day) into benchmarks/scratch/ (git-ignored; reused when present). Two measurements:

* in process (default): the real app driven headless with Textual's pilot, in this process:
  from `PlannerApp(...)` to the first rows, then scrolling and filter keys. Imports are paid
  once, by the first run, so this leaves out what a user waits for before the app exists.
* `--launch`: what a user sees. `python -m planner.cli tui --data URL` (what `mjplan` and
  `./dev tui` run) is started in a pseudo-terminal of 120x40 (TERM=xterm-256color), and the
  clock runs from just before the process is created until the bytes the TUI writes to the
  terminal contain the Jobs status line "200 of ... attempts loaded": the app writes it in
  the same frame as the first page's rows (they come before it in the output), so this is the
  moment the first rows are on screen. Nothing is added to the app for it. The process's CPU
  time up to that moment (/proc/PID/stat) and the 1-minute load average are noted beside the
  wall time; then `q` quits it. `--baseline REV` also launches the planner of git revision REV
  (extracted with `git archive` into a temporary folder, run with this .venv, its own cache
  folder), alternating with this checkout, and reports the ratio of the medians: a baseline
  from the same session and the same load.

With `--cache` the dataset is opened through the local cache (planner.cache): the cache is
built first (timed: cold), then every timed run finds it warm; results go to
tui_latency_cache.json instead of tui_latency.json.

    .venv/bin/python benchmarks/tui_latency.py [--rows 1000000 10000000] [--repeat 3]
    .venv/bin/python benchmarks/tui_latency.py --rows 1000000 --cache --launch --repeat 7 \
        [--baseline REV] [--no-in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
SCRATCH = ROOT / "scratch"
RESULTS = ROOT / "results" / "tui_latency.json"

INSTANCE_TYPES = [("c7i.large", 2, 4.0), ("c7i.xlarge", 4, 8.0), ("m7i.large", 2, 8.0),
                  ("c7g.xlarge", 4, 8.0)]
DAYS = 30


def generate(root: Path, rows: int, seed: int = 87) -> None:
    """Write `rows` synthetic attempts under `root` (job_type=/dt=/part.parquet)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT.parent))
    from collectors import schema

    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    per_part = max(1, rows // (len(schema.JOB_TYPES) * DAYS))
    start_id = 0
    for jt_index, job_type in enumerate(schema.JOB_TYPES):
        for day in range(DAYS):
            n = per_part if (jt_index, day) != (len(schema.JOB_TYPES) - 1, DAYS - 1) else (
                rows - per_part * (len(schema.JOB_TYPES) * DAYS - 1))
            ids = np.arange(start_id, start_id + n)
            start_id += n
            day_start = t0 + dt.timedelta(days=day)
            offsets_us = np.sort(rng.integers(0, 86_400_000_000, n))
            started = np.datetime64(day_start.replace(tzinfo=None), "us") + offsets_us.astype(
                "timedelta64[us]")
            inst = rng.integers(0, len(INSTANCE_TYPES), n)
            input_s = rng.uniform(5, 600, n).round(3)
            speed = np.array([1.0, 1.9, 1.1, 2.2])[inst] * rng.lognormal(0, 0.25, n)
            duration_ms = np.maximum(1, (input_s / speed * 1000)).astype("int64")
            failed = rng.random(n) < 0.04
            finished = started + duration_ms.astype("timedelta64[ms]")
            cols: dict[str, Any] = {c: pa.nulls(n, type=f.type)
                                    for c, f in zip(schema.COLUMN_NAMES, schema.arrow_schema(),
                                                    strict=True)}
            cols["attempt_id"] = pa.array([f"a{i:09d}" for i in ids])
            cols["job_id"] = pa.array([f"j{i // 2 if i % 10 < 2 else i:09d}" for i in ids])
            cols["job_type"] = pa.array([job_type] * n)
            cols["attempt_number"] = pa.array(np.where(ids % 10 == 1, 2, 1).astype("int32"))
            cols["status"] = pa.array(np.where(failed, "failed", "succeeded"))
            cols["started_at"] = pa.array(started, type=pa.timestamp("us", tz="UTC"))
            cols["finished_at"] = pa.array(finished.astype("datetime64[us]"),
                                           type=pa.timestamp("us", tz="UTC"))
            cols["duration_ms"] = pa.array(duration_ms)
            cols["rtf"] = pa.array((input_s / (duration_ms / 1000)).round(4))
            cols["input_duration_seconds"] = pa.array(input_s)
            cols["input_video_codec"] = pa.array(["h264"] * n)
            cols["input_audio_codec"] = pa.array(["aac"] * n)
            cols["input_width"] = pa.array(np.full(n, 1920, "int32"))
            cols["input_height"] = pa.array(np.full(n, 1080, "int32"))
            cols["instance_type"] = pa.array([INSTANCE_TYPES[i][0] for i in inst])
            cols["cpu_cores"] = pa.array(np.array([t[1] for t in INSTANCE_TYPES],
                                                  "int32")[inst])
            cols["mem_gb"] = pa.array(np.array([t[2] for t in INSTANCE_TYPES])[inst])
            cols["hostname"] = pa.array([f"ip-10-0-0-{i % 250}" for i in inst])
            cols["synthetic"] = pa.array(np.ones(n, bool))
            cols["schema_version"] = pa.array(np.full(n, schema.SCHEMA_VERSION, "int32"))
            table = pa.table(cols, schema=schema.arrow_schema())
            out = root / f"job_type={job_type}" / f"dt={day_start:%Y-%m-%d}"
            out.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, out / "part-0.parquet")


async def _measure(url: str, cache: str = "off") -> dict[str, float]:
    from planner.tui.app import PlannerApp
    from planner.tui.screens.jobs import JobsScreen

    async def until(pilot: Any, predicate: Any, timeout: float = 600.0) -> None:
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                raise TimeoutError("the TUI did not show the rows")
            await pilot.pause(0.005)

    t_start = time.perf_counter()
    app = PlannerApp(url=url, cache=cache)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:

        def jobs() -> JobsScreen | None:
            return app.screen if isinstance(app.screen, JobsScreen) else None

        def rows_shown() -> bool:
            s = jobs()
            return s is not None and s.loaded > 0

        await until(pilot, rows_shown)
        t_first = time.perf_counter()
        screen = jobs()
        assert screen is not None
        await until(pilot, lambda: screen.total is not None)
        t_counted = time.perf_counter()
        out = {
            "start_to_first_rows_s": round(t_first - t_start, 3),
            "start_to_count_shown_s": round(t_counted - t_start, 3),
        }
        # Scrolling: the cursor to the last loaded row fetches the next page.
        loaded = screen.loaded
        t_key = time.perf_counter()
        await pilot.press("ctrl+end")
        await until(pilot, lambda: screen.loaded > loaded and not screen.fetching)
        out["scroll_to_end_to_next_page_s"] = round(time.perf_counter() - t_key, 3)
        await pilot.press("ctrl+home")
        await until(pilot, lambda: len(screen.job_types) > 1)
        # One key at a time, each on top of the previous ones: job type, status, time range
        # (last 24 h of the data), sort by RTF.
        for key, name in (("t", "job_type"), ("s", "status"), ("r", "range_24h"),
                          ("o", "sort_rtf")):
            generation = screen.generation
            t_key = time.perf_counter()
            await pilot.press(key)
            await until(pilot, lambda g=generation: screen.generation > g
                        and (screen.loaded > 0 or screen.exhausted) and not screen.fetching)
            t_rows = time.perf_counter()
            await until(pilot, lambda: screen.total is not None)
            t_count = time.perf_counter()
            out[f"key_{name}_to_rows_s"] = round(t_rows - t_key, 3)
            out[f"key_{name}_to_count_s"] = round(t_count - t_key, 3)
    return out


def import_seconds() -> float:
    """Wall time of `import planner.tui.app` in a fresh interpreter (what `mjplan` pays first),
    bytecode cached as on a user's machine."""
    code = "import time; t = time.perf_counter(); import planner.tui.app; " \
           "print(time.perf_counter() - t)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent, env=env)
    return round(float(out.stdout.strip()), 3)


#: What the Jobs view's status line says once the first page is on screen ("200 of 1,000,000
#: attempts loaded · enter: detail", or "200 of … attempts" before the count), written in the
#: frame that draws the rows; "0 of ..." (counted before the rows came) does not count.
FIRST_ROWS = re.compile(rb"(?<![0-9,])[1-9][0-9,]* of \S+ attempts loaded")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def launch_first_rows(url: str, checkout: Path, env: dict[str, str],
                      timeout: float = 600.0) -> dict[str, float]:
    """Start the TUI of `checkout` on `url` in a 120x40 pseudo-terminal; seconds from just
    before the process is created to its first output and to the first rows on screen
    (FIRST_ROWS in what it wrote), its CPU seconds by then, the load average."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "planner.cli", "tui", "--data", url],
                            stdin=slave, stdout=slave, stderr=slave, cwd=checkout, env=env,
                            start_new_session=True)
    os.close(slave)
    out = b""
    first_output = first_rows = cpu = None
    try:
        while first_rows is None:
            if time.perf_counter() - t0 > timeout or proc.poll() is not None:
                tail = out[-400:].decode(errors="replace")
                raise RuntimeError(f"the TUI showed no rows (exit {proc.poll()}): {tail!r}")
            if not select.select([master], [], [], 0.1)[0]:
                continue
            chunk = os.read(master, 1 << 16)
            now = time.perf_counter()
            first_output = first_output or now - t0
            # Keep the tail of what was seen: the text may straddle two reads.
            out = out[-200:] + chunk
            if FIRST_ROWS.search(out):
                first_rows = now - t0
                cpu = _cpu_seconds(proc.pid)
        os.write(master, b"q")
        deadline = time.perf_counter() + 10
        while proc.poll() is None and time.perf_counter() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return {"first_rows_s": round(first_rows, 3), "first_output_s": round(first_output or 0, 3),
            "cpu_s": round(cpu or 0.0, 2), "load_avg_1m": round(load, 2)}


def checkout_of(rev: str) -> Path:
    """The repository at git revision `rev`, extracted into a temporary folder (outside the
    repository: a second copy of the packages inside it would confuse mypy and pytest)."""
    import tempfile

    sha = subprocess.run(["git", "rev-parse", "--short=12", rev], capture_output=True,
                         text=True, check=True, cwd=ROOT.parent).stdout.strip()
    target = Path(tempfile.mkdtemp(prefix=f"tui-latency-{sha}-"))
    archive = subprocess.run(["git", "archive", sha], capture_output=True, check=True,
                             cwd=ROOT.parent).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _checkout_env(checkout: Path, cache_dir: str) -> dict[str, str]:
    """This interpreter, with `checkout`'s planner first on the path and its own cache.
    Bytecode is cached as on a user's machine (PYTHONDONTWRITEBYTECODE, if set here, would make
    every launch compile the planner's modules again: ~0.1 s)."""
    env = dict(os.environ, PYTHONPATH=str(checkout), MJPLAN_CACHE_DIR=cache_dir,
               TERM="xterm-256color", COLUMNS="120", LINES="40")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _build_cache(url: str, checkout: Path, env: dict[str, str]) -> dict[str, Any]:
    """Open `url` through the cache of `checkout`'s planner (builds it); where the planner was
    imported from (to check that PYTHONPATH took) and how long the build took."""
    code = ("import time, planner; t = time.perf_counter(); "
            "from planner.dataset import open_dataset; "
            f"ds = open_dataset({url!r}, cache='on'); "
            "print(planner.__file__, time.perf_counter() - t, ds.cache)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=checkout, env=env).stdout.split()
    if not out[0].startswith(str(checkout)):
        raise RuntimeError(f"{checkout}: imported the planner of {out[0]}")
    return {"planner": out[0], "cache_build_s": round(float(out[1]), 2)}


def measure_launch(url: str, repeat: int, baseline: str | None) -> dict[str, Any]:
    """Warm-cache launches of this checkout (and of `baseline`, alternating) on `url`."""
    import tempfile

    checkouts = {"this": ROOT.parent}
    if baseline:
        checkouts[f"baseline {baseline}"] = checkout_of(baseline)
    envs = {name: _checkout_env(path, tempfile.mkdtemp(prefix="tui-launch-cache-"))
            for name, path in checkouts.items()}
    out: dict[str, Any] = {}
    for name, path in checkouts.items():
        out[name] = {"checkout": str(path), **_build_cache(url, path, envs[name]), "runs": []}
        # Untimed: the cache file into the page cache, the modules' bytecode written.
        launch_first_rows(url, path, envs[name])
    for _ in range(repeat):
        for name, path in checkouts.items():
            out[name]["runs"].append(launch_first_rows(url, path, envs[name]))
    for name in checkouts:
        runs = out[name]["runs"]
        out[name]["median"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(name, json.dumps(out[name]["median"]), flush=True)
    import shutil

    for env in envs.values():
        shutil.rmtree(env["MJPLAN_CACHE_DIR"], ignore_errors=True)
    if baseline:
        shutil.rmtree(checkouts[f"baseline {baseline}"], ignore_errors=True)
        this = out["this"]["median"]["first_rows_s"]
        base = out[f"baseline {baseline}"]["median"]["first_rows_s"]
        out["ratio_this_to_baseline"] = round(this / base, 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", action="store_true",
                        help="through the local cache (planner.cache): the first run builds "
                        "it (cold), the others find it (warm); results in tui_latency_cache.json")
    parser.add_argument("--launch", action="store_true",
                        help="also launch the command in a pseudo-terminal and time it to the "
                        "first rows on screen (warm cache; needs --cache)")
    parser.add_argument("--baseline", metavar="REV",
                        help="with --launch: also launch the planner of git revision REV, "
                        "alternating with this one, and give the ratio")
    parser.add_argument("--no-in-process", action="store_true",
                        help="skip the in-process (pilot) measurement")
    args = parser.parse_args()
    if (args.launch or args.baseline) and not args.cache:
        parser.error("--launch and --baseline time a warm cache: add --cache")
    if args.baseline and not args.launch:
        parser.error("--baseline needs --launch")
    sys.path.insert(0, str(ROOT.parent))
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "load_avg_1m_before": round(os.getloadavg()[0], 2),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/tui_latency.py", *sys.argv[1:]]),
        "runs": {},
    }
    results["import_planner_tui_s"] = statistics.median(import_seconds() for _ in range(3))
    for rows in args.rows:
        root = SCRATCH / f"tui_{rows}"
        if not root.exists():
            t = time.perf_counter()
            generate(root, rows)
            print(f"generated {rows:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
        if args.launch:
            results.setdefault("launch", {})[str(rows)] = measure_launch(
                str(root), args.repeat, args.baseline)
        if args.no_in_process:
            continue
        runs = []
        if args.cache:
            import tempfile

            cache_dir = tempfile.mkdtemp(prefix="tui-cache-")
            os.environ["MJPLAN_CACHE_DIR"] = cache_dir
            cold = asyncio.run(_measure(str(root), "on"))
            results.setdefault("cache_cold", {})[str(rows)] = cold
            print(rows, "cold cache", json.dumps(cold), flush=True)
        for _ in range(args.repeat):
            run = asyncio.run(_measure(str(root), "on" if args.cache else "off"))
            # The machine is shared: the 1-minute load average says how contended a run was.
            run["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
            runs.append(run)
        if args.cache:
            import shutil

            shutil.rmtree(cache_dir, ignore_errors=True)  # 10M: a 300 MB file
        summary = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        results["runs"][str(rows)] = {"median": summary, "all": runs}
        print(rows, json.dumps(summary), flush=True)
    results["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    out = RESULTS.with_name("tui_latency_cache.json") if args.cache else RESULTS
    if args.cache:
        results["note"] = ("runs = in process, warm cache (the cache built by the cold run "
                           "before them), from PlannerApp() with the imports already done; "
                           "cache_cold = the first open, which builds it; launch = from "
                           "starting the command to the first rows on screen, warm cache "
                           "(module docstring)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
