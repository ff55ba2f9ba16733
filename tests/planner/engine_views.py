"""The dataset as an Athena, Trino or Spark table would show it, with the planner's views
(`planner.ddl`), in DuckDB: for the tests that run the engines' SQL."""

from __future__ import annotations

import duckdb

from collectors import schema
from planner import ddl


def duckdb_of(engine: ddl.Engine, data: str, table: str = "t",
              window_hours: int = ddl.DEFAULT_WINDOW_HOURS,
              con: duckdb.DuckDBPyConnection | None = None,
              ) -> tuple[duckdb.DuckDBPyConnection, ddl.Target]:
    """DuckDB holding the table as the engine would see it (the files with job_type and dt
    from the path, dt as text) and the engine's views created from `views_sql`, verbatim but
    for the percentile function, mapped to DuckDB's exact one (the planner's). Several tables
    (other names) can share one connection `con`."""
    con = con or duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    target = ddl.Target(engine, "s3://unused/prefix", table=table, window_hours=window_hours)
    source = (f"read_parquet('{data}/**/*.parquet', hive_partitioning = true, "
              "union_by_name = true, hive_types_autocast = false)")
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    # As the engine's table: every declared column, null where the files lack it.
    cols = [c.name if c.name in present else f"NULL AS {c.name}"
            for c in schema.COLUMNS if c.name != "job_type"]
    con.execute(f"CREATE VIEW {table} AS SELECT {', '.join(cols)}, job_type, dt FROM {source}")
    con.execute(f"CREATE OR REPLACE MACRO {ddl.PERCENTILE[engine]}(x, p) AS quantile_cont(x, p)")
    # The sizing views' engine functions DuckDB names otherwise (date_diff, md5, to_hex and
    # window functions it has as they are): Spark's microseconds since the epoch, and Trino's
    # text to bytes (DuckDB's md5 takes the text itself).
    con.execute("CREATE OR REPLACE MACRO unix_micros(x) AS epoch_us(x)")
    con.execute("CREATE OR REPLACE MACRO to_utf8(x) AS x")
    for sql in ddl.views_sql(target):
        con.execute(sql)
    return con, target
