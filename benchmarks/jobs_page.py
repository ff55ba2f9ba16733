"""The TUI's jobs page: `tui_queries.attempts_page` against `queries.list_attempts`.

    .venv/bin/python benchmarks/jobs_page.py [--rows 10000000] [--repeat 3]

For the time orders attempts_page restricts its second step (the page's whole rows) to the
page's time range, so the scan skips files and row groups outside it; list_attempts does not.
This times both for the newest page (200 rows) of the whole selection and of one job type, on
the dataset of benchmarks/summary_10m.py opened lazily (as any dataset above
MATERIALIZE_MAX_ROWS), best of --repeat, and checks they return the same rows.
Results: benchmarks/results/jobs_page.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "jobs_page.json"
PAGE = 200


def best(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """(fastest wall seconds of `repeat` runs, the last result)."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return round(min(times), 3), out


def main() -> None:
    from benchmarks import summary_10m
    from planner.dataset import open_dataset
    from planner.queries import list_attempts
    from planner.tui_queries import attempts_page

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    scratch = summary_10m.ensure_dataset(args.rows)
    ds = open_dataset(str(scratch), materialize=False)
    load = os.getloadavg()[0]
    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "page_rows": PAGE,
        "machine": f"{os.cpu_count()} CPUs (shared with other work while measured)",
        "load_avg_1min_before": round(load, 2),
    }
    for name, filters in (("newest", {}), ("newest_one_job_type",
                                          {"job_type": "create_video_export_v1"})):
        page_s, page = best(args.repeat, lambda f=filters: attempts_page(  # type: ignore[misc]
            ds, limit=PAGE, **f))
        list_s, listed = best(args.repeat, lambda f=filters: list_attempts(  # type: ignore[misc]
            ds, limit=PAGE, **f))
        assert [r["attempt_id"] for r in page] == listed["attempt_id"].to_list(), name
        result[name] = {"attempts_page_s": page_s, "list_attempts_s": list_s,
                        "ratio": round(list_s / page_s, 2)}
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
