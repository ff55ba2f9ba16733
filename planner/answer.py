"""The answer of a fleet sizing in words, for people: what to buy, what it costs an hour and a
month, on spot and on-demand, the wait it gives and the cost of a media hour.

`mjplan size`, `mjplan summary`, the TUI's sizing view, the HTML report and the notebooks all
write it from here, so they say the same thing with the same figures. Pure: a
`planner.sizing.SizingResult` in, plain values and text out (no Rich, no HTML).

The figures are the sizing's own (`FleetRecommendation.cost`): the recommended fleet run as
its cheapest type alone, its instance count and $/h in each capacity type; a month is
`planner.sizing.HOURS_PER_MONTH` (730 h, as AWS prices a month).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.formats import short_job_type, usd
from planner.sizing import HOURS_PER_MONTH

if TYPE_CHECKING:
    from planner.sizing import SizingResult

__all__ = ["HOURS_PER_MONTH", "Answer", "answer_json", "answer_of", "demand_words"]


@dataclass(frozen=True)
class Answer:
    """The headline of a sizing; `capacity` is the one asked for, `other` the alternative."""

    capacity: str
    instance_type: str
    estimated: bool
    instances: int
    usd_h: float
    other_capacity: str
    other_instances: int
    other_usd_h: float
    #: "p95 wait 12 s (target 60 s)", or "" without a wait target.
    wait: str
    usd_per_media_h: float | None
    #: The diversified fleet: "target capacity 8 over c7i.large ×1.413, c6i.large* ×1.113".
    fleet: str
    #: "export 23.0 jobs/h, proxy 30.2 jobs/h (data: p95 hour of 336 h)".
    demand: str

    @property
    def usd_month(self) -> float:
        return self.usd_h * HOURS_PER_MONTH

    @property
    def other_usd_month(self) -> float:
        return self.other_usd_h * HOURS_PER_MONTH

    @property
    def spot_usd_month(self) -> float:
        return self.usd_month if self.capacity == "spot" else self.other_usd_month

    @property
    def on_demand_usd_month(self) -> float:
        return self.usd_month if self.capacity == "on-demand" else self.other_usd_month

    def sentence(self) -> str:
        """The recommendation in plain words, one sentence."""
        star = " (estimated from a measured type of its family)" if self.estimated else ""
        return (
            f"Buy {self.instances} {self.capacity} {self.instance_type}{star}: "
            f"{usd(self.usd_h)}/h, {usd(self.usd_month, 0)} a month ({self.other_capacity}: "
            f"{self.other_instances} for {usd(self.other_usd_h)}/h, "
            f"{usd(self.other_usd_month, 0)} a month)."
        )

    def brief(self) -> str:
        """The sentence in one line of 80 columns (the TUI's sizing view):
        `Buy 5 spot c7i.large: $0.20/h, $147/month (on-demand 4: $261/month)`."""
        star = "*" if self.estimated else ""
        return (f"Buy {self.instances} {self.capacity} {self.instance_type}{star}: "
                f"{usd(self.usd_h)}/h, {usd(self.usd_month, 0)}/month ({self.other_capacity} "
                f"{self.other_instances}: {usd(self.other_usd_month, 0)}/month)")

    def lines(self) -> list[str]:
        """The answer in short lines (each under 80 characters for a typical fleet): what to
        buy and its cost, then the wait and cost of a media hour, the fleet, the demand."""
        quality = [x for x in (
            self.wait,
            f"{usd(self.usd_per_media_h, 3)} per media hour"
            if self.usd_per_media_h is not None else "",
        ) if x]
        return [
            self.sentence(),
            *([" · ".join(quality)] if quality else []),
            f"As a diversified {self.capacity} fleet: {self.fleet}.",
            f"Sized for {self.demand}.",
        ]


def demand_words(result: SizingResult) -> str:
    """`export 23.0 jobs/h, audio 14.0 jobs/h (data: p95 hour of 336 h)`: each job type's
    demand by its short name, and where it comes from (each its own when they differ)."""
    demand = list(result.demand.values())
    sources = {d.source for d in demand}
    common = next(iter(sources)) if len(sources) == 1 else ""
    parts = [
        f"{short_job_type(d.job_type)} {d.jobs_per_hour:,.1f} jobs/h"
        + ("" if common else f" ({d.source})")
        for d in demand
    ]
    growth = result.options.growth
    tail = f" ({common})" if common else ""
    if growth != 1:
        tail += f", growth x{growth:g} included"
    return (", ".join(parts) or "no demand") + tail


def answer_of(result: SizingResult) -> Answer | None:
    """The headline of `result`, or None when no instance type carries the demand."""
    rec = result.recommendation
    if rec is None or rec.cost is None or not result.types:
        return None
    cost = rec.cost
    capacity = result.options.capacity
    other = "on-demand" if capacity == "spot" else "spot"
    top = next((t for t in result.types if t.instance_type == cost.instance_type),
               result.types[0])
    wait = result.options.wait
    wait_text = ""
    if wait is not None and top.wait_at_target_percentile_s is not None:
        what = "response" if wait.includes_service else "wait"
        wait_text = (f"p{wait.percentile:g} {what} {top.wait_at_target_percentile_s:,.1f} s "
                     f"(target {wait.seconds:g} s)")
    instances = {"spot": cost.instances_spot, "on-demand": cost.instances_on_demand}
    usd_h = {"spot": cost.spot_usd_h, "on-demand": cost.on_demand_usd_h}
    members = ", ".join(
        f"{m.instance_type}{'*' if m.estimated else ''} ×{m.weighted_capacity:g}"
        for m in rec.members
    )
    per_media_h = (top.spot_usd_per_media_h if capacity == "spot"
                   else top.on_demand_usd_per_media_h)
    return Answer(
        capacity=capacity,
        instance_type=cost.instance_type,
        estimated=top.estimated,
        instances=instances[capacity],
        usd_h=usd_h[capacity],
        other_capacity=other,
        other_instances=instances[other],
        other_usd_h=usd_h[other],
        wait=wait_text,
        usd_per_media_h=per_media_h,
        fleet=f"target capacity {rec.total_target_capacity} over {members}",
        demand=demand_words(result),
    )


def answer_json(result: SizingResult) -> dict[str, object] | None:
    """The answer for `mjplan size --json` (key `answer`): what the other outputs say in words,
    as numbers; None when nothing carries the demand."""
    a = answer_of(result)
    if a is None:
        return None
    return {
        "sentence": a.sentence(),
        "capacity": a.capacity,
        "instance_type": a.instance_type,
        "instances": a.instances,
        "usd_h": a.usd_h,
        "usd_month": a.usd_month,
        "spot_usd_month": a.spot_usd_month,
        "on_demand_usd_month": a.on_demand_usd_month,
        "hours_per_month": HOURS_PER_MONTH,
        "wait": a.wait,
        "usd_per_media_h": a.usd_per_media_h,
        "fleet": a.fleet,
        "demand": a.demand,
    }
