"""Sizing inputs from the results of the sizing views (planner.sizing_views) run in Athena,
Trino or Spark: `mjplan size --inputs FOLDER` (and `--save-inputs FILE` to keep them as the
JSON of docs/sizing-inputs.md).

FOLDER holds one result per view, named after the view: `sizing_window.csv` or
`<table>_sizing_window.csv` (Athena's CSV with a header; `.csv.gz`, `.parquet`, or a folder of
part files as Spark writes them, are read too). The figures go through the planner's own
functions (planner.throughput.outcomes_of, most_common_slots, planner.demand.HourlyArrivals,
planner.arrivals.burstiness_of_counts, planner.service_times.sample_of; the density levels as
planner.density.measure_levels gives them), so what differs from
sizing on the dataset is only what the engine computed differently (planner.sizing_views).
A missing file or column, or a value of the wrong type, is a PlannerError of one line.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.arrivals import burstiness_of_counts
from planner.demand import HourlyArrivals, window_bounds
from planner.errors import PlannerError
from planner.prices import PriceTable
from planner.service_times import ServiceSample, sample_of
from planner.sizing import SizingInputs
from planner.sizing_views import PARTS
from planner.throughput import (
    Concurrency,
    measurements_from,
    most_common_slots,
    outcomes_of,
)

if TYPE_CHECKING:
    import polars as pl

#: The columns each view's result must have.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sizing_window": ("first_start", "last_start", "start_at", "end_at", "window_hours"),
    "sizing_demand": ("job_type", "hour", "jobs", "media_jobs", "media_seconds"),
    "sizing_outcomes": ("instance_type", "job_type", "status", "n_pos", "wall_pos", "media_pos",
                        "media_wall_pos", "n_all", "wall_all"),
    "sizing_sources": ("instance_type", "source"),
    "sizing_worker_slots": ("instance_type", "worker_slots", "attempts"),
    "sizing_concurrency": ("instance_type", "hosts", "attempt_seconds", "busy_seconds",
                           "max_concurrency", "level", "level_seconds"),
    "sizing_samples": ("instance_type", "job_type", "pick", "wall_s", "input_s"),
    "sizing_arrivals": ("minute_index", "jobs"),
    "sizing_density": ("instance_type", "job_type", "running", "source", "attempts", "wall_ms",
                       "media_s", "media_wall_ms"),
}
_SUFFIXES = (".csv", ".csv.gz", ".parquet")


class _Result:
    """The rows of one view's result, with typed access that names the file, row and column
    of a bad value."""

    def __init__(self, path: Path, rows: list[dict[str, Any]]) -> None:
        self.path = path
        self.rows = rows

    def _get(self, i: int, col: str, kind: str, conv: Callable[[Any], Any],
             null: bool) -> Any:
        v = self.rows[i][col]
        if v is None or (isinstance(v, str) and v.strip() == ""):
            if null:
                return None
            raise PlannerError(f"{self.path.name} row {i + 1}: {col} is empty ({kind} expected)")
        try:
            return conv(v.strip() if isinstance(v, str) else v)
        except (TypeError, ValueError, OverflowError):
            raise PlannerError(f"{self.path.name} row {i + 1}: {col} {v!r} is not "
                               f"{kind}") from None

    def integer(self, i: int, col: str, null: bool = False) -> Any:
        return self._get(i, col, "a whole number", _as_int, null)

    def number(self, i: int, col: str, null: bool = False) -> Any:
        return self._get(i, col, "a number", float, null)

    def text(self, i: int, col: str, null: bool = False) -> Any:
        return self._get(i, col, "text", str, null)

    def time(self, i: int, col: str) -> dt.datetime:
        value: dt.datetime = self._get(i, col, "a time", _as_time, False)
        return value


def _as_int(v: Any) -> int:
    f = float(v)
    if not f.is_integer():
        raise ValueError(v)
    return int(f)


def _as_time(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        t = v
    elif isinstance(v, str):
        text = v[:-4] if v.endswith(" UTC") else v
        t = dt.datetime.fromisoformat(text)
    else:
        raise TypeError(v)
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def _find(folder: Path, part: str) -> Path:
    names = [p for p in sorted(folder.iterdir())
             if any(p.name == f"{part}{s}" or p.name.endswith(f"_{part}{s}")
                    for s in (*_SUFFIXES, ""))]
    if not names:
        raise PlannerError(f"{folder}: no result of the view <table>_{part} ({part}.csv, "
                           f"<table>_{part}.csv or .parquet; docs/sizing-inputs.md)")
    if len(names) > 1:
        raise PlannerError(f"{folder}: two results of the view <table>_{part}: "
                           f"{names[0].name}, {names[1].name}")
    return names[0]


def _read_file(path: Path) -> list[dict[str, Any]]:
    if path.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
        return rows
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def read_result(folder: Path, part: str) -> _Result:
    """The rows of the view `part`'s result in `folder` (PlannerError: missing, unreadable, a
    column missing)."""
    path = _find(folder, part)
    try:
        if path.is_dir():  # Spark writes a folder of part files
            files = sorted(p for p in path.iterdir()
                           if p.name.endswith(_SUFFIXES) and not p.name.startswith((".", "_")))
            if not files:
                raise PlannerError(f"{path}: no .csv or .parquet part file in it")
            rows = [r for f in files for r in _read_file(f)]
            header = set(rows[0]) if rows else _header(files[0])
        else:
            rows = _read_file(path)
            header = set(rows[0]) if rows else _header(path)
    except (OSError, ValueError, csv.Error, EOFError) as exc:
        raise PlannerError(f"cannot read {path}: {exc}") from None
    except Exception as exc:  # pyarrow's errors of a damaged Parquet file
        if type(exc).__module__.startswith("pyarrow"):
            raise PlannerError(f"cannot read {path}: {exc}") from None
        raise
    missing = [c for c in COLUMNS[part] if c not in header]
    if missing:
        raise PlannerError(f"{path.name}: no column {', '.join(missing)} (the result of "
                           f"the view <table>_{part} of `mjplan ddl` has "
                           f"{', '.join(COLUMNS[part])})")
    return _Result(path, rows)


def _header(path: Path) -> set[str]:
    if path.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return set(pq.read_schema(path).names)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return set(next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))), []))


def _window(r: _Result) -> tuple[dt.datetime, dt.datetime, dt.datetime, dt.datetime, int]:
    if len(r.rows) != 1:
        raise PlannerError(f"{r.path.name}: {len(r.rows)} rows, one expected (no attempt with "
                           "a start time in the table?)")
    first, last = r.time(0, "first_start"), r.time(0, "last_start")
    start, end = r.time(0, "start_at"), r.time(0, "end_at")
    hours = r.integer(0, "window_hours")
    if hours <= 0:
        raise PlannerError(f"{r.path.name}: window_hours {hours}: above zero expected")
    want = window_bounds(first, last, dt.timedelta(hours=hours))
    if (start, end) != want:
        raise PlannerError(f"{r.path.name}: window [{start}, {end}) is not the planner's "
                           f"[{want[0]}, {want[1]}) for these first and last starts")
    return first, last, start, end, hours


def _concurrency(r: _Result) -> dict[str, Concurrency]:
    heads: dict[str, tuple[int, float, float, int]] = {}
    levels: dict[str, dict[int, float]] = {}
    for i in range(len(r.rows)):
        t = r.text(i, "instance_type")
        head = (r.integer(i, "hosts"), r.number(i, "attempt_seconds"), r.number(i, "busy_seconds"),
                r.integer(i, "max_concurrency"))
        if heads.setdefault(t, head) != head:
            raise PlannerError(f"{r.path.name} row {i + 1}: {t}'s hosts, seconds or "
                               "max_concurrency differ from its earlier rows")
        level = r.integer(i, "level", null=True)
        if level is not None:
            if not 0 <= level <= head[3]:
                raise PlannerError(f"{r.path.name} row {i + 1}: level {level} outside "
                                   f"0..max_concurrency {head[3]}")
            levels.setdefault(t, {})[level] = r.number(i, "level_seconds")
    out = {}
    for t, (hosts, att, busy, most) in sorted(heads.items()):
        by_level = levels.get(t, {})
        out[t] = Concurrency(t, hosts, att, busy, most,
                             tuple(by_level.get(k, 0.0) for k in range(most + 1)))
    return out


def _samples(r: _Result) -> dict[tuple[str, str], ServiceSample]:
    groups: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for i in range(len(r.rows)):
        key = (r.text(i, "instance_type"), r.text(i, "job_type"))
        inp = r.number(i, "input_s", null=True)
        groups.setdefault(key, []).append(
            (r.integer(i, "pick"), r.number(i, "wall_s"), np.nan if inp is None else inp))
    out = {}
    for key, picks in sorted(groups.items()):
        picks.sort()
        out[key] = sample_of([w for _, w, _ in picks], [x for _, _, x in picks])
    return out


def _density(r: _Result) -> pl.DataFrame:
    """planner.density.measure_levels' frame from the view's sums per source (empty when no
    attempt recorded `host_running_at_start`, as on a dataset)."""
    import polars as pl

    acc: dict[tuple[str, str, int], list[Any]] = {}
    for i in range(len(r.rows)):
        key = (r.text(i, "instance_type"), r.text(i, "job_type"), r.integer(i, "running"))
        media, media_wall = r.number(i, "media_s", null=True), r.integer(i, "media_wall_ms",
                                                                           null=True)
        a = acc.setdefault(key, [0, 0, None, None, set()])
        a[0] += r.integer(i, "attempts")
        a[1] += r.integer(i, "wall_ms")
        if media is not None:
            a[2] = (a[2] or 0.0) + media
        if media_wall is not None:
            a[3] = (a[3] or 0) + media_wall
        a[4].add(r.text(i, "source"))
    rows = [(it, jt, k, n, wall / 1000, media, None if mw is None else mw / 1000,
             "+".join(sorted(src)))
            for (it, jt, k), (n, wall, media, mw, src) in sorted(acc.items())]
    return pl.DataFrame(rows, orient="row", schema={
        "instance_type": pl.String, "job_type": pl.String, "running": pl.Int64,
        "attempts": pl.Int64, "wall_s": pl.Float64, "media_s": pl.Float64,
        "media_wall_s": pl.Float64, "source": pl.String})


def _rows(r: _Result, cols: Iterable[tuple[str, str]]) -> list[tuple[Any, ...]]:
    """Each row's values of (column, kind) with kind 'str', 'str?', 'int', 'float'."""
    out = []
    for i in range(len(r.rows)):
        row: list[Any] = []
        for col, kind in cols:
            if kind.startswith("str"):
                row.append(r.text(i, col, null=kind.endswith("?")))
            elif kind == "int":
                row.append(r.integer(i, col))
            else:
                row.append(r.number(i, col))
        out.append(tuple(row))
    return out


def load_results(folder: str | Path, prices: PriceTable, source: str = "") -> SizingInputs:
    """SizingInputs from the views' results in `folder` (module docstring)."""
    root = Path(folder)
    if not root.is_dir():
        raise PlannerError(f"{root}: not a folder of query results")
    res = {part: read_result(root, part) for part in PARTS}
    first, last, start, end, hours = _window(res["sizing_window"])
    window = dt.timedelta(hours=hours)
    d = res["sizing_demand"]
    counts = {(jt, h): (float(n), float(nm), float(m)) for jt, h, n, nm, m in (
        (d.text(i, "job_type"), d.time(i, "hour"), d.integer(i, "jobs"), d.integer(i, "media_jobs"),
         d.number(i, "media_seconds")) for i in range(len(d.rows)))}
    histories = HourlyArrivals(counts, first, last).histories(window)
    services, waste = outcomes_of(_rows(res["sizing_outcomes"], (
        ("instance_type", "str?"), ("job_type", "str"), ("status", "str?"), ("n_pos", "int"),
        ("wall_pos", "float"), ("media_pos", "float"), ("media_wall_pos", "float"),
        ("n_all", "int"), ("wall_all", "float"))))
    slots = most_common_slots(_rows(res["sizing_worker_slots"], (
        ("instance_type", "str"), ("worker_slots", "int"), ("attempts", "int"))))
    sources: dict[str, set[str]] = {}
    for t, s in _rows(res["sizing_sources"], (("instance_type", "str"), ("source", "str"))):
        sources.setdefault(t, set()).add(s)
    measured = measurements_from(_concurrency(res["sizing_concurrency"]), services, slots)
    a = res["sizing_arrivals"]
    bins = _rows(a, (("minute_index", "int"), ("jobs", "int")))
    per_bin = np.zeros(max((b for b, _ in bins), default=-1) + 1, np.int64)
    for b, n in bins:
        if b < 0:
            raise PlannerError(f"{a.path.name}: minute_index {b} before the window's start")
        per_bin[b] += n
    if not measured or not histories:
        raise PlannerError(f"{root}: no measured instance type or no demand in the window")
    return SizingInputs(
        measurements={t: replace(m, source="+".join(sorted(sources.get(t, ()))) or None)
                      for t, m in measured.items()},
        histories=histories, waste=waste, prices=prices, window=window,
        source=source or f"query results in {root}",
        samples=_samples(res["sizing_samples"]),
        burstiness=burstiness_of_counts(per_bin, max(1, int((end - start).total_seconds()
                                                             // 3600))),
        start=start, density_levels=_density(res["sizing_density"]))

