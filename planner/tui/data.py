"""The TUI's calls into the planner's core, one function per thing a view shows.

Nothing here builds SQL: each function calls `planner.queries`, `planner.stats`,
`planner.sizing`... and turns the polars frames into plain rows for the widgets. They run in
worker threads, each on its own DuckDB cursor (`Dataset.cursor()`), never on the UI thread.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner.errors import PlannerError
from planner.tui.query_state import JobsQuery, SizingForm

if TYPE_CHECKING:
    import duckdb

    from planner.dataset import CacheMode, Dataset
    from planner.sizing import SizingInputs, SizingOptions, SizingResult

#: JobsQuery.sort -> (queries.list_attempts order_by, descending).
_ORDER = {
    "newest": ("started_at", True),
    "oldest": ("started_at", False),
    "rtf_desc": ("rtf", True),
    "rtf_asc": ("rtf", False),
    "duration_desc": ("duration_ms", True),
}


#: Rows of the jobs list fetched per query: a few screens' worth, small enough to arrive in
#: milliseconds.
PAGE_SIZE = 200


def describe_source(url: str | None) -> str:
    """What the header says is open: the URL, or "embedded data"."""
    return url or "embedded data"


def open_dataset(url: str | None, cache: CacheMode = "off") -> Dataset:
    """`planner.dataset.open_dataset`; the TUI opens it in a worker thread."""
    from planner.dataset import open_dataset as _open

    return _open(url, cache=cache)


class Opening:
    """The dataset opened, then the Jobs view's first page read, in a thread of its own.

    `mjplan tui` starts one before it imports Textual, so the dataset opens and the first page
    is read while Textual loads (DuckDB's work runs beside it on the other core) instead of
    after. When both are ready soon enough (`open_within`) the app starts on the Jobs view
    with that page; otherwise it shows the start screen until the dataset is open. Either way
    the Jobs view takes the first page (the default selection, first PAGE_SIZE rows) from here
    once; any other page, or this one if reading it failed, is queried as usual. Queries stay
    off the UI thread.
    """

    def __init__(self, url: str | None, cache: CacheMode = "off") -> None:
        self.url = url
        self.cache: CacheMode = cache
        self._dataset: Future[Dataset] = Future()
        self._page: Future[list[dict[str, Any]]] = Future()
        self._page_taken = False
        self._lock = threading.Lock()
        threading.Thread(target=self._run, name="mjplan-opening", daemon=True).start()

    def _run(self) -> None:
        try:
            ds = open_dataset(self.url, self.cache)
        except Exception as exc:  # noqa: BLE001 - the app shows it, as its own open would
            self._dataset.set_exception(exc)
            self._page.set_exception(exc)
            return
        self._dataset.set_result(ds)
        try:
            self._page.set_result(attempts_page(ds, JobsQuery(), offset=0, limit=PAGE_SIZE))
        except Exception as exc:  # noqa: BLE001 - the view queries it again and shows that
            self._page.set_exception(exc)

    def dataset(self) -> Dataset:
        """The opened dataset (waits for it); raises what opening it raised."""
        return self._dataset.result()

    def open_within(self, timeout: float) -> Dataset | None:
        """The dataset once it has opened and the first page has been read (or failed), if
        that happens within `timeout` seconds; None otherwise, or if opening it failed."""
        from concurrent.futures import wait

        wait([self._page], timeout=timeout)
        fut = self._dataset
        if not self._page.done() or fut.exception() is not None:
            return None
        return fut.result()

    def take_first_page(self, query: JobsQuery, offset: int, limit: int,
                        wait: bool = True) -> list[dict[str, Any]] | None:
        """The rows read ahead if they are that page (the default selection's first), the
        first time only (waits for them; with `wait` False only if they are there already);
        None otherwise, or if reading them failed."""
        with self._lock:
            if self._page_taken or (query, offset, limit) != (JobsQuery(), 0, PAGE_SIZE):
                return None
            if not wait and not self._page.done():
                return None
            self._page_taken = True
        try:
            return self._page.result()
        except Exception:  # noqa: BLE001 - queried again by the caller, which shows the error
            return None


@contextmanager
def cursor(ds: Dataset) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB cursor for the calling thread, closed afterwards."""
    cur = ds.cursor()
    try:
        yield cur
    finally:
        cur.close()


def filter_options(ds: Dataset) -> tuple[list[str], list[str]]:
    """(job types, instance types) present in the data, sorted."""
    from planner.queries import distinct_values

    with cursor(ds) as cur:
        return distinct_values(cur, "job_type"), distinct_values(cur, "instance_type")


def row_time(row: Mapping[str, Any]) -> dt.datetime | None:
    """When an attempt happened: its start, else its finish (the jobs list's order)."""
    value: dt.datetime | None = row.get("started_at") or row.get("finished_at")
    return value


def _filters(
    cur: duckdb.DuckDBPyConnection, query: JobsQuery, newest: dt.datetime | None
) -> dict[str, Any]:
    """The keyword filters of `queries.list_attempts` for a JobsQuery.

    A preset time range counts back from the newest attempt of the data (`newest`, looked up
    when None), not from the clock, so an old dataset still shows its last day; a free range
    (`query.time_range`) is used as typed. The search is a piece of a job id, host name,
    instance type, codec or error (`queries.SEARCH_COLUMNS`), any case.
    """
    since = until = None
    if query.time_range is not None:
        since, until = query.time_range.since, query.time_range.until
    elif query.range_hours is not None:
        newest = newest or newest_time(cur)
        if newest is not None:
            since = newest - dt.timedelta(hours=query.range_hours)
    return {
        "job_type": query.job_type,
        "instance_type": query.instance_type,
        "status": query.status,
        "since": since,
        "until": until,
        "search": query.search or None,
    }


def newest_time(cur: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """Start time of the newest attempt (its finish when it has no start), or None."""
    from planner.queries import list_attempts

    df = list_attempts(cur, limit=1, with_badges=False)
    return row_time(df.row(0, named=True)) if df.height else None


def attempts_page(
    ds: Dataset,
    query: JobsQuery,
    *,
    offset: int,
    limit: int,
    newest: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Rows offset..offset+limit of the selection, badges included (`rtf_badge`...).

    `tui_queries.attempts_page`: the rows of `queries.list_attempts`, fetched in two steps.
    """
    from planner.tui_queries import attempts_page as _page

    order_by, descending = _ORDER.get(query.sort, _ORDER["newest"])
    with cursor(ds) as cur:
        return _page(
            cur,
            **_filters(cur, query, newest),
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
        )


def export_attempts(ds: Dataset, query: JobsQuery, path: str,
                    newest: dt.datetime | None = None) -> tuple[str, int]:
    """Write the whole selection of `query` (every page, in its order) as CSV to `path`;
    (the absolute path, rows written). `queries.export_attempts_csv`."""
    from pathlib import Path

    from planner.queries import export_attempts_csv

    order_by, descending = _ORDER.get(query.sort, _ORDER["newest"])
    target = str(Path(path).expanduser().resolve())
    with cursor(ds) as cur:
        rows = export_attempts_csv(cur, target, order_by=order_by, descending=descending,
                                   **_filters(cur, query, newest))
    return target, rows


def count_attempts(ds: Dataset, query: JobsQuery, newest: dt.datetime | None = None) -> int:
    """Size of the selection `attempts_page` pages through."""
    from planner.queries import count_attempts as _count

    with cursor(ds) as cur:
        return _count(cur, **_filters(cur, query, newest))


def attempt_with_siblings(
    ds: Dataset, attempt_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The attempt (badges included) and every attempt of its job, first try first."""
    from planner.queries import attempts_of_job, get_attempt

    with cursor(ds) as cur:
        row = get_attempt(cur, attempt_id)
        if row is None:
            raise PlannerError(f"no attempt {attempt_id} in the dataset")
        siblings = attempts_of_job(cur, str(row["job_id"])).to_dicts()
    return row, siblings


def badges(row: dict[str, Any]) -> dict[str, str]:
    """The three badges of a row, as `planner.badges` writes them."""
    from planner.badges import badges as _badges

    return _badges(row)


def metrics_of_row(row: dict[str, Any]) -> dict[str, Any]:
    """The manifest's `metrics` object of a row (`collectors.schema.metrics_of_row`)."""
    from collectors.schema import metrics_of_row as _metrics

    return _metrics(row)


def attempt_io_text(row: Mapping[str, Any]) -> str:
    """The attempt's phases and I/O in plain text (`planner.io_hints.attempt_io_text`)."""
    from planner.io_hints import attempt_io_text as _text

    return _text(row)


@dataclass(frozen=True)
class Distributions:
    """`planner.stats` figures of every group, as plain rows.

    `by_instance` / `by_job_type`: rtf_summary rows per job type x instance type / per job type;
    `hist_by_instance` / `hist_by_job_type`: the matching rtf_histogram rows.
    `fine_by_instance` / `fine_by_job_type`: the same histograms in more, narrower bins (a
    multiple of the others' number), for a taller screen; empty when not asked for.
    """

    by_instance: list[dict[str, Any]]
    by_job_type: list[dict[str, Any]]
    hist_by_instance: list[dict[str, Any]]
    hist_by_job_type: list[dict[str, Any]]
    fine_by_instance: list[dict[str, Any]] = field(default_factory=list)
    fine_by_job_type: list[dict[str, Any]] = field(default_factory=list)
    #: `planner.io_hints.phase_summary` rows per job type x instance type / per job type.
    phases_by_instance: list[dict[str, Any]] = field(default_factory=list)
    phases_by_job_type: list[dict[str, Any]] = field(default_factory=list)
    #: `planner.density.density_curve` rows (attempts running at once), empty without levels.
    density: list[dict[str, Any]] = field(default_factory=list)


def distributions(ds: Dataset, bins: int, fine_bins: int | None = None) -> Distributions:
    """RTF summaries and histograms of every group (`planner.stats`), in four queries; two more
    for the histograms in `fine_bins` bins (for a taller screen) when asked for; the density
    curve (`planner.density`, one query) at the shipped spot prices."""
    from planner.density import density_curve
    from planner.errors import EmptySelectionError
    from planner.io_hints import phase_summary
    from planner.prices import load_prices
    from planner.stats import rtf_histogram, rtf_summary

    with cursor(ds) as cur:
        fine: dict[str, list[dict[str, Any]]] = {}
        phases: dict[str, list[dict[str, Any]]] = {}
        try:  # where the wall time goes, beside each histogram (none without succeeded ones)
            phases["phases_by_instance"] = phase_summary(cur, by="instance").to_dicts()
            phases["phases_by_job_type"] = phase_summary(cur, by="job_type").to_dicts()
        except EmptySelectionError:
            pass
        if fine_bins is not None:
            fine = {
                "fine_by_instance": rtf_histogram(cur, by="instance", bins=fine_bins).to_dicts(),
                "fine_by_job_type": rtf_histogram(cur, by="job_type", bins=fine_bins).to_dicts(),
            }
        return Distributions(
            by_instance=rtf_summary(cur, by="instance").to_dicts(),
            by_job_type=rtf_summary(cur, by="job_type").to_dicts(),
            hist_by_instance=rtf_histogram(cur, by="instance", bins=bins).to_dicts(),
            hist_by_job_type=rtf_histogram(cur, by="job_type", bins=bins).to_dicts(),
            density=density_curve(cur, load_prices()).to_dicts(),
            **fine,
            **phases,
        )


def load_sizing_inputs(ds: Dataset, window: dt.timedelta | None = None) -> SizingInputs:
    """`planner.sizing.load_sizing_inputs` over `window` (the queries; once per window).

    None is the window of `mjplan size` (14 days).
    """
    from planner.sizing import load_sizing_inputs as _load

    with cursor(ds) as cur:
        inputs = _load(cur) if window is None else _load(cur, window=window)
    # The cursor has no URL; say where the data came from.
    from dataclasses import replace

    return replace(inputs, source=ds.url)


def sizing_window(form: SizingForm) -> dt.timedelta:
    """The form's window as `mjplan size --window` reads it (`14d`, `36h`, `2w`, `90m`).

    Raises PlannerError (one line) for anything else.
    """
    from planner.sizing_options import parse_window

    return parse_window(form.window, "window")


def sizing_options(form: SizingForm) -> SizingOptions:
    """The `planner.sizing.SizingOptions` of the form, built by the core's
    `build_sizing_options` as `mjplan size` builds its own (its other options at their
    defaults).

    Raises PlannerError (one line) naming the field that is wrong.
    """
    from planner.sizing_options import build_sizing_options

    return build_sizing_options(
        percentile=form.percentile,
        forecasts=form.demand.replace(",", " ").split(),
        growth=form.growth,
        utilisation=form.utilisation,
        wait=form.wait,
        capacity=form.capacity,
    )


def size(
    inputs: SizingInputs, options: SizingOptions, prices: str
) -> tuple[SizingInputs, SizingResult]:
    """Size the fleet with `options` (`sizing_options`); the inputs come back with the price
    table at `prices` (the form's field: a CSV path, empty for the default table).

    `inputs` must be those of the form's window (`sizing_window`). Raises PlannerError
    (SizingError, PriceFileError...) naming what is wrong.
    """
    from dataclasses import replace

    from planner.prices import DEFAULT_PRICES_PATH, load_prices
    from planner.sizing import size_fleet

    price_path = prices.strip() or str(DEFAULT_PRICES_PATH)
    if inputs.prices.source != price_path:
        inputs = replace(inputs, prices=load_prices(price_path))
    return inputs, size_fleet(inputs, options)


def analytic(options: SizingOptions) -> SizingOptions:
    """`options` without the replay: the number the form shows while the replay runs."""
    from dataclasses import replace

    return replace(options, replay=False)


def write_fleet_request(result: SizingResult, path: str) -> str:
    """Write the recommended fleet as an EC2 Fleet request JSON at `path` (replacing a file
    there: the screen asked first); returns the absolute path."""
    from pathlib import Path

    from planner.fleet import write_fleet_json

    if result.recommendation is None:
        raise PlannerError("no fleet to write: no instance type carries the demand")
    return str(write_fleet_json(Path(path).expanduser().resolve(), result.recommendation))
