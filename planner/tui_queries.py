"""A faster page of attempts for the TUI than `planner.queries.list_attempts`.

* `attempts_page` returns what `queries.list_attempts` returns (same filters, order, badges).
  For the time orders it adds one thing to list_attempts' two steps (the page's ids by sort
  key, then the whole rows of those ids): step 2 is restricted to the page's time range, so
  the scan skips the files and row groups whose statistics lie outside it: the newest page of
  10 million attempts comes faster (benchmarks/jobs_page.py, figures in
  benchmarks/results/jobs_page.json). For the RTF and duration orders
  a page's rows are spread over the whole period, the range prunes nothing, and those calls go
  to `queries.list_attempts` unchanged. If list_attempts adopts the range, this goes away.
* For the start-time orders, a page within NARROW_MAX_ROWS of the start is first bounded in
  time by the n-th start (`_narrowed`, a one-column top-N answered from the row groups'
  min/max), so step 1 orders a few hundred rows instead of all of them: the TUI's first page
  of 10M cached attempts in 0.08 s instead of 0.5 s (load ~7).
  Filters, order and paging come from `queries.page_query`, so both paths agree by
  construction (tests/tui/test_tui_queries.py).

No Textual here: this is core-side code, called from the TUI's worker threads.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Unpack, cast

from planner import badges
from planner.queries import (
    ROWS_OF_IDS_SQL,
    AttemptFilters,
    connection_of,
    list_attempts,
    page_query,
)

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

#: Pages ending within this many rows of the start are narrowed first (`_narrowed`); past it
#: the bound's own query would sort about as many rows as the page query.
NARROW_MAX_ROWS = 10_000


def _narrowed(con: duckdb.DuckDBPyConnection, filters: AttemptFilters, descending: bool,
              rows: int) -> AttemptFilters:
    """`filters` with a time bound that keeps every row of the first `rows` of the order by
    coalesce(started_at, finished_at), and few others.

    Why: step 1 orders by that key and attempt_id, which DuckDB can only do by reading both
    for every row (10M attempts: 0.4 s under load), whereas the `rows`-th started_at alone is
    a one-column top-N that DuckDB answers from the row groups' min/max (0.01 s), and a since/
    until bound is then checked against them too (queries.where_clause). Sound: when T is the
    `rows`-th newest started_at, at least `rows` attempts have a key (their started_at) >= T,
    so every attempt among the first `rows` has a key >= T (oldest first: <=, and `until` is
    exclusive, so T plus one microsecond, the timestamps' unit). Without `rows` starts (T
    null) nothing is narrowed.
    """
    from planner.queries import where_clause

    where, params = where_clause(**filters)
    direction = "DESC" if descending else "ASC"
    found = con.execute(
        f"SELECT started_at FROM attempts{where} ORDER BY started_at {direction} NULLS LAST "
        "LIMIT 1 OFFSET ?", [*params, rows - 1]).fetchall()
    bound = found[0][0] if found else None
    if bound is None:
        return filters
    narrowed = dict(filters)
    if descending:
        narrowed["since"] = bound
    else:
        narrowed["until"] = bound + dt.timedelta(microseconds=1)
    return cast("AttemptFilters", narrowed)


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
    if order_by == "started_at" and offset + limit <= NARROW_MAX_ROWS and limit > 0:
        filters = _narrowed(con, filters, descending, offset + limit)
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
    sql = ROWS_OF_IDS_SQL
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
