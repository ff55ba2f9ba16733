"""Attempt rows and datasets for every test, made in one place: rows from the one schema
(`collectors.schema`), written as real Parquet files in the Hive layout (job_type=/dt=).

    row(...)                 a validated row for the dataset, stats and summary tests (att-N)
    attempt(...)             a row for the sizing tests (aN, on host h1, synthetic)
    exports_and_thumbs(n)    the report's rows: n exports (RTF 2.00) and n thumbnails
    spool_row(i)             a row as a worker hands it to the spool (not validated)
    write(root, rows)        one Parquet file per partition, locally or on a pyarrow filesystem
    write_rows(rows, root)   the same, in the sizing tests' argument order
    measured_trace(seed)     thumbnails of four hosts running two lanes each (sizing truth)
    old_and_new(root)        a dataset holding both layouts (job_type in the file, or not)
    read_ids(root)           every attempt_id in the Parquet files under a folder
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from collectors import schema
from collectors.upload import batch_objects

T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
EXPORT, THUMB = "create_video_export_v1", "upload_thumb_v1"
# One counter per factory, so each keeps the ids it always made.
_row_ids = itertools.count(1)
_attempt_ids = itertools.count(1)


def row(
    *,
    job_type: str = "create_video_export_v1",
    input_s: float | None = 60.0,
    wall_s: float = 30.0,
    start_s: float = 0.0,
    status: str = "succeeded",
    instance_type: str | None = "c7i.large",
    **extra: Any,
) -> dict[str, Any]:
    """One validated attempt row; times in seconds after T0. `extra` sets any other column."""
    n = next(_row_ids)
    started = T0 + dt.timedelta(seconds=start_s)
    values: dict[str, Any] = {
        "attempt_id": f"att-{n}",
        "job_id": f"job-{n}",
        "job_type": job_type,
        "attempt_number": 1,
        "status": status,
        "started_at": started,
        "finished_at": started + dt.timedelta(seconds=wall_s),
        "duration_ms": round(wall_s * 1000),
        "input_duration_seconds": input_s,
        "rtf": input_s / wall_s if input_s and status == "succeeded" else None,
        "throughput_unit": schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type),
        "instance_type": instance_type,
        "cpu_cores": 2,
        "mem_gb": 4.0,
        "hostname": "host-1",
    }
    values.update(extra)
    return schema.validate_row(values)


def attempt(
    *,
    job_type: str,
    start_s: float,
    wall_s: float,
    hostname: str | None = "h1",
    instance_type: str | None = "c5.large",
    input_s: float | None = 60.0,
    status: str = "succeeded",
    attempt_number: int = 1,
    job_id: str | None = None,
    t0: dt.datetime = T0,
    validate: bool = True,
) -> dict[str, Any]:
    """One attempt row, times in seconds after `t0`; validated against the schema (`validate`
    False skips it: tens of thousands of generated rows, typed by the writer's schema anyway)."""
    n = next(_attempt_ids)
    started = t0 + dt.timedelta(seconds=start_s)
    def unchecked(row: dict[str, Any]) -> dict[str, Any]:
        return {**schema.empty_row(), **row}

    check = schema.validate_row if validate else unchecked
    return check(
        {
            "attempt_id": f"a{n}",
            "job_id": job_id or f"j{n}",
            "job_type": job_type,
            "attempt_number": attempt_number,
            "status": status,
            "started_at": started,
            "finished_at": started + dt.timedelta(seconds=wall_s),
            "duration_ms": round(wall_s * 1000),
            "input_duration_seconds": input_s,
            "rtf": input_s / wall_s if input_s else None,
            "throughput_unit": schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type),
            "instance_type": instance_type,
            "hostname": hostname,
            "synthetic": True,
        }
    )


def exports_and_thumbs(
    n: int, *, hosts: bool, instance_type: str | None = "c7i.large"
) -> list[dict[str, Any]]:
    """`n` exports of 60 s media in 30 s on `instance_type` (RTF 2.00) and n thumbnails of
    0.5 s, one every 10 minutes; with `hosts`, on two named workers (concurrency measured)."""
    t0 = dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC)
    rows = []
    for i in range(n):
        for job_type, media, wall_ms in ((EXPORT, 60.0, 30_000), (THUMB, 60.0, 500)):
            start = t0 + dt.timedelta(minutes=10 * i)
            rows.append(
                schema.validate_row(
                    {
                        "attempt_id": f"{job_type}-{i}",
                        "job_id": f"{job_type}-job-{i}",
                        "job_type": job_type,
                        "attempt_number": 1,
                        "status": "succeeded",
                        "started_at": start,
                        "finished_at": start + dt.timedelta(milliseconds=wall_ms),
                        "duration_ms": wall_ms,
                        "rtf": media / (wall_ms / 1000),
                        "input_duration_seconds": media,
                        "input_width": 1920,
                        "input_height": 1080,
                        "input_fps": 30.0,
                        "input_video_codec": "h264",
                        "instance_type": instance_type,
                        "hostname": f"w{i % 2}" if hosts else None,
                    }
                )
            )
    return rows


def spool_row(i: int, job_type: str = "upload_thumb_v1", day: int = 1) -> dict[str, Any]:
    """Row `att-{i:05d}` as a worker hands it to the spool (not validated), on 2026-11-`day`."""
    row = schema.empty_row()
    row.update(
        attempt_id=f"att-{i:05d}", job_id=f"job-{i}", job_type=job_type, status="succeeded",
        started_at=dt.datetime(2026, 11, day, 12, 0, i % 60, tzinfo=dt.UTC),
        finished_at=dt.datetime(2026, 11, day, 12, 1, tzinfo=dt.UTC), duration_ms=1000 + i,
        ffmpeg_commands=["ffmpeg -i in.mp4 out.mp4"],
    )
    return row


def read_ids(root: Path) -> list[str]:
    """Every attempt_id in the Parquet files under `root`, file by file in name order."""
    ids: list[str] = []
    for path in sorted(root.rglob("*.parquet")):
        ids.extend(pq.read_table(path).column("attempt_id").to_pylist())
    return ids


def write(root: Path | str, rows: Iterable[dict[str, Any]], name: str = "part-0",
          table_schema: pa.Schema | None = None, filesystem: Any = None) -> list[Path]:
    """Write rows into root/job_type=<t>/dt=<day>/<name>.parquet, one file per partition (the
    day of started_at, else finished_at), in `table_schema` (default: the dataset schema); on
    `filesystem` (a pyarrow filesystem, root a bucket/prefix) when given, else locally."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        when = r.get("started_at") or r.get("finished_at")
        assert when is not None, f"{r.get('attempt_id')!r}: no started_at nor finished_at"
        groups.setdefault((r["job_type"], when.date().isoformat()), []).append(r)
    out = []
    target = table_schema or schema.arrow_schema()
    for (job_type, day), items in groups.items():
        folder = f"{root}/job_type={job_type}/dt={day}"
        if filesystem is None:
            Path(folder).mkdir(parents=True, exist_ok=True)
        picked = [{k: r.get(k) for k in target.names} for r in items]
        path = f"{folder}/{name}.parquet"
        pq.write_table(pa.Table.from_pylist(picked, schema=target), path, filesystem=filesystem)
        out.append(Path(path))
    return out


def write_rows(rows: Iterable[dict[str, Any]], root: Path | str, filesystem: Any = None,
               name: str = "part-0.parquet") -> list[Path]:
    """`write`, rows first (the sizing tests' order), `name` with its `.parquet`."""
    return write(root, rows, name=name.removesuffix(".parquet"), filesystem=filesystem)


def old_and_new(root: Path) -> dict[str, int]:
    """A dataset of both layouts: files written before the Hive convention (job_type in the
    file too), and files the uploader writes now (job_type in the path only), in the same
    partitions, with one attempt delivered in both. Returns the attempts per job type."""
    t0 = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    old = [row(job_type=jt, start_s=3600.0 * i) for i, jt in enumerate(
        ["create_video_export_v1"] * 3 + ["upload_thumb_v1"] * 2)]
    write(root, old, name="old")
    new = [row(job_type=jt, start_s=7200.0 * i + 60) for i, jt in enumerate(
        ["create_video_export_v1"] * 2 + ["upload_edit_proxy_v1"] * 4)]
    new.append(dict(old[0], finished_at=t0 + dt.timedelta(minutes=5)))  # delivered again
    for obj in batch_objects("writer-000001", new):
        path = root / obj.relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(obj.body)
        assert "job_type" not in pq.read_schema(path).names
    return {"create_video_export_v1": 5, "upload_thumb_v1": 2, "upload_edit_proxy_v1": 4}


def measured_trace(seed: int = 6) -> tuple[list[dict[str, Any]], list[float]]:
    """Four c5.large hosts, each running two back-to-back lanes of attempts (2 at a time)."""
    rng = random.Random(seed)
    services = [rng.expovariate(1 / 30) for _ in range(400)]
    rows = []
    lanes = [services[i::8] for i in range(8)]
    for lane_no, lane in enumerate(lanes):
        t = 0.0
        for s in lane:
            rows.append(attempt(job_type=THUMB, start_s=t, wall_s=s, input_s=None,
                                hostname=f"h{lane_no // 2}"))
            t += s
    return rows, [round(s * 1000) / 1000 for s in services]
