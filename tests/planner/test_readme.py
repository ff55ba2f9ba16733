"""The README's "Reading the dataset elsewhere" examples, run as written on the embedded data
(from the repository root, where `data/attempts` is): each counts the attempts per job type
that `mjplan summary` counts. The Athena one runs in DuckDB over the views `mjplan ddl` prints."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from planner import ddl
from planner.cli import main as mjplan
from planner.dataset import default_data_url
from tests.planner.engine_views import duckdb_of

ROOT = Path(__file__).resolve().parents[2]


def examples(lang: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Reading the dataset elsewhere", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{lang}\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def summary_counts() -> dict[str, int]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert mjplan(["summary", "--by", "job_type", "--json", "--no-cache"]) == 0
    return {g["job_type"]: g["attempts"] for g in json.loads(out.getvalue())["groups"]}


def as_counts(per_type: Any) -> dict[str, int]:
    """pandas Series, polars or pandas DataFrame (job_type, count) -> {job_type: count}."""
    if hasattr(per_type, "to_dict") and not hasattr(per_type, "columns"):
        return {str(k): int(v) for k, v in per_type.to_dict().items()}
    rows = per_type.rows() if hasattr(per_type, "rows") else per_type.itertuples(index=False)
    return {str(k): int(v) for k, v in rows}


def test_the_section_has_the_four_examples() -> None:
    assert len(examples("python")) == 3 and len(examples("sql")) == 1


@pytest.mark.parametrize("index", range(3), ids=["pandas", "polars", "duckdb"])
def test_python_example(index: int, summary_counts: dict[str, int],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert os.path.samefile("data/attempts", default_data_url())
    scope: dict[str, Any] = {}
    exec(compile(examples("python")[index], "README.md", "exec"), scope)  # noqa: S102
    assert as_counts(scope["per_type"]) == summary_counts


def test_athena_example_through_its_sql_in_duckdb(summary_counts: dict[str, int]) -> None:
    con, _ = duckdb_of("athena", default_data_url(), table=ddl.DEFAULT_TABLE)
    sql = examples("sql")[0]
    counts = {str(k): int(v) for k, v in con.execute(sql).fetchall()}
    assert counts == summary_counts
