"""How fast the TUI shows data: start -> first rows shown, and filter key -> updated table.

Generates synthetic datasets of 1 and 10 million attempts (Hive layout, one file per job type x
day) into benchmarks/scratch/ (git-ignored; reused when present), then drives the real app
headless with Textual's pilot and measures wall time on this machine. Results go to
benchmarks/results/tui_latency.json.

    .venv/bin/python benchmarks/tui_latency.py [--rows 1000000 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
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
    """Wall time of `import planner.tui.app` in a fresh interpreter (what `mjplan` pays first)."""
    import subprocess

    code = "import time; t = time.perf_counter(); import planner.tui.app; " \
           "print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent)
    return round(float(out.stdout.strip()), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", action="store_true",
                        help="through the local cache (planner.cache): the first run builds "
                        "it (cold), the others find it (warm); results in tui_latency_cache.json")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT.parent))
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "load_avg_1m_before": round(os.getloadavg()[0], 2),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": {},
    }
    results["import_planner_tui_s"] = statistics.median(import_seconds() for _ in range(3))
    for rows in args.rows:
        root = SCRATCH / f"tui_{rows}"
        if not root.exists():
            t = time.perf_counter()
            generate(root, rows)
            print(f"generated {rows:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
        runs = []
        if args.cache:
            import tempfile

            os.environ["MJPLAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="tui-cache-")
            cold = asyncio.run(_measure(str(root), "on"))
            results.setdefault("cache_cold", {})[str(rows)] = cold
            print(rows, "cold cache", json.dumps(cold), flush=True)
        for _ in range(args.repeat):
            run = asyncio.run(_measure(str(root), "on" if args.cache else "off"))
            # The machine is shared: the 1-minute load average says how contended a run was.
            run["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
            runs.append(run)
        summary = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        results["runs"][str(rows)] = {"median": summary, "all": runs}
        print(rows, json.dumps(summary), flush=True)
    out = RESULTS.with_name("tui_latency_cache.json") if args.cache else RESULTS
    if args.cache:
        results["note"] = ("runs = warm cache (the cache built by the cold run before them); "
                           "cache_cold = the first open, which builds it")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
