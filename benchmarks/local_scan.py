"""Local Parquet files: DuckDB's own reader or a pyarrow dataset scanned by DuckDB?

    .venv/bin/python benchmarks/local_scan.py [--rows 10000000] [--repeat 3]

planner.dataset reads local files with DuckDB's `read_parquet` over the file list and S3
objects through a registered `pyarrow.dataset` (DuckDB cannot reach S3 here). This times the
same aggregate (attempts, input seconds over wall seconds, p50 of wall time per job type, the
job type from the Hive path) both ways over the same local files: the dataset of
benchmarks/summary_10m.py (generated there when missing), best of --repeat, in one process.
Results: benchmarks/results/local_scan.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "local_scan.json"

AGGREGATE = (
    "SELECT job_type, count(*) AS n, sum(input_duration_seconds) / sum(duration_ms / 1000.0) "
    "AS rtf, quantile_cont(duration_ms, 0.5) AS p50_ms FROM {src} GROUP BY job_type "
    "ORDER BY job_type"
)


def main() -> None:
    import duckdb
    import pyarrow.dataset as pads

    from benchmarks import summary_10m
    from benchmarks.jobs_page import best  # one 'fastest of N runs'

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    scratch = summary_10m.ensure_dataset(args.rows)
    files = sorted(str(p) for p in scratch.rglob("*.parquet"))
    con = duckdb.connect()
    listed = "[" + ", ".join(f"'{f}'" for f in files) + "]"

    def duckdb_reader() -> list[Any]:
        src = f"read_parquet({listed}, union_by_name = true, hive_partitioning = true)"
        return con.execute(AGGREGATE.format(src=src)).fetchall()

    def pyarrow_dataset() -> list[Any]:
        arrow_ds = pads.dataset(files, format="parquet", partitioning="hive",
                                partition_base_dir=str(scratch))
        con.register("arrow_ds", arrow_ds)
        try:
            return con.execute(AGGREGATE.format(src="arrow_ds")).fetchall()
        finally:
            con.unregister("arrow_ds")

    load = os.getloadavg()[0]
    reader_s, a = best(args.repeat, duckdb_reader)
    arrow_s, b = best(args.repeat, pyarrow_dataset)
    assert [r[:2] for r in a] == [r[:2] for r in b], "the two routes disagree"
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "files": len(files),
        "machine": f"{os.cpu_count()} CPUs (shared with other work while measured)",
        "load_avg_1min_before": round(load, 2),
        "duckdb_read_parquet_s": reader_s,
        "pyarrow_dataset_s": arrow_s,
        "ratio_pyarrow_over_duckdb": round(arrow_s / reader_s, 2),
    }
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
