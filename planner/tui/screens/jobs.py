"""The Jobs view: attempts newest first, filtered, searched and sorted, loaded a page at a time.

The table holds only the pages the user has scrolled through: the first page is shown as soon
as it is fetched, and the next one is fetched when the cursor nears the last loaded row. Each
change of filters bumps `generation`, so a page of an older selection that arrives late is
dropped instead of mixed in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import get_current_worker

from planner.tui import data, formatting
from planner.tui.messages import (
    AttemptsCounted,
    AttemptsPage,
    FilterOptionsLoaded,
    QueryFailed,
    post_result,
)
from planner.tui.query_state import RANGES_HOURS, SORTS, STATUSES, JobsQuery
from planner.tui.screens.attempt import AttemptScreen
from planner.tui.widgets.attempts_table import AttemptsTable
from planner.tui.widgets.filter_bar import FilterBar

#: Rows fetched per query: a few screens' worth, small enough to arrive in milliseconds.
PAGE_SIZE = 200
#: Fetch the next page when the cursor is this close to the last loaded row: half a page, so
#: a page that takes a second or two (10M rows) is usually in before the cursor gets there.
PREFETCH_ROWS = 100


class JobsScreen(Screen[None]):
    """Attempts of the dataset, a page at a time."""

    TITLE = "mjplan · Jobs"

    # The filter keys are shown in the filter bar (their letters in bold), not in the footer,
    # so the footer keeps room for the view keys at 80 columns.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "cycle('job_type')", "Type", show=False),
        Binding("i", "cycle('instance_type')", "Instance", show=False),
        Binding("s", "cycle('status')", "Status", show=False),
        Binding("r", "cycle('range_hours')", "Range", show=False),
        Binding("o", "cycle('sort')", "Sort", show=False),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("x", "clear", "Clear"),
        Binding("escape", "leave_search", "Back", show=False),
    ]

    AUTO_FOCUS = "#attempts"

    def __init__(self) -> None:
        super().__init__()
        self.query_state = JobsQuery()
        self.generation = 0
        self.loaded = 0
        self.total: int | None = None
        self.exhausted = False
        self.fetching = False
        self.job_types: list[str | None] = [None]
        self.instance_types: list[str | None] = [None]
        self.newest: dt.datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(id="filter-bar")
        yield Input(
            placeholder="job id or its first characters; enter applies, escape leaves",
            id="search",
        )
        yield AttemptsTable(id="attempts")
        yield Static("", id="jobs-status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(FilterBar).show(self.query_state)
        self.reload()

    # Queries (worker threads) ---------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-options")
    def load_filter_options(self) -> None:
        ds = self.app.dataset  # type: ignore[attr-defined]
        post_result(self, "jobs", lambda: FilterOptionsLoaded(*data.filter_options(ds)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-page")
    def fetch_page(self, generation: int, query: JobsQuery, offset: int) -> None:
        ds = self.app.dataset  # type: ignore[attr-defined]
        newest = self.newest
        page = post_result(self, "jobs", lambda: AttemptsPage(
            generation, offset,
            data.attempts_page(ds, query, offset=offset, limit=PAGE_SIZE, newest=newest), None,
        ))
        # A newer selection replaced this one while the page was read: skip its count.
        if page and offset == 0 and not get_current_worker().is_cancelled:
            post_result(self, "jobs", lambda: AttemptsCounted(
                generation, data.count_attempts(ds, query, self.newest)))

    # Rendering (UI thread) ------------------------------------------------------------------

    def reload(self) -> None:
        """Start over with the current selection: clear the table, fetch the first page."""
        self.generation += 1
        self.loaded = 0
        self.total = None
        self.exhausted = False
        self.fetching = True
        table = self.query_one(AttemptsTable)
        table.clear()
        table.loading = True
        self._status("Loading…")
        self.fetch_page(self.generation, self.query_state, 0)

    @on(AttemptsPage)
    def _page(self, message: AttemptsPage) -> None:
        if message.generation == 1 and message.offset == 0:
            # The first selection is everything, newest first: its first row is the newest
            # attempt, which the time ranges count back from. The filter values are read after
            # the first page, so the two scans do not compete for the first rows.
            self.newest = data.row_time(message.rows[0]) if message.rows else None
            self.load_filter_options()
        if message.generation != self.generation:
            return
        table = self.query_one(AttemptsTable)
        table.loading = False
        self.fetching = False
        if self.focused is None or not self.focused.display:
            # A loading widget cannot take focus; give it back once the rows are in.
            table.focus()
        table.append(message.rows)
        self.loaded = table.row_count
        self.exhausted = len(message.rows) < PAGE_SIZE
        self._show_counts()

    @on(AttemptsCounted)
    def _counted(self, message: AttemptsCounted) -> None:
        if message.generation == self.generation:
            self.total = message.total
            self._show_counts()

    @on(FilterOptionsLoaded)
    def _options(self, message: FilterOptionsLoaded) -> None:
        self.job_types = [None, *message.job_types]
        self.instance_types = [None, *message.instance_types]

    @on(QueryFailed)
    def _failed(self, message: QueryFailed) -> None:
        if message.view != "jobs":
            return
        message.stop()
        self.fetching = False
        self.query_one(AttemptsTable).loading = False
        self._status(f"[b red]Error:[/] {formatting.escape_markup(message.message)}")

    def _show_counts(self) -> None:
        if self.loaded == 0 and self.exhausted:
            self._status("No attempts match. Press x to clear the filters.")
            return
        total = "…" if self.total is None else formatting.format_count(self.total)
        self._status(f"{formatting.format_count(self.loaded)} of {total} attempts loaded"
                     " · enter: detail")

    def _status(self, text: str) -> None:
        self.query_one("#jobs-status", Static).update(text)

    @on(DataTable.RowHighlighted, "#attempts")
    def _maybe_fetch_more(self, event: DataTable.RowHighlighted) -> None:
        if self.fetching or self.exhausted or self.loaded == 0:
            return
        if event.cursor_row >= self.loaded - PREFETCH_ROWS:
            self.fetching = True
            self.fetch_page(self.generation, self.query_state, self.loaded)

    @on(DataTable.RowSelected, "#attempts")
    def _open_attempt(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(AttemptScreen(str(event.row_key.value)))

    # Keys -----------------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        from dataclasses import replace

        self.query_state = replace(self.query_state, **changes)
        self.query_one(FilterBar).show(self.query_state)
        self.reload()

    def action_cycle(self, field: str) -> None:
        choices: dict[str, list[Any]] = {
            "job_type": list(self.job_types),
            "instance_type": list(self.instance_types),
            "status": list(STATUSES),
            "range_hours": list(RANGES_HOURS),
            "sort": [key for key, _ in SORTS],
        }
        options = choices[field]
        self._set(**{field: formatting.cycle(options, getattr(self.query_state, field))})

    def action_clear(self) -> None:
        self.query_one("#search", Input).value = ""
        self._set(**{f: None for f in ("job_type", "instance_type", "status", "range_hours")},
                  search="", sort="newest")

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.focus()

    def action_leave_search(self) -> None:
        box = self.query_one("#search", Input)
        if box.display:
            box.display = False
            self.query_one(AttemptsTable).focus()

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        # The filter bar shows the search from now on; `/` brings the box back to edit it.
        self.query_one("#search", Input).display = False
        self.query_one(AttemptsTable).focus()
        self._set(search=event.value.strip())
