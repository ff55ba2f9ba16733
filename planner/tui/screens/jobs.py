"""The Jobs view: attempts newest first, filtered, searched and sorted, loaded a page at a time.

The table holds a window of the selection, rows `base`..`base + loaded`: the first page is
shown as soon as it is fetched, and the next one is fetched when the cursor nears the last
loaded row (the one before when it nears the first, after a jump to the end). End/G fetch
the last page directly, Home/g the first. Each change of filters bumps `generation`, so a
page of an older selection that arrives late is dropped instead of mixed in; a page that no
longer borders the window (a jump happened meanwhile) is dropped too.
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
    AttemptsExported,
    AttemptsPage,
    FilterOptionsLoaded,
    QueryFailed,
    post_result,
)
from planner.tui.query_state import (
    RANGES_HOURS,
    SORT_COLUMNS,
    SORTS,
    STATUSES,
    JobsQuery,
    RangeError,
    parse_time_range,
)
from planner.tui.widgets.attempts_table import AttemptsTable
from planner.tui.widgets.filter_bar import FilterBar

#: Rows fetched per query (data.PAGE_SIZE: the first page may be read before Textual loads).
PAGE_SIZE = data.PAGE_SIZE
#: Fetch the next page when the cursor is this close to the last loaded row: half a page, so
#: a page that takes a second or two (10M rows) is usually in before the cursor gets there.
PREFETCH_ROWS = 100


class JobsScreen(Screen[None]):
    """Attempts of the dataset, a page at a time."""

    TITLE = "mjplan · 1 Jobs"

    # The filter keys are shown in the filter bar (their letters in bold), not in the footer,
    # so the footer keeps room for the others at 80 columns. `R` (a typed time range) has no
    # letter of its own there, so the footer shows it.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "cycle('job_type')", "Type", show=False),
        Binding("i", "cycle('instance_type')", "Instance", show=False),
        Binding("s", "cycle('status')", "Status", show=False),
        Binding("r", "cycle('range_hours')", "Range", show=False),
        Binding("o", "cycle('sort')", "Sort", show=False),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("R", "edit_range", "Range"),
        Binding("x", "clear", "Clear"),
        Binding("e", "export", "CSV"),
        # Escape leaves the search or range line (the footer then hides the letter keys,
        # which type, and `/`, which types too); over the table it clears the search.
        Binding("escape", "escape('input')", "Back to the table"),
        Binding("escape", "escape('search')", "Clear search"),
    ]

    AUTO_FOCUS = "#attempts"

    def __init__(self) -> None:
        super().__init__()
        self.query_state = JobsQuery()
        self.generation = 0
        #: Position in the selection of the table's first row (above 0 after a jump to the end).
        self.base = 0
        self.loaded = 0
        self.total: int | None = None
        self.exhausted = False
        self.fetching = False
        self.job_types: list[str | None] = [None]
        self.instance_types: list[str | None] = [None]
        self.newest: dt.datetime | None = None
        #: The status line shows the counts (not an error): moving the cursor may update it.
        self.counts_shown = False
        #: The status line says why a typed range was refused (escape puts the counts back).
        self.range_message = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(id="filter-bar")
        yield Input(
            placeholder="a piece of a job id, host, codec or error; enter applies, escape clears",
            id="search",
        )
        yield Input(placeholder="e.g. 2026-11-01..2026-11-15, 2026-11-20.., ..2026-11-10 12:00",
                    id="range")
        yield AttemptsTable(id="attempts")
        yield Static("", id="jobs-status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#range", Input).border_title = (
            "time range, UTC · enter applies · escape cancels"
        )
        self.query_one(FilterBar).show(self.query_state)
        self.reload()

    # Queries (worker threads) ---------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-options")
    def load_filter_options(self) -> None:
        ds = self.app.dataset  # type: ignore[attr-defined]
        post_result(self, "jobs", lambda: FilterOptionsLoaded(*data.filter_options(ds)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-page")
    def fetch_page(self, generation: int, query: JobsQuery, offset: int,
                   limit: int = PAGE_SIZE, place: str = "after") -> None:
        """Rows offset..offset+limit; `place` says where they go: "after" (or "before") the
        window, or "first"/"last" (a jump: they replace it). "last" counts the selection
        first, to know where its last page starts."""
        ds = self.app.dataset  # type: ignore[attr-defined]
        newest = self.newest
        total = None
        if place == "last":
            total = self.total
            if total is None:
                total = data.count_attempts(ds, query, newest)
            offset = max(0, total - PAGE_SIZE)
        # The first page of the default selection may have been read while the app started.
        opening: data.Opening | None = getattr(self.app, "opening", None)
        ahead = opening.take_first_page(query, offset, limit) if (
            opening is not None and place == "after") else None
        page = post_result(self, "jobs", lambda: AttemptsPage(
            generation, offset,
            ahead if ahead is not None else data.attempts_page(
                ds, query, offset=offset, limit=limit, newest=newest),
            total, place,
        ))
        # A newer selection replaced this one while the page was read: skip its count.
        if page and offset == 0 and total is None and not get_current_worker().is_cancelled:
            self._post_count(ds, generation, query, newest)

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-count")
    def count_selection(self, generation: int, query: JobsQuery) -> None:
        """The size of the selection whose first page is shown (the page read ahead)."""
        self._post_count(self.app.dataset, generation, query,  # type: ignore[attr-defined]
                         self.newest)

    def _post_count(self, ds: Any, generation: int, query: JobsQuery,
                    newest: dt.datetime | None) -> None:
        """Count the selection (in the calling worker thread) and post it."""
        post_result(self, "jobs", lambda: AttemptsCounted(
            generation, data.count_attempts(ds, query, newest)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-export")
    def export(self, query: JobsQuery, path: str) -> None:
        ds = self.app.dataset  # type: ignore[attr-defined]
        newest = self.newest
        post_result(self, "jobs",
                    lambda: AttemptsExported(*data.export_attempts(ds, query, path, newest)))

    # Rendering (UI thread) ------------------------------------------------------------------

    def reload(self) -> None:
        """Start over with the current selection: clear the table, fetch the first page."""
        self.generation += 1
        self.base = 0
        self.loaded = 0
        self.total = None
        self.exhausted = False
        self.fetching = True
        table = self.query_one(AttemptsTable)
        table.paged = True
        table.set_sort(SORT_COLUMNS.get(self.query_state.sort))
        table.clear()
        # The first page, read while the app started, if it is there: shown at once, in the
        # first frame (the count follows from a worker).
        opening: data.Opening | None = getattr(self.app, "opening", None)
        ahead = opening.take_first_page(self.query_state, 0, PAGE_SIZE, wait=False) if (
            opening is not None) else None
        if ahead is not None:
            self._page(AttemptsPage(self.generation, 0, ahead, None, "after"))
            self.count_selection(self.generation, self.query_state)
            return
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
        place = message.place
        if place == "after" and message.offset != self.base + self.loaded:
            return  # of a window since replaced by a jump
        if place == "before" and message.offset + len(message.rows) != self.base:
            return
        table.loading = False
        self.fetching = False
        if self.focused is None or not self.focused.display:
            # A loading widget cannot take focus; give it back once the rows are in.
            table.focus()
        if place in ("first", "last"):
            table.clear()
            self.base = message.offset
            table.append(message.rows)
            if message.total is not None:
                self.total = message.total
            self.exhausted = place == "last" or len(message.rows) < PAGE_SIZE
            if table.row_count:
                table.move_cursor(row=0 if place == "first" else table.row_count - 1)
        elif place == "before":
            self.base = message.offset
            table.prepend(message.rows)
        else:
            table.append(message.rows)
            self.exhausted = len(message.rows) < PAGE_SIZE
        self.loaded = table.row_count
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
            search = self.query_state.search
            self._status(f"No attempts match the search {formatting.escape_markup(repr(search))}. "
                         "Esc clears it." if search else
                         "No attempts match. Press x to clear the filters.")
            return
        total = "…" if self.total is None else formatting.format_count(self.total)
        if self.base == 0:
            shown = f"{formatting.format_count(self.loaded)} of {total} attempts loaded"
        else:
            table = self.query_one(AttemptsTable)
            shown = (f"row {formatting.format_count(self.base + table.cursor_row + 1)} of "
                     f"{total} ({formatting.format_count(self.loaded)} loaded)")
        self._status(f"{shown}{self._cursor_day()} · enter: detail")
        self.counts_shown = True

    def _cursor_day(self) -> str:
        """` · row of 2026-11-22`: the day of the row under the cursor, when the Time column is
        too narrow for dates (80 columns), so rows either side of midnight can be told apart."""
        table = self.query_one(AttemptsTable)
        if table.layout_form.shows_date or not table.row_count:
            return ""
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row = table.attempts.get(str(key)) if key is not None else None
        when = data.row_time(row) if row is not None else None
        return f" · row of {formatting.format_time(when, '%Y-%m-%d')}" if when else ""

    def _status(self, text: str) -> None:
        self.range_message = False
        self.counts_shown = False
        self.query_one("#jobs-status", Static).update(text)

    @on(DataTable.RowHighlighted, "#attempts")
    def _cursor_moved(self, event: DataTable.RowHighlighted) -> None:
        if self.counts_shown:  # not over an error or a message the user must read
            self._show_counts()

    @on(DataTable.RowHighlighted, "#attempts")
    def _maybe_fetch_more(self, event: DataTable.RowHighlighted) -> None:
        if self.fetching or self.loaded == 0:
            return
        # Where the cursor is now: the event may be of a row before the table was refilled.
        row = self.query_one(AttemptsTable).cursor_row
        if not self.exhausted and row >= self.loaded - PREFETCH_ROWS:
            self.fetching = True
            self.fetch_page(self.generation, self.query_state, self.base + self.loaded)
        elif self.base > 0 and row < PREFETCH_ROWS:
            self.fetching = True
            start = max(0, self.base - PAGE_SIZE)
            self.fetch_page(self.generation, self.query_state, start, self.base - start,
                            "before")

    @on(AttemptsTable.Jump, "#attempts")
    def _jump(self, event: AttemptsTable.Jump) -> None:
        """Home/End: the first or last row of the whole selection, its page fetched directly
        unless the table already holds it."""
        table = self.query_one(AttemptsTable)
        if event.end == "first" and self.base == 0:
            if table.row_count:
                table.move_cursor(row=0)
            return
        if event.end == "last" and self.exhausted:
            if table.row_count:
                table.move_cursor(row=table.row_count - 1)
            return
        self.fetching = True
        table.loading = True
        self.fetch_page(self.generation, self.query_state, 0, PAGE_SIZE, event.end)

    @on(AttemptsExported)
    def _exported(self, message: AttemptsExported) -> None:
        self._status(f"Wrote {formatting.format_count(message.rows)} attempts to "
                     f"{formatting.escape_markup(message.path)}")
        self.notify(f"{message.rows:,} attempts written to {message.path}", title="CSV export")

    @on(DataTable.RowSelected, "#attempts")
    def _open_attempt(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            from planner.tui.screens.attempt import AttemptScreen

            self.app.push_screen(AttemptScreen(str(event.row_key.value)))

    def open_highlighted(self) -> None:
        """The attempt under the cursor (key 2), as enter opens it."""
        table = self.query_one(AttemptsTable)
        if not table.row_count:
            self.notify("No attempt to open: no rows in this selection.", title="Attempt")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None:
            from planner.tui.screens.attempt import AttemptScreen

            self.app.push_screen(AttemptScreen(str(key)))

    # Keys -----------------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        from dataclasses import replace

        self.query_state = replace(self.query_state, **changes)
        self.query_one(FilterBar).show(self.query_state)
        self.refresh_bindings()  # escape clears a search only while there is one
        self.reload()

    def action_cycle(self, field: str) -> None:
        if field == "range_hours" and self.query_state.time_range is not None:
            # From a typed range the presets start over: all, then 24h...
            self._set(time_range=None, range_hours=None)
            return
        choices: dict[str, list[Any]] = {
            "job_type": list(self.job_types),
            "instance_type": list(self.instance_types),
            "status": list(STATUSES),
            "range_hours": list(RANGES_HOURS),
            "sort": [key for key, _ in SORTS],
        }
        options = choices[field]
        self._set(**{field: formatting.cycle(options, getattr(self.query_state, field))})

    def action_export(self) -> None:
        """Ask where to write the selection as CSV (and before overwriting), then write it."""
        from planner.tui.screens.save_path import SavePathScreen, default_save_path

        query = self.query_state

        def chosen(path: str | None) -> None:
            if path:
                self._status("Writing the CSV…")
                self.export(query, path)

        self.app.push_screen(SavePathScreen(
            "Write the job list (every row of this selection) as CSV to",
            default_save_path("attempts.csv", getattr(self.app, "output_dir", None))), chosen)

    def action_clear(self) -> None:
        self.query_one("#search", Input).value = ""
        self._set(**{f: None for f in ("job_type", "instance_type", "status", "range_hours",
                                       "time_range")},
                  search="", sort="newest")

    def _open_input(self, box_id: str) -> Input:
        """Show one of the two input lines (search, range), the other hidden, and focus it."""
        for other in self.query(Input):
            if other.id != box_id and other.display:
                self._close_input(other)
        box = self.query_one(f"#{box_id}", Input)
        box.display = True
        box.focus()
        return box

    def _close_input(self, box: Input) -> None:
        box.display = False
        if self.range_message:
            self._show_counts()
        self.query_one(AttemptsTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.focused, Input)
        if action == "escape":
            # One of the two, in the footer: while typing, or over the table with a search.
            return typing if parameters == ("input",) else (
                not typing and bool(self.query_state.search))
        if action == "search":
            return not typing
        return True

    def action_search(self) -> None:
        self._open_input("search")

    def action_edit_range(self) -> None:
        """The range line, holding the current typed range to edit (empty if none)."""
        current = self.query_state.time_range
        box = self._open_input("range")
        box.value = current.text() if current is not None else ""
        box.cursor_position = len(box.value)

    def action_escape(self, _where: str = "") -> None:
        """Escape: hide the search or range line (a range being typed is dropped); from the
        search line or the table, clear the search."""
        search = self.query_one("#search", Input)
        from_range = isinstance(self.focused, Input) and self.focused is not search
        for box in self.query(Input):
            if box.display:
                self._close_input(box)
        if not from_range:
            search.value = ""
            if self.query_state.search:
                self._set(search="")

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        # The filter bar shows the search from now on; `/` brings the box back to edit it.
        self.query_one("#search", Input).display = False
        self.query_one(AttemptsTable).focus()
        self._set(search=event.value.strip())

    @on(Input.Submitted, "#range")
    def _range(self, event: Input.Submitted) -> None:
        # A bad entry leaves the filter as it was and the line open to correct it.
        try:
            time_range = parse_time_range(event.value)
        except RangeError as exc:
            self._status(f"[b red]Range:[/] {formatting.escape_markup(str(exc))}")
            self.range_message = True
            return
        box = self.query_one("#range", Input)
        box.display = False
        self.query_one(AttemptsTable).focus()
        self._set(time_range=time_range, range_hours=None)
