"""The embedded default data shows what the planner does with I/O hints and packing density:
its synthetic rows follow the model of data/generate_synthetic.py, checked here against that
model's own predictions (where phases add up, which types its network rates make I/O-bound,
where its contention puts the best density)."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest

from planner.dataset import Dataset, open_dataset
from planner.density import density_curve
from planner.io_hints import phase_summary


@pytest.fixture(scope="module")
def embedded() -> Iterator[Dataset]:
    ds = open_dataset()
    yield ds
    ds.close()


def test_phases_add_up_to_the_wall_time(embedded: Dataset) -> None:
    """Every synthetic attempt with phases: they sum to duration_ms, none negative, and the
    transcode RTF is input seconds over transcode seconds (docs/io_hints.md)."""
    ((bad, phased, rtf_off),) = embedded.connection.execute("""
        SELECT count(*) FILTER (WHERE phase_download_ms + phase_probe_ms + phase_transcode_ms
                                      + phase_upload_ms + phase_other_ms <> duration_ms
                                   OR least(phase_download_ms, phase_probe_ms,
                                            phase_transcode_ms, phase_upload_ms,
                                            phase_other_ms) < 0),
               count(*) FILTER (WHERE phase_other_ms IS NOT NULL),
               count(*) FILTER (WHERE transcode_rtf IS NOT NULL AND abs(transcode_rtf
                                - input_duration_seconds / (phase_transcode_ms / 1000.0))
                                > 1e-3 * transcode_rtf)
        FROM attempts WHERE synthetic""").fetchall()
    assert phased > 20_000
    assert bad == 0
    assert rtf_off == 0


def test_audio_envelopes_are_io_bound_where_the_network_is_slow(embedded: Dataset) -> None:
    """The model's short CPU work on whole video inputs: I/O-bound on the 2-vCPU types (the
    lowest baseline bandwidth), not on the 8-vCPU ones (four times it); exports never."""
    s = phase_summary(embedded, synthetic=True)
    flag = {(r["job_type"], r["instance_type"]): r["io_bound"] for r in s.iter_rows(named=True)}
    for small in ("c5.large", "c7i.large", "m6i.large"):
        assert flag["upload_audio_envelope_v1", small]
    for big in ("c6a.2xlarge", "c7i.2xlarge"):
        assert not flag["upload_audio_envelope_v1", big]
    assert not any(v for (job, _), v in flag.items() if job == "create_video_export_v1")


def test_export_density_peaks_at_the_physical_cores(embedded: Dataset) -> None:
    """The model's contention: an export instance's throughput rises up to one attempt per
    physical core (1 on 2-vCPU x86 types, 2 on c6i.xlarge) and falls beyond it."""
    curve = density_curve(embedded, job_types=["create_video_export_v1"])
    for itype, peak in (("c5.large", 1), ("m6i.large", 1), ("c7i.large", 1), ("c6i.xlarge", 2)):
        rows = curve.filter(pl.col("instance_type") == itype).sort("running")
        best = rows.filter(pl.col("best"))["running"].to_list()
        assert best == [peak], itype
        thr = rows["throughput"].to_list()
        assert thr[-1] < thr[peak - 1], itype  # beyond the peak it falls
