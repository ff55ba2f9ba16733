"""Version-1 and version-2 files in one dataset: the new columns read as null in version-1 rows,
and `source` falls back to what the `synthetic` flag says."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from collectors import schema
from planner.dataset import open_dataset
from tests.rows import row, write

V2_ONLY = ("worker_slots", "host_running_at_start", "arch", "cpu_model", "ffmpeg_version", "source")


def _v1_schema() -> pa.Schema:
    fields = [f for f in schema.arrow_schema() if f.name not in V2_ONLY]
    return pa.schema(fields, metadata={"mediajobs.schema_version": "1"})


def test_v1_and_v2_files_read_together(tmp_path: Path) -> None:
    assert all(name in schema.COLUMN_NAMES for name in V2_ONLY)
    v1_measured = row(schema_version=1)
    v1_synthetic = row(schema_version=1, synthetic=True)
    write(tmp_path, [v1_measured, v1_synthetic], name="v1", table_schema=_v1_schema())
    v2 = row(worker_slots=4, host_running_at_start=3, arch="aarch64", cpu_model="Graviton",
             ffmpeg_version="ffmpeg version 7.1", source="bench")
    write(tmp_path, [v2], name="v2")

    ds = open_dataset(str(tmp_path))
    assert ds.skipped == [] and ds.schema_versions == [1, 2]
    got = {r[0]: r[1:] for r in ds.connection.execute(
        f"SELECT attempt_id, worker_slots, host_running_at_start, arch, cpu_model, "
        f"ffmpeg_version, source, {schema.SOURCE_SQL} FROM attempts").fetchall()}
    assert got[v1_measured["attempt_id"]] == (None,) * 6 + ("production",)
    assert got[v1_synthetic["attempt_id"]] == (None,) * 6 + ("synthetic",)
    assert got[v2["attempt_id"]] == (4, 3, "aarch64", "Graviton", "ffmpeg version 7.1", "bench",
                                     "bench")
    assert schema.source_of(None, True) == "synthetic"
    assert schema.source_of(None, False) == "production"
    assert schema.source_of("bench", True) == "bench"


def test_embedded_data_mixes_v1_measured_and_v2_synthetic_files() -> None:
    ds = open_dataset(None)
    assert ds.schema_versions == [1, 2]
    counts = dict(ds.connection.execute(
        f"SELECT {schema.SOURCE_SQL} AS s, count(*) FROM attempts GROUP BY s").fetchall())
    assert set(counts) == {"production", "synthetic"}
    # Every synthetic row carries the generator's worker slots (1 to 4 per host) and a running
    # count within them; the measured (version-1) rows have neither.
    bad = ds.connection.execute(
        "SELECT count(*) FROM attempts WHERE synthetic AND NOT (worker_slots BETWEEN 1 AND 4 "
        "AND host_running_at_start BETWEEN 1 AND worker_slots AND arch IS NOT NULL)").fetchall()
    assert bad == [(0,)]
    assert ds.connection.execute(
        "SELECT count(*) FROM attempts WHERE NOT synthetic AND worker_slots IS NOT NULL"
    ).fetchall() == [(0,)]
