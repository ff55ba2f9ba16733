"""The TUI shows where an attempt's time went and what it moved (attempt detail), and where a
group's wall time goes (Distributions), as planner.io_hints computes them; nothing for data
without phases."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner import io_hints
from planner.dataset import open_dataset
from planner.tui.app import PlannerApp
from planner.tui.screens.attempt import AttemptScreen
from planner.tui.screens.distributions import DistributionsScreen
from planner.tui.widgets.attempts_table import AttemptsTable
from tests.rows import row, write
from tests.tui.conftest import open_view, wait_for
from tests.tui.helpers import static_text, table_keys


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rows = [
        row(wall_s=10.0, start_s=60.0 * i, instance_type="c7i.large", phase_download_ms=6000,
            phase_probe_ms=0, phase_transcode_ms=3000, phase_upload_ms=1000, phase_other_ms=0,
            net_bytes_in=30_000_000, download_mb_per_s=5.0, bytes_read=64_000_000,
            bytes_written=35_000_000, transcode_rtf=20.0)
        for i in range(3)
    ]
    rows.append(row(wall_s=20.0, start_s=-60.0, instance_type="c7i.large"))  # no phases
    write(tmp_path, rows)
    return tmp_path


def _jobs_loaded(app: PlannerApp) -> bool:
    tables = app.screen.query(AttemptsTable)
    return bool(tables) and tables.first().row_count > 0


async def test_attempt_detail_and_distributions_show_the_phases(folder: Path) -> None:
    ds = open_dataset(str(folder))
    try:
        [group] = io_hints.phase_summary(ds, by="job_type").to_dicts()
    finally:
        ds.close()
    app = PlannerApp(str(folder))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: _jobs_loaded(app))
        screen = await open_view(pilot, "enter", AttemptScreen, "row")
        assert screen.row is not None
        shown = static_text(screen.query_one("#attempt-io"))
        assert shown == io_hints.attempt_io_text(screen.row)
        assert "Phases: download 6.0 s (60%) · transcode 3.0 s (30%) · upload 1.0 s (10%)" in shown
        assert "downloaded 30.0 MB at 5.0 MB/s" in shown and "read 64.0 MB" in shown
        await pilot.press("escape")
        # The oldest attempt named no phase: no line at all.
        table = app.screen.query_one(AttemptsTable)
        table.move_cursor(row=len(table_keys(table)) - 1)
        screen = await open_view(pilot, "enter", AttemptScreen, "row")
        assert not screen.query_one("#attempt-io").display
        await pilot.press("escape")

        dist = await open_view(pilot, "d", DistributionsScreen, "data")
        figures = static_text(dist.query_one("#dist-stats"))
        assert io_hints.group_phases_text(group) in figures
        assert "Wall time (3 phased)" in figures and "  download    60%" in figures
        assert "I/O-bound: 70% of wall time in download/upload" in figures
