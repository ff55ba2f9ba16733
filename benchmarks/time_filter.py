"""Does a time filter make a query cheap on a lazily opened 10M-attempt dataset?

    .venv/bin/python benchmarks/time_filter.py [--rows 10000000] [--repeat 3]

The dataset is the one of benchmarks/summary_10m.py (hive layout job_type=/dt=, one file per
job type and day, 28 days; generated there when missing). It is opened lazily
(`materialize=False`, as any dataset above MATERIALIZE_MAX_ROWS), then, best of --repeat:

- count and `rtf_summary` of one day and of the whole dataset through planner.queries'
  filter (`where_clause`);
- the same count with the time condition alone, `coalesce(started_at, finished_at)` (what
  `where_clause` wrote before it added the redundant `started_at` conditions DuckDB can check
  against the Parquet row groups' min/max);
- the ideal: `rtf_summary` of a dataset opened on the day's partition folders only (what
  pruning `dt=` folders by name would give at best).

The `dt=` folder names are not used: each file holds one day, so its row groups' statistics
leave out the same files as the folder names would. Results: benchmarks/results/time_filter.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "time_filter.json"
DAY = ("2026-11-21", "2026-11-22")


def best(repeat: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(min(times), 3)


def main() -> None:
    from benchmarks import summary_10m
    from planner.dataset import open_dataset
    from planner.queries import count_attempts
    from planner.stats import rtf_summary

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    scratch = summary_10m.ensure_dataset(args.rows)

    t = time.perf_counter()
    ds = open_dataset(str(scratch), materialize=False)
    open_s = time.perf_counter() - t
    since, until = DAY
    coalesce_only = (
        "SELECT count(*) FROM attempts WHERE coalesce(started_at, finished_at) >= ?::TIMESTAMPTZ"
        " AND coalesce(started_at, finished_at) < ?::TIMESTAMPTZ"
    )
    figures = {
        "count_all_s": best(args.repeat, lambda: count_attempts(ds)),
        "count_day_s": best(args.repeat, lambda: count_attempts(ds, since=since, until=until)),
        "count_day_coalesce_only_s": best(
            args.repeat, lambda: ds.connection.execute(coalesce_only, list(DAY)).fetchall()
        ),
        "summary_all_s": best(args.repeat, lambda: rtf_summary(ds)),
        "summary_day_s": best(args.repeat, lambda: rtf_summary(ds, since=since, until=until)),
    }
    ds.close()
    with tempfile.TemporaryDirectory() as tmp:
        for part in scratch.glob("job_type=*"):
            (Path(tmp) / part.name).mkdir()
            (Path(tmp) / part.name / f"dt={since}").symlink_to(part / f"dt={since}")
        day_ds = open_dataset(tmp, materialize=False)
        figures["ideal_summary_day_s"] = best(args.repeat, lambda: rtf_summary(day_ds))
        day_ds.close()
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(),
        "rows": args.rows,
        "day": since,
        "machine": f"{os.cpu_count()} CPUs (shared with other work while measured)",
        "open_lazy_s": round(open_s, 2),
        **figures,
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
