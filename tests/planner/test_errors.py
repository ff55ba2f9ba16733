"""What people read when something fails: one line, from one resolver of dataset URLs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from planner.dataset import resolve
from planner.errors import DatasetError, PlannerError, describe, one_line
from planner.lease import acquire_lease


def test_one_line_and_describe() -> None:
    assert one_line(ValueError("first\nsecond")) == "first"
    assert one_line(ValueError("  ")) == "ValueError"
    # A PlannerError is written for people: its message alone.
    assert describe(PlannerError("bad --wait 'p95'\nmore")) == "bad --wait 'p95'"
    # Anything else says what it is.
    assert describe(OSError("disk full\ntraceback-ish")) == "OSError: disk full"
    assert describe(KeyError("rtf")) == "KeyError: 'rtf'"
    assert describe(RuntimeError()) == "RuntimeError"


def test_compaction_urls_are_folders_only(tmp_path: Path) -> None:
    one = tmp_path / "one.parquet"
    pq.write_table(pa.table({"a": [1]}), one)
    assert resolve(str(one))[1] == str(one.resolve())  # a dataset of one file for reading
    with pytest.raises(DatasetError, match=f"^no dataset folder at {one}$"):
        resolve(str(one), folder=True)
    with pytest.raises(DatasetError, match="^unsupported dataset URL 'http://x/y': use a folder "
                                           "or s3://bucket/prefix$"):
        resolve("http://x/y", folder=True)
    with pytest.raises(DatasetError, match="^bad S3 URL 's3://': expected s3://bucket/prefix$"):
        resolve("s3://", folder=True)
    # The lease resolves the same way (it raised compact's PlannerError before).
    with pytest.raises(DatasetError, match=f"^no dataset folder at {tmp_path / 'gone'}$"):
        acquire_lease(str(tmp_path / "gone"), "compact")
    fs, root, shown = resolve(f"file://{tmp_path}", folder=True)
    assert root == str(tmp_path.resolve()) and shown == str(tmp_path)
