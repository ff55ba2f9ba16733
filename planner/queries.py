"""Attempt listings: filters, ordering and paging over the `attempts` view, badges included.

Every value reaches DuckDB as a bound parameter; only whitelisted column names and fixed SQL
fragments are put in the text. Listings page with LIMIT/OFFSET, which DuckDB runs as a top-N
over the (projected, filter-pushed) scan of the page's ids and sort key only, then fetches the
100 rows whole, so a page out of millions stays cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from planner import badges
from planner.errors import PlannerError

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from planner.dataset import Dataset

#: order_by name -> SQL expression (the whitelist).
ORDER_BY = {
    "started_at": "coalesce(started_at, finished_at)",
    "finished_at": "finished_at",
    "rtf": "rtf",
    "duration_ms": "duration_ms",
    "input_duration_seconds": "input_duration_seconds",
}

#: Columns added to listings, one string per badge.
BADGE_COLUMNS = ("rtf_badge", "input_badge", "host_badge")

# What counts as measured, for every figure drawn from attempts (planner.stats, throughput,
# demand, chart_data): a wall time of 0 ms or less is a missing measurement, not a 0-second job;
# an input duration of 0 or less (or null) is unknown, its probe having failed. A ratio of the
# two (RTF) is taken over the attempts that have both, so a failed probe does not pull it down.

#: SQL condition: the attempt's wall time (duration_ms) was measured.
MEASURED_WALL = "duration_ms > 0"
#: SQL condition: the attempt's input duration (input_duration_seconds) is known.
KNOWN_INPUT = "input_duration_seconds > 0"


def connection_of(source: Dataset | duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection of a Dataset, or the connection itself."""
    con = getattr(source, "connection", None)
    return con if con is not None else source  # type: ignore[return-value]


def fetch_pl(
    source: Dataset | duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> pl.DataFrame:
    """Run a parameterised query and return its result as a polars DataFrame."""
    df: pl.DataFrame = connection_of(source).sql(sql, params=list(params)).pl()
    return df


def to_timestamp(value: dt.datetime | dt.date | str | None, name: str) -> dt.datetime | None:
    """A timezone-aware UTC datetime from a datetime, a date (midnight UTC) or an ISO string.

    Naive values are taken as UTC. Raises PlannerError naming `name` for an unreadable string.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise PlannerError(f"{name}: not a date or time: {value!r}") from None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _as_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    items = [str(v) for v in value]
    return items or None


class AttemptFilters(TypedDict, total=False):
    """The filters every attempt listing takes, as keyword arguments (see where_clause).

    Declared once so that where_clause, list_attempts, count_attempts and the TUI's page
    (tui_queries.attempts_page) cannot drift apart when a filter is added.
    """

    job_type: str | Sequence[str] | None
    instance_type: str | Sequence[str] | None
    status: str | Sequence[str] | None
    since: dt.datetime | dt.date | str | None
    until: dt.datetime | dt.date | str | None
    job_id: str | None
    search: str | None


#: Columns `search` looks in (case-insensitive substring): what people remember of an attempt,
#: its job id, where it ran, what it read and how it failed.
SEARCH_COLUMNS = (
    "job_id", "hostname", "instance_type", "input_video_codec", "input_audio_codec", "error",
    "metrics_error",
)


def where_clause(
    *, synthetic: bool | None = None, **filters: Unpack[AttemptFilters]
) -> tuple[str, list[Any]]:
    """(" WHERE ..." or "", params) for the shared filters.

    Strings or lists of strings for job_type / instance_type / status (a list means any of
    them). The time range is on started_at (finished_at when there is no start):
    since <= t < until. `search` keeps the attempts where any of SEARCH_COLUMNS contains it,
    ignoring case (a null column matches nothing).
    """
    conds: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("job_type", filters.get("job_type")),
        ("instance_type", filters.get("instance_type")),
        ("status", filters.get("status")),
    ):
        items = _as_list(value)
        if items:
            conds.append(f"{column} IN ({', '.join('?' for _ in items)})")
            params.extend(items)
    start = to_timestamp(filters.get("since"), "since")
    end = to_timestamp(filters.get("until"), "until")
    if start is not None and end is not None and end <= start:
        raise PlannerError(f"until ({end.isoformat()}) is not after since ({start.isoformat()})")
    # The time range is on coalesce(started_at, finished_at), which DuckDB cannot check against
    # the Parquet row groups' min/max of started_at; the redundant "started_at ... OR started_at
    # IS NULL" beside it can be, so a lazily scanned dataset skips the row groups (and files:
    # one day each) outside the range (benchmarks/time_filter.py, figures in
    # benchmarks/results/time_filter.json).
    for bound, op in ((start, ">="), (end, "<")):
        if bound is not None:
            conds.append(f"(started_at {op} ? OR started_at IS NULL)")
            params.append(bound)
    # The single-value filters: each a fixed condition with one parameter, left out when None.
    for cond, param in (
        ("coalesce(started_at, finished_at) >= ?", start),
        ("coalesce(started_at, finished_at) < ?", end),
        ("job_id = ?", filters.get("job_id")),
        ("synthetic = ?", synthetic),
    ):
        if param is not None:
            conds.append(cond)
            params.append(param)
    search = (filters.get("search") or "").strip().lower()
    if search:
        conds.append("(" + " OR ".join(
            f"contains(lower({c}), ?)" for c in SEARCH_COLUMNS) + ")")
        params.extend([search] * len(SEARCH_COLUMNS))
    return (" WHERE " + " AND ".join(conds) if conds else ""), params


def page_query(
    select: str,
    *,
    order_by: str,
    descending: bool,
    limit: int,
    offset: int,
    filters: AttemptFilters,
) -> tuple[str, list[Any]]:
    """(SQL, params) of one page of attempts: `select` and the sort key (as `_k`) of the
    filtered rows, ordered by ORDER_BY[order_by] with attempt_id breaking ties (so pages never
    overlap), LIMIT/OFFSET.

    The one place that pages, for list_attempts and tui_queries.attempts_page alike.
    `select` goes into the SQL text: fixed column names only, never user input.
    Raises PlannerError for an unknown order_by or a negative limit/offset.
    """
    if order_by not in ORDER_BY:
        raise PlannerError(f"cannot order by {order_by!r}; choose one of {', '.join(ORDER_BY)}")
    if limit < 0 or offset < 0:
        raise PlannerError("limit and offset must be >= 0")
    where, params = where_clause(**filters)
    direction = "DESC" if descending else "ASC"
    sql = (
        f"SELECT {select}, {ORDER_BY[order_by]} AS _k FROM attempts{where} "
        f"ORDER BY _k {direction} NULLS LAST, attempt_id {direction} LIMIT ? OFFSET ?"
    )
    return sql, [*params, int(limit), int(offset)]


def _with_badges(df: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    per_row = [badges.badges(r) for r in df.to_dicts()]
    cols = {name: [b[name] for b in per_row] for name in BADGE_COLUMNS}
    return df.with_columns(
        pl.Series(name, values, dtype=pl.String) for name, values in cols.items()
    )


#: Step 2 of a page (list_attempts, tui_queries.attempts_page): the whole rows of the page's
#: ids, one list parameter, by a semi join (see list_attempts).
ROWS_OF_IDS_SQL = "SELECT * FROM attempts WHERE attempt_id IN (SELECT unnest(?))"


def list_attempts(
    ds: Dataset | duckdb.DuckDBPyConnection,
    *,
    order_by: str = "started_at",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
    with_badges: bool = True,
    **filters: Unpack[AttemptFilters],
) -> pl.DataFrame:
    """One page of attempts matching the filters, every schema column plus the badge columns.

    Filters (AttemptFilters): job_type, instance_type, status, since, until, job_id, search.
    `order_by` is one of ORDER_BY (started_at, finished_at, rtf, duration_ms,
    input_duration_seconds); ties are broken by attempt_id so pages never overlap.
    Raises PlannerError for an unknown order_by or a negative limit/offset.
    """
    page, params = page_query(
        "attempt_id AS _id",
        order_by=order_by,
        descending=descending,
        limit=limit,
        offset=offset,
        filters=filters,
    )
    import polars as pl

    # Two steps: find the page's ids by sorting only (id, key), then fetch those rows whole.
    # Sorting every column of millions of rows to keep 100 carries them all through the sort
    # (no figure kept: benchmarks/jobs_page.py measures the TUI's own page query). Step 2 is
    # a semi join on the ids (`IN`), whose hash table holds the page's ids only: written as a
    # JOIN, DuckDB built its hash table from every row of the dataset, every column (10M
    # cached attempts, the page of 100 at offset 50,000: 0.23x the time, a fifth of the peak
    # memory, benchmarks/list_attempts.py; from S3 without the cache, summary_10m.py).
    ids = [str(r[0]) for r in connection_of(ds).execute(page, params).fetchall()]
    df = fetch_pl(ds, ROWS_OF_IDS_SQL, [ids])
    order = pl.DataFrame({"attempt_id": ids, "_page_rank": range(len(ids))},
                         schema={"attempt_id": df.schema["attempt_id"], "_page_rank": pl.Int64})
    df = df.join(order, on="attempt_id").sort("_page_rank").drop("_page_rank")
    return _with_badges(df) if with_badges else df


def count_attempts(
    ds: Dataset | duckdb.DuckDBPyConnection, **filters: Unpack[AttemptFilters]
) -> int:
    """How many attempts `list_attempts` would page through with the same filters."""
    where, params = where_clause(**filters)
    rows = connection_of(ds).execute(f"SELECT count(*) FROM attempts{where}", params).fetchall()
    return int(rows[0][0])


def get_attempt(ds: Dataset | duckdb.DuckDBPyConnection, attempt_id: str) -> dict[str, Any] | None:
    """One attempt as a dict (schema columns plus badges), or None when there is none."""
    df = fetch_pl(ds, "SELECT * FROM attempts WHERE attempt_id = ? LIMIT 1", [attempt_id])
    if df.height == 0:
        return None
    row: dict[str, Any] = df.row(0, named=True)
    row.update(badges.badges(row))
    return row


def attempts_of_job(ds: Dataset | duckdb.DuckDBPyConnection, job_id: str) -> pl.DataFrame:
    """Every attempt of one job, first try first (attempt_number, then start time)."""
    df = fetch_pl(
        ds,
        "SELECT * FROM attempts WHERE job_id = ? "
        "ORDER BY attempt_number NULLS LAST, coalesce(started_at, finished_at), attempt_id",
        [job_id],
    )
    return _with_badges(df)


def distinct_values(ds: Dataset | duckdb.DuckDBPyConnection, column: str) -> list[str]:
    """Sorted distinct non-null values of job_type, instance_type, status or hostname
    (for filter pickers)."""
    if column not in ("job_type", "instance_type", "status", "hostname"):
        raise PlannerError(f"no value list for column {column!r}")
    rows = (
        connection_of(ds)
        .execute(f"SELECT DISTINCT {column} FROM attempts WHERE {column} IS NOT NULL ORDER BY 1")
        .fetchall()
    )
    return [str(r[0]) for r in rows]


def export_attempts_csv(
    ds: Dataset | duckdb.DuckDBPyConnection,
    path: str,
    *,
    order_by: str = "started_at",
    descending: bool = True,
    **filters: Unpack[AttemptFilters],
) -> int:
    """Write every attempt matching the filters to a CSV file at `path`, in the listing's
    order, one row per attempt with every schema column (the ffmpeg commands joined by new
    lines in one quoted cell); returns the number of rows written.

    DuckDB streams the rows to the file, so a selection of millions needs no DataFrame.
    Raises PlannerError for an unknown order_by.
    """
    if order_by not in ORDER_BY:
        raise PlannerError(f"cannot order by {order_by!r}; choose one of {', '.join(ORDER_BY)}")
    where, params = where_clause(**filters)
    direction = "DESC" if descending else "ASC"
    con = connection_of(ds)
    rel = con.sql(
        "SELECT * EXCLUDE (ffmpeg_commands), "
        "array_to_string(ffmpeg_commands, chr(10)) AS ffmpeg_commands "
        f"FROM attempts{where} "
        f"ORDER BY {ORDER_BY[order_by]} {direction} NULLS LAST, attempt_id {direction}",
        params=params,
    )
    rel.write_csv(path, header=True)
    return count_attempts(ds, **filters)
