"""A text histogram that fits its width: bars in eighths of a cell, percentile marks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widget import Widget

from planner.tui.distribution_texts import histogram_lines, merge_bins

#: Cells beside the bar: the bin label (11), spaces, the count (6), marks (" ◀ p50 p90 p99").
_FIXED_CELLS = 11 + 1 + 1 + 6 + 16


class Histogram(Widget):
    """Call `show(...)`; it redraws on resize.

    Given `fine` bins too (a multiple of the others' number), a taller widget shows as many
    of them, merged, as its lines hold, instead of leaving the lines empty.
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.edges: list[float] = []
        self.counts: list[int] = []
        self.marks: dict[str, float | None] = {}
        self.caption = ""
        self.fine_edges: list[float] = []
        self.fine_counts: list[int] = []

    def show(
        self,
        edges: Sequence[float],
        counts: Sequence[int],
        marks: Mapping[str, float | None],
        caption: str,
        fine: tuple[Sequence[float], Sequence[int]] = ((), ()),
    ) -> None:
        self.edges, self.counts, self.marks = list(edges), list(counts), dict(marks)
        self.fine_edges, self.fine_counts = list(fine[0]), list(fine[1])
        self.caption = caption
        self.refresh(layout=True)

    def binning(self, height: int | None = None) -> tuple[list[float], list[int]]:
        """(edges, counts) for `height` lines (caption included): the given bins, or the most
        merged fine bins that fit when that is more of them. None: the given bins."""
        bins = len(self.counts)
        fine = len(self.fine_counts)
        if height is None or not bins or not fine or fine % bins:
            return self.edges, self.counts
        fitting = [n for n in range(bins + 1, min(fine, height - 1) + 1) if fine % n == 0]
        if not fitting:
            return self.edges, self.counts
        return merge_bins(self.fine_edges, self.fine_counts, max(fitting))

    def lines(self, width: int, height: int | None = None) -> list[str]:
        """The histogram lines for a widget `width` cells wide and `height` lines tall (None:
        the given bins, whatever the height)."""
        if not self.counts:
            return ["No succeeded attempts with a measured RTF in this group."]
        bar_width = max(8, width - _FIXED_CELLS)
        edges, counts = self.binning(height)
        return [self.caption, *histogram_lines(edges, counts, self.marks, bar_width)]

    def render(self) -> Text:
        size = self.content_size
        return Text("\n".join(self.lines(size.width or 60, size.height or None)))
