"""The one query the TUI needs that `planner.queries` does not offer: job id by prefix.

The jobs table shows ids shortened ("524d38ef…"), so people search by the start of an id.
No Textual here: this is core-side code, called from the TUI's worker threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.errors import EmptySelectionError, PlannerError
from planner.queries import connection_of

if TYPE_CHECKING:
    import duckdb

    from planner.dataset import Dataset

#: How many candidate ids an ambiguous prefix reports.
SHOWN_CANDIDATES = 3


def resolve_job_id(source: Dataset | duckdb.DuckDBPyConnection, text: str) -> str:
    """The job id equal to `text`, else the only job id starting with it.

    Raises EmptySelectionError when no job id starts with `text`, PlannerError naming a few
    candidates when several do.
    """
    text = text.strip()
    if not text:
        raise PlannerError("type a job id (or its first characters)")
    rows = (
        connection_of(source)
        .execute(
            "SELECT DISTINCT job_id FROM attempts WHERE starts_with(job_id, ?) "
            "ORDER BY job_id LIMIT ?",
            [text, SHOWN_CANDIDATES + 1],
        )
        .fetchall()
    )
    ids = [str(r[0]) for r in rows]
    if text in ids or len(ids) == 1:
        return text if text in ids else ids[0]
    if not ids:
        raise EmptySelectionError(f"no job id starts with {text!r}")
    shown = ", ".join(ids[:SHOWN_CANDIDATES])
    more = ", …" if len(ids) > SHOWN_CANDIDATES else ""
    raise PlannerError(f"several job ids start with {text!r} ({shown}{more}); type more of it")
