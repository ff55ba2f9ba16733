"""An event-by-event simulation of a job queue in front of a pool of slots, written apart from the
planner's replay (planner.replay assigns each job to the earliest-free server; this one runs a
calendar of arrival and departure events with an explicit FIFO line), so the tests can judge the
planner's fleet with something that does not share its code.

Failed attempts go back to the end of the line as retries, as a real queue does with them.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

ARRIVAL, DEPARTURE = 1, 0  # departures first at equal times: a slot freed at t serves at t


@dataclass
class Job:
    arrived: float
    #: Hour (of the run) the job first arrived in.
    hour: int
    #: Seconds the job holds a slot when it succeeds.
    service: float
    #: Seconds each failed try holds a slot before the retry, in order.
    failures: list[float]
    first_wait: float = math.nan


def run_queue(jobs: list[Job], slots: int) -> list[Job]:
    """Serve `jobs` (any order) FCFS on `slots` slots; sets each job's first wait (the wait of
    its first attempt, what a user sees before anything happens)."""
    events: list[tuple[float, int, int, int]] = []
    seq = 0
    for i, job in enumerate(jobs):
        events.append((job.arrived, ARRIVAL, seq, i))
        seq += 1
    heapq.heapify(events)
    line: deque[tuple[int, float]] = deque()
    free = slots
    tries = [0] * len(jobs)

    def start(i: int, now: float, queued_at: float) -> None:
        nonlocal seq, free
        job = jobs[i]
        if tries[i] == 0:
            job.first_wait = now - queued_at
        k = tries[i]
        hold = job.failures[k] if k < len(job.failures) else job.service
        free -= 1
        heapq.heappush(events, (now + hold, DEPARTURE, seq, i))
        seq += 1

    while events:
        now, kind, _, i = heapq.heappop(events)
        if kind == ARRIVAL:
            if free > 0 and not line:
                start(i, now, now)
            else:
                line.append((i, now))
            continue
        free += 1
        k = tries[i]
        tries[i] += 1
        if k < len(jobs[i].failures):  # that try failed: the job queues again at the end
            heapq.heappush(events, (now, ARRIVAL, seq, i))
            seq += 1
        if line and free > 0:
            j, queued = line.popleft()
            start(j, now, queued)
    return jobs


def meets(jobs: list[Job], hours: int, target_s: float, percentile: float = 95.0,
          hours_percentile: float = 95.0) -> tuple[bool, int]:
    """(met, hours meeting it): in at least `hours_percentile` % of the hours, at most
    1 - percentile/100 of the jobs that arrived then waited longer than `target_s`."""
    n = [0] * hours
    over = [0] * hours
    for job in jobs:
        n[job.hour] += 1
        over[job.hour] += job.first_wait > target_s + 1e-9
    ok = sum(o <= (1 - percentile / 100) * c + 1e-9 for o, c in zip(over, n, strict=True))
    return ok >= math.ceil(hours_percentile / 100 * hours - 1e-9), ok


def simulate(make_jobs: Callable[[], list[Job]], slots: int, hours: int,
             target_s: float) -> tuple[bool, int]:
    return meets(run_queue(make_jobs(), slots), hours, target_s)
