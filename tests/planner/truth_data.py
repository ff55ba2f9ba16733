"""Datasets with known truth for the sizing tests: a "world" of job types (hourly Poisson rates
with their own peaks, lognormal input lengths, batches, failures) run on a fleet of hosts with a
known number of slots each, written as attempt rows; and fresh draws of the same world for an
independent check of a recommended fleet (tests/planner/queue_sim.py)."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from typing import Any

from tests.planner.queue_sim import Job
from tests.rows import T0, attempt

EXPORT, PROXY, THUMB = "create_video_export_v1", "upload_edit_proxy_v1", "upload_thumb_v1"


@dataclass(frozen=True)
class JobKind:
    job_type: str
    #: Mean first attempts per hour, and the swing around it: rate(h) = mean (1 + swing cos(..))
    mean_per_h: float
    swing: float
    peak_hour: int
    #: Input length (media jobs: lognormal median, sigma, clipped to [10 s, 30 min]) and the
    #: real-time factor of one slot; thumbnails: wall seconds lognormal (median, sigma).
    median_s: float
    sigma: float
    rtf: float | None
    #: Mean batch size (geometric batches; 1 = plain Poisson).
    batch: float = 1.0
    fail_share: float = 0.0

    def rate(self, hour: int) -> float:
        return self.mean_per_h * (1 + self.swing * math.cos(2 * math.pi * (hour - self.peak_hour)
                                                            / 24))

    def draw(self, rng: random.Random) -> tuple[float | None, float]:
        """(input media seconds or None, wall seconds on one slot)."""
        x = rng.lognormvariate(math.log(self.median_s), self.sigma)
        if self.rtf is None:
            return None, x
        length = min(1800.0, max(10.0, x))
        return length, length / self.rtf


@dataclass(frozen=True)
class World:
    kinds: tuple[JobKind, ...]
    slots_per_host: int
    hosts: int
    instance_type: str = "c5.large"


def _arrivals(world: World, hours: int, rng: random.Random) -> list[tuple[float, JobKind]]:
    out: list[tuple[float, JobKind]] = []
    for kind in world.kinds:
        p = 1 / kind.batch
        for h in range(hours):
            t = h * 3600.0
            rate = kind.rate(h % 24) / kind.batch / 3600.0
            while True:
                t += rng.expovariate(rate)
                if t >= (h + 1) * 3600.0:
                    break
                size = 1
                while rng.random() > p:  # geometric batch of mean `batch`
                    size += 1
                out.extend((t, kind) for _ in range(size))
    out.sort(key=lambda x: x[0])
    return out


def _failures(kind: JobKind, wall: float, rng: random.Random) -> list[float]:
    fails = []
    while rng.random() < kind.fail_share:
        fails.append(rng.uniform(0, wall))
    return fails


def true_jobs(world: World, hours: int, seed: int) -> list[Job]:
    """A fresh draw of the world's jobs, for the independent check."""
    rng = random.Random(seed)
    jobs = []
    for t, kind in _arrivals(world, hours, rng):
        _, wall = kind.draw(rng)
        jobs.append(Job(t, int(t // 3600), wall, _failures(kind, wall, rng)))
    return jobs


def measured_rows(world: World, hours: int, seed: int) -> list[dict[str, Any]]:
    """The world run on its fleet (world.hosts x world.slots_per_host, a job taking a free slot
    at random, FCFS when none is free), as attempt rows."""
    rng = random.Random(seed)
    slots = [(h, k) for h in range(world.hosts) for k in range(world.slots_per_host)]
    free_at = dict.fromkeys(slots, 0.0)
    pending: list[tuple[float, int, JobKind, float | None, float, list[float], int, str]] = []
    seq = 0
    for t, kind in _arrivals(world, hours, rng):
        inp, wall = kind.draw(rng)
        pending.append((t, seq, kind, inp, wall, _failures(kind, wall, rng), 1, f"j{seq}"))
        seq += 1
    heapq.heapify(pending)
    rows = []
    while pending:
        t, _, kind, inp, wall, fails, number, job_id = heapq.heappop(pending)
        idle = [s for s in slots if free_at[s] <= t]
        slot = rng.choice(idle) if idle else min(slots, key=lambda s: free_at[s])
        start = max(t, free_at[slot])
        failed = number <= len(fails)
        hold = fails[number - 1] if failed else wall
        free_at[slot] = start + hold
        rows.append(attempt(
            job_type=kind.job_type, start_s=start, wall_s=max(hold, 0.001), input_s=inp,
            hostname=f"host{slot[0]}", instance_type=world.instance_type,
            status="failed" if failed else "succeeded", attempt_number=number, job_id=job_id,
            t0=T0, validate=False))
        if failed:
            heapq.heappush(pending, (start + hold, seq, kind, inp, wall, fails, number + 1,
                                     job_id))
            seq += 1
    return rows
