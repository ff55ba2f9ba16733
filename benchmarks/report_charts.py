"""Do the report's charts stay cheap on a million attempts, and how big is the report?

    .venv/bin/python benchmarks/report_charts.py                 # 1M rows
    .venv/bin/python benchmarks/report_charts.py --rows 200000

Questions:
1. How long does `chart_data.attempt_points` (the stratified per-group sample the charts draw)
   take, against a plain full scan of the view and against DuckDB's uniform
   `USING SAMPLE reservoir(N ROWS)` of the same total size, and how many points does the
   smallest group get under each (the reason for stratifying)?
2. How long does `with_concurrency` (overlapping runs on the same host) take on that sample?
3. The whole report: `report.gather` (stats, sizing, sizing at 7 demand levels, throughput,
   sample) + `report.build_report` (tables, 5 figures, plotly.js inline): time and file size.

The data: benchmarks/sizing.py's seeded generator (7 instance types x 50 hosts, overlapping
attempts, 4 job types over 28 days; columns the charts do not need are null), written once to
benchmarks/scratch/sizing_<rows>/ and reused. One process, timings in wall seconds on a
2-CPU machine shared with other work. Results: benchmarks/results/report_charts.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "report_charts.json"


def _timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    """(best wall seconds of `repeat` runs, last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--per-group", type=int, default=1500)
    args = parser.parse_args(argv)

    from benchmarks.sizing import generate

    out = ROOT / "benchmarks" / "scratch" / f"sizing_{args.rows}"
    if not (out / "ROWS").exists():
        generate(args.rows, out)

    from planner import chart_data, report
    from planner.dataset import open_dataset

    t = time.perf_counter()
    ds = open_dataset(str(out))
    open_s = time.perf_counter() - t
    con = ds.connection
    rows = con.sql("SELECT count(*) FROM attempts").fetchall()[0][0]

    scan_s, _ = _timed(
        lambda: con.sql(
            "SELECT job_type, instance_type, count(*), avg(rtf) FROM attempts GROUP BY ALL"
        ).fetchall()
    )
    points_s, points = _timed(lambda: chart_data.attempt_points(ds, per_group=args.per_group))
    per_group = points.group_by("job_type", "instance_type").len()["len"]
    n = points.height
    reservoir_s, uniform = _timed(
        lambda: con.sql(
            "SELECT job_type, instance_type, count(*) AS n FROM "
            f"(SELECT * FROM attempts WHERE status = 'succeeded' "
            f"USING SAMPLE reservoir({n} ROWS) REPEATABLE (1)) GROUP BY ALL"
        ).fetchall()
    )
    uniform_counts = [r[2] for r in uniform]
    conc_s, with_conc = _timed(lambda: chart_data.with_concurrency(ds, points))

    t = time.perf_counter()
    data = report.gather(ds)
    gather_s = time.perf_counter() - t
    t = time.perf_counter()
    page = report.build_report(data)
    build_s = time.perf_counter() - t

    result = {
        "rows": rows,
        "open_dataset_s": round(open_s, 3),
        "full_scan_group_by_s": round(scan_s, 3),
        "attempt_points": {
            "per_group": args.per_group,
            "seconds": round(points_s, 3),
            "points": n,
            "groups": len(per_group),
            "smallest_group_points": int(per_group.min()),
            "largest_group_points": int(per_group.max()),
        },
        "uniform_reservoir_same_size": {
            "seconds": round(reservoir_s, 3),
            "smallest_group_points": min(uniform_counts),
            "largest_group_points": max(uniform_counts),
        },
        "with_concurrency_s": round(conc_s, 3),
        "with_concurrency_null": int(with_conc["concurrency"].null_count()),
        "report_gather_s": round(gather_s, 3),
        "report_build_s": round(build_s, 3),
        "report_mb": round(len(page.encode()) / 1e6, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": f"{platform.machine()}, 2 CPUs shared with other work",
        "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()],
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "benchmarks/report_charts.py " + " ".join(argv or sys.argv[1:]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    name = (
        RESULTS if args.rows == 1_000_000 else RESULTS.with_name(f"report_charts_{args.rows}.json")
    )
    name.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
