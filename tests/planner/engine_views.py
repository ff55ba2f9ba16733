"""The dataset as an Athena, Trino or Spark table would show it, with the planner's views
(`planner.ddl`), in DuckDB: for the tests that run the engines' SQL."""

from __future__ import annotations

import duckdb

from collectors import schema
from planner import ddl


def duckdb_of(engine: ddl.Engine, data: str,
              table: str = "t") -> tuple[duckdb.DuckDBPyConnection, ddl.Target]:
    """DuckDB holding the table as the engine would see it (the files with job_type and dt
    from the path, dt as text) and the engine's views created from `views_sql`, verbatim but
    for the percentile function, mapped to DuckDB's exact one (the planner's)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    target = ddl.Target(engine, "s3://unused/prefix", table=table)
    source = (f"read_parquet('{data}/**/*.parquet', hive_partitioning = true, "
              "union_by_name = true, hive_types_autocast = false)")
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    # As the engine's table: every declared column, null where the files lack it.
    cols = [c.name if c.name in present else f"NULL AS {c.name}"
            for c in schema.COLUMNS if c.name != "job_type"]
    con.execute(f"CREATE VIEW {table} AS SELECT {', '.join(cols)}, job_type, dt FROM {source}")
    con.execute(f"CREATE MACRO {ddl.PERCENTILE[engine]}(x, p) AS quantile_cont(x, p)")
    for sql in ddl.views_sql(target):
        con.execute(sql)
    return con, target
