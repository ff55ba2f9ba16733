"""One line that says which filters, search and sort the jobs list shows."""

from __future__ import annotations

from textual.widgets import Static

from planner.tui.formatting import describe_jobs_query
from planner.tui.query_state import JobsQuery


class FilterBar(Static):
    """Shows a JobsQuery; `show(query)` updates it."""

    def show(self, query: JobsQuery) -> None:
        self.update(describe_jobs_query(query))
