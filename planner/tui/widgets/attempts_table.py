"""The jobs list: a DataTable that is filled page by page (it never holds the whole selection).

Its columns follow the table's width (`jobs_columns.jobs_layout`): the plan's badges in full
when the terminal is wide, in compact form at 80 columns. A resize that changes the layout
redraws the loaded rows from the attempt rows kept beside the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from planner.tui import jobs_columns
from planner.tui.jobs_columns import JOBS_COLUMNS, JobsLayout


def row_cells(row: Mapping[str, Any], layout: JobsLayout, id_prefix: str = "") -> list[Text]:
    """The cells of one attempt row, in JOBS_COLUMNS order, fitted to `layout`.

    Text, never a str: a DataTable reads a str cell as markup, and a job id or a badge is
    data (`[red]` in an id is shown as written).
    """
    texts = jobs_columns.jobs_cells(row, layout, id_prefix)
    status = row.get("status")
    style = "green" if status == "succeeded" else "red" if status == "failed" else ""
    return [Text(texts[k], style=style if k == "status" else "") for k in JOBS_COLUMNS]


class AttemptsTable(DataTable[Any]):
    """Rows keyed by attempt_id; `append` adds a page of attempt rows at the end, `prepend`
    one before the first.

    j/k move like the arrows. Home/g and End/G go to the first and last row of the selection:
    with `paged` (the jobs list, which holds only some pages of it) they post `Jump` for the
    screen to fetch that end, else they move to the first or last row held.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home,g", "jump('first')", "First", show=False),
        Binding("end,G", "jump('last')", "Last", show=False),
    ]

    @dataclass
    class Jump(Message):
        """Home/End on a paged table: the screen fetches the `end` ("first", "last")."""

        table: AttemptsTable
        end: str

        @property
        def control(self) -> AttemptsTable:
            """The table (so `@on(AttemptsTable.Jump, "#id")` can match it)."""
            return self.table

    def __init__(self, **kwargs: Any) -> None:
        # The space between columns is part of each cell (`JobsLayout.cell`): one, not two.
        super().__init__(cell_padding=0, **kwargs)
        self.layout_form = jobs_columns.jobs_layout(80)
        #: The attempt rows shown, by attempt_id, to redraw them when the layout changes.
        self.attempts: dict[str, Mapping[str, Any]] = {}
        #: The start the job ids of the selection share, left out of ids short of room
        #: (`jobs_columns.job_id_prefix`). Taken from its first page and kept while it is shown,
        #: so rows already drawn need no redraw when more pages come.
        self.id_prefix: str | None = None
        #: Whether the rows are some pages of a longer selection (the jobs list).
        self.paged = False
        #: (column key, arrow) of the sort, shown in that column's header; None: no arrow.
        self.sort_arrow: tuple[str, str] | None = None

    def action_jump(self, end: str) -> None:
        if self.paged:
            self.post_message(self.Jump(self, end))
        elif self.row_count:
            self.move_cursor(row=0 if end == "first" else self.row_count - 1)

    def set_sort(self, sort: tuple[str, str] | None) -> None:
        """Show the arrow of `sort` in its column's header (the rows are cleared if it changed:
        a new order means new rows)."""
        if sort == self.sort_arrow:
            return
        self.sort_arrow = sort
        self.clear(columns=True)
        self._add_columns()

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self._add_columns()

    def _add_columns(self) -> None:
        for key in JOBS_COLUMNS:
            arrow = (self.sort_arrow[1] if self.sort_arrow is not None
                     and self.sort_arrow[0] == key else "")
            self.add_column(self.layout_form.label(key, arrow), key=key,
                            width=self.layout_form.widths[key] + 1)

    def on_resize(self, event: events.Resize) -> None:
        layout = jobs_columns.jobs_layout(event.size.width)
        if layout == self.layout_form:
            return
        self.layout_form = layout
        cursor = self.cursor_row
        attempts = list(self.attempts.values())
        id_prefix = self.id_prefix
        self.clear(columns=True)
        self._add_columns()
        self.id_prefix = id_prefix
        self.append(attempts)
        if attempts:
            self.move_cursor(row=min(cursor, len(attempts) - 1))

    def clear(self, columns: bool = False) -> Self:
        self.attempts = {}
        self.id_prefix = None
        super().clear(columns)
        return self

    def append(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Add attempt rows (dicts of dataset columns) after the loaded ones."""
        rows = list(rows)
        if not self.attempts:
            # The Resize that fits the columns to the table may not have come yet (a page read
            # ahead, data.Opening, arrives that soon): fit them now to the table's width, or
            # the screen's before the first layout (the jobs table spans it), rather than draw
            # the rows twice. on_resize corrects a wrong guess.
            layout = jobs_columns.jobs_layout(self.size.width or self.app.size.width)
            if layout != self.layout_form:
                self.layout_form = layout
                super().clear(columns=True)
                self._add_columns()
        if self.id_prefix is None:
            self.id_prefix = jobs_columns.job_id_prefix(r.get("job_id") for r in rows)
        for row in rows:
            attempt_id = str(row["attempt_id"])
            if attempt_id in self.attempts:
                # A page boundary can repeat a row when the data changed between two pages.
                continue
            self.attempts[attempt_id] = row
            self.add_row(*row_cells(row, self.layout_form, self.id_prefix), key=attempt_id)

    def prepend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Add attempt rows before the first one, the cursor and the view staying on the row
        they were on."""
        rows = [r for r in rows if str(r["attempt_id"]) not in self.attempts]
        if not rows:
            return
        cursor, scroll_y = self.cursor_row, self.scroll_y
        kept = list(self.attempts.values())
        id_prefix = self.id_prefix
        self.clear()
        self.id_prefix = id_prefix
        self.append([*rows, *kept])
        self.move_cursor(row=cursor + len(rows), scroll=False)
        self.scroll_to(y=scroll_y + len(rows), animate=False, immediate=True)
