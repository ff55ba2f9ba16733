"""Reading what the TUI shows, as plain text."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Static


def static_text(widget: Static) -> str:
    """The text a Static shows (markup rendered, styles dropped)."""
    visual = widget.visual
    plain = getattr(visual, "plain", None)
    return str(plain if plain is not None else visual)


def table_rows(table: DataTable[Any]) -> list[list[str]]:
    """Every row of a DataTable as plain strings (the jobs table's padding stripped)."""
    return [[str(c).strip() for c in table.get_row_at(i)] for i in range(table.row_count)]


def table_keys(table: DataTable[Any]) -> list[str]:
    """Row keys in display order."""
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value)
            for i in range(table.row_count)]
