"""Hand-made attempt rows written as a real dataset (hive partitions, the one schema)."""

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
    n = next(_ids)
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


def write_rows(rows: Iterable[dict[str, Any]], root: Path | str, filesystem: Any = None,
               name: str = "part-0.parquet") -> None:
    """Write rows under `root` as job_type=<t>/dt=<day>/<name> (local, or on `filesystem`)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["job_type"], r["started_at"].date().isoformat()), []).append(r)
    for (job_type, day), items in groups.items():
        table = pa.Table.from_pylist(items, schema=schema.arrow_schema())
        path = f"{root}/job_type={job_type}/dt={day}/{name}"
        if filesystem is None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, filesystem=filesystem)
