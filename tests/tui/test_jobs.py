"""Pilot tests of the Jobs view and the Attempt detail on the embedded data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from collectors.schema import metrics_of_row
from planner import badges, formats, queries
from planner.tui.app import PlannerApp
from planner.tui.formatting import format_short_time, pretty_json, short_id
from planner.tui.jobs_columns import compact_host_badge, compact_input_badge, compact_rtf_badge
from planner.tui.screens.attempt import AttemptScreen
from planner.tui.screens.jobs import PAGE_SIZE, JobsScreen
from planner.tui.widgets.attempts_table import AttemptsTable
from tests.tui.conftest import TEST_DATA_URL, open_view, wait_for
from tests.tui.helpers import (
    jobs_screen,
    screen_lines,
    static_text,
    table_keys,
    table_rows,
    type_keys,
)


def jobs_ready(app: PlannerApp) -> bool:
    """jobs view shows rows and the count"""
    s = app.screen
    return isinstance(s, JobsScreen) and s.loaded > 0 and s.total is not None


async def test_first_page_is_newest_first_with_badges(dataset: Any) -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: jobs_ready(app))
        screen = jobs_screen(app)
        table = screen.query_one(AttemptsTable)
        expected = queries.list_attempts(dataset, limit=PAGE_SIZE)
        assert table_keys(table) == expected["attempt_id"].to_list()
        total = queries.count_attempts(dataset)
        assert screen.total == total
        status = static_text(screen.query_one("#jobs-status"))
        assert status.startswith(f"{min(PAGE_SIZE, total):,} of {total:,} attempts loaded")
        first = expected.row(0, named=True)
        cells = table_rows(table)[0]
        # 120 columns: the full form, the badges as the plan writes them.
        assert table.layout_form.full
        assert cells[1] == short_id(first["job_id"], table.layout_form.widths["job"])
        assert cells[2] == formats.short_job_type(first["job_type"])
        assert cells[5] == badges.rtf_badge(first).removeprefix("RTF ")
        assert cells[6] == badges.input_badge(first)
        assert cells[7] == badges.host_badge(first)


async def test_at_80_columns_the_rows_show_all_three_badges_in_compact_form(
    dataset: Any,
) -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: jobs_ready(app))
        table = app.screen.query_one(AttemptsTable)
        assert not table.layout_form.full
        # Nothing to scroll sideways to: every column is on screen.
        assert table.virtual_size.width <= table.scrollable_content_region.width
        shown = [table.render_line(y).text for y in range(table.scrollable_content_region.height)]
        assert "RTF" in shown[0] and "Input" in shown[0] and "Host" in shown[0]
        # A known row: the first one with all three badges, among the visible ones.
        visible = queries.list_attempts(dataset, limit=len(shown) - 1).to_dicts()
        index, row = next((i, r) for i, r in enumerate(visible)
                          if r["rtf_badge"] and r["input_badge"] and r["host_badge"])
        line = shown[1 + index]
        assert line.startswith(f" {format_short_time(row['started_at'])[-5:]} ")
        for text in (compact_rtf_badge(row), compact_input_badge(row), compact_host_badge(row)):
            assert text and f" {text} " in f"{line} "

        await pilot.resize_terminal(120, 24)  # wider: the full form, rows kept
        await wait_for(pilot, lambda: table.layout_form.full)
        assert table_keys(table) == [str(k) for k in queries.list_attempts(
            dataset, limit=table.row_count)["attempt_id"]]
        line = table.render_line(1 + index).text
        for text in (row["input_badge"], row["host_badge"]):
            assert f" {text} " in line


async def test_filter_keys_requery(dataset: Any) -> None:
    job_types = queries.distinct_values(dataset, "job_type")
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: jobs_ready(app))
        screen = jobs_screen(app)
        await wait_for(pilot, lambda: len(screen.job_types) > 1)
        await pilot.press("t", "s", "s")  # first job type, then status: succeeded, failed
        await wait_for(pilot, lambda: jobs_ready(app) and screen.generation == 4)
        assert screen.query_state.job_type == job_types[0]
        assert screen.query_state.status == "failed"
        bar = static_text(screen.query_one("#filter-bar"))
        assert f"type {formats.short_job_type(job_types[0])}" in bar and "status failed" in bar
        expected = queries.list_attempts(
            dataset, job_type=job_types[0], status="failed", limit=PAGE_SIZE
        )
        table = screen.query_one(AttemptsTable)
        assert table_keys(table) == expected["attempt_id"].to_list()
        assert screen.total == queries.count_attempts(
            dataset, job_type=job_types[0], status="failed"
        )
        assert {r[3] for r in table_rows(table)} <= {"failed"}

        await pilot.press("o", "o")  # oldest first, then RTF high -> low, filters kept
        await wait_for(pilot, lambda: jobs_ready(app) and screen.generation == 6)
        expected = queries.list_attempts(
            dataset, job_type=job_types[0], status="failed", order_by="rtf", limit=PAGE_SIZE
        )
        assert table_keys(table) == expected["attempt_id"].to_list()

        await pilot.press("x")  # clear everything
        await wait_for(pilot, lambda: jobs_ready(app) and screen.generation == 7)
        assert screen.total == queries.count_attempts(dataset)

        await pilot.press("r")  # the last 24 hours before the newest attempt
        await wait_for(pilot, lambda: jobs_ready(app) and screen.generation == 8)
        newest = queries.list_attempts(dataset, limit=1).row(0, named=True)["started_at"]
        since = newest - dt.timedelta(hours=24)
        assert "range last 24h" in static_text(screen.query_one("#filter-bar"))
        assert screen.total == queries.count_attempts(dataset, since=since)
        assert 0 < screen.total < queries.count_attempts(dataset)


@pytest.mark.slow
async def test_search_by_job_id_shows_its_attempts(dataset: Any) -> None:
    # A job with a retry, so the search shows more than one row.
    rows = dataset.connection.execute(
        "SELECT job_id FROM attempts GROUP BY job_id HAVING count(*) > 1 ORDER BY job_id LIMIT 1"
    ).fetchall()
    assert rows, "the embedded data should hold retried jobs"
    job_id = rows[0][0]
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: jobs_ready(app))
        screen = jobs_screen(app)
        # The table shows ids cut short, so the start of an id is enough.
        prefix = job_id[:8]
        await type_keys(pilot, "slash", *prefix, "enter")
        await wait_for(pilot, lambda: jobs_ready(app) and screen.query_state.search == prefix)
        table = screen.query_one(AttemptsTable)
        expected = queries.list_attempts(dataset, job_id=job_id)
        assert sorted(table_keys(table)) == sorted(expected["attempt_id"].to_list())
        assert len(table_keys(table)) > 1
        assert table.has_focus
        assert f"/ {prefix}" in static_text(screen.query_one("#filter-bar"))

        # Nothing has it: a message that says how to get back, not a traceback.
        status = screen.query_one("#jobs-status")
        await pilot.press("slash", "ctrl+u", "z", "z", "q", "enter")
        await wait_for(pilot, lambda: "No attempts" in static_text(status))
        assert static_text(status) == "No attempts match the search 'zzq'. Esc clears it."
        assert table.row_count == 0


async def test_scrolling_to_the_end_fetches_the_next_page(dataset: Any) -> None:
    total = queries.count_attempts(dataset)
    assert total > PAGE_SIZE, "the embedded data should span more than one page"
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: jobs_ready(app))
        screen = jobs_screen(app)
        assert screen.loaded == PAGE_SIZE
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: screen.loaded > PAGE_SIZE)
        expected = queries.list_attempts(dataset, limit=2 * PAGE_SIZE)
        table = screen.query_one(AttemptsTable)
        assert table_keys(table) == expected["attempt_id"].to_list()


async def test_enter_opens_attempt_detail(dataset: Any) -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: jobs_ready(app))
        first_id = table_keys(app.screen.query_one(AttemptsTable))[0]
        screen = await open_view(pilot, "enter", AttemptScreen, "row")
        row = queries.get_attempt(dataset, first_id)
        assert row is not None
        assert screen.metrics_json == pretty_json(metrics_of_row(row))
        shown = static_text(screen.query_one("#attempt-badges"))
        for text in (row["rtf_badge"], row["input_badge"], row["host_badge"]):
            assert text and text in shown
        commands = static_text(screen.query_one("#commands"))
        for i, cmd in enumerate(row["ffmpeg_commands"] or [], 1):
            assert f"{i}. {cmd}" in commands
        siblings = queries.attempts_of_job(dataset, row["job_id"])
        assert table_keys(screen.query_one("#siblings", AttemptsTable)) == (
            siblings["attempt_id"].to_list()
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))


async def test_help_lists_the_keys() -> None:
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: jobs_ready(app))
        await pilot.press("question_mark")
        text = static_text(app.screen.query_one("#help-text"))
        text += "\n" + static_text(app.screen.query_one("#help-text-right"))
        for line in ("1 2     Jobs, Attempt detail", "3 4     Distributions, Fleet sizing",
                     "/       search job id, host, codec,", "w       write the fleet request JSON",
                     "Growth multiplies demand", "Window (14d, 36h, 2w)"):
            assert line in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))


async def test_attempt_detail_scrolls_by_keys_at_80_columns(dataset: Any) -> None:
    """The metrics JSON is longer than 24 lines: its end is a key away, with no tab or click
    first; each tab's key puts the keys on that tab's content."""
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: jobs_ready(app))
        screen = await open_view(pilot, "enter", AttemptScreen, "row")
        last = screen.metrics_json.splitlines()[-2].strip()  # the line before the closing }
        assert len(screen.metrics_json.splitlines()) > 24
        assert not any(last in line for line in screen_lines(app))
        await pilot.press("end")
        await wait_for(pilot, lambda: any(last in line for line in screen_lines(app)))
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.focused is screen.query_one("#commands-scroll"))
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.focused is screen.query_one("#siblings"))
        await pilot.press("m")
        await wait_for(pilot, lambda: screen.focused is screen.query_one("#metrics-scroll"))
