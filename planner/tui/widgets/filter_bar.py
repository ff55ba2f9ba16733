"""One line that says which filters, search and sort the jobs list shows."""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.widgets import Static

from planner.tui.formatting import describe_jobs_query, jobs_query_parts
from planner.tui.query_state import JobsQuery

#: Between two parts on a line.
SEPARATOR = " │ "


class FilterBar(Static):
    """Shows a JobsQuery; `show(query)` updates it.

    One line when it fits. Else a typed time range loses its years (`11-01..11-15`) and, if
    that is not enough, the parts go on two lines (app.tcss gives the bar up to two), broken
    between parts rather than inside one.
    """

    jobs_query: JobsQuery | None = None

    def show(self, query: JobsQuery) -> None:
        self.jobs_query = query
        self._render_query()

    def _render_query(self) -> None:
        if self.jobs_query is None:
            return
        text = describe_jobs_query(self.jobs_query)
        width = self.content_size.width
        if width and Content.from_markup(text).cell_length > width:
            text = _pack(jobs_query_parts(self.jobs_query, short=True), width)
        self.update(text)

    def on_resize(self, event: events.Resize) -> None:
        self._render_query()


def _pack(parts: list[str], width: int) -> str:
    """The parts joined by SEPARATOR, a new line started where the next part would not fit."""
    lines: list[str] = []
    line, used = "", 0
    for part in parts:
        cells = Content.from_markup(part).cell_length
        if line and used + len(SEPARATOR) + cells > width:
            lines.append(line)
            line, used = "", 0
        if line:
            line, used = line + SEPARATOR, used + len(SEPARATOR)
        line, used = line + part, used + cells
    return "\n".join([*lines, line])
