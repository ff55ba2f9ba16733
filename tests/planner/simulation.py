"""A discrete-event simulation of a job queue in front of a fleet of job slots (seeded).

First come, first served, one shared queue, `servers` identical slots (instances * slots per
instance): a job starts on the slot that frees first, or at once if one is idle. Arrivals are
Poisson (exponential gaps); service times are drawn from the measured ones (bootstrap) or
exponential. Used by the tests to check the M/M/c sizing against a queue that is actually run.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence


def poisson_arrivals(rate_per_s: float, count: int, rng: random.Random) -> list[float]:
    """Arrival times (s) of `count` jobs of a Poisson process of `rate_per_s`."""
    t = 0.0
    out = []
    for _ in range(count):
        t += rng.expovariate(rate_per_s)
        out.append(t)
    return out


def simulate_waits(
    arrivals: Sequence[float], service_times: Sequence[float], servers: int
) -> list[float]:
    """Queue wait (s) of each arrival in order: FCFS over `servers` slots.

    `service_times[i]` is the service of arrival i. The heap holds the time each slot is next
    free; the earliest one serves the next arrival (FCFS makes that exact for identical slots).
    """
    if servers < 1:
        raise ValueError("servers must be >= 1")
    free = [0.0] * servers
    heapq.heapify(free)
    waits = []
    for t, s in zip(arrivals, service_times, strict=True):
        slot_free = heapq.heappop(free)
        start = max(t, slot_free)
        waits.append(start - t)
        heapq.heappush(free, start + s)
    return waits


def run(
    *,
    rate_per_s: float,
    measured_service_s: Sequence[float],
    servers: int,
    jobs: int,
    seed: int,
    warmup: int = 1000,
) -> list[float]:
    """Waits of `jobs` Poisson arrivals with services resampled from `measured_service_s`,
    after discarding the first `warmup` (the queue starts empty)."""
    rng = random.Random(seed)
    arrivals = poisson_arrivals(rate_per_s, jobs + warmup, rng)
    services = [rng.choice(measured_service_s) for _ in arrivals]
    return simulate_waits(arrivals, services, servers)[warmup:]


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), nearest rank."""
    xs = sorted(values)
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]
