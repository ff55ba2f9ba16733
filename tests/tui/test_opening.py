"""`mjplan tui` opens the dataset and reads the Jobs view's first page in a thread while
Textual loads (`planner.tui.data.Opening`): the app shows exactly the rows it would have
queried itself, the page is used once, and a failure shows as the app's own would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner import queries
from planner.tui.app import PlannerApp
from planner.tui.data import PAGE_SIZE, Opening
from planner.tui.query_state import JobsQuery
from planner.tui.screens.jobs import JobsScreen
from planner.tui.screens.start import StartScreen
from planner.tui.widgets.attempts_table import AttemptsTable
from tests.tui.conftest import TEST_DATA_URL, wait_for
from tests.tui.helpers import jobs_screen, static_text, table_keys


def test_the_first_page_is_handed_over_once_and_only_for_itself(dataset: Any) -> None:
    opening = Opening(TEST_DATA_URL)
    assert opening.dataset().rows == dataset.rows
    # Not the page read ahead: another selection, offset or size.
    assert opening.take_first_page(JobsQuery(status="failed"), 0, PAGE_SIZE) is None
    assert opening.take_first_page(JobsQuery(), PAGE_SIZE, PAGE_SIZE) is None
    assert opening.take_first_page(JobsQuery(), 0, 10) is None
    rows = opening.take_first_page(JobsQuery(), 0, PAGE_SIZE)
    expected = queries.list_attempts(dataset, limit=PAGE_SIZE).to_dicts()
    assert rows == expected
    assert opening.take_first_page(JobsQuery(), 0, PAGE_SIZE) is None  # once: then queried


async def test_the_app_shows_the_page_read_ahead_then_pages_and_counts_as_usual(
    dataset: Any,
) -> None:
    app = PlannerApp(TEST_DATA_URL, opening=Opening(TEST_DATA_URL))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen)
                       and app.screen.loaded > 0 and app.screen.total is not None)
        screen = jobs_screen(app)
        table = screen.query_one(AttemptsTable)
        assert table_keys(table) == queries.list_attempts(
            dataset, limit=PAGE_SIZE)["attempt_id"].to_list()
        # Drawn for the terminal's width from the first (120 columns: the full form).
        assert table.layout_form.full
        total = queries.count_attempts(dataset)
        assert static_text(screen.query_one("#jobs-status")).startswith(
            f"{PAGE_SIZE:,} of {total:,} attempts loaded")
        # The next page and another selection are queried, not taken from the opening.
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: screen.loaded == 2 * PAGE_SIZE and not screen.fetching)
        assert table_keys(table) == queries.list_attempts(
            dataset, limit=2 * PAGE_SIZE)["attempt_id"].to_list()
        await pilot.press("s")  # status: succeeded
        await wait_for(pilot, lambda: screen.generation == 2 and screen.loaded > 0
                       and not screen.fetching)
        assert table_keys(table) == queries.list_attempts(
            dataset, status="succeeded", limit=PAGE_SIZE)["attempt_id"].to_list()


async def test_an_opening_that_fails_shows_the_error_on_the_start_screen(tmp_path: Path) -> None:
    app = PlannerApp(str(tmp_path), opening=Opening(str(tmp_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Cannot open" in static_text(
            app.screen.query_one("#start-text")))
        assert isinstance(app.screen, StartScreen)
        assert f"no Parquet files under {tmp_path}" in static_text(
            app.screen.query_one("#start-text"))


async def test_a_dataset_open_before_the_app_starts_it_on_the_jobs_view_with_its_rows(
    dataset: Any,
) -> None:
    # A warm cache opens while Textual loads: the app waits for it (a moment at most) and its
    # first frame is the Jobs view with the rows, no start screen drawn and replaced.
    opening = Opening(TEST_DATA_URL)
    assert opening.open_within(60) is not None  # as a quick open is by the time the app is made
    app = PlannerApp(TEST_DATA_URL, opening=opening)
    async with app.run_test(size=(120, 30)) as pilot:
        # run_test hands over once the first screen is mounted: no pause, no worker.
        assert isinstance(app.screen, JobsScreen)
        assert app.screen.loaded == PAGE_SIZE
        assert not any(isinstance(s, StartScreen) for s in app.screen_stack)
        table = app.screen.query_one(AttemptsTable)
        assert table_keys(table) == queries.list_attempts(
            dataset, limit=PAGE_SIZE)["attempt_id"].to_list()
        screen = app.screen
        await wait_for(pilot, lambda: screen.total is not None)
        assert screen.total == queries.count_attempts(dataset)
        # The other views work from it as usual.
        await pilot.press("3")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DistributionsScreen")
