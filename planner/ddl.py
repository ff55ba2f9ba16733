"""The dataset as a table of Athena, Trino or Spark, and the planner's core aggregates as views.

`table_ddl` writes the CREATE TABLE of the Parquet files where they are: columns and types
from `collectors.schema` (every column but `job_type`, which with `dt` is a partition column
held by the path: the Hive layout, collectors.hive). Athena gets partition projection (no
crawler, no MSCK REPAIR); Trino's Hive connector and Spark register the partitions they find
(`sync_partition_metadata`, `MSCK REPAIR TABLE`), printed after the table.

`views_sql` writes three views in the engine's SQL, the same arithmetic as the planner:
- `<table>_dedup`: one row per attempt_id, the row planner.dataset keeps (KEEP_ORDER);
- `<table>_summary`: per job type x instance type, the figures of `mjplan summary`
  (planner.stats: attempts, succeeded, input and wall seconds of succeeded attempts with a
  measured wall time and a known input, their ratio (RTF), the moments of the delta-method
  interval, seconds per job, percentiles);
- `<table>_hourly_demand`: first attempts per job type and UTC hour, and their media seconds
  (planner.demand.HOURLY_SQL), what sizing reads as demand.
Then the views of the sizing inputs over the window of `mjplan size --window`
(planner.sizing_views), whose results `mjplan size --inputs FOLDER` reads.
Percentiles: Athena and Trino have only `approx_percentile` (a sketch: close to, not equal to,
the planner's exact `quantile_cont`); Spark's `percentile` is exact. Everything else is exact.
tests/planner/test_ddl.py runs these views in DuckDB on the embedded data (the percentile
functions mapped to DuckDB's exact one) and compares them with `mjplan summary` and the demand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from collectors import schema
from planner.dataset import KEEP_ORDER
from planner.errors import PlannerError
from planner.queries import KNOWN_INPUT, MEASURED_WALL

Engine = Literal["athena", "trino", "spark"]
ENGINES: tuple[Engine, ...] = ("athena", "trino", "spark")

DEFAULT_TABLE = "mediajobs_attempts"
#: `mjplan size --window`'s default, 14 days.
DEFAULT_WINDOW_HOURS = 14 * 24

_TYPES: dict[Engine, dict[schema.ColumnType, str]] = {
    "athena": {"string": "STRING", "int32": "INT", "int64": "BIGINT", "float64": "DOUBLE",
               "bool": "BOOLEAN", "timestamp": "TIMESTAMP", "list<string>": "ARRAY<STRING>"},
    "trino": {"string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT", "float64": "DOUBLE",
              "bool": "BOOLEAN", "timestamp": "TIMESTAMP(3)", "list<string>": "ARRAY(VARCHAR)"},
    "spark": {"string": "STRING", "int32": "INT", "int64": "BIGINT", "float64": "DOUBLE",
              "bool": "BOOLEAN", "timestamp": "TIMESTAMP", "list<string>": "ARRAY<STRING>"},
}

#: The percentile aggregate of each engine: f(x, p).
PERCENTILE: dict[Engine, str] = {"athena": "approx_percentile", "trino": "approx_percentile",
                                 "spark": "percentile"}


@dataclass(frozen=True)
class Target:
    """Where the table goes: engine, dataset location, table name and database/schema."""

    engine: Engine
    location: str
    table: str = DEFAULT_TABLE
    database: str = ""
    #: First day Athena's projection of `dt` covers.
    since: dt.date = dt.date(2020, 1, 1)
    job_types: tuple[str, ...] = schema.JOB_TYPES
    #: Hours of the sizing views' window (`mjplan size --window`), back from the data's last hour.
    window_hours: int = DEFAULT_WINDOW_HOURS

    def name(self, suffix: str = "") -> str:
        return f"{self.database}.{self.table}{suffix}" if self.database else (
            f"{self.table}{suffix}")


def check_target(engine: str, location: str, table: str = DEFAULT_TABLE, database: str = "",
                 since: str | None = None, job_types: str | None = None,
                 window: str | None = None) -> Target:
    """A Target from command-line values; PlannerError (one line) for a bad one."""
    import re

    if engine not in ENGINES:
        raise PlannerError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    loc = location.strip().rstrip("/")
    if engine == "athena" and not loc.startswith("s3://"):
        raise PlannerError(f"--data {location!r}: Athena reads s3://bucket/prefix")
    if not loc or "'" in loc:
        raise PlannerError(f"--data {location!r}: expected s3://bucket/prefix")
    for what, name in (("--table", table), ("--database", database)):
        if name and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise PlannerError(f"{what} {name!r}: letters, digits and _ only")
    day = dt.date(2020, 1, 1)
    if since:
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            raise PlannerError(f"--since {since!r}: expected YYYY-MM-DD") from None
    types: tuple[str, ...] = schema.JOB_TYPES
    if job_types:
        types = tuple(t.strip() for t in job_types.split(",") if t.strip())
        bad = [t for t in types if not re.fullmatch(r"[A-Za-z0-9_.-]+", t)]
        if bad or not types:
            raise PlannerError(f"--job-types {job_types!r}: comma-separated names of "
                               "[A-Za-z0-9_.-]")
    hours = DEFAULT_WINDOW_HOURS
    if window:
        from planner.sizing_options import parse_window

        span = parse_window(window, "--window")
        if span.total_seconds() % 3600:
            raise PlannerError(f"--window {window!r}: whole hours (the demand is hourly)")
        hours = int(span.total_seconds() // 3600)
    return Target(engine, loc, table, database, day, types, hours)


def _comment(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def table_ddl(t: Target) -> str:
    """CREATE TABLE of the dataset for `t.engine` (and the partition registration it needs)."""
    types = _TYPES[t.engine]
    cols = [c for c in schema.COLUMNS if c.name not in schema.PARTITION_COLUMNS]
    if t.engine == "trino":
        lines = [f"  {c.name} {types[c.type]} COMMENT '{c.doc.replace(chr(39), chr(39) * 2)}'"
                 for c in cols]
        lines += ["  job_type VARCHAR", "  dt VARCHAR"]
        schema_name = t.database or "default"
        return (f"CREATE TABLE IF NOT EXISTS {t.name()} (\n" + ",\n".join(lines) + "\n)\n"
                f"WITH (\n  external_location = '{t.location}/',\n  format = 'PARQUET',\n"
                "  partitioned_by = ARRAY['job_type', 'dt']\n);\n"
                "-- Register the partitions found under the location (again after new days):\n"
                f"CALL system.sync_partition_metadata('{schema_name}', '{t.table}', 'ADD');\n")
    lines = [f"  `{c.name}` {types[c.type]} COMMENT '{_comment(c.doc)}'" for c in cols]
    if t.engine == "spark":
        lines += ["  `job_type` STRING", "  `dt` STRING"]
        return (f"CREATE TABLE IF NOT EXISTS {t.name()} (\n" + ",\n".join(lines) + "\n)\n"
                "USING PARQUET\nPARTITIONED BY (job_type, dt)\n"
                f"LOCATION '{t.location}/';\n"
                "-- Register the partitions found under the location (again after new days):\n"
                f"MSCK REPAIR TABLE {t.name()};\n")
    template = f"{t.location}/job_type=${{job_type}}/dt=${{dt}}/"
    props = {
        "projection.enabled": "true",
        "projection.job_type.type": "enum",
        "projection.job_type.values": ",".join(t.job_types),
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy-MM-dd",
        "projection.dt.range": f"{t.since.isoformat()},NOW",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "DAYS",
        "storage.location.template": template,
        "parquet.compression": "ZSTD",
    }
    return (f"CREATE EXTERNAL TABLE IF NOT EXISTS {t.name()} (\n" + ",\n".join(lines) + "\n)\n"
            "PARTITIONED BY (`job_type` STRING, `dt` STRING)\nSTORED AS PARQUET\n"
            f"LOCATION '{t.location}/'\nTBLPROPERTIES (\n"
            + ",\n".join(f"  '{k}' = '{v}'" for k, v in props.items()) + "\n);\n")


def _wall() -> str:
    return "CAST(duration_ms AS DOUBLE) / 1000"


def dedup_view(t: Target) -> str:
    """One row per attempt_id: the row planner.dataset keeps."""
    names = [c.name for c in schema.COLUMNS] + ["dt"]
    cols = ", ".join(names)
    return (f"CREATE OR REPLACE VIEW {t.name('_dedup')} AS\n"
            f"SELECT {cols}\nFROM (\n  SELECT {cols},\n"
            f"    row_number() OVER (PARTITION BY attempt_id ORDER BY {KEEP_ORDER}) AS rn\n"
            f"  FROM {t.name()}\n) d\nWHERE rn = 1")


def summary_view(t: Target) -> str:
    """Per job type x instance type: the figures `mjplan summary` computes (planner.stats)."""
    pct = PERCENTILE[t.engine]
    ok = "status = 'succeeded'"
    measured = f"{ok} AND {MEASURED_WALL}"
    both = f"{measured} AND {KNOWN_INPUT}"
    return f"""CREATE OR REPLACE VIEW {t.name('_summary')} AS
SELECT job_type, instance_type,
  count(*) AS attempts,
  sum(ok) AS succeeded,
  count(y) AS n_rtf,
  sum(y) AS input_seconds,
  sum(x) AS wall_seconds,
  sum(y) / sum(x) AS rtf,
  avg(x) AS mean_x, avg(y) AS mean_y,
  var_samp(x) AS var_x, var_samp(y) AS var_y, covar_samp(x, y) AS cov_xy,
  avg(y / x) AS rtf_mean,
  {pct}(y / x, 0.1) AS rtf_p10,
  {pct}(y / x, 0.5) AS rtf_p50,
  {pct}(y / x, 0.9) AS rtf_p90,
  {pct}(y / x, 0.99) AS rtf_p99,
  count(wall) AS n_wall,
  avg(wall) AS seconds_per_job_mean,
  var_samp(wall) AS seconds_per_job_var,
  3600 / avg(wall) AS jobs_per_hour,
  {pct}(wall, 0.5) AS seconds_per_job_p50,
  {pct}(wall, 0.9) AS seconds_per_job_p90
FROM (
  SELECT job_type, coalesce(instance_type, 'unknown') AS instance_type,
    CASE WHEN {ok} THEN 1 ELSE 0 END AS ok,
    CASE WHEN {both} THEN input_duration_seconds END AS y,
    CASE WHEN {both} THEN {_wall()} END AS x,
    CASE WHEN {measured} THEN {_wall()} END AS wall
  FROM {t.name('_dedup')}
) a
GROUP BY job_type, instance_type"""


def hourly_demand_view(t: Target) -> str:
    """First attempts per job type and UTC hour, and their media seconds (planner.demand)."""
    first = "coalesce(attempt_number, 1) = 1"
    return f"""CREATE OR REPLACE VIEW {t.name('_hourly_demand')} AS
SELECT job_type, date_trunc('hour', started_at) AS hour,
  sum(CASE WHEN {first} THEN 1 ELSE 0 END) AS jobs,
  sum(CASE WHEN {first} AND {KNOWN_INPUT} THEN 1 ELSE 0 END) AS media_jobs,
  coalesce(sum(CASE WHEN {first} AND {KNOWN_INPUT} THEN input_duration_seconds END), 0)
    AS media_seconds
FROM {t.name('_dedup')}
WHERE started_at IS NOT NULL
GROUP BY job_type, date_trunc('hour', started_at)"""


def views_sql(t: Target) -> list[str]:
    """Every view, in creation order (each without a trailing semicolon): the three above,
    then the sizing inputs' (planner.sizing_views)."""
    from planner.sizing_views import sizing_views_sql

    return [dedup_view(t), summary_view(t), hourly_demand_view(t), *sizing_views_sql(t)]


def script(t: Target) -> str:
    """Everything `mjplan ddl` prints: the table, then the views."""
    head = (f"-- mjplan ddl --engine {t.engine}: the attempts dataset at {t.location}\n"
            "-- (collectors/schema.py, schema version "
            f"{schema.SCHEMA_VERSION}; job_type and dt come from the path)\n")
    return head + table_ddl(t) + "\n" + ";\n\n".join(views_sql(t)) + ";\n"
