"""The jobs list: a DataTable that is filled page by page (it never holds the whole selection)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from planner.tui import formatting

#: (key, label) of the columns, in order. Badges last: they are the widest.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("started", "Started"),
    ("job", "Job"),
    ("type", "Type"),
    ("status", "Status"),
    ("duration", "Took"),
    ("rtf", "RTF"),
    ("input", "Input"),
    ("host", "Host"),
)


def row_cells(row: Mapping[str, Any], badges: Mapping[str, str]) -> list[Text | str]:
    """The cells of one attempt row, in COLUMNS order. `badges` holds rtf/input/host texts."""
    status = row.get("status") or "-"
    style = "green" if status == "succeeded" else "red" if status == "failed" else ""
    return [
        formatting.format_short_time(row.get("started_at") or row.get("finished_at")),
        formatting.short_id(row.get("job_id")),
        formatting.short_job_type(row.get("job_type")),
        Text("ok" if status == "succeeded" else status, style=style),
        formatting.format_duration_ms(row.get("duration_ms")),
        badges.get("rtf") or "-",
        badges.get("input") or "-",
        badges.get("host") or "-",
    ]


class AttemptsTable(DataTable[Any]):
    """Rows keyed by attempt_id; `append` adds a page at the end."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def append(self, rows: Iterable[tuple[str, list[Text | str]]]) -> None:
        """Add (attempt_id, cells) rows after the loaded ones."""
        for attempt_id, cells in rows:
            if attempt_id in self.rows:
                # A page boundary can repeat a row when the data changed between two pages.
                continue
            self.add_row(*cells, key=attempt_id)
