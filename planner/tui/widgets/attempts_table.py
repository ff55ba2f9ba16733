"""The jobs list: a DataTable that is filled page by page (it never holds the whole selection).

Its columns follow the table's width (`jobs_columns.jobs_layout`): the plan's badges in full
when the terminal is wide, in compact form at 80 columns. A resize that changes the layout
redraws the loaded rows from the attempt rows kept beside the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

from rich.text import Text
from textual import events
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
    """Rows keyed by attempt_id; `append` adds a page of attempt rows at the end."""

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

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self._add_columns()

    def _add_columns(self) -> None:
        for key in JOBS_COLUMNS:
            self.add_column(self.layout_form.label(key), key=key,
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
        if self.id_prefix is None:
            self.id_prefix = jobs_columns.job_id_prefix(r.get("job_id") for r in rows)
        for row in rows:
            attempt_id = str(row["attempt_id"])
            if attempt_id in self.attempts:
                # A page boundary can repeat a row when the data changed between two pages.
                continue
            self.attempts[attempt_id] = row
            self.add_row(*row_cells(row, self.layout_form, self.id_prefix), key=attempt_id)
