"""Opening datasets: dedupe, schema versions, corrupt files, errors, listings and paging."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collectors import schema
from planner import queries
from planner.dataset import default_data_url, open_dataset
from planner.errors import DatasetError, PlannerError
from tests.rows import T0, row, write


@pytest.mark.parametrize("materialize", [None, False])
def test_doubled_rows_are_deduped_keeping_the_latest_finished(
    tmp_path: Path, materialize: bool | None
) -> None:
    rows = [row(wall_s=10 + i) for i in range(5)]
    write(tmp_path, rows, name="first")
    # The same attempts delivered again (at-least-once upload), one of them re-written later.
    again = [dict(r) for r in rows[:3]]
    again[0]["finished_at"] = again[0]["finished_at"] + dt.timedelta(seconds=5)
    again[0]["status"] = "failed"
    write(tmp_path, again, name="second")

    ds = open_dataset(str(tmp_path), materialize=materialize)
    assert ds.materialized is (materialize is None)  # small: in memory unless told not to
    assert ds.rows == 8
    assert ds.duplicate_ids == 3
    raw = ds.connection.execute("SELECT count(*) FROM attempts_raw").fetchall()[0][0]
    assert raw == 8
    assert queries.count_attempts(ds) == 5
    ids = ds.connection.execute("SELECT attempt_id FROM attempts ORDER BY 1").fetchall()
    assert sorted(r[0] for r in ids) == sorted(r["attempt_id"] for r in rows)
    kept = queries.get_attempt(ds, rows[0]["attempt_id"])
    assert kept is not None and kept["status"] == "failed"


def test_files_of_two_schema_versions_read_together(tmp_path: Path) -> None:
    # An older writer: fewer columns (no sampling, no output size), int64 cpu_cores.
    old_cols = [
        f
        for f in schema.arrow_schema()
        if not f.name.startswith(("cpu_pct", "mem_rss"))
        and f.name not in ("cpu_sample_count", "output_size_bytes", "cpu_cores")
    ]
    old_schema = pa.schema(
        [*old_cols, pa.field("cpu_cores", pa.int64())], metadata={"mediajobs.schema_version": "0"}
    )
    old = row(cpu_pct_avg=50.0, schema_version=0)
    write(tmp_path, [old], name="old", table_schema=old_schema)
    # A newer writer: an extra column this reader does not know.
    new = row(cpu_pct_avg=150.0, mem_rss_mb_max=300.0)
    new_schema = schema.arrow_schema().append(pa.field("gpu_model", pa.string()))
    table = pa.Table.from_pylist([{**new, "gpu_model": "T4"}], schema=new_schema)
    folder = tmp_path / "job_type=create_video_export_v1" / "dt=2026-11-02"
    pq.write_table(table, folder / "new.parquet")

    ds = open_dataset(str(tmp_path))
    assert ds.skipped == []
    assert ds.schema_versions == [0, schema.SCHEMA_VERSION]
    assert ds.extra_columns == ["gpu_model"]
    got = {r["attempt_id"]: r for r in queries.list_attempts(ds).to_dicts()}
    assert got[old["attempt_id"]]["cpu_pct_avg"] is None  # column absent in the old file
    assert got[old["attempt_id"]]["cpu_cores"] == 2
    assert got[old["attempt_id"]]["gpu_model"] is None
    assert got[new["attempt_id"]]["cpu_pct_avg"] == 150.0
    assert got[new["attempt_id"]]["gpu_model"] == "T4"


def test_a_corrupt_file_among_good_ones_is_skipped_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = [row() for _ in range(3)]
    [path] = write(tmp_path, good)
    truncated = path.with_name("truncated.parquet")
    truncated.write_bytes(path.read_bytes()[:-20])  # footer cut off mid-upload
    (path.parent / "garbage.parquet").write_bytes(b"not parquet at all")

    with caplog.at_level(logging.WARNING, logger="planner.dataset"):
        ds = open_dataset(str(tmp_path))
    assert queries.count_attempts(ds) == 3
    assert sorted(Path(s.path).name for s in ds.skipped) == ["garbage.parquet", "truncated.parquet"]
    assert "truncated.parquet" in caplog.text and "garbage.parquet" in caplog.text


def test_a_file_whose_column_cannot_be_cast_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, [row()])
    ours = {"status": ["succeeded"], "started_at": [T0]}
    bad = pa.table({"attempt_id": ["x"], **ours, "duration_ms": [[1, 2]]})  # list, not int64
    text = pa.table({"attempt_id": ["y"], **ours, "rtf": ["fast"]})  # text, not a number
    folder = tmp_path / "job_type=create_video_export_v1" / "dt=2026-11-02"
    pq.write_table(bad, folder / "b.parquet")
    pq.write_table(text, folder / "c.parquet")
    ds = open_dataset(str(tmp_path))
    assert [Path(s.path).name for s in ds.skipped] == ["b.parquet", "c.parquet"]
    assert "duration_ms" in ds.skipped[0].reason and "rtf" in ds.skipped[1].reason
    assert queries.count_attempts(ds) == 1


def test_foreign_parquet_files_are_skipped_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = [row() for _ in range(2)]
    write(tmp_path, good)
    folder = tmp_path / "job_type=create_video_export_v1" / "dt=2026-11-02"
    # Another tool's file dropped into the dataset: none of our columns.
    pq.write_table(pa.table({"user": ["a", "b"], "clicks": [1, 2]}), folder / "other.parquet")
    # Our columns, but rows without an attempt id (they would collapse into one phantom row),
    # once with statistics and once without (another writer).
    loose = schema.arrow_schema()
    loose = loose.set(0, loose.field("attempt_id").with_nullable(True))
    rows_without_id = [{**row(), "attempt_id": None} for _ in range(2)]
    pq.write_table(pa.Table.from_pylist(rows_without_id, schema=loose), folder / "noid.parquet")
    pq.write_table(pa.Table.from_pylist(rows_without_id, schema=loose),
                   folder / "noid-nostats.parquet", write_statistics=False)

    with caplog.at_level(logging.WARNING, logger="planner.dataset"):
        ds = open_dataset(str(tmp_path))
    assert queries.count_attempts(ds) == 2
    skipped = {Path(s.path).name: s.reason for s in ds.skipped}
    assert sorted(skipped) == ["noid-nostats.parquet", "noid.parquet", "other.parquet"]
    assert "attempt_id" in skipped["other.parquet"] and "status" in skipped["other.parquet"]
    assert "2 rows without attempt_id" in skipped["noid.parquet"]
    assert "2 rows without attempt_id" in skipped["noid-nostats.parquet"]
    for name in skipped:
        assert name in caplog.text


def test_hidden_and_temporary_files_are_not_read(tmp_path: Path) -> None:
    [path] = write(tmp_path, [row()])
    (path.parent / ".part-1.parquet").write_bytes(path.read_bytes())
    (path.parent / "_tmp.parquet").write_bytes(b"partial")
    ds = open_dataset(str(tmp_path))
    assert len(ds.files) == 1 and ds.skipped == []


def test_errors_are_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no dataset folder"):
        open_dataset(str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="no Parquet files"):
        open_dataset(str(tmp_path))
    (tmp_path / "x.parquet").write_bytes(b"junk")
    with pytest.raises(DatasetError, match="no readable Parquet files"):
        open_dataset(str(tmp_path))
    with pytest.raises(DatasetError, match="unsupported"):
        open_dataset("gs://bucket/prefix")


def test_unreachable_s3_is_a_dataset_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(DatasetError, match="cannot list s3://metrics/x"):
        open_dataset("s3://metrics/x")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "ftp://127.0.0.1:1")
    with pytest.raises(DatasetError, match="bad S3 endpoint"):
        open_dataset("s3://metrics/x")


@pytest.fixture
def listing(tmp_path: Path) -> list[dict[str, Any]]:
    rows = []
    for i in range(25):
        rows.append(
            row(
                job_type="upload_edit_proxy_v1" if i % 2 else "create_video_export_v1",
                instance_type="c5.large" if i % 3 else "c7i.large",
                status="failed" if i % 5 == 0 else "succeeded",
                start_s=3600.0 * i,
                wall_s=10.0 + i,
                input_s=100.0,
                input_width=1080,
                input_height=1920,
                input_video_codec="h264",
                input_audio_codec="aac",
            )
        )
    write(tmp_path, rows)
    return rows


def test_pages_cover_the_selection_once_in_order(
    tmp_path: Path, listing: list[dict[str, Any]]
) -> None:
    ds = open_dataset(str(tmp_path))
    assert queries.count_attempts(ds) == 25
    pages = [queries.list_attempts(ds, limit=10, offset=o) for o in (0, 10, 20)]
    assert [p.height for p in pages] == [10, 10, 5]
    ids = [i for p in pages for i in p["attempt_id"].to_list()]
    newest_first = [
        r["attempt_id"] for r in sorted(listing, key=lambda r: r["started_at"], reverse=True)
    ]
    assert ids == newest_first
    first = pages[0].row(0, named=True)
    assert first["input_badge"] == "1080x1920 H.264 AAC, 1:40"
    assert first["host_badge"] == "c7i.large, 2 cores, 4GB"  # i = 24
    assert first["rtf_badge"] == "RTF 2.9x"  # 100 s of input in 34 s


def test_filters_and_orders(tmp_path: Path, listing: list[dict[str, Any]]) -> None:
    ds = open_dataset(str(tmp_path))
    expect = [
        r
        for r in listing
        if r["job_type"] == "upload_edit_proxy_v1"
        and r["instance_type"] == "c5.large"
        and r["status"] == "succeeded"
    ]
    n = queries.count_attempts(
        ds, job_type="upload_edit_proxy_v1", instance_type="c5.large", status="succeeded"
    )
    assert n == len(expect) == 7
    since, until = T0 + dt.timedelta(hours=5), T0 + dt.timedelta(hours=10)
    assert queries.count_attempts(ds, since=since, until=until) == 5  # hours 5..9
    assert queries.count_attempts(ds, since="2026-11-02T15:00:00Z", until="2026-11-02T20:00") == 5
    assert queries.count_attempts(ds, instance_type=["c5.large", "c7i.large"]) == 25
    fastest = queries.list_attempts(ds, order_by="rtf", limit=1, status="succeeded")
    assert fastest["rtf"][0] == pytest.approx(100.0 / 11.0)
    shortest = queries.list_attempts(ds, order_by="duration_ms", descending=False, limit=1)
    assert shortest["duration_ms"][0] == 10000
    # Values are bound, never spliced into the SQL.
    assert queries.count_attempts(ds, job_type="x' OR '1'='1") == 0
    with pytest.raises(PlannerError, match="cannot order by"):
        queries.list_attempts(ds, order_by="started_at; DROP TABLE x")
    with pytest.raises(PlannerError, match="not a date"):
        queries.count_attempts(ds, since="last tuesday")
    with pytest.raises(PlannerError, match="not after"):
        queries.count_attempts(ds, since="2026-11-03", until="2026-11-02")


@pytest.mark.parametrize("materialize", [True, False])
def test_time_range_counts_rows_without_a_start_by_their_finish(
    tmp_path: Path, materialize: bool
) -> None:
    # Three days in three partitions; on each day one attempt started at 12:00 and one whose
    # start is unknown, finished at 12:00. The range is on the start, else the finish.
    rows = []
    for day in range(3):
        rows.append(row(start_s=day * 86400 + 7200))
        no_start = row(start_s=day * 86400 + 7200 - 30)
        no_start["started_at"] = None
        rows.append(no_start)
    write(tmp_path, rows)
    ds = open_dataset(str(tmp_path), materialize=materialize)
    day1, day2 = T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2)
    assert queries.count_attempts(ds, since=day1) == 4
    assert queries.count_attempts(ds, until=day1) == 2
    assert queries.count_attempts(ds, since=day1, until=day2) == 2
    # Bounds: since <= t < until, on the finish when there is no start.
    noon = T0 + dt.timedelta(days=1, hours=2)
    assert queries.count_attempts(ds, since=noon, until=noon + dt.timedelta(seconds=1)) == 2
    assert queries.count_attempts(ds, until=noon) == 2


def test_attempts_of_a_job_and_one_attempt(tmp_path: Path) -> None:
    first = row(job_id="J", attempt_number=1, status="failed", start_s=0, error="boom")
    second = row(job_id="J", attempt_number=2, start_s=100)
    write(tmp_path, [second, first, row()])
    ds = open_dataset(str(tmp_path))
    df = queries.attempts_of_job(ds, "J")
    assert df["attempt_number"].to_list() == [1, 2]
    assert df["rtf_badge"].to_list() == ["", "RTF 2.0x"]
    got = queries.get_attempt(ds, first["attempt_id"])
    assert got is not None and got["error"] == "boom" and got["rtf_badge"] == ""
    assert queries.get_attempt(ds, "nope") is None
    assert queries.distinct_values(ds, "job_type") == ["create_video_export_v1"]


def test_a_cursor_serves_another_thread(tmp_path: Path, listing: list[dict[str, Any]]) -> None:
    ds = open_dataset(str(tmp_path))
    result: list[int] = []
    cur = ds.cursor()
    t = threading.Thread(target=lambda: result.append(queries.count_attempts(cur)))
    t.start()
    t.join()
    assert result == [25]


def test_the_embedded_default_data() -> None:
    ds = open_dataset()
    assert ds.url == default_data_url()
    con = ds.connection
    job_types = {r[0] for r in con.execute("SELECT DISTINCT job_type FROM attempts").fetchall()}
    assert job_types == set(schema.JOB_TYPES)
    n_types = con.execute(
        "SELECT count(DISTINCT instance_type) FROM attempts WHERE synthetic"
    ).fetchall()[0][0]
    assert n_types >= 6
    days = con.execute(
        "SELECT date_diff('day', min(started_at), max(started_at)) FROM attempts WHERE synthetic"
    ).fetchall()[0][0]
    assert days >= 21
    # Attempts overlap on a host (the sizing measures concurrency from that).
    overlaps = con.execute(
        "SELECT count(*) FROM attempts a JOIN attempts b ON a.hostname = b.hostname "
        "AND a.attempt_id < b.attempt_id AND a.started_at < b.finished_at "
        "AND b.started_at < a.finished_at WHERE a.synthetic AND a.job_type = 'upload_thumb_v1'"
    ).fetchall()[0][0]
    assert overlaps > 100
    retried = con.execute("SELECT count(*) FROM attempts WHERE attempt_number > 1").fetchall()
    assert retried[0][0] > 0
    sampled = con.execute("SELECT count(cpu_pct_avg) FROM attempts WHERE synthetic").fetchall()
    assert sampled[0][0] > 0
    assert ds.skipped == []


# --- one Parquet file as a dataset ----------------------------------------------------------


def test_one_parquet_file_is_a_dataset_of_that_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [row(wall_s=10 + i) for i in range(4)]
    [path] = write(tmp_path, [*rows, dict(rows[0])])  # one attempt delivered twice
    write(tmp_path, [row()], name="other")  # a sibling file: not part of the one-file dataset
    for url in (str(path), f"file://{path}"):
        ds = open_dataset(url)
        assert ds.files == [str(path.resolve())] and ds.rows == 5 and ds.duplicate_ids == 1
        assert queries.count_attempts(ds) == 4
        ds.close()

    from planner.cli import main as mjplan

    assert mjplan(["summary", "--data", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"attempts": 4' in out, out


def test_a_path_neither_folder_nor_parquet_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.cli import main as mjplan

    text = tmp_path / "notes.csv"
    text.write_text("a,b\n")
    cases = {
        str(text): f"{text} is not a dataset: use a folder, a .parquet file or s3://...",
        str(tmp_path / "gone.parquet"): f"no Parquet file at {tmp_path / 'gone.parquet'}",
        str(tmp_path / "gone"): f"no dataset folder at {tmp_path / 'gone'}",
    }
    for url, message in cases.items():
        with pytest.raises(DatasetError, match="^" + message.replace(".", r"\.") + "$"):
            open_dataset(url)
        assert mjplan(["summary", "--data", url]) == 2
        err = capsys.readouterr().err
        assert err == f"mjplan summary: {message}\n"
    bad = tmp_path / "junk.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(DatasetError, match="no readable Parquet files under"):
        open_dataset(str(bad))


@pytest.mark.s3
def test_one_parquet_object_on_s3_is_a_dataset(s3_prefix: str) -> None:
    from planner.dataset import s3_filesystem

    rows = [row(wall_s=5 + i) for i in range(3)]
    fs = s3_filesystem()
    base = s3_prefix.removeprefix("s3://")
    for name, part in (("one.parquet", rows), ("two.parquet", [row()])):
        pq.write_table(pa.Table.from_pylist(part, schema=schema.arrow_schema()),
                       f"{base}/{name}", filesystem=fs)
    ds = open_dataset(f"{s3_prefix}/one.parquet")
    assert ds.files == [f"{s3_prefix}/one.parquet"] and queries.count_attempts(ds) == 3
    ds.close()
    assert queries.count_attempts(open_dataset(s3_prefix)) == 4  # the prefix: both files
    with pytest.raises(DatasetError, match=f"^no Parquet file at {s3_prefix}/nope.parquet$"):
        open_dataset(f"{s3_prefix}/nope.parquet")


def test_local_listing_without_pyarrow_is_pyarrows(tmp_path: Path) -> None:
    # A warm cache open lists a local folder with os (no pyarrow import); the cache compares
    # that listing with the one it was built from, and the files are then read through
    # pyarrow's LocalFileSystem: both must name the same files, sizes and times.
    import os

    import pyarrow.fs as pafs

    from planner import dataset as dsmod

    root = tmp_path / "data"
    written = write(root, [row(job_type="a_v1"), row(job_type="b_v1", start_s=86_400.0)])
    for hidden in ("_tmp/x.parquet", ".hidden/y.parquet", "job_type=a_v1/.p.parquet",
                   "job_type=a_v1/r.parquet.tmp", "_SUCCESS"):
        (root / hidden).parent.mkdir(parents=True, exist_ok=True)
        (root / hidden).write_bytes(b"not parquet")
    (linked,) = write(tmp_path / "elsewhere", [row(job_type="c_v1")])
    os.symlink(tmp_path / "elsewhere", root / "linked")  # followed, as pyarrow does
    fs = pafs.LocalFileSystem()
    for url in (str(root), str(linked)):
        base, display = dsmod.locate(url)
        by_os = dsmod._list_parquet(None, base, display)
        assert by_os == dsmod._list_parquet(fs, base, display)
    expected = sorted([*map(str, written), str(root / "linked" / linked.relative_to(
        tmp_path / "elsewhere"))])
    assert [f.path for f in dsmod._list_parquet(None, str(root), "x")] == expected
