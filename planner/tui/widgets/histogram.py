"""A text histogram that fits its width: bars in eighths of a cell, percentile marks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widget import Widget

from planner.tui.formatting import histogram_lines

#: Cells beside the bar: the bin label (11), spaces, the count (6), marks (" ◀ p50 p90 p99").
_FIXED_CELLS = 11 + 1 + 1 + 6 + 16


class Histogram(Widget):
    """Call `show(...)`; it redraws on resize."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.edges: list[float] = []
        self.counts: list[int] = []
        self.marks: dict[str, float | None] = {}
        self.caption = ""

    def show(
        self,
        edges: Sequence[float],
        counts: Sequence[int],
        marks: Mapping[str, float | None],
        caption: str,
    ) -> None:
        self.edges, self.counts, self.marks = list(edges), list(counts), dict(marks)
        self.caption = caption
        self.refresh(layout=True)

    def lines(self, width: int) -> list[str]:
        """The histogram lines for a widget `width` cells wide."""
        if not self.counts:
            return ["No succeeded attempts with a measured RTF in this group."]
        bar_width = max(8, width - _FIXED_CELLS)
        return [self.caption, *histogram_lines(self.edges, self.counts, self.marks, bar_width)]

    def render(self) -> Text:
        return Text("\n".join(self.lines(self.content_size.width or 60)))
