"""Pilot tests of the jobs table's job ids: what tells them apart at 80 columns, all of a
long id when there is room, and hostile ids shown as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from planner.tui.app import PlannerApp
from planner.tui.screens.jobs import JobsScreen
from planner.tui.widgets.attempts_table import AttemptsTable
from tests.tui.conftest import TEST_DATA_URL, wait_for
from tests.tui.helpers import jobs_screen, screen_lines, table_rows, type_keys

#: The minutes the embedded data's measured attempts (`mjcollect demo`) were taken in.
MEASURED = "2026-11-25 20:38..2026-11-25 20:43"


def settled(app: PlannerApp) -> bool:
    """the jobs view has its page and count in, nothing being fetched"""
    s = app.screen
    return (isinstance(s, JobsScreen) and s.total is not None and not s.fetching
            and (s.loaded > 0 or s.exhausted))


@pytest.mark.slow
async def test_measured_job_ids_differ_at_80_columns(dataset: Any) -> None:
    measured = {r[0] for r in dataset.connection.execute(
        "SELECT job_id FROM attempts WHERE NOT synthetic").fetchall()}
    assert len(measured) > 20 and all(i.startswith("demo-87-") for i in measured)
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: settled(app))
        screen = jobs_screen(app)
        generation = screen.generation
        await type_keys(pilot, "R", "ctrl+u", *MEASURED, "enter")
        await wait_for(pilot, lambda: screen.generation > generation and settled(app))
        rows = [r for r in screen_lines(app) if "…" in r and ":" in r[:6]]
        ids = [r.split()[1] for r in rows]
        # Newest first: the envelope and thumbnail of the truncated file, run 2.
        assert ids[:4] == ["…h264…-2"] * 4
        assert "…mp3_…-2" in ids and "…aac_…-2" in ids
        assert "demo-87…" not in "\n".join(screen_lines(app))
        # Wide enough, the id is whole.
        await pilot.resize_terminal(200, 24)
        await wait_for(pilot, lambda: screen.query_one(AttemptsTable).layout_form.full)
        table = screen.query_one(AttemptsTable)
        assert {r[1] for r in table_rows(table)} & measured


HOSTILE = ["[red]boom[/]", "esc\x1b[2Jclear", "日本語のジョブ-0001", "rtl\u202eabc"]


async def test_hostile_job_ids_are_shown_as_written(
    fixed_data_url: str, tmp_path: Path
) -> None:
    source = sorted(Path(fixed_data_url).rglob("*.parquet"))[0]
    table = pq.read_table(source).slice(0, len(HOSTILE))
    table = table.set_column(table.schema.get_field_index("job_id"), "job_id",
                             pa.array(HOSTILE, pa.string()))
    durations = table.column("duration_ms").to_pylist()
    durations[0] = 724_000  # 12m04s
    table = table.set_column(table.schema.get_field_index("duration_ms"), "duration_ms",
                             pa.array(durations, table.schema.field("duration_ms").type))
    out = tmp_path / source.relative_to(fixed_data_url)
    out.parent.mkdir(parents=True)
    pq.write_table(table, out)
    app = PlannerApp(str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: settled(app))
        ids = [line.split()[1] for line in screen_lines(app)[3:7]]
        assert ids == ["rtl…eabc", "日…0001", "esc…lear", "[red]…/]"]
        # A job of 12 minutes fits its 5 cells (it read `12m4…`).
        assert "12m" in [line.split()[4] for line in screen_lines(app)[3:7]]
        # Wider: whole, the markup as written, the controls as escapes.
        await pilot.resize_terminal(120, 24)
        await wait_for(pilot, lambda: app.screen.query_one(AttemptsTable).layout_form.full)
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        for shown in ("[red]boom[/]", "esc\\x1b[2Jclear", "日本語のジョブ-0001", "rtl\\u202eabc"):
            assert shown in text
        assert "\x1b" not in text and "\u202e" not in text
