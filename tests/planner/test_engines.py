"""The dataset read as it is by other engines (pandas, polars, pyarrow, DuckDB), on the embedded
data and on S3 (SeaweedFS): each gives the attempts per job type that `mjplan summary` gives,
and `dt` is the day of started_at. Files of the layout before the Hive convention (job_type in
the file too) are read by the planner beside new ones, and `mjplan compact` moves them over.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from collectors.hive import partition_values, path_columns_of
from planner.cli import main as mjplan
from planner.dataset import default_data_url, s3_filesystem
from tests.rows import old_and_new, row, write
from tests.s3server import SeaweedS3

#: A reader: (dataset folder, or bucket/prefix with an S3 filesystem) -> rows of
#: (job_type, attempt_id, dt as text, started_at).
Reader = Callable[[str, "pafs.FileSystem | None"], pd.DataFrame]


def by_pandas(where: str, fs: pafs.FileSystem | None) -> pd.DataFrame:
    df = pd.read_parquet(where, filesystem=fs, columns=["job_type", "dt", "attempt_id",
                                                         "started_at"])
    return df.astype({"job_type": str, "dt": str})


def by_polars(where: str, fs: pafs.FileSystem | None, env: dict[str, str] | None = None,
              ) -> pd.DataFrame:
    if fs is None:
        source, options = f"{where}/**/*.parquet", None
    else:
        assert env is not None
        source = f"s3://{where}/**/*.parquet"
        options = {"aws_endpoint_url": env["AWS_ENDPOINT_URL_S3"], "aws_allow_http": "true",
                   "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
                   "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
                   "aws_region": "us-east-1"}
    lf = pl.scan_parquet(source, hive_partitioning=True, storage_options=options)
    out = lf.select("job_type", pl.col("dt").cast(pl.String), "attempt_id", "started_at")
    return out.collect().to_pandas()


def by_pyarrow(where: str, fs: pafs.FileSystem | None) -> pd.DataFrame:
    table = pads.dataset(where, filesystem=fs, partitioning="hive").to_table(
        columns=["job_type", "dt", "attempt_id", "started_at"])
    df: pd.DataFrame = table.to_pandas()
    return df


def by_duckdb(where: str, fs: pafs.FileSystem | None) -> pd.DataFrame:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if fs is None:
        source = f"read_parquet('{where}/**/*.parquet', hive_partitioning = true)"
    else:
        # No httpfs here (FACTS.md): DuckDB scans pyarrow's view of the same objects.
        con.register("s3_attempts", pads.dataset(where, filesystem=fs, partitioning="hive"))
        source = "s3_attempts"
    df: pd.DataFrame = con.sql(f"SELECT job_type, CAST(dt AS VARCHAR) AS dt, attempt_id, "
                               f"started_at FROM {source}").df()
    return df


READERS: dict[str, Reader] = {"pandas": by_pandas, "polars": by_polars,
                              "pyarrow": by_pyarrow, "duckdb": by_duckdb}


def summary_counts(url: str, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    """Attempts per job type as `mjplan summary --by job_type --json` counts them."""
    assert mjplan(["summary", "--data", url, "--by", "job_type", "--json"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return {g["job_type"]: g["attempts"] for g in doc["groups"]}


def check(df: pd.DataFrame, expected: dict[str, int]) -> None:
    """One row per attempt kept (as every reader should), counted per job type; dt is the UTC
    day of started_at on every row."""
    counts = df.drop_duplicates("attempt_id").groupby("job_type").size().to_dict()
    assert counts == expected
    days = pd.to_datetime(df["started_at"], utc=True).dt.strftime("%Y-%m-%d")
    assert (days == df["dt"]).all()


@pytest.fixture(scope="module")
def embedded_counts() -> dict[str, int]:
    """`mjplan summary`'s attempts per job type on the embedded data (once per module)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert mjplan(["summary", "--by", "job_type", "--json"]) == 0
    return {g["job_type"]: g["attempts"] for g in json.loads(out.getvalue())["groups"]}


def test_embedded_files_keep_job_type_in_the_path_only() -> None:
    root = Path(default_data_url())
    files = sorted(root.rglob("*.parquet"))
    assert files
    for f in files:
        assert "job_type" not in pq.read_schema(f).names, f
        values = partition_values(str(f.relative_to(root).parent))
        assert path_columns_of(pq.read_metadata(f), values) == []


@pytest.mark.parametrize("reader", READERS)
def test_each_reader_on_the_embedded_data(reader: str, embedded_counts: dict[str, int]) -> None:
    assert len(embedded_counts) == 4
    check(READERS[reader](default_data_url(), None), embedded_counts)


@pytest.fixture(scope="module")
def embedded_on_s3(s3_server: SeaweedS3) -> str:
    """The embedded data uploaded once to SeaweedFS: its bucket/prefix."""
    fs = pafs.S3FileSystem(access_key=s3_server.access_key, secret_key=s3_server.secret_key,
                           endpoint_override=s3_server.endpoint, scheme="http",
                           region="us-east-1")
    where = f"{s3_server.bucket}/engines/embedded"
    pafs.copy_files(default_data_url(), where, source_filesystem=pafs.LocalFileSystem(),
                    destination_filesystem=fs)
    return where


@pytest.mark.s3
@pytest.mark.parametrize("reader", READERS)
def test_each_reader_on_s3(reader: str, embedded_on_s3: str, s3_env: SeaweedS3,
                           embedded_counts: dict[str, int],
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert summary_counts(f"s3://{embedded_on_s3}", capsys) == embedded_counts
    fs = s3_filesystem()
    if reader == "polars":
        df = by_polars(embedded_on_s3, fs, s3_env.env())
    else:
        df = READERS[reader](embedded_on_s3, fs)
    check(df, embedded_counts)


def test_old_and_new_layouts_together_then_compacted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = old_and_new(tmp_path)
    assert summary_counts(str(tmp_path), capsys) == expected
    # Hive readers other than pandas already read both (the path's value, the same here).
    for name in ("polars", "pyarrow", "duckdb"):
        check(READERS[name](str(tmp_path), None), expected)
    assert mjplan(["compact", str(tmp_path)]) == 0
    assert "2 files hold job_type as a column too" in capsys.readouterr().out
    for f in tmp_path.rglob("*.parquet"):
        assert "job_type" not in pq.read_schema(f).names, f
    assert summary_counts(str(tmp_path), capsys) == expected
    for reader in READERS.values():
        check(reader(str(tmp_path), None), expected)


def test_compact_moves_a_big_old_file_alone(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A file of the old layout is rewritten even when it is the only file of its partition
    (nothing to merge), and a file already in the new layout is left alone."""
    write(tmp_path, [row(job_type="upload_thumb_v1") for _ in range(3)], name="old")
    new = tmp_path / "job_type=create_video_export_v1" / "dt=2026-11-02" / "new.parquet"
    new.parent.mkdir(parents=True)
    table = pa.Table.from_pylist([row()]).drop_columns(["job_type"])
    pq.write_table(table, new)
    assert mjplan(["compact", str(tmp_path)]) == 0
    capsys.readouterr()
    assert new.exists()  # untouched
    assert not list(tmp_path.rglob("old.parquet"))
    check(by_pandas(str(tmp_path), None), {"upload_thumb_v1": 3, "create_video_export_v1": 1})
    assert mjplan(["compact", str(tmp_path)]) == 0
    assert "nothing to compact" in capsys.readouterr().out


def test_a_job_type_the_path_cannot_hold_whole_stays_in_the_file(tmp_path: Path) -> None:
    """A partition value that does not come back whole from the path (here: the path says
    something else, as a shortened long value would) keeps the column, and the planner reads
    the file's value."""
    from collectors.hive import without_path_columns
    from planner.dataset import open_dataset

    long_type = "x" * 40
    table = pa.Table.from_pylist([row(job_type=long_type)])
    kept = without_path_columns(table, {"job_type": "x-short-1234"})
    assert kept.column("job_type").to_pylist() == [long_type]
    folder = tmp_path / "job_type=x-short-1234" / "dt=2026-11-02"
    folder.mkdir(parents=True)
    pq.write_table(kept, folder / "a.parquet")
    shutil.copy(folder / "a.parquet", folder / "b.parquet")
    ds = open_dataset(str(tmp_path))
    assert ds.connection.execute("SELECT DISTINCT job_type FROM attempts").fetchall() == [
        (long_type,)]
