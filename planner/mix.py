"""The job mix hour by hour: demand per hour of the window, and the load it puts on one
instance type (docs/sizing.md, "Demand from the mix, hour by hour").

Each hour keeps its own mix: an hour of night exports and an afternoon of uploads are not added
into an hour that never happened. The fleet is sized for the hour at the p-th percentile *of the
load on the candidate type*, with that hour's arrivals, mean service time and service SCV.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from collectors.schema import THROUGHPUT_MEDIA_SECONDS
from planner.demand import DemandHistory, Forecast, unit_of
from planner.errors import PlannerError
from planner.throughput import NO_WASTE, InstanceMeasurements, Waste


@dataclass(frozen=True)
class HourlyDemand:
    """Jobs and input media seconds arriving in each hour, per job type (growth applied)."""

    hours: int
    jobs: Mapping[str, Any] = field(repr=False)
    media: Mapping[str, Any] = field(repr=False)
    #: True when the hours are the data's own (no forecast, growth 1): the replay can then
    #: use the window's real arrival times.
    as_measured: bool = True

    def total_jobs(self) -> Any:
        return sum((np.asarray(v) for v in self.jobs.values()), np.zeros(self.hours))


def hourly_demand(
    histories: Mapping[str, DemandHistory],
    *,
    forecasts: Sequence[Forecast] = (),
    growth: float = 1.0,
) -> HourlyDemand:
    """The hours of the window from the data, or the forecasts spread over them.

    A forecast in media hours per day follows the hourly profile of its job type in the data
    (scaled to that daily volume; flat without data); one in jobs per hour is that rate in every
    hour (as `--forecast T=900/h` always meant: the rate to size for). A forecast replaces the
    data of its job type only: the others keep the data's hours, as in
    `planner.demand.resolve_demand` (which checks the forecasts first)."""
    hours = max((h.hours for h in histories.values()), default=1) or 1
    jobs: dict[str, Any] = {}
    media: dict[str, Any] = {}
    if not forecasts:
        for jt, hist in sorted(histories.items()):
            if hist.total_jobs > 0:
                jobs[jt] = np.asarray(hist.jobs, float) * growth
                media[jt] = np.asarray(hist.media_seconds, float) * growth
        return HourlyDemand(hours, jobs, media, as_measured=growth == 1)
    for f in forecasts:
        h = histories.get(f.job_type)
        per_job = h.media_seconds_per_job if h else None
        if f.unit == "jobs_per_hour":
            jobs[f.job_type] = np.full(hours, f.value * growth)
            media[f.job_type] = jobs[f.job_type] * (per_job or 0.0)
            continue
        if not per_job or h is None:
            raise PlannerError(f"forecast for {f.job_type} needs media durations in the data")
        profile = np.asarray(h.media_seconds, float)
        mean = profile.mean() if profile.size else 0.0
        shape = profile / mean if mean > 0 else np.ones(hours)
        media[f.job_type] = f.value * 3600.0 / 24.0 * growth * _fit(shape, hours)
        jobs[f.job_type] = media[f.job_type] / per_job
    for jt, hist in sorted(histories.items()):
        if hist.total_jobs > 0 and jt not in jobs:
            jobs[jt] = _fit(np.asarray(hist.jobs, float) * growth, hours)
            media[jt] = _fit(np.asarray(hist.media_seconds, float) * growth, hours)
    return HourlyDemand(hours, jobs, media, as_measured=False)


def _fit(values: Any, hours: int) -> Any:
    v = np.asarray(values, float)
    return v[:hours] if v.size >= hours else np.resize(v, hours)


@dataclass(frozen=True)
class HourLoad:
    """What each hour of the window asks of one instance type (arrays over the hours)."""

    #: Arrivals incl. retries, per second.
    lam: Any = field(repr=False)
    #: Offered load, busy slots (Erlangs).
    load: Any = field(repr=False)
    #: SCV of the service time of the hour's mix.
    scv: Any = field(repr=False)

    def design_hour(self, percentile: float) -> int:
        """The hour at the p-th percentile of the load (the next hour up between two)."""
        load = np.asarray(self.load)
        order = np.argsort(load, kind="stable")
        rank = int(np.ceil(percentile / 100.0 * (load.size - 1)))
        return int(order[min(rank, load.size - 1)])


class MissingMeasurement(PlannerError):
    """A job type of the demand has no measurement on the instance type."""


def hourly_load(
    m: InstanceMeasurements,
    demand: HourlyDemand,
    waste: Mapping[str, Waste],
    scvs: Mapping[str, float],
    *,
    count_waste: bool = True,
) -> HourLoad:
    """Per hour: arrivals incl. retries, offered load and the service SCV of the mix on `m`.

        a_ij(h) = m_j(h) / 3600 / rtf_ij  (media)   or   lambda_j(h) / 3600 * S_ij   (jobs)
        a_i(h)  = sum_j a_ij(h) (1 + w_j)
        lambda'_i(h) = sum_j lambda_j(h) / 3600 / (1 - r_j)

    and the hour's mix SCV from each type's mean a_ij(h) (1 + w_j) / lambda'_j(h) and its
    measured SCV (`planner.service_times.mix_scv`, vectorised). Raises MissingMeasurement."""
    h = demand.hours
    lam = np.zeros(h)
    load = np.zeros(h)
    m2 = np.zeros(h)
    for jt, jobs in demand.jobs.items():
        svc = m.services.get(jt)
        if svc is None:
            raise MissingMeasurement(f"no measurement of {jt} on it")
        w = waste.get(jt, NO_WASTE) if count_waste else NO_WASTE
        jobs_s = np.asarray(jobs, float) / 3600.0
        media_s = np.asarray(demand.media[jt], float) / 3600.0
        rtf = svc.rtf
        if unit_of(jt) == THROUGHPUT_MEDIA_SECONDS and rtf is not None:
            busy = np.where(media_s > 0, media_s / rtf, jobs_s * svc.service_s)
        else:
            busy = jobs_s * svc.service_s
        busy = busy * (1.0 + w.waste_ratio)
        arrivals = jobs_s / (1.0 - w.retry_share) if w.retry_share < 1 else jobs_s * np.inf
        mean = np.divide(busy, arrivals, out=np.zeros(h), where=arrivals > 0)
        lam += arrivals
        load += busy
        m2 += arrivals * mean * mean * (1.0 + scvs.get(jt, 1.0))
    m1 = np.divide(load, lam, out=np.zeros(h), where=lam > 0)
    second = np.divide(m2, lam, out=np.zeros(h), where=lam > 0)
    scv = np.divide(second, m1 * m1, out=np.ones(h), where=m1 > 0) - 1.0
    scv = np.where(m1 > 0, scv, 1.0)
    return HourLoad(lam, load, np.maximum(scv, 0.0))


def erlang_c_hours(servers: int, loads: Any) -> Any:
    """Erlang C for `servers` servers at each of `loads` (Erlangs), vectorised over hours by the
    Erlang B recurrence of planner.queueing; 1 where load >= servers."""
    a = np.asarray(loads, float)
    b = np.ones_like(a)
    for k in range(1, servers + 1):
        b = a * b / (k + a * b)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = servers * b / (servers - a * (1.0 - b))
    return np.where(a >= servers, 1.0, np.where(a <= 0, 0.0, c))


def hours_start(start: dt.datetime | None, hour: int) -> str | None:
    """ISO time of the start of hour `hour` of the window."""
    return None if start is None else (start + dt.timedelta(hours=hour)).isoformat()
