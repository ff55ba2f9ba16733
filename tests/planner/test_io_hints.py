"""Where the wall time goes and the I/O-bound rule (planner.io_hints), on hand-made datasets
whose figures are worked out by hand below, through `mjplan summary` too; rows of schema
version 1 (no phase or io columns) read as null."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from collectors import schema
from planner.cli import main
from planner.dataset import open_dataset
from planner.io_hints import (
    CPU_BUSY_MIN_PCT,
    IO_SHARE_LIMIT,
    attempt_phases,
    has_io_hints,
    io_bound_reason,
    io_bound_sentences,
    phase_summary,
)
from tests.rows import row, write

#: The columns issue 18 added; a version-1 file has none of them.
IO_COLUMNS = {*(f"phase_{p}_ms" for p in schema.PHASES), "transcode_rtf", "bytes_read",
              "bytes_written", "net_bytes_in", "net_bytes_out", "download_mb_per_s",
              "upload_mb_per_s"}


def phased(download: float, transcode: float, upload: float, other: float = 0.0,
           **extra: Any) -> dict[str, Any]:
    """A row whose wall time is the sum of its phases (seconds)."""
    wall = download + transcode + upload + other
    return row(wall_s=wall, phase_download_ms=round(download * 1000), phase_probe_ms=0,
               phase_transcode_ms=round(transcode * 1000), phase_upload_ms=round(upload * 1000),
               phase_other_ms=round(other * 1000), **extra)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rows = [
        # c5.large: mostly transcoding, busy CPU.
        phased(4, 5, 1, instance_type="c5.large", net_bytes_in=40_000_000,
               bytes_read=80_000_000, bytes_written=50_000_000, cpu_pct_avg=180.0),
        phased(2, 17, 1, instance_type="c5.large", net_bytes_in=20_000_000,
               bytes_read=40_000_000, bytes_written=30_000_000, cpu_pct_avg=190.0),
        row(instance_type="c5.large", wall_s=30.0),  # no phases (an older worker)
        # A failed attempt is not in the figures, whatever its phases.
        phased(100, 0, 0, instance_type="c5.large", status="failed"),
        # c7i.large: most of the time downloading.
        phased(6, 3, 1, other=2, instance_type="c7i.large", net_bytes_in=30_000_000,
               net_bytes_out=5_000_000),
        # m7g.large: no phases, but a tree that waits while bytes flow.
        row(instance_type="m7g.large", wall_s=10.0, bytes_read=60_000_000,
            bytes_written=40_000_000, cpu_pct_avg=20.0),
        # A thumbnail: shares yes, but no transcode RTF (one frame has no media-seconds rate).
        phased(0.1, 0.5, 0.1, job_type="upload_thumb_v1", instance_type="c6i.large"),
    ]
    write(tmp_path, rows)
    return tmp_path


def test_shares_rates_and_the_rule_by_hand(folder: Path) -> None:
    with closing(open_dataset(str(folder))) as ds:
        df = phase_summary(ds)
    g = {r["instance_type"]: r for r in df.iter_rows(named=True)
         if r["job_type"] == "create_video_export_v1"}
    c5 = g["c5.large"]
    # Two phased attempts of 10 s and 20 s: download 6 s, transcode 22 s, upload 2 s of 30 s.
    assert (c5["attempts"], c5["phased"]) == (3, 2)
    assert c5["share_download"] == pytest.approx(6 / 30)
    assert c5["share_transcode"] == pytest.approx(22 / 30)
    assert c5["share_upload"] == pytest.approx(2 / 30)
    assert (c5["share_probe"], c5["share_other"]) == (0.0, 0.0)
    assert c5["io_share"] == pytest.approx(8 / 30)  # under a third
    # 60 input seconds each over 22 transcode seconds; 60 MB over 6 download seconds.
    assert c5["transcode_rtf"] == pytest.approx(120 / 22)
    assert c5["download_mb_per_s"] == pytest.approx(10.0)
    assert c5["upload_mb_per_s"] is None
    # 200 MB read + written over the 30 s of the two attempts with io figures; CPU wall-weighted.
    assert c5["io_sampled"] == 2 and c5["io_mb_per_s"] == pytest.approx(200 / 30)
    assert c5["cpu_pct_avg"] == pytest.approx((180 * 10 + 190 * 20) / 30)
    assert not c5["io_bound"] and c5["io_bound_reason"] is None

    c7 = g["c7i.large"]
    assert c7["share_other"] == pytest.approx(2 / 12)
    assert c7["io_share"] == pytest.approx(7 / 12)
    assert c7["io_bound"] and c7["io_bound_reason"] == "58% of wall time in download/upload"
    assert c7["download_mb_per_s"] == pytest.approx(5.0)
    assert c7["upload_mb_per_s"] == pytest.approx(5.0)

    m7 = g["m7g.large"]
    assert m7["phased"] == 0 and m7["share_transcode"] is None
    assert m7["io_bound"] and m7["io_bound_reason"] == "CPU 20% of a core while 10.0 MB/s flowed"

    thumb = df.filter(df["job_type"] == "upload_thumb_v1").to_dicts()[0]
    assert thumb["share_transcode"] == pytest.approx(5 / 7) and thumb["transcode_rtf"] is None
    assert not thumb["io_bound"]  # 2/7 of its time in download and upload: under a third

    assert has_io_hints(df)
    sentences = io_bound_sentences(df)
    assert len(sentences) == 2
    assert sentences[0].startswith("create_video_export_v1 on c7i.large: 58% of wall time")
    assert "a faster instance type would not help" in sentences[0]


def test_the_rule_at_its_limits() -> None:
    assert io_bound_reason(IO_SHARE_LIMIT, None, None) is None  # "more than" a third
    assert io_bound_reason(0.34, None, None) is not None
    assert io_bound_reason(0.1, CPU_BUSY_MIN_PCT, 50.0) is None  # busy enough
    assert io_bound_reason(0.1, 10.0, 0.5) is None  # idle, but nothing flows: not I/O
    assert io_bound_reason(None, 10.0, 1.0) is not None
    assert io_bound_reason(None, None, None) is None


def test_one_attempts_phases() -> None:
    r = phased(1.5, 3.0, 0.5)
    assert attempt_phases(r) == [("download", 1500, 0.3), ("transcode", 3000, 0.6),
                                 ("upload", 500, 0.1)]
    assert attempt_phases(row()) == []


def test_version_1_files_read_as_null_beside_newer_ones(tmp_path: Path) -> None:
    v1 = pa.schema([f for f in schema.arrow_schema() if f.name not in IO_COLUMNS])
    old = [row(instance_type="c5.large", schema_version=1) for _ in range(2)]
    write(tmp_path, old, name="old", table_schema=v1)
    with closing(open_dataset(str(tmp_path))) as ds:
        only_old = phase_summary(ds)
        assert only_old["phased"].to_list() == [0] and not has_io_hints(only_old)
        assert only_old["io_bound"].to_list() == [False]
    write(tmp_path, [phased(1, 2, 1, instance_type="c5.large")], name="new")
    with closing(open_dataset(str(tmp_path))) as ds:
        values = ds.connection.sql(
            "SELECT phase_download_ms, bytes_read, transcode_rtf FROM attempts "
            "ORDER BY phase_download_ms NULLS FIRST").fetchall()
        assert values == [(None, None, None), (None, None, None), (1000, None, None)]
        [g] = phase_summary(ds).iter_rows(named=True)
    assert (g["attempts"], g["phased"], g["share_transcode"]) == (3, 1, 0.5)


def test_summary_command_shows_where_the_time_goes(folder: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--data", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    phases = {(g["job_type"], g["instance_type"]): g for g in doc["phases"]}
    c7 = phases[("create_video_export_v1", "c7i.large")]
    assert c7["io_bound"] is True and c7["share_download"] == pytest.approx(0.5)
    assert main(["summary", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Where the wall time goes" in out
    table = out[out.index("Where the wall time goes"):]
    line = next(ln for ln in table.splitlines() if "c7i.large" in ln)
    # job, instance, then % of wall time: download, probe, transcode, upload, other; I/O-bound
    assert line.split() == ["export", "c7i.large", "50", "0", "25", "8", "17", "yes"]
    assert "create_video_export_v1 on c7i.large: 58% of wall time in download/upload, so a " \
           "faster instance type would not help" in " ".join(out.split())


def test_summary_without_phases_prints_no_phase_table(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, [row() for _ in range(2)])
    assert main(["summary", "--data", str(tmp_path)]) == 0
    assert "Where the wall time goes" not in capsys.readouterr().out


def test_report_says_when_a_faster_instance_type_would_not_help(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.planner.report_html import ReportTables

    out = tmp_path / "r.html"
    assert main(["report", "--html", str(out), "--data", str(folder)]) == 0
    capsys.readouterr()  # the sizing of six attempts may be left out; not what this checks
    page = out.read_text(encoding="utf-8")
    parser = ReportTables()
    parser.feed(page)
    title = "Where the wall time goes (% of wall time of succeeded attempts with phases)"
    rows = {r[1]: r for r in parser.tables[title][1:]}
    assert rows["c7i.large"][2:8] == ["1", "50", "0", "25", "8", "17"]
    assert rows["c7i.large"][-1] == "yes" and rows["c5.large"][-1] == ""
    text = " ".join(page.split())
    assert ("create_video_export_v1 on c7i.large: 58% of wall time in download/upload, so a "
            "faster instance type would not help much") in text
    assert "create_video_export_v1 on m7g.large: CPU 20% of a core while 10.0 MB/s" in text


def test_report_without_phases_has_no_phase_table(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    write(data, [row() for _ in range(2)])
    out = tmp_path / "r.html"
    assert main(["report", "--html", str(out), "--data", str(data)]) == 0
    capsys.readouterr()
    assert "Where the wall time goes" not in out.read_text(encoding="utf-8")
