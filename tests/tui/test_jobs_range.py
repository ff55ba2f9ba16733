"""Pilot tests of the Jobs view's typed time range (`R`), at 80x24 on the fixed test data.

The fixed data (`fixed_data_url`) holds 863 attempts started 2026-11-20 00:00 to
2026-11-22 23:22 UTC. Each range is checked against `planner.queries` with the since/until
it stands for, and against the rows' own started_at.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from planner import queries
from planner.tui.app import PlannerApp
from planner.tui.screens.jobs import PAGE_SIZE, JobsScreen
from planner.tui.widgets.attempts_table import AttemptsTable
from tests.tui.conftest import wait_for
from tests.tui.helpers import (
    jobs_screen,
    screen_lines,
    static_text,
    table_keys,
    type_keys,
    utc,
)


@pytest.fixture(scope="module")
def fixed_dataset(fixed_data_url: str) -> Iterator[Any]:
    from planner.dataset import open_dataset

    ds = open_dataset(fixed_data_url)
    yield ds
    ds.close()


def settled(app: PlannerApp) -> bool:
    """the jobs view has its page and count in, nothing being fetched"""
    s = app.screen
    return (isinstance(s, JobsScreen) and s.total is not None and not s.fetching
            and (s.loaded > 0 or s.exhausted))


@contextlib.asynccontextmanager
async def jobs_view(
    url: str, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[tuple[PlannerApp, Pilot[Any]]]:
    """The app on `url` at `size`, once the jobs view has its first page and count."""
    app = PlannerApp(url)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: settled(app))
        yield app, pilot


async def type_range(pilot: Pilot[Any], text: str) -> None:
    """`R`, the text (replacing what the line holds), enter."""
    await type_keys(pilot, "R", "ctrl+u", *text, "enter")


async def load_all(pilot: Pilot[Any], screen: JobsScreen) -> None:
    """Scroll to the end until every page of the selection is in."""
    while not screen.exhausted:
        await pilot.press("ctrl+end")
        loaded = screen.loaded

        def more_loaded(n: int = loaded) -> bool:
            return screen.exhausted or screen.loaded > n

        await wait_for(pilot, more_loaded)


#: (typed, since, until, filter bar at 80 columns): until is the first instant after the end.
RANGES = (
    ("2026-11-21 06:00..2026-11-21 12:00", utc(2026, 11, 21, 6), utc(2026, 11, 21, 12, 1),
     "range 11-21 06:00..12:00 │"),
    ("2026-11-22 18:00..", utc(2026, 11, 22, 18), None, "range 11-22 18:00.. │"),
    ("..2026-11-20 06:00", None, utc(2026, 11, 20, 6, 1), "range ..11-20 06:00 │"),
    # Across midnight: the end keeps its date.
    ("2026-11-20 23:00..2026-11-21 01:00", utc(2026, 11, 20, 23), utc(2026, 11, 21, 1, 1),
     "range 11-20 23:00..11-21 01:00 │ sort newest first"),
    # A whole day, more than a page: scrolled through to the end.
    ("2026-11-21", utc(2026, 11, 21), utc(2026, 11, 22), "range 2026-11-21 │"),
)


@pytest.mark.slow
async def test_typed_ranges_show_exactly_the_attempts_started_in_them(
    fixed_data_url: str, fixed_dataset: Any,
) -> None:
    everything = queries.count_attempts(fixed_dataset)
    async with jobs_view(fixed_data_url) as (app, pilot):
        screen = jobs_screen(app)
        table = screen.query_one(AttemptsTable)
        bar = screen.query_one("#filter-bar")
        heights = set()
        for text, since, until, shown in RANGES:
            generation = screen.generation
            await type_range(pilot, text)

            def requeried(g: int = generation) -> bool:
                return screen.generation > g and settled(app)

            await wait_for(pilot, requeried)
            assert table.has_focus and not screen.query_one("#range").display
            await load_all(pilot, screen)

            expected = queries.list_attempts(fixed_dataset, since=since, until=until, limit=10_000)
            assert table_keys(table) == expected["attempt_id"].to_list(), text
            assert screen.total == queries.count_attempts(
                fixed_dataset, since=since, until=until) == expected.height
            assert screen.total is not None and 0 < screen.total < everything
            # The rows' own start times, independently of the query's filter.
            starts = dict(fixed_dataset.connection.execute(
                "SELECT attempt_id, started_at FROM attempts").fetchall())
            inside = {i for i, t in starts.items()
                      if (since is None or t >= since) and (until is None or t < until)}
            assert set(table_keys(table)) == inside
            # Everything the bar says is on screen: one line, or two broken between parts.
            lines = static_text(bar).split("\n")
            assert " │ ".join(lines).endswith("sort newest first")
            assert shown in " │ ".join(lines)
            assert bar.size.height == len(lines) <= 2
            heights.add(len(lines))
            assert all(len(line) <= bar.content_size.width for line in lines)
            status = static_text(screen.query_one("#jobs-status"))
            assert status.startswith(f"{len(inside):,} of {len(inside):,} attempts loaded")
        # The whole day (the last range) took two pages.
        assert screen.total is not None and screen.total > PAGE_SIZE
        assert heights == {1, 2}

        # `x` clears the typed range with the other filters.
        await pilot.press("x")
        await wait_for(pilot, lambda: settled(app) and screen.query_state.time_range is None)
        assert screen.total == everything
        assert "range all │" in static_text(bar)


@pytest.mark.slow
async def test_bad_range_keeps_the_filter_and_escape_cancels(
    fixed_data_url: str, fixed_dataset: Any,
) -> None:
    async with jobs_view(fixed_data_url) as (app, pilot):
        screen = jobs_screen(app)
        table = screen.query_one(AttemptsTable)
        status = screen.query_one("#jobs-status")
        box = screen.query_one("#range", Input)
        await type_range(pilot, "2026-11-22 18:00..")
        await wait_for(pilot, lambda: settled(app) and screen.query_state.time_range is not None)
        keys = table_keys(table)
        generation = screen.generation
        shown = static_text(status)

        # End before start, then garbage: a one-line message, the filter and rows unchanged,
        # the line still open to correct the entry.
        for text, message in (
            ("2026-11-22..2026-11-21", "Range: the end 2026-11-21 is before the start 2026-11-22"),
            ("last tuesday", "Range: start 'last tuesday' is not a date"),
        ):
            await type_range(pilot, text)
            await pilot.pause()
            assert static_text(status).startswith(message)
            assert "\n" not in static_text(status)
            assert box.display and box.has_focus
            assert screen.generation == generation and table_keys(table) == keys
            assert screen.query_state.time_range is not None
            assert screen.query_state.time_range.text() == "2026-11-22 18:00.."

        # Escape leaves the line: the range as it was, the counts back in the status line.
        await pilot.press("escape")
        await pilot.pause()
        assert not box.display and table.has_focus
        assert static_text(status) == shown
        assert screen.generation == generation

        # `R` again holds the current range to edit; escape drops an unsent edit.
        await pilot.press("R")
        await pilot.pause()
        assert box.has_focus and box.value == "2026-11-22 18:00.."
        await pilot.press("backspace", "backspace", "escape")
        await pilot.pause()
        assert screen.generation == generation and not box.display

        # `r` from a typed range goes back to the presets, starting with all.
        await pilot.press("r")
        await wait_for(pilot, lambda: settled(app) and screen.generation > generation)
        assert screen.query_state.time_range is None and screen.query_state.range_hours is None
        assert screen.total == queries.count_attempts(fixed_dataset)

        # One day alone, then an empty entry: no range.
        await type_range(pilot, "2026-11-20")
        await wait_for(pilot, lambda: settled(app) and screen.query_state.time_range is not None)
        assert screen.total == queries.count_attempts(
            fixed_dataset, since=utc(2026, 11, 20), until=utc(2026, 11, 21))
        generation = screen.generation
        await type_range(pilot, "")
        await wait_for(pilot, lambda: settled(app) and screen.generation > generation)
        assert screen.query_state.time_range is None
        assert screen.total == queries.count_attempts(fixed_dataset)


async def test_range_key_is_in_the_footer_and_help(fixed_data_url: str) -> None:
    async with jobs_view(fixed_data_url) as (app, pilot):
        # In the footer, whole, at 80 columns.
        keys = {k.key: k for k in app.screen.query(FooterKey)}
        assert keys["R"].description == "Range"
        await wait_for(pilot, lambda: keys["R"].region.width > 0)
        assert keys["R"].region.right <= 80
        await pilot.press("question_mark")
        text = static_text(app.screen.query_one("#help-text"))
        assert "R       type a range in UTC" in text
        assert "2026-11-01..2026-11-15" in text


async def test_while_typing_the_footer_says_escape_not_search(fixed_data_url: str) -> None:
    """In the search or range line the letter keys and `/` type: the footer offers the way
    back instead, and the view's keys again once it is closed."""
    async with jobs_view(fixed_data_url) as (app, pilot):
        screen = jobs_screen(app)

        def footer() -> str:
            return screen_lines(app)[-1]

        assert "/ Search" in footer() and "esc" not in footer()
        for key in ("R", "slash"):
            await pilot.press(key)
            await wait_for(pilot, lambda: "esc Back to the table" in footer())
            assert "/ Search" not in footer()
            await pilot.press("/")  # types: the line stays open, holding it
            assert isinstance(screen.focused, Input) and screen.focused.value.endswith("/")
            await pilot.press("escape")
            await wait_for(pilot, lambda: "/ Search" in footer())
            assert "esc" not in footer()
            assert isinstance(screen.focused, AttemptsTable)


@pytest.mark.slow
async def test_at_80_columns_the_status_line_gives_the_cursor_rows_day(
    fixed_data_url: str,
) -> None:
    """The Time column shows HH:MM only at 80 columns: the status line names the day of the row
    under the cursor, so 23:50 of one day and 00:10 of the next can be told apart."""
    async with jobs_view(fixed_data_url) as (app, pilot):
        screen = jobs_screen(app)
        table = screen.query_one(AttemptsTable)
        status = screen.query_one("#jobs-status")
        assert not table.layout_form.shows_date
        await type_range(pilot, "2026-11-21 22:00..2026-11-22 02:00")
        await wait_for(pilot, lambda: settled(app) and screen.query_state.time_range is not None)
        rows = list(table.attempts.values())
        days = [r["started_at"].date().isoformat() for r in rows]
        assert days[0] == "2026-11-22" and days[-1] == "2026-11-21"  # newest first
        assert " · row of 2026-11-22 · " in static_text(status)
        table.move_cursor(row=len(rows) - 1)
        await wait_for(pilot, lambda: " · row of 2026-11-21 · " in static_text(status))

        # A message on the status line stays while the cursor moves; escape brings the counts
        # back, with the day of the row now under the cursor.
        await type_range(pilot, "tomorrow")
        await wait_for(pilot, lambda: "Range:" in static_text(status))
        message = static_text(status)
        table.move_cursor(row=0)
        await pilot.pause()
        assert static_text(status) == message
        await pilot.press("escape")
        await wait_for(pilot, lambda: " · row of 2026-11-22 · " in static_text(status))

    # With room for dates in the table, the status line does not repeat them.
    async with jobs_view(fixed_data_url, size=(120, 30)) as (app, pilot):
        screen = jobs_screen(app)
        assert screen.query_one(AttemptsTable).layout_form.shows_date
        assert "row of" not in static_text(screen.query_one("#jobs-status"))
