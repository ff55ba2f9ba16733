"""Pilot tests of what a run in a real terminal (tmux, 80x24 and 120x40) showed was wrong."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from planner.tui.app import PlannerApp
from planner.tui.screens.help import HelpScreen
from tests.tui.conftest import TEST_DATA_URL, wait_for
from tests.tui.helpers import jobs_shown, screen_lines, sizing_view, static_text


async def test_help_lines_are_not_broken_at_80_columns() -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: jobs_shown(app))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        # Each line of the key columns is whole (a wrapped description started a line at the
        # border): every described line is on screen as written.
        from planner.tui.screens.help import KEYS

        for _, keys in KEYS:
            for key, what in keys:
                assert f"{key:<7} {what}" in text, what


async def test_w_with_a_bad_input_says_what_to_correct(tmp_path: Path) -> None:
    async with sizing_view(str(tmp_path)) as (pilot, screen, _):
        await pilot.press("e")
        assert screen.focused is screen.query_one("#in-demand", Input)
        await pilot.press(*"abc")
        await wait_for(pilot, lambda: screen.failed is not None
                       and screen.failed[0] == screen.generation)
        await pilot.press("escape", "w")
        await pilot.pause(0.3)
        status = static_text(screen.query_one("#sizing-status"))
        # It said "Wait for the sizing to finish", and nothing was running.
        assert "Wait for the sizing" not in status
        assert status.startswith("Error: forecast 'abc'")
        assert "Not written: correct the inputs, then press w." in status
        assert not list(tmp_path.iterdir())
