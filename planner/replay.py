"""Replay: run the window's jobs through a fleet of n instances x slots, first come first served,
and read the waits (docs/sizing.md, "What the replay adds").

Arrivals are the window's real ones (`planner.arrivals`), or for a forecast or a growth factor
drawn per hour with the measured burstiness. Each job's service on the candidate instance type is
drawn from the measured distribution of its job type there (`planner.service_times`): a media
job's own input length times a drawn wall seconds per media second (rescaled so the mean is the
measured 1 / rtf), a thumbnail's wall seconds drawn whole (rescaled to the measured mean); a job
whose attempt fails (measured retry share r_j) holds its slot for a failed try first (wall time
uniform up to twice the mean that makes the measured waste ratio w_j). The queue is one FCFS line
in front of every slot of the fleet (or, with lanes, one line and pool for thumbnails and one for
the rest). Seeded: the same inputs give the same answer.

The fleet meets a target "p-th percentile of wait <= t" in an hour when at most 1 - p/100 of the
jobs arriving in that hour waited longer than t; it meets it over the window when that holds in
at least `hours_percentile` % of the hours (the hours a p-th percentile hour stands for).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from collectors.schema import THROUGHPUT_MEDIA_SECONDS
from planner.arrivals import Arrivals, draw_hourly
from planner.demand import unit_of
from planner.mix import HourlyDemand
from planner.service_times import ServiceSample
from planner.sizing_options import WaitTarget
from planner.throughput import NO_WASTE, InstanceMeasurements, Waste

#: About this many jobs per replay at most: a longer window is replayed over its last whole
#: hours holding them (Jobs.first_hour).
MAX_JOBS = 400_000
#: Job type of the thumbnail lane (`--lanes thumbs`).
THUMBS = "upload_thumb_v1"


@dataclass(frozen=True)
class Jobs:
    """The jobs a replay runs on one instance type: arrival (s), job type index, service (s)."""

    job_types: tuple[str, ...]
    t_s: Any = field(repr=False)
    job: Any = field(repr=False)
    service_s: Any = field(repr=False)
    hours: int
    #: What the arrivals are ("the window's N arrivals", "drawn per hour ...").
    source: str
    #: The first hour replayed: a window of more than MAX_JOBS jobs is replayed over its last
    #: whole hours holding about that many, and judged over those hours only.
    first_hour: int = 0


def jobs_for(
    m: InstanceMeasurements,
    samples: Mapping[str, ServiceSample],
    arrivals: Arrivals | None,
    demand: HourlyDemand,
    waste: Mapping[str, Waste],
    *,
    idc: float,
    seed: int,
    count_waste: bool = True,
) -> Jobs:
    """The replay's jobs on type `m`: arrivals (real, or drawn per hour of `demand`) and a
    service drawn for each (module docstring). `samples`: by job type, on `m`."""
    rng = np.random.default_rng(seed)
    names = tuple(sorted(demand.jobs))
    first_hour = 0
    if demand.as_measured and arrivals is not None and arrivals.count:
        # Job type codes of the arrivals -> index in `names` (-1: not in the demand), by a
        # lookup table: millions of arrivals, a handful of job types.
        lookup = np.array([names.index(jt) if jt in names else -1
                           for jt in arrivals.job_types], dtype=np.int16)
        coded = lookup[np.asarray(arrivals.job)]
        keep = coded >= 0
        t = np.asarray(arrivals.t_s)[keep]
        job = coded[keep]
        inputs = np.asarray(arrivals.input_s)[keep]
        source = f"the window's {t.size:,} arrivals"
        if t.size > MAX_JOBS:
            first_hour = _last_hours(t)
            keep = t >= first_hour * 3600.0
            t, job, inputs = t[keep], job[keep], inputs[keep]
            source = (f"the window's last {demand.hours - first_hour} hours "
                      f"({t.size:,} arrivals; {MAX_JOBS:,} at most per replay)")
    else:
        parts = []
        for k, jt in enumerate(names):
            times = draw_hourly(demand.jobs[jt], idc, rng)
            per_job = _mean_input(demand, jt)
            pool = _known_inputs(arrivals, jt)
            inp = (rng.choice(pool, times.size) if pool.size else np.full(times.size, per_job))
            parts.append((times, np.full(times.size, k, np.int16), inp))
        t = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
        job = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int16)
        inputs = np.concatenate([p[2] for p in parts]) if parts else np.empty(0)
        order = np.argsort(t, kind="stable")
        t, job, inputs = t[order], job[order], inputs[order]
        source = f"{t.size:,} arrivals drawn per hour (burstiness {idc:.2f})"
        if t.size > MAX_JOBS:
            first_hour = _last_hours(t)
            keep = t >= first_hour * 3600.0
            t, job, inputs = t[keep], job[keep], inputs[keep]
            source += f", the last {demand.hours - first_hour} hours replayed"
    service = np.zeros(t.size)
    for k, jt in enumerate(names):
        sel = job == k
        n = int(sel.sum())
        if n == 0:
            continue
        svc = m.services[jt]
        sample = samples.get(jt)
        rtf = svc.rtf
        media = unit_of(jt) == THROUGHPUT_MEDIA_SECONDS and rtf is not None
        if media and sample is not None and np.asarray(sample.per_media_s).size:
            per = np.asarray(sample.per_media_s, float)
            draws = rng.choice(per, n) / per.mean() / rtf
            inp = inputs[sel]
            fill = np.nanmean(inp) if np.isfinite(inp).any() else _mean_input(demand, jt)
            service[sel] = np.where(np.isfinite(inp), inp, fill) * draws
        elif sample is not None and np.asarray(sample.wall_s).size:
            walls = np.asarray(sample.wall_s, float)
            service[sel] = rng.choice(walls, n) / walls.mean() * svc.service_s
        else:
            service[sel] = rng.exponential(svc.service_s, n)
        w = waste.get(jt, NO_WASTE) if count_waste else NO_WASTE
        if w.retry_share > 0 and w.waste_ratio > 0 and w.retry_share < 1:
            failures = rng.geometric(1.0 - w.retry_share, n) - 1
            per_failure = w.waste_ratio * svc.service_s / (w.retry_share / (1 - w.retry_share))
            service[sel] += failures * rng.uniform(0, 2 * per_failure, n)
    return Jobs(names, t, job, service, demand.hours, source, first_hour)


def _last_hours(t: Any) -> int:
    """The hour of the MAX_JOBS-th last arrival of `t` (ascending): replayed from its start,
    the last whole hours hold MAX_JOBS jobs and at most one hour's more."""
    return int(float(t[-MAX_JOBS]) // 3600.0)


def _mean_input(demand: HourlyDemand, jt: str) -> float:
    jobs = float(np.sum(demand.jobs[jt]))
    return float(np.sum(demand.media[jt])) / jobs if jobs > 0 else 0.0


def _known_inputs(arrivals: Arrivals | None, jt: str) -> Any:
    if arrivals is None or jt not in arrivals.job_types:
        return np.empty(0)
    inp = np.asarray(arrivals.input_s)[arrivals.job == arrivals.job_types.index(jt)]
    return inp[np.isfinite(inp)]


def fcfs_waits(t_s: Any, service_s: Any, servers: int) -> Any:
    """Queue wait of each job (arrival order) in one FCFS line in front of `servers` identical
    servers: each job takes the server that frees first (a heap of free times)."""
    if servers < 1:
        raise ValueError("servers must be >= 1")
    arrivals = np.asarray(t_s, float).tolist()
    services = np.asarray(service_s, float).tolist()
    free = [0.0] * servers
    waits = [0.0] * len(arrivals)
    replace = heapq.heapreplace
    for i, (t, s) in enumerate(zip(arrivals, services, strict=True)):
        f = free[0]
        if f > t:
            waits[i] = f - t
            replace(free, f + s)
        else:
            replace(free, t + s)
    return np.asarray(waits)


@dataclass(frozen=True)
class ReplayOutcome:
    """What a replay of one fleet found."""

    servers: int
    #: Hours of the window in which the target was met, of `hours`.
    hours_met: int
    hours: int
    #: Share of all jobs that waited (or, with +service, took) longer than the target.
    share_over_target: float
    #: The target's percentile of wait over all jobs, seconds.
    wait_at_percentile_s: float
    #: Per job type: (jobs, the target's percentile of wait, share over target).
    by_job_type: Mapping[str, tuple[int, float, float]]
    #: Per hour: the target's percentile of the wait of the jobs arriving then (NaN: none).
    hourly_wait_s: Any = field(repr=False)
    hourly_jobs: Any = field(repr=False)
    #: The first hour of the window replayed (the hourly arrays start at the window's start).
    first_hour: int = 0

    def meets(self, hours_percentile: float) -> bool:
        return self.hours_met >= math.ceil(hours_percentile / 100.0 * self.hours - 1e-9)


def judge(jobs: Jobs, waits: Any, target: WaitTarget, servers: int,
          select: Any = None) -> ReplayOutcome:
    """Read a replay's waits against the target (module docstring)."""
    t = np.asarray(jobs.t_s)
    job = np.asarray(jobs.job)
    svc = np.asarray(jobs.service_s)
    if select is not None:
        t, job, svc = t[select], job[select], svc[select]
    judged = np.asarray(waits) + (svc if target.includes_service else 0.0)
    over = judged > target.seconds + 1e-9
    hour = np.clip((t // 3600).astype(np.int64), 0, jobs.hours - 1)
    n_h = np.bincount(hour, minlength=jobs.hours)
    over_h = np.bincount(hour, weights=over, minlength=jobs.hours)
    met = (over_h <= target.tail * n_h + 1e-9)[jobs.first_hour:]
    hourly = np.full(jobs.hours, np.nan)
    if judged.size:
        order = np.lexsort((judged, hour))
        ranked = judged[order]
        bounds = np.searchsorted(hour[order], np.arange(jobs.hours + 1))
        for h in np.flatnonzero(n_h):
            part = ranked[bounds[h]:bounds[h + 1]]
            hourly[h] = part[max(0, math.ceil(target.percentile / 100 * part.size) - 1)]
    by_type = {}
    for k, jt in enumerate(jobs.job_types):
        sel = job == k
        if sel.any():
            by_type[jt] = (int(sel.sum()), float(np.percentile(judged[sel], target.percentile)),
                           float(over[sel].mean()))
    return ReplayOutcome(
        servers=servers,
        hours_met=int(met.sum()),
        hours=jobs.hours - jobs.first_hour,
        share_over_target=float(over.mean()) if over.size else 0.0,
        wait_at_percentile_s=float(np.percentile(judged, target.percentile)) if judged.size
        else 0.0,
        by_job_type=by_type,
        hourly_wait_s=hourly,
        hourly_jobs=n_h,
        first_hour=jobs.first_hour,
    )


def replay(jobs: Jobs, servers: int, target: WaitTarget, select: Any = None) -> ReplayOutcome:
    """Run `jobs` (or those `select`ed) through `servers` slots and judge the waits."""
    t = np.asarray(jobs.t_s)
    s = np.asarray(jobs.service_s)
    if select is not None:
        t, s = t[select], s[select]
    return judge(jobs, fcfs_waits(t, s, servers), target, servers, select)


def smallest_fleet(
    jobs: Jobs, target: WaitTarget, hours_percentile: float, start: int, step: int = 1,
    select: Any = None,
) -> tuple[int, ReplayOutcome]:
    """The fewest units of `step` servers (instances of `step` slots) meeting the target in the
    replay, searched from `start` units (the analytic answer): galloping away from it (1, 2,
    4... units) until the answer is bracketed, then bisecting, so a far-off analytic guess costs
    a few replays, not one per instance. Returns it and its replay."""
    runs: dict[int, ReplayOutcome] = {}

    def ok(units: int) -> bool:
        if units not in runs:
            runs[units] = replay(jobs, units * step, target, select)
        return runs[units].meets(hours_percentile)

    start = max(1, start)
    cap = max(8 * start, start + 200)
    if ok(start):
        hi, gap = start, 1
        lo = start - 1
        while lo >= 1 and ok(lo):  # gallop down: lo meets too
            hi, gap = lo, gap * 2
            lo = hi - gap
        lo = max(lo, 0)
    else:
        lo, gap = start, 1
        hi = start + 1
        while not ok(hi):
            if hi >= cap:
                return hi, runs[hi]
            lo, gap = hi, gap * 2
            hi = min(cap, lo + gap)
    while hi - lo > 1:  # lo fails (or is 0), hi meets
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi, runs[hi]


def lane_selects(jobs: Jobs) -> tuple[Any, Any] | None:
    """(thumbnails, the rest) masks for `--lanes thumbs`; None when one of them is empty."""
    if THUMBS not in jobs.job_types:
        return None
    thumbs = np.asarray(jobs.job) == jobs.job_types.index(THUMBS)
    if thumbs.all() or not thumbs.any():
        return None
    return thumbs, ~thumbs


def replay_waits_table(outcome: ReplayOutcome, names: Sequence[str]) -> list[dict[str, Any]]:
    """Rows (job type, jobs, percentile wait, share over) of a replay, for tables and JSON."""
    return [
        {"job_type": jt, "jobs": outcome.by_job_type[jt][0],
         "wait_at_percentile_s": outcome.by_job_type[jt][1],
         "share_over_target": outcome.by_job_type[jt][2]}
        for jt in names if jt in outcome.by_job_type
    ]
