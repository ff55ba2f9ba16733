"""Dataset URLs, partition paths and object names: nothing escapes the dataset root."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from collectors.layout import (
    MAX_PARTITION_VALUE_BYTES,
    NULL_PARTITION,
    escape_partition_value,
    object_name,
    parse_day,
    parse_url,
    partition_path,
    partition_value,
    row_day,
    safe_name,
)


def test_parse_s3_url() -> None:
    loc = parse_url("s3://metrics/prod/attempts/")
    assert (loc.scheme, loc.bucket, loc.prefix) == ("s3", "metrics", "prod/attempts")
    assert loc.key("job_type=a/dt=2026-01-02/w-1.parquet") == (
        "prod/attempts/job_type=a/dt=2026-01-02/w-1.parquet")
    assert parse_url("s3://metrics").key("x.parquet") == "x.parquet"
    assert parse_url("s3://metrics/p").display() == "s3://metrics/p"


def test_parse_local_url(tmp_path: Path) -> None:
    assert parse_url(str(tmp_path / "ds")).path == tmp_path / "ds"
    assert parse_url(f"file://{tmp_path}/ds").path == tmp_path / "ds"
    assert not parse_url(str(tmp_path)).is_s3


@pytest.mark.parametrize("bad", ["", "  ", "s3://", "s3:///prefix", "s3://b/../x", "gs://b/p",
                                 "s3://user:pw@b/p"])
def test_bad_urls_raise(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_url(bad)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("create_video_export_v1", "create_video_export_v1"),
        ("../x", "%2E%2E%2Fx"),
        ("..", "%2E%2E"),
        (".hidden", "%2Ehidden"),
        ("a/b", "a%2Fb"),
        ("a b=c", "a%20b%3Dc"),
        ("é", "%C3%A9"),
        ("v1.2-x", "v1.2-x"),
        ("", NULL_PARTITION),
        (None, NULL_PARTITION),
    ],
)
def test_escape_partition_value(value: object, escaped: str) -> None:
    assert escape_partition_value(value) == escaped


def test_partition_path_cannot_escape_root(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    for job_type in ["../x", "../../etc", "/abs", "a/../../b", "..\\x", "x/.."]:
        rel = partition_path(job_type, dt.date(2026, 1, 2))
        assert rel.count("/") == 1, rel
        resolved = (root / rel).resolve()
        assert resolved.parent.parent == root.resolve(), rel
        assert all(part not in (".", "..") for part in rel.split("/"))


def test_escape_roundtrips_through_pyarrow_hive_decoding(tmp_path: Path) -> None:
    # Readers that take partition values from paths see the original value.
    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    rel = partition_path("../weird type", dt.date(2026, 1, 2))
    (tmp_path / rel).mkdir(parents=True)
    pq.write_table(pa.table({"x": [1]}), tmp_path / rel / "f.parquet")
    table = pads.dataset(tmp_path, format="parquet", partitioning="hive").to_table()
    assert table.column("job_type").to_pylist() == ["../weird type"]


def test_row_day_uses_started_then_finished_utc() -> None:
    tz = dt.timezone(dt.timedelta(hours=-5))
    started = dt.datetime(2026, 3, 1, 22, 30, tzinfo=tz)  # 03:30 UTC next day
    assert row_day({"started_at": started}) == dt.date(2026, 3, 2)
    assert row_day({"started_at": None, "finished_at": "2026-03-04T01:00:00Z"}) == (
        dt.date(2026, 3, 4))
    fallback = dt.datetime(2026, 5, 6, 7, tzinfo=dt.UTC)
    assert row_day({}, fallback) == dt.date(2026, 5, 6)


def test_names() -> None:
    assert object_name("host-12-abc-000003") == "host-12-abc-000003.parquet"
    for bad in ["../x", "a/b", ".x", ""]:
        with pytest.raises(ValueError):
            object_name(bad)
    assert safe_name("ip-10-0-0-1.ec2/internal") == "ip-10-0-0-1.ec2_internal"
    assert safe_name("..") == "x"
    assert parse_day("2026-02-30") is None
    assert parse_day("2026-02-28") == dt.date(2026, 2, 28)


@pytest.mark.parametrize("value", ["a" * 300, "中" * 30, "😀" * 100, "." * 300, "é" * 61])
def test_long_partition_values_are_shortened_with_a_hash(value: str) -> None:
    import urllib.parse

    short = partition_value(value)
    assert len(short.encode()) <= MAX_PARTITION_VALUE_BYTES < 255
    assert partition_value(value) == short  # deterministic: retries write the same key
    assert partition_value(value + "x") != short  # distinct values, distinct partitions
    head, _, digest = short.rpartition("-")
    assert len(digest) == 16 and value.startswith(urllib.parse.unquote(head, errors="strict"))
    assert partition_value("upload_thumb_v1") == escape_partition_value("upload_thumb_v1")
