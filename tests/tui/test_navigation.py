"""Pilot tests of the keys that move around the TUI like k9s: j/k, g/G and Home/End over the
whole selection, views on 1-4 and Tab, search by any piece, Escape, the oldest-first sort and
its arrow, copy (OSC 52), and writing files only where the user said."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner import queries
from planner.tui.app import PlannerApp
from planner.tui.screens.attempt import AttemptScreen
from planner.tui.screens.distributions import DistributionsScreen
from planner.tui.screens.help import KEYS, HelpScreen
from planner.tui.screens.jobs import PAGE_SIZE, JobsScreen
from planner.tui.screens.save_path import SavePathScreen, check_save_path, default_save_path
from planner.tui.screens.sizing import SizingScreen
from planner.tui.widgets.attempts_table import AttemptsTable
from tests.tui.conftest import TEST_DATA_URL, open_view, wait_for
from tests.tui.helpers import jobs_screen, screen_lines, static_text, table_keys, type_keys


def _ready(app: PlannerApp) -> bool:
    """the jobs view shows rows, counted, nothing being fetched"""
    s = app.screen
    return (isinstance(s, JobsScreen) and s.loaded > 0 and s.total is not None
            and not s.fetching)


def _cursor_key(table: AttemptsTable) -> str:
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


async def test_end_and_home_jump_to_the_ends_of_the_whole_selection(dataset: Any) -> None:
    total = queries.count_attempts(dataset)
    assert total > 3 * PAGE_SIZE  # the last row is not on a page the list has loaded
    oldest = queries.list_attempts(dataset, descending=False, limit=2)["attempt_id"].to_list()
    newest = queries.list_attempts(dataset, limit=2)["attempt_id"].to_list()
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _ready(app))
        screen = jobs_screen(app)
        table = screen.query_one(AttemptsTable)
        for last, first in (("G", "g"), ("end", "home")):
            await pilot.press(last)
            await wait_for(pilot, lambda: _ready(app) and screen.base > 0)
            # One page fetched, the one that ends the selection: not every page before it.
            assert screen.loaded == PAGE_SIZE and screen.base == total - PAGE_SIZE
            assert _cursor_key(table) == oldest[0]
            status = static_text(screen.query_one("#jobs-status"))
            assert status.startswith(f"row {total:,} of {total:,}")
            await pilot.press("k")
            assert _cursor_key(table) == oldest[1]
            await pilot.press(first)
            await wait_for(pilot, lambda: _ready(app) and screen.base == 0)
            assert table.cursor_row == 0 and _cursor_key(table) == newest[0]
            await pilot.press("j")
            assert _cursor_key(table) == newest[1]

        # Up from the end, the page before is fetched and put above, the cursor kept.
        await pilot.press("G")
        await wait_for(pilot, lambda: _ready(app) and screen.base > 0)
        await pilot.press("pageup", "pageup", "pageup", "pageup", "pageup", "pageup")
        await wait_for(pilot, lambda: _ready(app) and screen.loaded == 2 * PAGE_SIZE)
        assert screen.base == total - 2 * PAGE_SIZE
        expected = queries.list_attempts(dataset, offset=screen.base, limit=2 * PAGE_SIZE)
        assert table_keys(table) == expected["attempt_id"].to_list()


async def test_views_on_number_keys_and_tab() -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _ready(app))
        first = _cursor_key(jobs_screen(app).query_one(AttemptsTable))
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, DistributionsScreen))
        await pilot.press("tab")
        await wait_for(pilot, lambda: isinstance(app.screen, SizingScreen))
        sizing = app.screen
        assert isinstance(sizing, SizingScreen)
        await wait_for(pilot, lambda: sizing.result is not None)
        # In the form, Tab goes from input to input, not to another view.
        sizing.query_one("#in-demand").focus()
        await pilot.press("tab")
        assert app.screen is sizing and sizing.focused is sizing.query_one("#in-growth")
        await pilot.press("escape", "tab")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: isinstance(app.screen, SizingScreen))
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        await pilot.press("2")  # the attempt under the cursor
        await wait_for(pilot, lambda: isinstance(app.screen, AttemptScreen))
        assert isinstance(app.screen, AttemptScreen) and app.screen.attempt_id == first
        await pilot.press("4", "2")  # back to the attempt left open
        await wait_for(pilot, lambda: isinstance(app.screen, AttemptScreen))
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        # j and k move: they no longer switch views.
        await pilot.press("j", "j", "k")
        assert isinstance(app.screen, JobsScreen)
        assert app.screen.query_one(AttemptsTable).cursor_row == 1


async def test_search_any_piece_any_case_and_escape_clears_it(dataset: Any) -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _ready(app))
        screen = jobs_screen(app)
        everything = screen.total
        for text in ("HEVC", "ip-10-3-", "exited with code"):
            await type_keys(pilot, "slash", *text, "enter")

            def searched(t: str = text) -> bool:
                return _ready(app) and screen.query_state.search == t

            await wait_for(pilot, searched)
            assert screen.total == queries.count_attempts(dataset, search=text) > 0
            assert screen.total < (everything or 0)
            table = screen.query_one(AttemptsTable)
            expected = queries.list_attempts(dataset, search=text, limit=PAGE_SIZE)
            assert table_keys(table) == expected["attempt_id"].to_list()
            assert f"/ {text}" in static_text(screen.query_one("#filter-bar"))
            assert "esc Clear search" in screen_lines(app)[-1]
            await pilot.press("escape")  # over the table: the search goes
            await wait_for(pilot, lambda: _ready(app) and screen.total == everything)
            assert screen.query_state.search == ""
            assert "esc" not in screen_lines(app)[-1]
        # Escape in the search line leaves it and drops what was typed.
        await pilot.press("slash", "z", "z", "escape")
        assert screen.query_state.search == "" and not screen.query_one("#search").display


async def test_oldest_first_and_the_arrow_on_the_sorted_column(dataset: Any) -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _ready(app))
        screen = jobs_screen(app)
        table = screen.query_one(AttemptsTable)

        def header() -> str:
            return " ".join(str(c.label).strip() for c in table.ordered_columns)

        assert "Time▼" in header()
        await pilot.press("o")
        await wait_for(pilot, lambda: _ready(app) and screen.query_state.sort == "oldest")
        assert "Time▲" in header() and "▼" not in header()
        expected = queries.list_attempts(dataset, descending=False, limit=PAGE_SIZE)
        assert table_keys(table) == expected["attempt_id"].to_list()
        assert "sort oldest first" in static_text(screen.query_one("#filter-bar"))
        await pilot.press("o")
        await wait_for(pilot, lambda: _ready(app) and screen.query_state.sort == "rtf_desc")
        assert "RTF▼" in header() and "Time▼" not in header()


async def test_copy_the_command_and_the_error_with_osc52(dataset: Any) -> None:
    failed = queries.list_attempts(dataset, status="failed", limit=1).row(0, named=True)
    assert failed["error"] and failed["ffmpeg_commands"]
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _ready(app))
        screen = jobs_screen(app)
        await pilot.press("s", "s")  # failed attempts
        await wait_for(pilot, lambda: _ready(app) and screen.query_state.status == "failed")
        attempt = await open_view(pilot, "enter", AttemptScreen, "row")
        assert attempt.attempt_id == failed["attempt_id"]
        # The error is shown whole above the tabs, wrapped at 80 columns.
        shown = " ".join(line.strip() for line in screen_lines(app))
        assert f"Error: {failed['error']}" in shown
        await pilot.press("e")
        assert app.clipboard == failed["error"]
        await pilot.press("y")
        assert app.clipboard == "\n".join(failed["ffmpeg_commands"])
        footer = screen_lines(app)[-1]
        assert "y Copy cmd" in footer and "e Copy error" in footer


async def test_help_fits_80x24_with_every_key() -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _ready(app))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        for _, keys in KEYS:
            for _key, what in keys:
                assert what in text, what  # on screen, no scrolling needed
        for key in ("1 2", "3 4", "g G", "esc", "y e", "w"):
            assert f" {key} " in text


def test_save_paths_default_to_documents_or_the_current_folder(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    assert default_save_path("a.csv") == str(tmp_path / "a.csv")
    (tmp_path / "home" / "Documents").mkdir(parents=True)
    assert default_save_path("a.csv") == str(tmp_path / "home" / "Documents" / "a.csv")
    assert default_save_path("a.csv", str(tmp_path)) == str(tmp_path / "a.csv")
    assert check_save_path(str(tmp_path)) == ("", f"{tmp_path} is a folder: add a file name")
    assert check_save_path(str(tmp_path / "no" / "x.csv"))[1] == f"no folder {tmp_path / 'no'}"
    assert check_save_path("  ") == ("", "type a file name")


async def test_csv_export_asks_where_and_before_overwriting(
    dataset: Any, tmp_path: Path
) -> None:
    app = PlannerApp(TEST_DATA_URL, output_dir=str(tmp_path))
    target = tmp_path / "attempts.csv"
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _ready(app))
        screen = jobs_screen(app)
        await pilot.press("s", "s")
        await wait_for(pilot, lambda: _ready(app) and screen.query_state.status == "failed")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, SavePathScreen))
        box = app.screen.query_one("#save-path")
        assert getattr(box, "value", None) == str(target)  # shown before anything is written
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists() and "Wrote" in static_text(
            screen.query_one("#jobs-status")))
        lines = target.read_text().splitlines()
        failed = queries.count_attempts(dataset, status="failed")
        assert lines[0].startswith("attempt_id,")
        assert static_text(screen.query_one("#jobs-status")).startswith(
            f"Wrote {failed:,} attempts to {target}")

        target.write_text("mine\n")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, SavePathScreen))
        await pilot.press("enter")  # exists: asks first
        await pilot.pause()
        assert isinstance(app.screen, SavePathScreen)
        assert "exists" in static_text(app.screen.query_one("#save-note"))
        assert target.read_text() == "mine\n"
        await pilot.press("escape")  # cancelled: left as it was
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        await pilot.pause(0.2)
        assert target.read_text() == "mine\n"
        await pilot.press("e", "enter", "enter")  # asked, then confirmed
        await wait_for(pilot, lambda: target.read_text() != "mine\n")
