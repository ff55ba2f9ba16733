"""What does one page of `planner.queries.list_attempts` cost on 10 million attempts?

    .venv/bin/python benchmarks/list_attempts.py [--repeat 3]

The dataset is summary_10m's (benchmarks/scratch/summary_10m/, made by
`benchmarks/summary_10m.py` when missing), opened through a local cache built first in a
temporary folder. Each variant runs in a fresh process (so its peak RSS is its own), the page of
100 at offset 50,000 with no filter, by start time and by RTF, best of --repeat:

- semi: list_attempts as it is: the page's ids (id and sort key only), then the rows of those
  ids by a semi join (`attempt_id IN (...)`);
- join: the same two steps with step 2 written as a JOIN on the page's ids (list_attempts
  before 561dfdd): DuckDB built that join's hash table from every row and column.

Both must return the same ids in the same order (checked). Results:
benchmarks/results/list_attempts.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "list_attempts.json"
SCRATCH = ROOT / "benchmarks" / "scratch" / "summary_10m"

CHILD = r"""
import json, resource, sys, time
from planner.dataset import open_dataset
from planner.queries import fetch_pl, list_attempts, page_query
variant, order, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = open_dataset(sys.argv[4], cache="on")
rss_open = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def join_page():
    page, params = page_query("attempt_id AS _id", order_by=order, descending=True,
                              limit=100, offset=50_000, filters={})
    sql = (f"WITH page AS ({page}) SELECT a.* FROM attempts a JOIN page "
           "ON a.attempt_id = page._id ORDER BY page._k DESC NULLS LAST, a.attempt_id DESC")
    return fetch_pl(ds, sql, params)


best = None
for _ in range(repeat):
    t = time.perf_counter()
    df = (list_attempts(ds, order_by=order, limit=100, offset=50_000, with_badges=False)
          if variant == "semi" else join_page())
    took = time.perf_counter() - t
    best = took if best is None else min(best, took)
print(json.dumps({"best_s": round(best, 3), "ids": df["attempt_id"].to_list(),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "rss_after_open_mb": round(rss_open)}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not (SCRATCH / "_rows").exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "summary_10m.py"), "--repeat",
                        "1", "--no-s3"], check=True)
    rows = int((SCRATCH / "_rows").read_text())
    load = round(os.getloadavg()[0], 2)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="list-attempts-cache-") as cache:
        env = {**os.environ, "MJPLAN_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        build = [sys.executable, "-c", "import sys; from planner.dataset import open_dataset; "
                 "open_dataset(sys.argv[1], cache='on')", str(SCRATCH)]
        subprocess.run(build, check=True, env=env, stderr=subprocess.DEVNULL)
        for order in ("started_at", "rtf"):
            runs = {}
            for variant in ("semi", "join"):
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, variant, order, str(args.repeat),
                     str(SCRATCH)], check=True, env=env, capture_output=True, text=True)
                # The last line: DuckDB draws its progress bar on stdout for long queries.
                runs[variant] = json.loads(done.stdout.strip().splitlines()[-1])
                print(order, variant, {k: v for k, v in runs[variant].items() if k != "ids"},
                      flush=True)
            same = runs["semi"].pop("ids") == runs["join"].pop("ids")
            out[order] = {**runs, "same_rows_in_same_order": same,
                          "time_semi_over_join": round(runs["semi"]["best_s"]
                                                       / runs["join"]["best_s"], 3)}
    doc = {
        "question": "One page of list_attempts (100 rows at offset 50,000, no filter) on a "
                    "cached dataset: a semi join on the page's ids against the JOIN it replaced",
        "command": f".venv/bin/python benchmarks/list_attempts.py --repeat {args.repeat}",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": rows,
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_at_start": load,
                    "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
        "orders": out,
    }
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0 if all(o["same_rows_in_same_order"] for o in out.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
