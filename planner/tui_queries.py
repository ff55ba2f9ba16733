"""A faster page of attempts for the TUI than `planner.queries.list_attempts`.

* `attempts_page` returns what `queries.list_attempts` returns (same filters, order, badges).
  For the time orders it adds one thing to list_attempts' two steps (the page's ids by sort
  key, then the whole rows of those ids): step 2 is restricted to the page's time range, so
  the scan skips the files and row groups whose statistics lie outside it: the newest page of
  10 million attempts comes faster (benchmarks/jobs_page.py, figures in
  benchmarks/results/jobs_page.json). For the RTF and duration orders
  a page's rows are spread over the whole period, the range prunes nothing, and those calls go
  to `queries.list_attempts` unchanged. If list_attempts adopts the range, this goes away.
  Filters, order and paging come from `queries.page_query`, so both paths agree by
  construction (tests/tui/test_tui_queries.py).

No Textual here: this is core-side code, called from the TUI's worker threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Unpack

from planner import badges
from planner.queries import AttemptFilters, connection_of, list_attempts, page_query

if TYPE_CHECKING:
    import duckdb

    from planner.dataset import Dataset

#: order_by -> the raw column whose statistics narrow step 2 (coalesce() cannot be pushed
#: down to the scan; started_at can, when every row of the page has one). Other orders take
#: one pass (`queries.list_attempts`).
_RANGE_COLUMN = {
    "started_at": "started_at",
    "finished_at": "finished_at",
}

def attempts_page(
    source: Dataset | duckdb.DuckDBPyConnection,
    *,
    order_by: str = "started_at",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
    **filters: Unpack[AttemptFilters],
) -> list[dict[str, Any]]:
    """The rows `queries.list_attempts` returns for the same arguments, as dicts with badges.

    Raises PlannerError for an unknown order_by or a negative limit/offset.
    """
    column = _RANGE_COLUMN.get(order_by)
    if column is None:
        df = list_attempts(source, **filters, order_by=order_by, descending=descending,
                           limit=limit, offset=offset)
        return df.to_dicts()
    con = connection_of(source)
    # Step 1 is list_attempts' own page query; its checks refuse what list_attempts refuses.
    sql, params = page_query(
        f"attempt_id, {column}",
        order_by=order_by,
        descending=descending,
        limit=limit,
        offset=offset,
        filters=filters,
    )
    keys = con.execute(sql, params).fetchall()
    if not keys:
        return []
    ids = [str(k[0]) for k in keys]
    values = [k[1] for k in keys]
    sql = "SELECT * FROM attempts WHERE attempt_id IN (SELECT unnest(?))"
    args: list[Any] = [ids]
    if all(v is not None for v in values):
        sql += f" AND {column} BETWEEN ? AND ?"
        args += [min(values), max(values)]
    # Plain tuples, not a polars frame: the first page of the TUI is this call, and polars
    # (about 0.15 s to import) is not needed for it. Same values as list_attempts' to_dicts()
    # (tests/tui/test_tui_queries.py).
    result = con.execute(sql, args)
    names = [d[0] for d in result.description or ()]
    key = names.index("attempt_id")
    by_id = {str(r[key]): dict(zip(names, r, strict=True)) for r in result.fetchall()}
    rows = [by_id[i] for i in ids if i in by_id]
    for row in rows:
        row.update(badges.badges(row))
    return rows
