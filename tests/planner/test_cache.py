"""The local cache (planner.cache): same rows as reading the files, only new files loaded,
vanished files dropped, a corrupt cache rebuilt, two processes at once, `mjplan cache`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from planner import dataset as dsmod
from planner.cache import cache_file, list_caches
from planner.cli import main as mjplan
from planner.dataset import open_dataset
from planner.stats import rtf_summary
from tests.rows import T0, row, write

REPO = Path(__file__).resolve().parents[2]


def ids(ds: dsmod.Dataset) -> dict[str, Any]:
    """attempt_id -> finished_at of the deduplicated view."""
    return dict(ds.connection.execute("SELECT attempt_id, finished_at FROM attempts").fetchall())


@pytest.fixture
def inspected(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose footers the open read (the cache reads only new ones)."""
    seen: list[str] = []
    real = dsmod.check_files

    def spy(fs: Any, paths: Any) -> Any:
        seen.extend(paths)
        return real(fs, paths)

    monkeypatch.setattr(dsmod, "check_files", spy)
    return seen


def test_cached_rows_are_the_files_rows(planner_cache: Path) -> None:
    plain = open_dataset(None)
    cold = open_dataset(None, cache="on")
    assert cold.cache is not None and cold.cache.parent == planner_cache
    warm = open_dataset(None, cache="on")
    assert warm.cache == cold.cache
    expected = rtf_summary(plain)
    assert rtf_summary(cold).equals(expected) and rtf_summary(warm).equals(expected)
    assert (warm.rows, warm.files, warm.duplicate_ids) == (plain.rows, plain.files,
                                                           plain.duplicate_ids)
    for ds in (plain, cold, warm):
        ds.close()


def test_new_file_picked_up_and_deleted_file_dropped(tmp_path: Path,
                                                     inspected: list[str]) -> None:
    first = row(attempt_id="a-1", wall_s=30.0)
    write(tmp_path, [first, row(attempt_id="a-2")], name="one")
    ds = open_dataset(str(tmp_path), cache="on")
    assert set(ids(ds)) == {"a-1", "a-2"}
    ds.close()
    # A later delivery of a-1 (it finished later: the reader keeps it) and a new attempt.
    later = dict(first, finished_at=T0 + dt.timedelta(seconds=90))
    (two,) = write(tmp_path, [later, row(attempt_id="a-3")], name="two")
    inspected.clear()
    ds = open_dataset(str(tmp_path), cache="on")
    assert inspected == [str(two)]  # only the new file was read
    seen = ids(ds)
    assert set(seen) == {"a-1", "a-2", "a-3"} and ds.duplicate_ids == 1
    assert seen["a-1"] == later["finished_at"]
    ds.close()
    # The file with the later copy goes: a-1 is back to its first copy, a-3 is gone.
    two.unlink()
    inspected.clear()
    ds = open_dataset(str(tmp_path), cache="on")
    assert inspected == []
    seen = ids(ds)
    assert set(seen) == {"a-1", "a-2"} and ds.duplicate_ids == 0
    assert seen["a-1"] == first["finished_at"]
    assert ds.rows == 2 and len(ds.files) == 1
    ds.close()


def test_a_rewritten_file_is_read_again(tmp_path: Path) -> None:
    (path,) = write(tmp_path, [row(attempt_id="b-1")], name="x")
    open_dataset(str(tmp_path), cache="on").close()
    write(tmp_path, [row(attempt_id="b-1"), row(attempt_id="b-2")], name="x")  # same name
    os.utime(path, ns=(1, 1))  # a different mtime, whatever the clock's resolution
    ds = open_dataset(str(tmp_path), cache="on")
    assert set(ids(ds)) == {"b-1", "b-2"}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "rows_missing"])
def test_a_corrupt_cache_is_rebuilt(tmp_path: Path, damage: str,
                                    caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, [row(attempt_id=f"c-{i}") for i in range(5)])
    ds = open_dataset(str(tmp_path), cache="on")
    path = ds.cache
    assert path is not None
    ds.close()
    if damage == "garbage":
        path.write_bytes(b"not a database" * 100)
    elif damage == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    else:  # a valid DuckDB file that lost rows: its file list no longer adds up
        import duckdb

        with duckdb.connect(str(path)) as con:
            con.execute("DELETE FROM _raw WHERE attempt_id = 'c-0'")
    ds = open_dataset(str(tmp_path), cache="on")
    assert set(ids(ds)) == {f"c-{i}" for i in range(5)}
    assert ds.cache == path


def test_refresh_and_no_cache(tmp_path: Path, planner_cache: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, [row(), row(job_type="upload_thumb_v1", input_s=20.0, wall_s=2.0)])
    key = dsmod.cache_key(str(tmp_path))
    assert mjplan(["summary", "--data", str(tmp_path), "--no-cache", "--json"]) == 0
    assert not cache_file(key).exists()
    plain = json.loads(capsys.readouterr().out)
    assert mjplan(["summary", "--data", str(tmp_path), "--json"]) == 0
    cached = json.loads(capsys.readouterr().out)
    assert cached == plain
    assert cache_file(key).exists()
    assert mjplan(["summary", "--data", str(tmp_path), "--refresh", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == cached
    assert mjplan(["cache", "ls", "--json"]) == 0
    entries = {e["url"]: e for e in json.loads(capsys.readouterr().out)}
    assert entries[key]["files"] == 2 and entries[key]["rows"] == 2
    assert mjplan(["cache", "clear", "--data", str(tmp_path)]) == 0
    assert "deleted 1 cache file" in capsys.readouterr().out
    assert not cache_file(key).exists()
    assert key not in {e.url for e in list_caches()}


OPEN_AND_COUNT = r"""
import json, sys
from planner.dataset import open_dataset
ds = open_dataset(sys.argv[1], cache="on")
n = ds.connection.execute("SELECT count(*), count(DISTINCT attempt_id) FROM attempts").fetchall()
print(json.dumps({"rows": n[0], "cache": str(ds.cache)}))
"""


@pytest.mark.slow
def test_two_processes_open_at_once(tmp_path: Path, planner_cache: Path) -> None:
    """Both cold, at the same moment: one builds, the other waits for it (or reads the files),
    both see every attempt once, and the cache is valid afterwards."""
    data = tmp_path / "data"
    for k in range(20):
        write(data, [row(attempt_id=f"p-{k}-{i}", start_s=600.0 * i) for i in range(50)],
              name=f"part-{k}")
    env = {**os.environ, "MJPLAN_CACHE_DIR": str(planner_cache)}
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AND_COUNT, str(data)], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert json.loads(out)["rows"] == [1000, 1000]
    ds = open_dataset(str(data), cache="on")
    assert ds.cache is not None and len(ids(ds)) == 1000
    assert pq.read_metadata(next(data.rglob("*.parquet"))).num_rows == 50


@pytest.mark.s3
def test_new_and_deleted_objects_on_s3(s3_prefix: str, tmp_path: Path,
                                       planner_cache: Path) -> None:
    import pyarrow.fs as pafs

    fs = dsmod.s3_filesystem()
    base = s3_prefix[len("s3://"):]
    local = tmp_path / "local"
    paths = write(local, [row(attempt_id="s-1"), row(attempt_id="s-2", start_s=86400.0)])
    for p in paths:
        rel = p.relative_to(local).as_posix()
        pafs.copy_files(str(p), f"{base}/{rel}", destination_filesystem=fs)
    ds = open_dataset(s3_prefix, cache="on")
    assert set(ids(ds)) == {"s-1", "s-2"} and ds.cache is not None
    # Every column as read without the cache; the objects downloaded to load them are gone.
    plain = open_dataset(s3_prefix)
    every_row = "SELECT * FROM attempts ORDER BY attempt_id"
    assert ds.connection.execute(every_row).fetchall() == (
        plain.connection.execute(every_row).fetchall())
    assert [p.name for p in planner_cache.iterdir() if p.name.startswith(".download")] == []
    plain.close()
    ds.close()
    (extra,) = write(local, [row(attempt_id="s-3")], name="more")
    rel = extra.relative_to(local).as_posix()
    pafs.copy_files(str(extra), f"{base}/{rel}", destination_filesystem=fs)
    fs.delete_file(f"{base}/{paths[1].relative_to(local).as_posix()}")
    ds = open_dataset(s3_prefix, cache="on")
    assert set(ids(ds)) == {"s-1", "s-3"}
    assert all(f.startswith("s3://") for f in ds.files)


HOLD_OPEN = r"""
import sys, time
from planner.dataset import open_dataset
ds = open_dataset(sys.argv[1], cache="on")
print("open", flush=True)
time.sleep(60)
"""


@pytest.mark.slow
def test_a_cache_held_open_elsewhere_is_not_written(tmp_path: Path, planner_cache: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """A TUI left running holds the cache open: a new file is then read from the files (with a
    warning), not written into the cache under the other process."""
    write(tmp_path, [row(attempt_id="h-1")], name="a")
    env = {**os.environ, "MJPLAN_CACHE_DIR": str(planner_cache)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_OPEN, str(tmp_path)], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        write(tmp_path, [row(attempt_id="h-2")], name="b")
        ds = open_dataset(str(tmp_path), cache="on")
        assert ds.cache is None and set(ids(ds)) == {"h-1", "h-2"}
        assert "open elsewhere" in caplog.text
        ds.close()
    finally:
        holder.kill()
        holder.wait()
    ds = open_dataset(str(tmp_path), cache="on")  # free again: brought up to date
    assert ds.cache is not None and set(ids(ds)) == {"h-1", "h-2"}
