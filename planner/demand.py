"""Demand per job type: how many jobs and media seconds arrive per hour, from data or a forecast.

From data (`load_demand_history`, a DuckDB query): the first attempts (attempt_number 1 or null)
of each job type are counted per clock hour (UTC) over a window ending at the last full hour of
the data; hours with no arrival count as 0. A job whose input duration is unknown (its probe
failed) counts as the mean media seconds of the job type's jobs with one over the window: left
at 0 it would lower the media seconds of its hour, and the fleet sized from them. `resolve_demand`
then takes, per job type, the p-th percentile (linear interpolation) of those hourly values,
separately for jobs and for input media seconds: "the p95 hour".

From a forecast (`Forecast`): media hours per day (job types counted in media seconds) or jobs
per hour (thumbnails), per job type. A daily volume is spread over the day with the peak factor
measured in the data when there is some (the p-th percentile hour / the mean hour), else flat:

    media seconds per hour = media hours per day * 3600 / 24 * peak factor
    jobs per hour          = media seconds per hour / mean media seconds per job (from data)

A growth factor multiplies either source. Retries are not demand: the waste of failed attempts is
added by the sizing (`planner.sizing`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from collectors.schema import (
    JOB_TYPES,
    THROUGHPUT_JOBS,
    THROUGHPUT_MEDIA_SECONDS,
    THROUGHPUT_UNIT_BY_JOB_TYPE,
)
from planner.errors import EmptySelectionError, PlannerError
from planner.queries import KNOWN_INPUT, connection_of

ForecastUnit = Literal["media_hours_per_day", "jobs_per_hour"]


@dataclass(frozen=True)
class DemandHistory:
    """Hourly arrivals of one job type over the window (first attempts only)."""

    job_type: str
    #: Jobs that arrived in each hour of the window, oldest first (zeros included).
    jobs: tuple[float, ...]
    #: Input media seconds of those jobs, per hour (unknown durations at the window's mean).
    media_seconds: tuple[float, ...]

    @property
    def hours(self) -> int:
        return len(self.jobs)

    @property
    def total_jobs(self) -> float:
        return sum(self.jobs)

    @property
    def media_seconds_per_job(self) -> float | None:
        """Mean input media seconds of one job; None when no media duration was recorded."""
        total = sum(self.media_seconds)
        return total / self.total_jobs if self.total_jobs > 0 and total > 0 else None

    def peak_factor(self, percentile: float) -> float:
        """The percentile hour over the mean hour (jobs), >= 1 in any busy trace; 1 if empty."""
        mean = self.total_jobs / self.hours if self.hours else 0.0
        return percentile_of(self.jobs, percentile) / mean if mean > 0 else 1.0


@dataclass(frozen=True)
class Forecast:
    """A user's expected volume of one job type."""

    job_type: str
    value: float
    unit: ForecastUnit


@dataclass(frozen=True)
class Demand:
    """The rate to size for, per job type."""

    job_type: str
    jobs_per_hour: float
    media_seconds_per_hour: float
    #: How the work is counted: 'media_seconds' or 'jobs' (collectors.schema).
    unit: str
    #: e.g. "data p95 hour" or "forecast 120 media h/day"
    source: str

    @property
    def processed_media_hours_per_hour(self) -> float:
        """Media hours of work arriving per hour: 0 for job types counted in jobs (a
        thumbnail's input length is not work it processes), so costs per media hour and
        demand lines leave them out."""
        if self.unit != THROUGHPUT_MEDIA_SECONDS:
            return 0.0
        return self.media_seconds_per_hour / 3600.0


def percentile_of(values: Sequence[float], percentile: float) -> float:
    """The p-th percentile (0-100) with linear interpolation between order statistics.

    Same as numpy's default ('linear'): rank = p/100 * (n - 1).
    """
    if not values:
        return 0.0
    xs = sorted(values)
    rank = percentile / 100.0 * (len(xs) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def unit_of(job_type: str) -> str:
    """How a job type's work is counted; unknown job types count media seconds."""
    return THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type, THROUGHPUT_MEDIA_SECONDS)


def parse_forecast(text: str) -> Forecast:
    """`job_type=VALUE[unit]`: unit `h/d` (media hours/day) or `/h` (jobs/hour).

    The job type by its full name or the short one shown in tables (`export=40h/d`). Without
    a unit, the job type's own unit: media hours per day, jobs per hour for thumbnails.
    """
    from planner.formats import full_job_type

    name, sep, raw = text.partition("=")
    name, raw = full_job_type(name), raw.strip().replace(" ", "")
    if not sep or not name or not raw:
        raise PlannerError(
            f"forecast {text!r}: expected job_type=VALUE (e.g. upload_edit_proxy_v1=40)"
        )
    unit: ForecastUnit
    if raw.endswith("h/d"):
        unit, raw = "media_hours_per_day", raw[:-3]
    elif raw.endswith("/h"):
        unit, raw = "jobs_per_hour", raw[:-2]
    else:
        unit = "jobs_per_hour" if unit_of(name) == THROUGHPUT_JOBS else "media_hours_per_day"
    try:
        value = float(raw)
    except ValueError:
        raise PlannerError(f"forecast {text!r}: {raw!r} is not a number") from None
    if not value >= 0 or math.isinf(value):
        raise PlannerError(f"forecast {text!r}: the volume must be a non-negative number")
    return Forecast(name, value, unit)


def resolve_demand(
    histories: Mapping[str, DemandHistory],
    *,
    percentile: float = 95.0,
    forecasts: Sequence[Forecast] = (),
    growth: float = 1.0,
) -> dict[str, Demand]:
    """Demand per job type: its forecast when one is given, else the data's p-th hour (a
    forecast of some job types keeps the data's demand of the others; each Demand's `source`
    says which it is).

    Pure and fast (the TUI calls it on every change). Raises PlannerError for a percentile
    outside (0, 100], a growth <= 0, a forecast of a job type neither in the data nor of the
    plan (naming the known ones), a forecast that needs data there is none of, or no demand.
    """
    if not 0 < percentile <= 100:
        raise PlannerError(f"percentile must be in (0, 100], got {percentile:g}")
    if not growth > 0 or math.isinf(growth):
        raise PlannerError(f"growth must be above 0, got {growth:g}")
    out: dict[str, Demand] = {}
    for f in forecasts:
        if f.job_type in out:
            raise PlannerError(f"two forecasts for {f.job_type}")
        if f.job_type not in histories and f.job_type not in JOB_TYPES:
            from planner.formats import known_job_types

            raise PlannerError(f"forecast for {f.job_type!r}: no such job type; known: "
                               f"{known_job_types([*JOB_TYPES, *histories])}")
        out[f.job_type] = _from_forecast(f, histories.get(f.job_type), percentile, growth)
    for jt, h in sorted(histories.items()):
        if h.total_jobs <= 0 or jt in out:
            continue
        out[jt] = Demand(
            job_type=jt,
            jobs_per_hour=percentile_of(h.jobs, percentile) * growth,
            media_seconds_per_hour=percentile_of(h.media_seconds, percentile) * growth,
            unit=unit_of(jt),
            source=f"data p{percentile:g} hour of {h.hours} h" + _growth_note(growth),
        )
    if not out:
        raise EmptySelectionError(
            "no arrivals in the window's whole hours (the data's last, partial hour is left "
            "out): no demand to size for; try a longer window or a forecast")
    return out


def _growth_note(growth: float) -> str:
    return f" x{growth:g}" if growth != 1 else ""


def _from_forecast(
    f: Forecast, history: DemandHistory | None, percentile: float, growth: float
) -> Demand:
    per_job = history.media_seconds_per_job if history else None
    if f.unit == "jobs_per_hour":
        jobs = f.value * growth
        media = jobs * per_job if per_job else 0.0
        source = f"forecast {f.value:g} jobs/h"
    else:
        peak = history.peak_factor(percentile) if history else 1.0
        media = f.value * 3600.0 / 24.0 * peak * growth
        if not per_job:
            raise PlannerError(
                f"forecast for {f.job_type} is in media hours but the data holds no media "
                "duration of that job type to turn it into jobs; give jobs per hour (VALUE/h)"
            )
        jobs = media / per_job
        source = f"forecast {f.value:g} media h/day x peak {peak:.2f}"
    return Demand(f.job_type, jobs, media, unit_of(f.job_type), source + _growth_note(growth))


# Every hour of the data at once (the window is cut in Python): one scan gives both the data's
# time range and the arrivals, and another window needs no new query.
HOURLY_SQL = f"""
SELECT job_type, date_trunc('hour', started_at AT TIME ZONE 'UTC') AS h,
       count(*) FILTER (WHERE coalesce(attempt_number, 1) = 1) AS jobs,
       count(*) FILTER (WHERE coalesce(attempt_number, 1) = 1 AND {KNOWN_INPUT}) AS media_jobs,
       coalesce(sum(input_duration_seconds)
                FILTER (WHERE coalesce(attempt_number, 1) = 1 AND {KNOWN_INPUT}), 0)
           AS media_s,
       max(started_at AT TIME ZONE 'UTC') AS last_start
FROM attempts
WHERE started_at IS NOT NULL
GROUP BY job_type, h
"""


@dataclass(frozen=True)
class HourlyArrivals:
    """First attempts per (job type, UTC hour) over the whole dataset, and its time range."""

    #: (job_type, hour start) -> (jobs, jobs with a known input duration, their media seconds)
    counts: Mapping[tuple[str, dt.datetime], tuple[float, float, float]]
    first: dt.datetime
    last: dt.datetime

    def bounds(self, window: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of the demand window (see `window_bounds`)."""
        return window_bounds(self.first, self.last, window)

    def histories(self, window: dt.timedelta) -> dict[str, DemandHistory]:
        """Hourly arrivals per job type over the window, zeros filled (pure). A job without
        a known input duration counts as the mean media seconds of those with one."""
        start, end = self.bounds(window)
        hours = int((end - start).total_seconds() // 3600)
        jobs: dict[str, list[float]] = {}
        unknown: dict[str, list[float]] = {}
        media: dict[str, list[float]] = {}
        for (jt, h), (n, n_media, m) in self.counts.items():
            i = int((h - start).total_seconds() // 3600)
            if 0 <= i < hours:
                jobs.setdefault(jt, [0.0] * hours)[i] = n
                unknown.setdefault(jt, [0.0] * hours)[i] = n - n_media
                media.setdefault(jt, [0.0] * hours)[i] = m
        out = {}
        for jt in sorted(jobs):
            known_jobs = sum(jobs[jt]) - sum(unknown[jt])
            if sum(jobs[jt]) <= 0:
                continue
            if known_jobs > 0:
                mean = sum(media[jt]) / known_jobs
                media[jt] = [m + u * mean for m, u in zip(media[jt], unknown[jt], strict=True)]
            out[jt] = DemandHistory(jt, tuple(jobs[jt]), tuple(media[jt]))
        return out


def load_hourly_arrivals(source: Any) -> HourlyArrivals:
    """One query: arrivals per job type and UTC hour over the whole dataset."""
    rows = connection_of(source).execute(HOURLY_SQL).fetchall()
    if not rows:
        raise EmptySelectionError("the dataset holds no attempt with a start time")
    counts = {(jt, _utc(h)): (float(n), float(nm), float(m)) for jt, h, n, nm, m, _ in rows}
    first = min(h for _, h in counts)
    last = _utc(max(r[5] for r in rows))
    return HourlyArrivals(counts, first, last)


def window_bounds(
    first: dt.datetime, last: dt.datetime, window: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the demand window: whole hours ending at the hour the data's last attempt
    started in (that hour is partial and left out), no earlier than the data's first hour."""
    end = last.replace(minute=0, second=0, microsecond=0)
    start = max(end - window, first.replace(minute=0, second=0, microsecond=0))
    if start >= end:  # less than an hour of data: use it all, as one partial hour
        end = start + dt.timedelta(hours=1)
    return start, end


def load_demand_history(
    source: Any, window: dt.timedelta = dt.timedelta(days=14)
) -> dict[str, DemandHistory]:
    """Hourly arrivals per job type over the window (see the module docstring)."""
    return load_hourly_arrivals(source).histories(window)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
