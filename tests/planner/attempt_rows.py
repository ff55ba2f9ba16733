"""Small hand-made datasets for the dataset/stats/summary tests: rows from the one schema,
written as real Parquet files in the hive layout."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from collectors import schema

T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
_ids = itertools.count(1)


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
    n = next(_ids)
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


def write(root: Path, rows: Iterable[dict[str, Any]], name: str = "part-0",
          table_schema: pa.Schema | None = None) -> list[Path]:
    """Write rows into root/job_type=<t>/dt=<day>/<name>.parquet (one file per partition)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        when = r.get("started_at") or r.get("finished_at")
        assert when is not None, f"{r.get('attempt_id')!r}: no started_at nor finished_at"
        groups.setdefault((r["job_type"], when.date().isoformat()), []).append(r)
    out = []
    target = table_schema or schema.arrow_schema()
    for (job_type, day), items in groups.items():
        folder = root / f"job_type={job_type}" / f"dt={day}"
        folder.mkdir(parents=True, exist_ok=True)
        picked = [{k: r.get(k) for k in target.names} for r in items]
        path = folder / f"{name}.parquet"
        pq.write_table(pa.Table.from_pylist(picked, schema=target), path)
        out.append(path)
    return out
