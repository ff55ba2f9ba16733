"""The ranked instance types of the fleet sizing: a DataTable whose columns follow its width.

At 80 columns it shows the counts and costs in the chosen capacity type; a wider table shows
on-demand and spot side by side, and the widest every column of `mjplan size`
(`sizing_columns.SIZING_LAYOUTS`). A resize that changes the form redraws the rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from planner.tui.sizing_columns import sizing_columns, sizing_label, sizing_texts


class SizingTable(DataTable[str]):
    """`show(types, capacity)` fills it with `planner.sizing.TypeSizing`s, ranked as given.

    j/k move like the arrows, g/G (and Home/End) to the first and last row.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home,g", "scroll_top", "First", show=False),
        Binding("end,G", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        #: Every cell of every row (`sizing_columns.sizing_texts`), to redraw in another form.
        self.texts: list[dict[str, str]] = []
        self.row_keys: list[str] = []
        self.capacity = "spot"

    def on_mount(self) -> None:
        self._draw()

    def show(self, types: list[Any], capacity: str) -> None:
        """The sized types, ranked as given, in `capacity` ("spot" or "on-demand")."""
        self.texts = [sizing_texts(rank, t, capacity)
                      for rank, t in enumerate(types, 1)]
        self.row_keys = [t.instance_type for t in types]
        self.capacity = capacity
        self._draw(force=True)

    def _room(self) -> int:
        """Cells the columns may take: the width less a vertical scrollbar (always counted,
        so a table that fills up does not switch to a narrower form)."""
        return self.outer_size.width - self.styles.scrollbar_size_vertical

    def _draw(self, force: bool = False) -> None:
        """Redraw in the widest form that fits when the form changes, or when `force`d (new
        rows). The columns are made anew, so their widths are those of the rows shown."""
        columns = sizing_columns(self._room(), self.texts, self.capacity, self.cell_padding)
        if not force and list(columns) == [c.key.value for c in self.ordered_columns]:
            return
        cursor = self.cursor_row
        self.clear(columns=True)
        for key in columns:
            self.add_column(sizing_label(key, columns, self.capacity), key=key)
        for key, texts in zip(self.row_keys, self.texts, strict=True):
            self.add_row(*(texts[c] for c in columns), key=key)
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    def on_resize(self, event: events.Resize) -> None:
        # Redrawn whole on any resize, not only when the form changes: a resize while the
        # rows' widths were being measured (the status above grew a line) left every column
        # as narrow as its header ("c6i.larg", "$0.").
        self._draw(force=True)
