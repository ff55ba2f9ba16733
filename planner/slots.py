"""Job slots per instance: how many jobs one worker runs at once, and where the number came from.

`choose_slots` is the one place that decides (pure): the rule the user gave (`--slots`), the
workers' configured `worker_slots` where the data has it (schema v2), else an inference from the
measured concurrency that does not take a busy-but-not-saturated fleet's mean for its limit:

    the SLOTS_PERCENTILE-th percentile of the time-weighted number of running jobs over the hosts'
    busy time, counting only stretches of at least MIN_OVERLAP_S (a millisecond's overlap of one
    job ending as the next starts is not a slot)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

#: How job slots are chosen: "auto" (worker_slots, else inferred), "mean" (the mean measured
#: concurrency, rounded: sizes a lightly loaded fleet too big), "max" (the most seen at once on
#: a host, for a millisecond even), "best" (the packing density with the most throughput within
#: the slowdown bound, planner.density.best_slots; "auto" where no density was measured), or a
#: number.
SlotsRule = Literal["auto", "mean", "max", "best"] | int

#: A stretch at the configured limit is rare on a fleet that is busy but not saturated (0.09 %
#: of the busy time at 3 jobs on 3-slot hosts running 1.1 on average, tests/planner/truth_data),
#: so the percentile is very high; overlaps under MIN_OVERLAP_S are not counted at all.
SLOTS_PERCENTILE = 99.95
MIN_OVERLAP_S = 1.0


@dataclass(frozen=True)
class SlotsChoice:
    slots: int
    #: Where the number came from, for people ("worker_slots column", "inferred ...").
    source: str


def infer_slots(level_seconds: Sequence[float], percentile: float = SLOTS_PERCENTILE) -> int | None:
    """The `percentile`-th percentile of the time-weighted concurrency: level_seconds[k] is the
    busy time (seconds) during which k jobs ran (k >= 1; index 0 ignored). None if no busy time."""
    w = np.asarray(level_seconds, float).copy()
    if w.size:
        w[0] = 0.0
    total = w.sum()
    if total <= 0:
        return None
    cum = np.cumsum(w) / total
    return max(1, int(np.searchsorted(cum, percentile / 100.0 - 1e-12)))


def choose_slots(
    rule: SlotsRule,
    *,
    worker_slots: int | None,
    level_seconds: Sequence[float],
    mean_concurrency: float,
    max_concurrency: int,
    measured: bool,
    density_slots: int | None = None,
) -> SlotsChoice:
    """Slots per instance of one type by `rule` (module docstring). `density_slots`: the best
    density within the slowdown bound (planner.density.best_slots), for rule "best"."""
    if isinstance(rule, int):
        return SlotsChoice(rule, "--slots")
    if rule == "best":
        if density_slots is not None and density_slots >= 1:
            return SlotsChoice(int(density_slots), "best density within the slowdown bound")
        auto = choose_slots("auto", worker_slots=worker_slots, level_seconds=level_seconds,
                            mean_concurrency=mean_concurrency, max_concurrency=max_concurrency,
                            measured=measured)
        return SlotsChoice(auto.slots, f"{auto.source}; no density measured")
    if rule == "mean":
        return SlotsChoice(max(1, int(mean_concurrency + 0.5)), "mean measured concurrency")
    if rule == "max":
        return SlotsChoice(max(1, max_concurrency), "most seen at once on a host")
    if worker_slots is not None and worker_slots >= 1:
        return SlotsChoice(int(worker_slots), "worker_slots (configured)")
    if not measured:
        return SlotsChoice(1, "assumed 1 (no host names)")
    inferred = infer_slots(level_seconds)
    if inferred is None:  # no stretch of a second or more: only the mean is known
        return SlotsChoice(max(1, int(mean_concurrency + 0.5)), "mean measured concurrency")
    return SlotsChoice(inferred, f"inferred (p{SLOTS_PERCENTILE:g} of concurrency)")
