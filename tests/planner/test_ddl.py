"""`mjplan ddl`: the table matches the schema, and the views' SQL, run in DuckDB over the same
Parquet files (Hive partitions), gives the numbers of `mjplan summary` and of the demand."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors import schema
from planner import ddl
from planner.cli import main as mjplan
from planner.dataset import default_data_url, open_dataset
from planner.demand import load_hourly_arrivals
from planner.stats import rtf_summary
from tests.planner.engine_views import duckdb_of
from tests.rows import old_and_new


def rows_of(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    cur = con.execute(f"SELECT * FROM {name}")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def same(a: Any, b: Any) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None or (isinstance(a, float) and math.isnan(a))) and (
            b is None or (isinstance(b, float) and math.isnan(b)))
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("engine", ddl.ENGINES)
@pytest.mark.parametrize("which", ["embedded", "old_and_new_with_a_duplicate"])
def test_views_give_the_planners_numbers(engine: ddl.Engine, which: str,
                                         tmp_path: Path) -> None:
    data = default_data_url() if which == "embedded" else str(tmp_path)
    if which != "embedded":
        old_and_new(tmp_path)
    con, _ = duckdb_of(engine, data)
    ds = open_dataset(data)
    planner = {(r["job_type"], r["instance_type"]): r for r in rtf_summary(ds).to_dicts()}
    views = {(r["job_type"], r["instance_type"]): r for r in rows_of(con, "t_summary")}
    assert set(views) == set(planner)
    for key, v in views.items():
        p = planner[key]
        cols = ["attempts", "succeeded", "n_wall", "seconds_per_job_mean",
                "seconds_per_job_p50", "seconds_per_job_p90"]
        if p["throughput_unit"] == schema.THROUGHPUT_JOBS:
            cols.append("jobs_per_hour")  # thumbnails: the planner shows no RTF figures
        else:
            cols += ["n_rtf", "input_seconds", "wall_seconds", "rtf", "rtf_mean", "rtf_p10",
                     "rtf_p50", "rtf_p90", "rtf_p99"]
        for col in cols:
            assert same(v[col], p[col]), (key, col, v[col], p[col])
    hourly = load_hourly_arrivals(ds).counts
    demand = {(r["job_type"], r["hour"]): (r["jobs"], r["media_jobs"], r["media_seconds"])
              for r in rows_of(con, "t_hourly_demand")}
    assert set(demand) == set(hourly)
    for key, (jobs, media_jobs, media_s) in demand.items():
        assert (jobs, media_jobs) == hourly[key][:2]
        assert same(media_s, hourly[key][2])
    dedup = con.execute("SELECT count(*), count(DISTINCT attempt_id) FROM t_dedup").fetchall()
    assert dedup[0][0] == dedup[0][1] == sum(p["attempts"] for p in planner.values())


def table_columns(text: str) -> list[str]:
    body = text.split("(\n", 1)[1].split("\n)", 1)[0]
    return [re.match(r"\s*`?(\w+)`?", line).group(1)  # type: ignore[union-attr]
            for line in body.splitlines()]


@pytest.mark.parametrize("engine", ddl.ENGINES)
def test_table_has_every_schema_column_and_the_partitions(engine: ddl.Engine) -> None:
    text = ddl.table_ddl(ddl.check_target(engine, "s3://metrics/attempts"))
    cols = table_columns(text)
    want = [c.name for c in schema.COLUMNS if c.name != "job_type"]
    if engine == "athena":
        assert cols == want
        assert "PARTITIONED BY (`job_type` STRING, `dt` STRING)" in text
        assert "'projection.enabled' = 'true'" in text
        assert ("'storage.location.template' = "
                "'s3://metrics/attempts/job_type=${job_type}/dt=${dt}/'") in text
        assert f"'projection.job_type.values' = '{','.join(schema.JOB_TYPES)}'" in text
        assert "MSCK" not in text
    else:
        assert cols == [*want, "job_type", "dt"]
        assert ("MSCK REPAIR TABLE" in text) == (engine == "spark")
        assert ("sync_partition_metadata" in text) == (engine == "trino")


def test_ddl_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert mjplan(["ddl", "--engine", "athena", "--data", "s3://m/a/", "--database", "an"]) == 0
    out = capsys.readouterr().out
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS an.mediajobs_attempts (" in out
    assert "CREATE OR REPLACE VIEW an.mediajobs_attempts_summary AS" in out
    assert "approx_percentile(y / x, 0.5)" in out
    assert mjplan(["ddl", "--engine", "spark", "--data", "s3a://m/a", "--views-only"]) == 0
    out = capsys.readouterr().out
    assert "CREATE TABLE" not in out and "percentile(wall, 0.9)" in out
    assert mjplan(["ddl", "--engine", "trino", "--data", "s3://m/a", "--window", "36h"]) == 0
    out = capsys.readouterr().out
    assert "CREATE OR REPLACE VIEW mediajobs_attempts_sizing_concurrency AS" in out
    assert "INTERVAL '36' HOUR" in out and "36 AS window_hours" in out


@pytest.mark.parametrize("argv, message", [
    (["--engine", "athena", "--data", "/local/folder"], "Athena reads s3://"),
    (["--engine", "trino", "--data", "s3://m/a", "--table", "x;drop"], "--table"),
    (["--engine", "athena", "--data", "s3://m/a", "--since", "last year"], "--since"),
    (["--engine", "athena", "--data", "s3://m/a", "--job-types", "a,b'c"], "--job-types"),
    (["--engine", "athena", "--data", "s3://m/a", "--window", "90m"], "--window '90m': whole"),
    (["--engine", "spark", "--data", "s3://m/a", "--window", "soon"], "--window"),
])
def test_bad_arguments_say_so_in_one_line(argv: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert mjplan(["ddl", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
