"""mjplan compact and purge on a dataset of a few thousand small files (local), and on S3."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from collectors import schema
from collectors.layout import partition_path
from planner import lease as lease_module
from planner.cli import main as mjplan
from planner.compact import (
    DataFile,
    group_small_files,
    parse_age_days,
    parse_duration_s,
    parse_size,
    plan_compaction,
    plan_purge,
    run_compaction,
    run_purge,
)
from planner.dataset import open_dataset
from planner.errors import PlannerError
from planner.lease import LOCK_NAME, Lease, LeaseHeldError, LeaseLostError, acquire_lease

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.datetime.now(dt.UTC).date()
#: Days before today of the partitions; 200 and 400 are past a 180-day purge.
AGES = (1, 2, 30, 200, 400)
JOB_TYPES = schema.JOB_TYPES  # 4 x 5 = 20 partitions
FILES_PER_PARTITION = 100  # 2,000 files (+20 retries)


def make_row(aid: str, job_type: str, day: dt.date, finished_s: int = 60) -> dict[str, Any]:
    row = schema.empty_row()
    start = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
    row.update(attempt_id=aid, job_id="j-" + aid, job_type=job_type, status="succeeded",
               started_at=start, finished_at=start + dt.timedelta(seconds=finished_s),
               duration_ms=finished_s * 1000, input_duration_seconds=30.0)
    return row


def write_file(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema.arrow_schema()), path)


def build_dataset(root: Path, job_types: tuple[str, ...] = JOB_TYPES,
                  ages: tuple[int, ...] = AGES) -> None:
    """2,020 files of 1-2 rows; in each partition one duplicated attempt (the later copy has a
    later finished_at and wins), one file of an older collector (no cpu/output columns) and one
    of a newer collector (an extra column gpu_util_pct)."""
    for jt in job_types:
        t = JOB_TYPES.index(jt)
        for age in ages:
            day = TODAY - dt.timedelta(days=age)
            part = root / partition_path(jt, day)
            rows: list[dict[str, Any]] = []
            bounds = []
            for k in range(FILES_PER_PARTITION):
                aid = f"t{t}-{age}-{k:04d}"
                start = len(rows)
                rows.append(make_row(aid, jt, day))
                if k % 2:
                    rows.append(make_row(aid + "b", jt, day))
                bounds.append((start, len(rows) - start))
            table = pa.Table.from_pylist(rows, schema=schema.arrow_schema())
            part.mkdir(parents=True)
            for k, (start, n) in enumerate(bounds):
                piece = table.slice(start, n)
                if k == 0:
                    piece = piece.drop_columns(["cpu_pct_avg", "output_size_bytes"])
                elif k == 1:
                    piece = piece.append_column("gpu_util_pct", pa.array([5.0, 6.0]))
                pq.write_table(piece, part / f"w{k:04d}.parquet")
            dup = make_row(f"t{t}-{age}-0002", jt, day, finished_s=99)
            write_file(part / "w9999-retry.parquet", [dup])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thumbnail partitions 30, 2 and 1 days old (303 files), for the smaller cases."""
    root = tmp_path_factory.mktemp("pristine") / "ds"
    build_dataset(root, ("upload_thumb_v1",), (30, 2, 1))
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """The full dataset: 20 partitions, 2,020 files."""
    root = tmp_path / "ds"
    build_dataset(root)
    return root


@pytest.fixture
def one_partition(pristine: Path, tmp_path: Path) -> Path:
    """One partition (101 files, 30 days old) of the pristine dataset, copied."""
    root = tmp_path / "one"
    part = sorted(pristine.glob("job_type=upload_thumb_v1/*"))[0]
    shutil.copytree(part, root / part.relative_to(pristine))
    return root


def snapshot(url: str) -> list[tuple[Any, ...]]:
    ds = open_dataset(url)
    try:
        return ds.connection.execute(
            "SELECT attempt_id, job_type, finished_at, duration_ms, cpu_pct_avg, gpu_util_pct "
            "FROM attempts ORDER BY attempt_id").fetchall()
    finally:
        ds.close()


def parquet_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.parquet") if not p.name.startswith("."))


EXPECTED_ATTEMPTS = len(JOB_TYPES) * len(AGES) * (FILES_PER_PARTITION * 3 // 2)


@pytest.mark.slow
def test_compact_then_purge_a_few_thousand_small_files(
    dataset: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(str(dataset))
    assert len(before) == EXPECTED_ATTEMPTS == 3000
    files_before = len(parquet_files(dataset))
    assert files_before == 20 * 101

    assert mjplan(["compact", str(dataset)]) == 0
    out = capsys.readouterr().out
    assert "2,020 files in 20 partitions" in out
    assert "2,020 files -> 20 files" in out
    assert ("done: 20 files written, 2,020 deleted; 3,020 rows in, 3,000 rows out "
            "(20 duplicate attempt_ids merged)") in out

    files = parquet_files(dataset)
    assert len(files) == 20
    assert all(f.name.startswith("compact-") for f in files)
    assert snapshot(str(dataset)) == before
    # The later copy of the duplicated attempt won, as the reader would have chosen.
    won = [r for r in before if r[0].endswith("-0002")]
    assert {r[3] for r in won} == {99_000}
    # Schema evolution: the newer column survived, the older file's missing ones are null.
    one = pq.read_table(files[0])
    assert "gpu_util_pct" in one.column_names
    assert sorted(v for v in one.column("gpu_util_pct").to_pylist() if v is not None) == [5, 6]
    # The Hive layout: job_type is in the path only, and a Hive reader gets it right from there.
    assert "job_type" not in one.column_names
    hive = pads.dataset(str(dataset), partitioning="hive").to_table(columns=["job_type"])
    assert sorted(set(hive.column("job_type").to_pylist())) == sorted(JOB_TYPES)
    # Nothing to do the second time.
    assert mjplan(["compact", str(dataset)]) == 0
    assert "nothing to compact" in capsys.readouterr().out

    # Purge: 2 of the 5 ages (200 and 400 days) are past 180 days, in each of 4 job types.
    assert mjplan(["purge", str(dataset), "--older-than", "180d", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "8 to delete, 12 kept" in out and "dry run: nothing deleted" in out
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert mjplan(["purge", str(dataset), "--older-than", "180d"]) == 2
    assert "not deleting without --yes" in capsys.readouterr().err
    assert len(parquet_files(dataset)) == 20
    assert mjplan(["purge", str(dataset), "--older-than", "180d", "--yes"]) == 0
    assert "done: 8 partitions, 8 files deleted" in capsys.readouterr().out
    cutoff = TODAY - dt.timedelta(days=180)
    days = {dt.date.fromisoformat(p.name[3:]) for p in dataset.glob("job_type=*/dt=*")}
    assert days == {TODAY - dt.timedelta(days=a) for a in (1, 2, 30)}
    after = snapshot(str(dataset))
    assert len(after) == 3000 * 3 // 5
    assert after == [r for r in before if r[2].date() >= cutoff]
    assert mjplan(["purge", str(dataset), "--older-than", "26w", "--yes"]) == 0
    assert "nothing to purge" in capsys.readouterr().out


def test_purge_of_small_files(one_partition: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The one partition is 30 days old.
    assert mjplan(["purge", str(one_partition), "--older-than", "29d", "--yes"]) == 0
    assert "done: 1 partitions, 101 files deleted" in capsys.readouterr().out
    assert list(one_partition.iterdir()) == []  # the emptied job_type= folder went too


def test_readers_see_every_attempt_during_compaction(one_partition: Path) -> None:
    small = one_partition
    before = snapshot(str(small))
    plan = plan_compaction(str(small), parse_size("300KB"))
    assert len(plan.groups) >= 3  # 101 files of ~12.5 KB, about 24 to a group
    seen: list[int] = []

    def check(_gr: object) -> None:
        assert snapshot(str(small)) == before
        seen.append(1)

    result = run_compaction(plan, check)
    assert len(seen) == len(plan.groups)
    assert result.files_deleted == plan.files_in
    assert snapshot(str(small)) == before


def test_grouping_follows_target_size() -> None:
    files = [DataFile(f"r/p/f{i}.parquet", size, "p") for i, size in
             enumerate([40, 40, 40, 40, 90, 10, 10])]
    groups = group_small_files(files, "r", target_bytes=100)
    assert [[f.path[-10:] for f in g.inputs] for g in groups] == [
        ["f0.parquet", "f1.parquet", "f2.parquet"],  # 120 >= 100 closes the group
        ["f3.parquet", "f5.parquet", "f6.parquet"],  # f4 (90) is not small (>= 50)
    ]
    assert groups[0].output.startswith("r/p/compact-")
    assert group_small_files(files[:1], "r", 100) == []


def test_corrupt_file_is_left_alone(one_partition: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    part = next(one_partition.glob("job_type=upload_thumb_v1/dt=*"))
    bad = part / "w5000-corrupt.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    assert mjplan(["compact", str(one_partition)]) == 1
    out = capsys.readouterr().out
    assert "left alone:" in out and "w5000-corrupt.parquet" in out
    assert bad.exists()
    assert sorted(p.name for p in part.glob("*.parquet"))[-1] == "w5000-corrupt.parquet"
    assert len(list(part.glob("*.parquet"))) == 2


def test_dry_run_changes_nothing(one_partition: Path, capsys: pytest.CaptureFixture[str]
                                 ) -> None:
    assert mjplan(["compact", str(one_partition), "--target-size", "1MB", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing changed" in out and "lease:" not in out  # no lock, no word of it
    assert len(parquet_files(one_partition)) == 101


def test_argument_parsing() -> None:
    assert parse_size("128MB") == 128 * 2**20
    assert parse_size("512k") == 512 * 1024
    assert parse_size("1GiB") == 2**30
    assert parse_size("1000") == 1000
    assert parse_age_days("180d") == 180 and parse_age_days("26w") == 182
    assert parse_age_days("7") == 7
    for bad in ("", "12 parsecs", "-1MB"):
        with pytest.raises(PlannerError):
            parse_size(bad)
    with pytest.raises(PlannerError):
        parse_age_days("six months")
    assert parse_age_days("180D") == 180 and parse_age_days("48h") == 2
    with pytest.raises(PlannerError, match="whole days"):
        parse_age_days("12h")


def test_missing_folder_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    assert mjplan(["compact", str(tmp_path / "nope")]) == 2
    assert "no dataset folder at" in capsys.readouterr().err


@pytest.fixture
def s3_dataset(s3_prefix: str, pristine: Path) -> Iterator[str]:
    """The pristine partitions (30, 2 and 1 days old), uploaded: 303 objects."""
    import boto3

    from collectors.layout import parse_url

    loc = parse_url(s3_prefix)
    s3 = boto3.session.Session().client("s3")
    parts = sorted(pristine.glob("job_type=upload_thumb_v1/dt=*"))
    for part in parts:
        for f in sorted(part.glob("*.parquet")):
            s3.put_object(Bucket=loc.bucket, Key=loc.key(str(f.relative_to(pristine))),
                          Body=f.read_bytes())
    yield s3_prefix


@pytest.mark.slow
@pytest.mark.s3
def test_compact_and_purge_on_s3(s3_dataset: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(s3_dataset)
    assert len(before) == 3 * 150
    assert mjplan(["compact", s3_dataset]) == 0
    out = capsys.readouterr().out
    assert "303 files -> 3 files" in out
    plan = plan_compaction(s3_dataset)
    assert plan.files == 3 and plan.groups == ()
    assert snapshot(s3_dataset) == before
    assert mjplan(["purge", s3_dataset, "--older-than", "7d", "--yes"]) == 0
    assert "done: 1 partitions, 1 files deleted" in capsys.readouterr().out
    cutoff = TODAY - dt.timedelta(days=7)
    assert snapshot(s3_dataset) == [r for r in before if r[2].date() >= cutoff]


# --- the lease: one compact/purge run per dataset at a time --------------------------------


def lock_of(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / LOCK_NAME).read_text())
    return data


def test_a_live_lease_refuses_a_second_run_in_one_line(
    one_partition: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = parquet_files(one_partition)
    with acquire_lease(str(one_partition), "compact") as other:
        held = lock_of(one_partition)
        assert held["pid"] == os.getpid() and held["command"] == "compact"
        assert set(held) >= {"host", "started_at", "expires_at", "holder", "token"}
        for argv in (["compact", str(one_partition)],
                     ["purge", str(one_partition), "--older-than", "1d", "--yes"]):
            assert mjplan(argv) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1, err
            assert other.holder in err and f"expires {held['expires_at']}" in err
            assert "--break-lease" in err
        assert parquet_files(one_partition) == files  # nothing changed
        # A dry run takes no lease: it changes nothing, and says the real run would be refused.
        for argv in (["compact", str(one_partition), "--dry-run"],
                     ["purge", str(one_partition), "--older-than", "1d", "--dry-run"]):
            assert mjplan(argv) == 0
            out = capsys.readouterr().out
            assert (f"lease: held by {other.holder} since {held['started_at']}, expires "
                    f"{held['expires_at']}: a real run now would be refused") in out, out
        assert lock_of(one_partition)["token"] == other.token
    assert not (one_partition / LOCK_NAME).exists()  # released by its holder
    assert mjplan(["compact", str(one_partition)]) == 0
    assert not (one_partition / LOCK_NAME).exists()  # and by the run, when done
    assert len(parquet_files(one_partition)) == 1


def test_an_abandoned_lease_is_broken_and_an_expired_one_taken_over(
    one_partition: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # A run that died holding its lease (its process is gone, the lock stays).
    code = ("import sys; from planner.lease import acquire_lease; "
            "acquire_lease(sys.argv[1], 'purge')")
    subprocess.run([sys.executable, "-c", code, str(one_partition)], check=True, cwd=REPO)
    assert lock_of(one_partition)["command"] == "purge"
    assert mjplan(["compact", str(one_partition)]) == 2
    assert "mjplan purge on" in capsys.readouterr().err
    assert mjplan(["compact", str(one_partition), "--break-lease"]) == 0
    assert "taking over the live lease of mjplan purge" in caplog.text
    assert not (one_partition / LOCK_NAME).exists()

    # An expired lease is taken over without asking; so is an unreadable lock.
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    acquire_lease(str(one_partition), "compact", duration_s=60, clock=lambda: an_hour_ago)
    assert mjplan(["purge", str(one_partition), "--older-than", "400d", "--yes"]) == 0
    assert "taking over the expired lease of mjplan compact" in caplog.text
    (one_partition / LOCK_NAME).write_text("{not json")
    assert mjplan(["purge", str(one_partition), "--older-than", "400d", "--yes"]) == 0
    assert not (one_partition / LOCK_NAME).exists()


def test_lease_goes_on_error_and_a_run_stops_when_its_lease_is_taken(
    one_partition: Path,
) -> None:
    url = str(one_partition)
    before = snapshot(url)
    plan = plan_compaction(url, parse_size("300KB"))
    assert len(plan.groups) >= 3

    def boom(_gr: object) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError), acquire_lease(url, "compact") as lease:
        run_compaction(plan, boom, lease)
    assert not (one_partition / LOCK_NAME).exists()

    # Our lease expired mid-run and another run took over: we stop before the next group, and
    # leave its lock alone.
    plan = plan_compaction(url, parse_size("300KB"))
    taken: list[Lease] = []

    def take_over(_gr: object) -> None:
        if not taken:
            taken.append(acquire_lease(url, "compact", break_lease=True))

    with pytest.raises(LeaseLostError, match="lease on the dataset lost"), acquire_lease(
            url, "compact") as lease:
        run_compaction(plan, take_over, lease)
    assert lock_of(one_partition)["token"] == taken[0].token
    taken[0].release()
    assert snapshot(url) == before  # readers see every attempt once all along


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeClock:
    """Time that moves only when told: now at the start, then on by `advance(seconds)`."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def lease_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The leases' clock for the test: every lease of the process, the CLI's too, so a run and
    the runs it refuses agree on the time without sleeping through a lease."""
    clock = FakeClock()
    monkeypatch.setattr(lease_module, "utc_now", clock)
    return clock


def test_a_run_longer_than_its_lease_keeps_it_by_renewing(
    one_partition: Path, capsys: pytest.CaptureFixture[str], lease_clock: FakeClock
) -> None:
    url = str(one_partition)
    before = snapshot(url)
    # Groups of ~25 files, whatever a file weighs today (the schema grows; a fixed size in KB
    # gave 5 groups one day and 6 the next): 101 files make 4 groups and the one left over.
    files = parquet_files(one_partition)
    plan = plan_compaction(url, 25 * sum(p.stat().st_size for p in files) // len(files))
    n = len(plan.groups)
    assert n >= 4  # enough groups of step_s each for the run to outlast its lease twice
    lease_s, step_s = 2, 1.2
    expiries: list[dt.datetime] = []
    refused: list[int] = []

    def slow_group(_gr: object) -> None:
        lease_clock.advance(step_s)  # a group this slow: the run outlasts its first expiry twice
        expiries.append(_when(lock_of(one_partition)["expires_at"]))
        refused.append(mjplan(["compact", url]))  # a second run, meanwhile

    t0 = lease_clock()
    with acquire_lease(url, "compact", duration_s=lease_s) as lease:
        first = lock_of(one_partition)
        result = run_compaction(plan, slow_group, lease)
        elapsed = (lease_clock() - t0).total_seconds()
        assert lock_of(one_partition)["token"] == lease.token
    assert elapsed > 2 * lease_s
    assert refused == [2] * n
    err = capsys.readouterr().err
    assert err.count(f"is being changed by {lease.holder}") == n, err
    # Renewed before each group: expiry moved on with the run, beyond the first one.
    assert expiries == sorted(expiries) and expiries[-1] > _when(first["expires_at"])
    assert expiries[-1] - _when(first["started_at"]) >= dt.timedelta(seconds=2 * lease_s)
    assert not (one_partition / LOCK_NAME).exists()
    assert result.files_written == n and result.files_deleted == plan.files_in
    assert snapshot(url) == before


def test_purge_renews_its_lease_per_partition(pristine: Path, tmp_path: Path,
                                               lease_clock: FakeClock) -> None:
    root = tmp_path / "ds"
    shutil.copytree(pristine, root)
    url = str(root)
    plan = plan_purge(url, 0)
    assert len(plan.delete) == 3  # 30, 2 and 1 days old
    renewed: list[str] = []

    def slow_partition(_p: object) -> None:
        lease_clock.advance(1.0)
        renewed.append(lock_of(root)["renewed_at"])
        with pytest.raises(LeaseHeldError):
            acquire_lease(url, "compact")

    with acquire_lease(url, "purge", duration_s=2) as lease:
        assert run_purge(plan, slow_partition, lease) == 303
    assert len(set(renewed)) == 3  # a fresh renewal before each partition


def test_duration_parsing() -> None:
    assert parse_duration_s("6h") == 6 * 3600 and parse_duration_s("30m") == 1800
    assert parse_duration_s("90") == 90 and parse_duration_s("1d") == 86400
    assert parse_duration_s("6H") == 6 * 3600 and parse_duration_s("1.5m") == 90
    for bad in ("", "0", "-1h", "soon"):
        with pytest.raises(PlannerError):
            parse_duration_s(bad)


@pytest.mark.slow
@pytest.mark.s3
def test_lease_on_s3(s3_dataset: str, capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    from collectors.layout import parse_url

    loc = parse_url(s3_dataset)
    s3 = boto3.session.Session().client("s3")
    key = loc.key(LOCK_NAME)
    with acquire_lease(s3_dataset, "compact") as other:
        held = json.loads(s3.get_object(Bucket=loc.bucket, Key=key)["Body"].read())
        assert held["token"] == other.token
        assert mjplan(["compact", s3_dataset]) == 2
        err = capsys.readouterr().err
        assert other.holder in err and held["expires_at"] in err
        # The create is conditional (If-None-Match): a second one is refused by the server.
        with pytest.raises(LeaseHeldError):
            acquire_lease(s3_dataset, "purge")
        assert plan_compaction(s3_dataset).files == 303  # the lock is no data file
    assert "Contents" not in s3.list_objects_v2(Bucket=loc.bucket, Prefix=key)
    assert mjplan(["compact", s3_dataset]) == 0
    assert "303 files -> 3 files" in capsys.readouterr().out
    assert "Contents" not in s3.list_objects_v2(Bucket=loc.bucket, Prefix=key)


@pytest.mark.s3
def test_lease_renewal_on_s3_is_a_conditional_write(s3_dataset: str,
                                                      lease_clock: FakeClock) -> None:
    import boto3

    from collectors.layout import parse_url

    loc = parse_url(s3_dataset)
    s3 = boto3.session.Session().client("s3")

    def held() -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            s3.get_object(Bucket=loc.bucket, Key=loc.key(LOCK_NAME))["Body"].read())
        return data

    with acquire_lease(s3_dataset, "compact", duration_s=2) as lease:
        first = _when(held()["expires_at"])
        for _ in range(3):  # 3.3 s in all: past the first expiry
            lease_clock.advance(1.1)
            lease.check()
            with pytest.raises(LeaseHeldError):
                acquire_lease(s3_dataset, "purge")
        assert _when(held()["expires_at"]) > first

        # Another run takes over between our read and our write: the stale ETag is refused,
        # its lock stays, and our next check stops us.
        ours = lease.store.read()
        assert ours is not None
        other = acquire_lease(s3_dataset, "purge", break_lease=True)
        assert not lease.store.replace(ours[0], ours[1])
        assert not lease.store.delete(ours[1])
        assert held()["token"] == other.token
        with pytest.raises(LeaseLostError):
            lease.check()
    assert held()["token"] == other.token  # our release left it alone
    other.release()
    assert "Contents" not in s3.list_objects_v2(Bucket=loc.bucket, Prefix=loc.key(LOCK_NAME))
