"""The spool and the sink with a local-folder dataset: durability, bounds, claims, quarantine."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from collectors import schema
from collectors.commands import status as status_cmd
from collectors.destinations import LocalDestination, describe_error
from collectors.spool import Spool, SpoolFullError, decode_row
from collectors.upload import (
    SpoolingSink,
    Uploader,
    batch_objects,
    default_sink,
    spool_status,
)
from tests.rows import read_ids, spool_row

REPO = Path(__file__).resolve().parents[2]


def spool_with_rows(folder: Path, count: int) -> Spool:
    """A roomy spool holding rows att-00000 .. att-{count-1}, as a worker would have left it."""
    spool = Spool(folder, 10**7)
    for i in range(count):
        spool.write(schema.validate_row(spool_row(i)))
    return spool


def test_write_is_durable_json_roundtrip(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", 10_000)
    row = schema.validate_row(spool_row(7))
    name = spool.write(row)
    assert spool.pending_names() == [name]
    assert list((tmp_path / "spool" / "tmp").iterdir()) == []
    assert decode_row((tmp_path / "spool" / "rows" / name).read_bytes()) == row


def test_size_bound_refuses_new_rows_and_counts_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    row = schema.validate_row(spool_row(1))
    one = len(json.dumps(row, default=str, separators=(",", ":")))
    spool = Spool(tmp_path / "s", max_bytes=3 * one + 10)
    for _ in range(3):
        spool.write(row)
    with pytest.raises(SpoolFullError):
        spool.write(row)
    assert len(spool.pending_names()) == 3

    sink = SpoolingSink(str(tmp_path / "ds"), spool_dir=tmp_path / "s2", max_bytes=3 * one + 10,
                        batch_rows=100, batch_age=3600)
    with caplog.at_level(logging.ERROR, logger="collectors"):
        for i in range(5):
            sink.append(spool_row(i))  # never raises
    assert (sink.rows_spooled, sink.rows_dropped) == (3, 2)
    assert "spool full, row dropped (1 so far" in caplog.text
    sink._write_state()
    st = spool_status(sink.spool)
    assert st["rows_waiting"] == 3
    assert st["writers"][0]["rows_dropped"] == 2
    assert "rows dropped     2" in status_cmd.format_status(st)
    assert sink.flush(timeout=30)
    assert sorted(read_ids(tmp_path / "ds")) == ["att-00000", "att-00001", "att-00002"]
    sink.close(timeout=5)


def test_invalid_row_is_refused_not_raised(tmp_path: Path) -> None:
    sink = SpoolingSink(str(tmp_path / "ds"), spool_dir=tmp_path / "s", batch_age=3600)
    sink.append({"attempt_id": "x"})  # missing required fields
    sink.append({**spool_row(1), "no_such_column": 1})
    assert (sink.rows_invalid, sink.rows_spooled) == (2, 0)
    sink.close(timeout=1)


def test_two_claimers_never_share_a_row(tmp_path: Path) -> None:
    a = Spool(tmp_path / "s", 10**7)
    b = Spool(tmp_path / "s", 10**7)
    for i in range(30):
        a.write(schema.validate_row(spool_row(i)))
    batches = []
    for n in range(10):
        got = (a if n % 2 else b).claim(f"w-{n:03d}", 4)
        if got is not None:
            batches.append(got)
    names = [p.name for batch in batches for p in batch.files()]
    assert len(names) == 30 and len(set(names)) == 30
    # Held claims are not orphans: their locks are taken.
    assert list(a.adopt_orphans()) == []
    for batch in batches:
        a.finish(batch)
    assert a.all_row_names() == set()


def test_orphaned_batch_is_adopted_with_its_id(tmp_path: Path) -> None:
    spool = spool_with_rows(tmp_path / "s", 5)
    # A process claims the rows and dies without uploading them.
    code = (
        "import sys; from collectors.spool import Spool;"
        "b = Spool(sys.argv[1], 10**7).claim('deadhost-1-aaaaaa-000001', 100);"
        "import os; os._exit(0 if b else 3)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "s")], check=True, cwd=REPO)
    assert spool.pending_names() == []
    uploader = Uploader(str(tmp_path / "ds"), spool)
    result = uploader.drain()
    assert (result.rows, result.batches, result.error) == (5, 1, None)
    files = sorted(p.name for p in (tmp_path / "ds").rglob("*.parquet"))
    assert files == ["deadhost-1-aaaaaa-000001.parquet"]
    assert sorted(read_ids(tmp_path / "ds")) == [f"att-{i:05d}" for i in range(5)]


def test_corrupt_file_is_set_aside_and_the_rest_uploads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = spool_with_rows(tmp_path / "s", 4)
    (tmp_path / "s" / "rows" / "00000000000000000001-1-0.json").write_bytes(b'{"attempt_id": ')
    (tmp_path / "s" / "rows" / "00000000000000000002-1-0.json").write_text('{"x": 1}')
    with caplog.at_level(logging.WARNING, logger="collectors"):
        result = Uploader(str(tmp_path / "ds"), spool).drain()
    assert result.rows == 4 and result.error is None
    assert sorted(read_ids(tmp_path / "ds")) == [f"att-{i:05d}" for i in range(4)]
    assert len(spool.dead_letters()) == 2
    assert "cannot be uploaded (unreadable: not JSON" in caplog.text
    assert "unknown columns: x" in caplog.text


def test_stale_tmp_of_a_dead_writer_is_removed(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", 10**7)
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp_path / "s" / "tmp" / f"{proc.stdout.strip()}-0.tmp"
    dead.write_bytes(b'{"half')
    alive = tmp_path / "s" / "tmp" / f"{os.getpid()}-99.tmp"
    alive.write_bytes(b"{")
    assert spool.remove_stale_tmp() == 1
    assert not dead.exists() and alive.exists()


def test_local_destination_never_overwrites(tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    assert dest.put("p/a.parquet", b"one", "x") == "written"
    import hashlib

    assert dest.put("p/a.parquet", b"one", hashlib.sha256(b"one").hexdigest()) == "same"
    assert dest.put("p/a.parquet", b"two", hashlib.sha256(b"two").hexdigest()) == "other"
    assert (tmp_path / "p" / "a.parquet").read_bytes() == b"one"
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["a.parquet"]


def test_batch_objects_are_deterministic_and_partitioned() -> None:
    rows = [schema.validate_row(spool_row(i, jt, day)) for i, (jt, day) in enumerate(
        [("upload_thumb_v1", 1), ("upload_thumb_v1", 2), ("create_video_export_v1", 1)] * 3)]
    a = batch_objects("h-1-abc-000001", rows)
    b = batch_objects("h-1-abc-000001", list(reversed(rows)))
    assert [(o.relative, o.sha256, o.rows) for o in a] == [(o.relative, o.sha256, o.rows)
                                                           for o in b]
    assert [o.relative for o in a] == [
        "job_type=create_video_export_v1/dt=2026-11-01/h-1-abc-000001.parquet",
        "job_type=upload_thumb_v1/dt=2026-11-01/h-1-abc-000001.parquet",
        "job_type=upload_thumb_v1/dt=2026-11-02/h-1-abc-000001.parquet",
    ]
    assert [o.rows for o in a] == [3, 3, 3]


def test_sink_batches_by_count_and_uploads_rest_at_close(tmp_path: Path) -> None:
    sink = SpoolingSink(str(tmp_path / "ds"), spool_dir=tmp_path / "s", batch_rows=10,
                        batch_age=3600)
    for i in range(25):
        sink.append(spool_row(i))
    sink.close(timeout=30)
    ids = read_ids(tmp_path / "ds")
    assert sorted(ids) == [f"att-{i:05d}" for i in range(25)]
    assert sink.spool.all_row_names() == set()
    state = json.loads(next((tmp_path / "s" / "state").glob("*.json")).read_text())
    assert state["rows_uploaded"] == 25 and state["last_error"] is None


def test_forked_child_gets_its_own_uploader(tmp_path: Path) -> None:
    sink = SpoolingSink(str(tmp_path / "ds"), spool_dir=tmp_path / "s", batch_age=3600)
    sink.append(spool_row(1))
    parent_writer = sink.uploader.writer_id
    pid = os.fork()
    if pid == 0:  # child: must be able to append and flush on its own thread
        code = 1
        try:
            sink.append(spool_row(2))
            ok = sink.flush(timeout=20) and sink.uploader.writer_id != parent_writer
            code = 0 if ok else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sink.flush(timeout=20)
    sink.close(timeout=5)
    assert sorted(read_ids(tmp_path / "ds")) == ["att-00001", "att-00002"]


def test_default_sink_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIAJOB_METRICS_URL", raising=False)
    assert default_sink() is None
    monkeypatch.setenv("MEDIAJOB_METRICS_SPOOL", str(tmp_path / "spools"))
    monkeypatch.setenv("MEDIAJOB_METRICS_URL", str(tmp_path / "ds"))
    monkeypatch.setenv("MEDIAJOB_METRICS", "0")
    assert default_sink() is None
    monkeypatch.setenv("MEDIAJOB_METRICS", "1")
    sink = default_sink()
    assert sink is not None and default_sink() is sink
    assert sink.spool.root.parent == tmp_path / "spools"
    sink.append(spool_row(3))
    sink.close(timeout=10)
    assert read_ids(tmp_path / "ds") == ["att-00003"]
    monkeypatch.setenv("MEDIAJOB_METRICS_URL", "gs://nope/x")
    assert default_sink() is None


def test_rows_go_out_at_process_exit_without_a_flush(tmp_path: Path) -> None:
    code = (
        "from collectors.upload import default_sink\n"
        "from tests.rows import spool_row\n"
        "sink = default_sink()\n"
        "for i in range(7):\n"
        "    sink.append(spool_row(i))\n"
    )
    env = {**os.environ, "MEDIAJOB_METRICS_URL": str(tmp_path / "ds"),
           "MEDIAJOB_METRICS_SPOOL": str(tmp_path / "spools"),
           "MEDIAJOB_METRICS_BATCH_AGE": "3600", "MEDIAJOB_METRICS_EXIT_TIMEOUT": "30"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True,
                          timeout=60, capture_output=True, text=True)
    assert sorted(read_ids(tmp_path / "ds")) == [f"att-{i:05d}" for i in range(7)]
    # The first upload at exit went through at once: pyarrow's late import of pandas (when
    # installed, as here) once failed it with "can't register atexit after shutdown".
    assert "failed" not in proc.stderr, proc.stderr


def test_a_batch_is_cut_by_age(tmp_path: Path) -> None:
    import time

    sink = SpoolingSink(str(tmp_path / "ds"), spool_dir=tmp_path / "s", batch_rows=1000,
                        batch_age=0.3)
    for i in range(3):
        sink.append(spool_row(i))
    # No flush: the uploader's own timer must send the 3 rows (well under batch_rows).
    for _ in range(200):
        if len(read_ids(tmp_path / "ds")) == 3:
            break
        time.sleep(0.05)
    assert sorted(read_ids(tmp_path / "ds")) == ["att-00000", "att-00001", "att-00002"]
    sink.close(timeout=5)


def test_old_writer_states_are_pruned(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", 10**6)
    spool.write_state("old-1-aaaaaa", {"rows_dropped": 1})
    spool.write_state("new-2-bbbbbb", {"rows_dropped": 2})
    old = tmp_path / "s" / "state" / "old-1-aaaaaa.json"
    eight_days = 8 * 86400
    os.utime(old, (old.stat().st_atime - eight_days, old.stat().st_mtime - eight_days))
    assert spool.prune_states() == 1
    assert spool.read_states() == [{"rows_dropped": 2}]


def test_append_survives_a_removed_spool_folder(tmp_path: Path) -> None:
    import shutil

    sink = SpoolingSink(str(tmp_path / "ds"), spool_dir=tmp_path / "s", batch_age=3600)
    sink.append(spool_row(1))
    assert sink.flush(timeout=20)
    shutil.rmtree(tmp_path / "s")  # e.g. a cache cleaner
    sink.append(spool_row(2))
    assert (sink.rows_spooled, sink.rows_dropped) == (2, 0)
    assert sink.flush(timeout=20)
    sink.close(timeout=5)
    assert sorted(read_ids(tmp_path / "ds")) == ["att-00001", "att-00002"]


def test_backoff_is_capped_with_full_jitter() -> None:
    import random

    from collectors.upload import backoff_s

    random.seed(3)
    for failures, ceiling in [(1, 0.5), (2, 1.0), (4, 4.0), (8, 60.0), (5000, 60.0)]:
        waits = [backoff_s(failures, 0.5, 60.0) for _ in range(200)]
        assert min(waits) >= 0 and max(waits) <= ceiling
        assert max(waits) > ceiling * 0.9  # jitter spans the whole range


def test_a_row_arrow_cannot_store_is_set_aside_not_blocking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = spool_with_rows(tmp_path / "s", 3)
    # The schema coerces to int, but 2**40 does not fit the int32 column.
    spool.write(schema.validate_row({**spool_row(9), "input_width": 2**40}))
    with caplog.at_level(logging.WARNING, logger="collectors"):
        result = Uploader(str(tmp_path / "ds"), spool).drain()
    assert (result.rows, result.error) == (3, None)
    assert sorted(read_ids(tmp_path / "ds")) == ["att-00000", "att-00001", "att-00002"]
    assert len(spool.dead_letters()) == 1
    assert "set aside in" in caplog.text


def test_sink_modules_import_nothing_heavy() -> None:
    # boto3 and pyarrow load in the uploader thread only; a worker that never appends pays
    # nothing for them.
    code = (
        "import sys\n"
        "import collectors.layout, collectors.spool, collectors.destinations, collectors.upload\n"
        "import collectors.commands.flush, collectors.commands.status\n"
        "heavy = {'boto3', 'botocore', 'pyarrow', 'pandas', 'polars', 'duckdb'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_another_writers_object_at_our_key_puts_ours_next_to_it_in_the_same_partition(
    tmp_path: Path,
) -> None:
    # A job type with ".parquet" in it must not change the partition folder of the new name.
    spool = Spool(tmp_path / "s", 10**7)
    spool.write(schema.validate_row(spool_row(1, job_type="x.parquet")))
    uploader = Uploader(str(tmp_path / "ds"), spool, writer_id="w")
    [obj] = batch_objects("w-000001", [schema.validate_row(spool_row(1, job_type="x.parquet"))])
    theirs = tmp_path / "ds" / obj.relative
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"someone else's")
    assert uploader.drain().rows == 1
    [ours] = [p for p in theirs.parent.iterdir() if p != theirs]
    assert ours.name == f"w-000001-{obj.sha256[:12]}.parquet"
    assert theirs.read_bytes() == b"someone else's"


def test_upload_errors_carry_no_url_credentials() -> None:
    exc = ConnectionError('Could not connect to the endpoint URL: "http://u:PASS@h:8333/b/k?x=SIG"')
    assert describe_error(exc) == \
        'ConnectionError: Could not connect to the endpoint URL: "http://h:8333/b/k"'


def test_rows_of_a_relative_dataset_url_go_to_the_workers_folder(tmp_path: Path) -> None:
    """A worker with MEDIAJOB_METRICS_URL=ds (relative) leaves rows in the spool; a later
    `mjcollect flush` run from another folder uploads them to the worker's ds, not its own."""
    worker, elsewhere = tmp_path / "worker", tmp_path / "elsewhere"
    worker.mkdir()
    elsewhere.mkdir()
    code = (
        "import os, sys\n"
        "sys.path.insert(0, os.environ['REPO'])\n"
        "from collectors.upload import default_sink\n"
        "from tests.rows import spool_row\n"
        "sink = default_sink()\n"
        "assert default_sink() is sink  # the same sink for the same (relative) URL\n"
        "for i in range(3):\n"
        "    sink.append(spool_row(i))\n"
        "os._exit(0)  # no at-exit upload: the rows stay in the spool\n"
    )
    env = {**os.environ, "REPO": str(REPO), "MEDIAJOB_METRICS_URL": "ds",
           "MEDIAJOB_METRICS_SPOOL": str(tmp_path / "spools"),
           "MEDIAJOB_METRICS_BATCH_AGE": "3600"}
    subprocess.run([sys.executable, "-c", code], cwd=worker, env=env, check=True, timeout=60)
    del env["MEDIAJOB_METRICS_URL"]
    subprocess.run([sys.executable, "-m", "collectors.cli", "flush"], cwd=elsewhere, env=env,
                   check=True, timeout=60, capture_output=True)
    assert sorted(read_ids(worker / "ds")) == [f"att-{i:05d}" for i in range(3)]
    assert not (elsewhere / "ds").exists()


# --- poison rows (issue 14) -----------------------------------------------------------------


def test_a_poison_row_between_good_rows_goes_to_the_dead_letter_folder(tmp_path: Path) -> None:
    # A file where the partition folder of job type "poison" belongs (another tool's litter):
    # that partition's object is refused on every try (EEXIST), the others are not.
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "job_type=poison").write_text("not a folder")
    spool = Spool(tmp_path / "s", 10**7)
    for i in range(5):
        spool.write(schema.validate_row(spool_row(i, "poison" if i == 2 else "upload_thumb_v1")))
    result = Uploader(str(ds), spool, batch_rows=500).drain()
    assert (result.rows, result.dead, result.error) == (4, 1, None)
    assert sorted(read_ids(ds)) == ["att-00000", "att-00001", "att-00003", "att-00004"]
    [dead] = spool.dead_letters()
    assert decode_row((spool.dead_letter / dead).read_bytes())["attempt_id"] == "att-00002"
    assert "refused by the dataset" in spool.dead_letter_reasons()[dead]
    assert spool.all_row_names() == set()  # nothing blocks later rows
    st = spool_status(spool)
    assert st["dead_letter_rows"] == 1
    assert "dead letters     1 rows" in status_cmd.format_status(st)
    # Fixed: `mjcollect flush --dead-letter` puts it back and uploads it.
    (ds / "job_type=poison").unlink()
    out = subprocess.run([sys.executable, "-m", "collectors.cli", "flush", "--spool",
                          str(spool.root), "--url", str(ds), "--dead-letter"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert sorted(read_ids(ds)) == [f"att-{i:05d}" for i in range(5)]
    assert spool.dead_letters() == []


def test_a_batch_is_split_to_find_the_refused_rows(tmp_path: Path) -> None:
    # Eight rows of one partition: half of a split is refused, half is not, down to single rows.
    class RefusesSomeRows(LocalDestination):
        def put(self, relative: str, body: bytes, sha256: str) -> str:
            ids = pq.read_table(io.BytesIO(body)).column("attempt_id").to_pylist()
            if {"att-00003", "att-00006"} & set(ids):
                raise OSError(errno.ENAMETOOLONG, "File name too long", relative)
            return super().put(relative, body, sha256)

    spool = spool_with_rows(tmp_path / "s", 8)
    up = Uploader(str(tmp_path / "ds"), spool)
    up._dest = RefusesSomeRows(tmp_path / "ds")
    result = up.drain()
    assert (result.rows, result.dead) == (6, 2)
    assert sorted(read_ids(tmp_path / "ds")) == [
        f"att-{i:05d}" for i in range(8) if i not in (3, 6)]
    dead = [decode_row((spool.dead_letter / n).read_bytes())["attempt_id"]
            for n in spool.dead_letters()]
    assert sorted(dead) == ["att-00003", "att-00006"]


@pytest.mark.parametrize("job_type", ["x" * 300, "中" * 30, "é/../" * 80])
def test_long_partition_values_are_shortened_and_kept_whole_in_the_column(
    tmp_path: Path, job_type: str
) -> None:
    # Unshortened, each of these fails its upload on a local file system (a name > 255 bytes).
    spool = Spool(tmp_path / "s", 10**7)
    for i in range(2):
        spool.write(schema.validate_row(spool_row(i, job_type)))
    result = Uploader(str(tmp_path / "ds"), spool).drain()
    assert (result.rows, result.dead, result.error) == (2, 0, None)
    [path] = list((tmp_path / "ds").rglob("*.parquet"))
    segment = path.relative_to(tmp_path / "ds").parts[0]
    assert segment.startswith("job_type=") and len(segment.encode()) <= 9 + 120
    assert pq.read_table(path).column("job_type").to_pylist() == [job_type, job_type]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: a real file system that fills up (needs root, as CI and ./dev have)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system of `folder`; returns the filler file (delete it to free space)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_counters_survive_a_full_disk(small_disk: Path, tmp_path: Path,
                                      caplog: pytest.LogCaptureFixture) -> None:
    sink = SpoolingSink(str(tmp_path / "ds"), spool_dir=small_disk / "spool", batch_age=3600)
    for i in range(2):
        sink.append(spool_row(i))
    filler = fill(small_disk)
    with caplog.at_level(logging.DEBUG, logger="collectors"):
        for i in range(2, 5):
            sink.append(spool_row(i))  # refused by the disk: counted, never raised
        sink._write_state()  # as each upload cycle does
    assert sink.rows_dropped == 3
    assert "state file not written" in caplog.text and "3 dropped" in caplog.text
    spool = sink.spool
    leftovers = [p.name for d in (spool.state, spool.tmp) for p in d.iterdir()]
    assert not [n for n in leftovers if n.endswith(".tmp")]  # no half-written temp files
    # Room again: the counters kept in memory reach `mjcollect status`.
    filler.unlink()
    sink.close(timeout=30)
    assert sorted(read_ids(tmp_path / "ds")) == ["att-00000", "att-00001"]
    text = status_cmd.format_status(spool_status(spool))
    assert "rows dropped     3" in text


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 bytes"), (1023, "1023 bytes"), (1536, "1.5 KiB"), (536870912, "512 MiB"),
     (3 * 1024**3 + 1024**3 // 10, "3.1 GiB"), (None, "-")],
)
def test_status_sizes_are_human(n: int | None, text: str) -> None:
    assert status_cmd.human_bytes(n) == text
