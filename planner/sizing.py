"""Fleet sizing: how many instances of each type carry the demand, what they cost, which to buy.

Two steps, so a UI can recompute instantly after an input change:

    inputs = load_sizing_inputs(ds, window=14 days)   # the DuckDB queries (slow, once)
    result = size_fleet(inputs, SizingOptions(...))     # the analytic sizing (milliseconds) and
                                                        # a replay of the cheapest (a second)

The model, what is measured and what is assumed, and what the replay adds: docs/sizing.md (the
one place it is written; this module follows its sections: the design hour of `planner.mix`,
the bounds and the Allen-Cunneen wait of section 6, spot headroom, cost, estimates, the
recommendation by architecture and the replay of section 12).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from collectors.schema import THROUGHPUT_MEDIA_SECONDS
from planner.arrivals import Arrivals
from planner.demand import Demand, DemandHistory, resolve_demand, unit_of
from planner.mix import (
    HourLoad,
    HourlyDemand,
    MissingMeasurement,
    erlang_c_hours,
    hourly_demand,
    hourly_load,
    hours_start,
)
from planner.prices import InstancePrice, PriceTable, arch_of
from planner.queueing import (
    erlang_c_from_b,
    response_percentile,
    response_tail,
    variability_factor,
    wait_percentile,
    wait_tail,
)
from planner.replay import (
    ReplayOutcome,
    fcfs_waits,
    jobs_for,
    judge,
    lane_selects,
    replay,
    smallest_fleet,
)
from planner.service_times import ServiceSample

# Re-exported (`as`): the options live in planner.sizing_options, built there from plain values.
from planner.sizing_options import CapacityType as CapacityType
from planner.sizing_options import SizingError as SizingError
from planner.sizing_options import SizingOptions as SizingOptions
from planner.sizing_options import WaitTarget as WaitTarget
from planner.sizing_options import check_utilisation as check_utilisation
from planner.sizing_options import parse_wait as parse_wait
from planner.throughput import (
    Concurrency,
    InstanceMeasurements,
    Service,
    SlotsRule,
    Waste,
)

if TYPE_CHECKING:
    import polars as pl

class CannotSize(SizingError):
    """One instance type cannot carry the demand (no measurement of a job type on it, every
    attempt failed...): the caller leaves the type out, with this message as the reason."""


class ResponseTargetError(CannotSize):
    """A response-time target below the service time's own percentile on one instance type."""

    def __init__(self, message: str, floor_s: float) -> None:
        super().__init__(message)
        #: The lowest target the type could meet with unlimited instances, seconds.
        self.floor_s = floor_s


# --------------------------------------------------------------------------------------------
# Instance counts (the queueing maths: planner.queueing)


def instances_for_utilisation(load: float, slots: int, utilisation: float) -> int:
    """Fewest instances whose `slots` each keep the busy share at most `utilisation`.

    ceil(load / (slots * utilisation)); 0 for no load. `load` in Erlangs (busy slots).
    """
    check_utilisation(utilisation)
    if load <= 0:
        return 0
    # The epsilon keeps 2.0000000001 (float noise on an exact fit) from costing an instance.
    return max(1, math.ceil(load / (slots * utilisation) - 1e-9))


def instances_for_wait(
    lam: float, mu: float, slots: int, target: WaitTarget, factor: float = 1.0
) -> int:
    """Fewest instances of `slots` servers each meeting the wait target in M/M/c, the wait
    stretched by the Allen-Cunneen `factor` (planner.queueing.variability_factor; 1: M/M/c).

    lam: arrivals per second, mu: services per second per slot. One pass of the Erlang B
    recurrence up to the answer, testing at each whole instance (O(answer * slots)).
    Raises SizingError when no fleet can meet a response-time target.
    """
    if lam <= 0:
        return 0
    if slots < 1 or mu <= 0:
        raise ValueError("slots must be >= 1 and mu > 0")
    load = lam / mu
    if target.includes_service:
        floor_t = math.log(1.0 / target.tail) / mu
        if target.seconds <= floor_t:
            raise ResponseTargetError(
                f"response target {target.label()} is below the p{target.percentile:g} of the "
                f"service time itself ({floor_t:.1f}s, mean service {1 / mu:.1f}s): no number of "
                "instances can meet it",
                floor_t,
            )
    tail_fn = response_tail if target.includes_service else wait_tail
    b = 1.0
    k = 0
    n = 0
    # A generous cap: past it the tail is numerically 0 for any sane input.
    max_servers = int(load + 50 * math.sqrt(load + 1) * max(1.0, factor) + 100) + slots
    while True:
        n += 1
        servers = n * slots
        while k < servers:
            k += 1
            b = load * b / (k + load * b)
        if load < servers:
            c_prob = erlang_c_from_b(servers, load, b)
            tail = tail_fn(c_prob, servers, lam, mu, target.seconds, factor)
            if tail <= target.tail + 1e-12:
                return n
        if servers > max_servers:
            return n


def spot_instances(instances: int, interruption_rate: float) -> int:
    """Instances to run on spot so losing `interruption_rate` of them still leaves `instances`."""
    if instances <= 0:
        return 0
    return math.ceil(instances * (1.0 + interruption_rate) - 1e-9)


# --------------------------------------------------------------------------------------------
# Estimation of unmeasured types (a stated model)


def estimate_by_vcpus(
    measured: InstanceMeasurements,
    base_price: InstancePrice,
    target: InstancePrice,
    rule: SlotsRule = "mean",
) -> InstanceMeasurements:
    """Figures for `target` from a measured type of the same family, by the stated model
    "throughput scales with vCPUs":

        r      = vCPUs(target) / vCPUs(measured)
        slots  = max(1, round(slots(measured) * r))
        S_ij  *= slots / (slots(measured) * r)     (service time of each job type)

    so that slots / S_ij, the jobs per second one instance completes, is exactly r times the
    measured type's. (A 2-vCPU type estimated from a 2-slot 8-vCPU one gets 1 slot, r = 1/4,
    and each job takes twice as long: 1 / (2 * 1/4) = 2.) The mean concurrency scales with the
    slots, so the throughput at it (`throughput_frame`) is r times the measured one as well.
    Marked `estimated_from` everywhere it appears."""
    ratio = target.vcpus / base_price.vcpus
    base_slots = measured.slots_for(rule)
    # Halves round up, as the measured slots do (Concurrency.slots); round() would take 2.5 to 2.
    slots = max(1, int(base_slots * ratio + 0.5))
    scale = slots / (base_slots * ratio)
    services = {
        jt: Service(
            target.instance_type,
            jt,
            s.attempts,
            s.wall_seconds * scale,
            s.media_seconds,
            s.media_wall_seconds * scale,
        )
        for jt, s in measured.services.items()
    }
    conc = measured.concurrency
    return InstanceMeasurements(
        target.instance_type,
        # slots / base_slots, not the ratio: with S_ij stretched by `scale`, only that keeps
        # the mean concurrency / S_ij at r times the measured type's.
        Concurrency(
            target.instance_type,
            0,
            conc.attempt_seconds * slots / base_slots,
            conc.busy_seconds,
            0,
        ),
        services,
        estimated_from=measured.instance_type,
        fixed_slots=slots,
    )


def with_estimates(
    measured: Mapping[str, InstanceMeasurements], prices: PriceTable, rule: SlotsRule = "mean"
) -> dict[str, InstanceMeasurements]:
    """The measured types plus an estimate for every priced type of a measured family (from the
    family's type with the most measured attempts)."""
    out = dict(measured)
    by_family: dict[str, InstanceMeasurements] = {}
    for name, m in measured.items():
        if name not in prices:
            continue
        fam = prices[name].family
        best = by_family.get(fam)
        attempts = sum(s.attempts for s in m.services.values())
        if best is None or attempts > sum(s.attempts for s in best.services.values()):
            by_family[fam] = m
    for name in prices:
        if name in out:
            continue
        base = by_family.get(prices[name].family)
        if base is not None:
            out[name] = estimate_by_vcpus(base, prices[base.instance_type], prices[name], rule)
    return out


# --------------------------------------------------------------------------------------------
# Inputs, options, results


@dataclass(frozen=True)
class SizingInputs:
    """Everything the queries found: loaded once, sized many times."""

    measurements: Mapping[str, InstanceMeasurements]
    histories: Mapping[str, DemandHistory]
    waste: Mapping[str, Waste]
    prices: PriceTable
    window: dt.timedelta
    #: Where the data came from (for reports).
    source: str = ""
    #: The window's first attempts one by one (the replay's arrivals); None: not loaded.
    arrivals: Arrivals | None = None
    #: Measured service times per (instance type, job type), a sample (shape: SCV, draws).
    samples: Mapping[tuple[str, str], ServiceSample] = field(default_factory=dict)
    #: Burstiness of the arrivals (IDC, planner.arrivals): ca^2 of the wait model; 1 = Poisson.
    burstiness: float = 1.0
    #: Start of the window's first hour (for the design hour's time).
    start: dt.datetime | None = None
    #: planner.density.measure_levels over the window (for `--slots best`); None: not loaded.
    density_levels: pl.DataFrame | None = None


@dataclass(frozen=True)
class TypeSizing:
    """The fleet of one instance type that carries the whole demand alone."""

    instance_type: str
    estimated_from: str | None
    vcpus: int
    memory_gib: float
    slots: int
    #: Arrivals incl. retries, per second (in the design hour).
    arrivals_per_s: float
    #: Offered load, busy slots (Erlangs) (in the design hour).
    load_erlangs: float
    #: Mean seconds a job of the design hour's mix holds a slot.
    mean_service_s: float
    instances_utilisation: int
    instances_wait: int | None
    instances: int
    bound: str
    #: The wait (or response) percentile at `instances`, seconds (the replay's over the window
    #: when it decided, else the analytic one in the design hour).
    wait_at_target_percentile_s: float | None
    #: Busy share of the slots at `instances` (design hour).
    utilisation: float
    interruption_band: str
    interruption_rate: float
    instances_spot: int
    on_demand_usd_h: float
    spot_usd_h: float
    #: None when the demand has no media seconds (thumbnails only: counted in jobs).
    on_demand_usd_per_media_h: float | None
    spot_usd_per_media_h: float | None
    #: Jobs of the mix one instance completes per hour at full use of its slots.
    capacity_jobs_per_hour: float
    #: False when the attempts had no host names: slots not measured, 1 assumed.
    concurrency_measured: bool = True
    arch: str = "x86_64"
    #: Where the slots came from (planner.slots).
    slots_source: str = ""
    #: Start (ISO) of the hour sized for: the p-th percentile hour of the load on this type.
    design_hour: str | None = None
    #: SCVs of the design hour: service times of the mix, arrivals (burstiness).
    service_scv: float = 1.0
    arrival_scv: float = 1.0
    #: Allen-Cunneen factor (ca^2 + cs^2) / 2 applied to the M/M/c wait.
    wait_factor: float = 1.0
    #: The analytic answer (max of the utilisation and wait bounds).
    instances_analytic: int = 0
    #: What decided `instances`: "analytic", or "replay" (it ran and moved or confirmed it).
    decided_by: str = "analytic"
    #: Hours of the window meeting the wait target at `instances`, of `hours`.
    hours_met: int | None = None
    hours: int = 0
    #: Share of the jobs waiting (with +service: taking) longer than the target.
    share_over_target: float | None = None
    #: Per job type (replay): jobs, the target's percentile of wait, share over target.
    waits_by_job_type: Mapping[str, tuple[int, float, float]] = field(default_factory=dict)
    #: What the replay ran ("the window's 13,209 arrivals", ...); "" without a replay.
    replay_source: str = ""
    #: With `--lanes thumbs`: slots of the fleet kept for thumbnails.
    thumb_slots: int | None = None
    #: Where its numbers come from: 'estimated' (scaled from `estimated_from`), else the
    #: sources of its measured rows: 'production', 'bench', 'synthetic' (joined with '+').
    source: str = "production"

    @property
    def estimated(self) -> bool:
        return self.estimated_from is not None

    @property
    def from_label(self) -> str:
        """Where its numbers come from, for tables: the measured rows' source, or
        "est. <type>" for a type estimated from a measured one."""
        return f"est. {self.estimated_from}" if self.estimated_from else self.source

    def usd_h(self, capacity: CapacityType) -> float:
        return self.spot_usd_h if capacity == "spot" else self.on_demand_usd_h

    def fleet_instances(self, capacity: CapacityType) -> int:
        return self.instances_spot if capacity == "spot" else self.instances


@dataclass(frozen=True)
class FleetMember:
    instance_type: str
    weighted_capacity: float
    estimated: bool
    #: Instances of this type alone, in the chosen capacity type.
    instances_alone: int
    usd_h_alone: float
    #: CPU architecture; "" = from the type's name (planner.prices.arch_of).
    arch: str = ""


HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class FleetCost:
    """The headline: what the recommended fleet costs, run as its cheapest type alone (the
    price-capacity-optimized allocation may pick dearer pools: `max_*` is its dearest member
    alone)."""

    instance_type: str
    instances_on_demand: int
    instances_spot: int
    on_demand_usd_h: float
    spot_usd_h: float
    max_on_demand_usd_h: float
    max_spot_usd_h: float

    @property
    def on_demand_usd_month(self) -> float:
        return self.on_demand_usd_h * HOURS_PER_MONTH

    @property
    def spot_usd_month(self) -> float:
        return self.spot_usd_h * HOURS_PER_MONTH


@dataclass(frozen=True)
class FleetRecommendation:
    capacity: CapacityType
    members: tuple[FleetMember, ...]
    total_target_capacity: int
    #: What one unit of capacity is.
    unit: str
    cost: FleetCost | None = None

    @property
    def architectures(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.arch or arch_of(m.instance_type) for m in self.members))


@dataclass(frozen=True)
class SizingResult:
    options: SizingOptions
    #: The mix of the hour sized for on the cheapest type (its design hour), per job type.
    demand: Mapping[str, Demand]
    #: Ranked, cheapest first in the chosen capacity type.
    types: tuple[TypeSizing, ...]
    #: Instance types left out, with the reason.
    skipped: Mapping[str, str]
    recommendation: FleetRecommendation | None
    waste: Mapping[str, Waste]

    def headline(self) -> str:
        """One line: the answer and what it costs (spot and on-demand, per hour and month)."""
        rec = self.recommendation
        if rec is None or rec.cost is None or not self.types:
            return "No fleet: no instance type carries the demand."
        c = rec.cost
        top = self.types[0]
        n = top.fleet_instances(rec.capacity)
        return (
            f"{n} {rec.capacity} x {top.instance_type} ({top.slots} slots, decided by the "
            f"{top.decided_by}); fleet "
            f"spot ${c.spot_usd_h:,.2f}/h = ${c.spot_usd_month:,.0f}/month, on-demand "
            f"${c.on_demand_usd_h:,.2f}/h = ${c.on_demand_usd_month:,.0f}/month (730 h)"
        )

    def to_frame(self) -> pl.DataFrame:
        """The ranked table: one row per instance type."""
        import polars as pl

        rows = [
            {"rank": i + 1, "estimated": t.estimated,
             **{k: v for k, v in asdict(t).items() if k != "waits_by_job_type"}}
            for i, t in enumerate(self.types)
        ]
        if not rows:
            return pl.DataFrame()
        return pl.DataFrame(rows)

    def demand_frame(self) -> pl.DataFrame:
        import polars as pl

        return pl.DataFrame([asdict(d) for d in self.demand.values()])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (`mjplan size --json`)."""
        opts = asdict(self.options)
        rec = self.recommendation
        rec_doc = asdict(rec) if rec else None
        if rec is not None and rec.cost is not None and rec_doc is not None:
            rec_doc["cost"]["on_demand_usd_month"] = rec.cost.on_demand_usd_month
            rec_doc["cost"]["spot_usd_month"] = rec.cost.spot_usd_month
        return {
            "options": opts,
            "headline": self.headline(),
            "demand": [asdict(d) for d in self.demand.values()],
            "waste": [
                {
                    "job_type": w.job_type,
                    "retry_share": w.retry_share,
                    "waste_ratio": w.waste_ratio,
                    "attempts": w.attempts,
                }
                for w in self.waste.values()
            ],
            "types": [{"rank": i + 1, "estimated": t.estimated, **asdict(t)}
                      for i, t in enumerate(self.types)],
            "skipped": dict(self.skipped),
            "recommendation": rec_doc,
        }


def load_sizing_inputs(
    source: Any,
    *,
    window: dt.timedelta = dt.timedelta(days=14),
    prices: PriceTable | None = None,
) -> SizingInputs:
    """Run the queries (demand history, concurrency, services, waste, arrivals, service
    samples, worker slots) over the window.

    `source` is a planner Dataset or a duckdb connection with an `attempts` view.
    """
    from planner.arrivals import burstiness, load_arrivals
    from planner.demand import load_hourly_arrivals
    from planner.density import measure_levels
    from planner.prices import load_prices
    from planner.service_times import measure_service_samples
    from planner.throughput import (
        measure_concurrency,
        measure_outcomes,
        measure_sources,
        measure_worker_slots,
        measurements_from,
    )

    hourly = load_hourly_arrivals(source)
    start, end = hourly.bounds(window)
    histories = hourly.histories(window)
    services, waste = measure_outcomes(source, start)
    arrivals = load_arrivals(source, start, end)
    sources = measure_sources(source, start)
    levels = measure_levels(source, since=start)
    measured = measurements_from(
        measure_concurrency(source, start), services, measure_worker_slots(source, start))
    return SizingInputs(
        measurements={t: replace(m, source=sources.get(t)) for t, m in measured.items()},
        density_levels=levels,
        histories=histories,
        waste=waste,
        prices=prices if prices is not None else load_prices(),
        window=window,
        source=str(getattr(source, "url", "")),
        arrivals=arrivals,
        samples=measure_service_samples(source, start),
        burstiness=burstiness(arrivals.t_s, arrivals.hours),
        start=start,
    )


def samples_on(inputs: SizingInputs, m: InstanceMeasurements) -> dict[str, ServiceSample]:
    """The measured service samples of each job type on `m` (an estimated type: its base
    type's, stretched as its mean service times are)."""
    if m.estimated_from is None:
        return {j: smp for (i, j), smp in inputs.samples.items() if i == m.instance_type}
    base = inputs.measurements.get(m.estimated_from)
    out = {}
    for jt, svc in m.services.items():
        smp = inputs.samples.get((m.estimated_from, jt))
        if smp is not None and base is not None and jt in base.services:
            out[jt] = smp.scaled(svc.service_s / base.services[jt].service_s)
    return out


@dataclass(frozen=True)
class _Context:
    """What sizing one type needs besides its measurements and price."""

    demand: HourlyDemand
    waste: Mapping[str, Waste]
    options: SizingOptions
    burstiness: float
    start: dt.datetime | None


def size_type(
    m: InstanceMeasurements,
    price: InstancePrice,
    ctx: _Context,
    samples: Mapping[str, ServiceSample],
) -> TypeSizing:
    """Size a fleet of type `m` alone for the whole demand, analytically: the p-th percentile
    hour of its load (`planner.mix`), the utilisation bound and the Allen-Cunneen wait bound.

    Raises CannotSize (the reason) when this type cannot carry it."""
    options = ctx.options
    scvs = {jt: smp.scv for jt, smp in samples.items()}
    try:
        hours = hourly_load(m, ctx.demand, ctx.waste, scvs, count_waste=options.count_waste)
    except MissingMeasurement as exc:
        raise CannotSize(str(exc)) from None
    if not np.all(np.isfinite(hours.lam)):
        raise CannotSize("every attempt failed")
    h = hours.design_hour(options.percentile)
    lam = float(hours.lam[h])
    load = float(hours.load[h])
    scv = float(hours.scv[h])
    choice = m.slots_choice(options.slots)
    slots = choice.slots
    mean_service = load / lam if lam > 0 else 0.0
    factor = variability_factor(ctx.burstiness, scv)
    n_util = instances_for_utilisation(load, slots, options.utilisation)
    n_wait: int | None = None
    if options.wait is not None and lam > 0:
        n_wait = instances_for_wait(lam, 1.0 / mean_service, slots, options.wait, factor)
    n = max(n_util, n_wait or 0)
    bound = "wait" if n_wait is not None and n_wait > n_util else "utilisation"
    base = TypeSizing(
        instance_type=m.instance_type,
        estimated_from=m.estimated_from,
        vcpus=price.vcpus,
        memory_gib=price.memory_gib,
        slots=slots,
        arrivals_per_s=lam,
        load_erlangs=load,
        mean_service_s=mean_service,
        instances_utilisation=n_util,
        instances_wait=n_wait,
        instances=n,
        bound=bound,
        wait_at_target_percentile_s=None,
        utilisation=0.0,
        interruption_band=price.interruption_band,
        interruption_rate=options.interruption_overrides.get(
            m.instance_type, price.interruption_rate),
        instances_spot=0,
        on_demand_usd_h=0.0,
        spot_usd_h=0.0,
        on_demand_usd_per_media_h=None,
        spot_usd_per_media_h=None,
        capacity_jobs_per_hour=slots * 3600.0 / mean_service if mean_service > 0 else 0.0,
        concurrency_measured=m.concurrency.measured,
        source="estimated" if m.estimated else (m.source or "production"),
        arch=price.arch,
        slots_source=choice.source,
        design_hour=hours_start(ctx.start, h),
        service_scv=scv,
        arrival_scv=ctx.burstiness,
        wait_factor=factor,
        instances_analytic=n,
        hours=ctx.demand.hours,
    )
    media_h = sum(float(np.asarray(ctx.demand.media[jt])[h]) for jt in ctx.demand.media
                  if unit_of(jt) == THROUGHPUT_MEDIA_SECONDS) / 3600.0
    return _at_instances(base, n, price, media_h, hours, options.wait)


def _at_instances(
    t: TypeSizing, n: int, price: InstancePrice, media_h: float, hours: HourLoad | None,
    target: WaitTarget | None,
) -> TypeSizing:
    """`t` with `n` instances: costs, utilisation, and the analytic wait and hours meeting the
    target (the replay overwrites those two when it ran)."""
    slots = t.slots
    n_spot = spot_instances(n, t.interruption_rate)
    od = n * price.on_demand_usd_h
    spot = n_spot * price.spot_usd_h
    wait_at = None
    hours_met = share = None
    lam = t.arrivals_per_s
    if target is not None and lam > 0 and n > 0:
        mu = 1.0 / t.mean_service_s
        pct = target.percentile
        f = t.wait_factor
        wait_at = (response_percentile(n * slots, lam, mu, pct, f) if target.includes_service
                   else wait_percentile(n * slots, lam, mu, pct, f))
    if target is not None and hours is not None and n > 0:
        servers = n * slots
        c = erlang_c_hours(servers, hours.load)
        lam_h = np.asarray(hours.lam)
        mean = np.divide(hours.load, lam_h, out=np.ones_like(lam_h), where=lam_h > 0)
        factor = np.maximum((t.arrival_scv + np.asarray(hours.scv)) / 2.0, 1e-6)
        theta = np.maximum(servers / mean - lam_h, 1e-12)
        tail = np.where(c >= 1.0, 1.0, c * np.exp(-theta * target.seconds / factor))
        if target.includes_service:
            tail = np.maximum(tail, np.exp(-target.seconds / mean))
        tail = np.where(lam_h > 0, tail, 0.0)
        hours_met = int((tail <= target.tail + 1e-12).sum())
        share = float((tail * lam_h).sum() / lam_h.sum()) if lam_h.sum() > 0 else 0.0
    return replace(
        t,
        instances=n,
        instances_spot=n_spot,
        on_demand_usd_h=od,
        spot_usd_h=spot,
        on_demand_usd_per_media_h=od / media_h if media_h > 0 else None,
        spot_usd_per_media_h=spot / media_h if media_h > 0 else None,
        utilisation=t.load_erlangs / (n * slots) if n else 0.0,
        wait_at_target_percentile_s=wait_at,
        hours_met=hours_met,
        share_over_target=share,
    )


def replay_type(
    t: TypeSizing,
    m: InstanceMeasurements,
    price: InstancePrice,
    inputs: SizingInputs,
    ctx: _Context,
) -> TypeSizing:
    """Confirm `t`'s analytic instance count in a replay (planner.replay) and move to the
    smallest count meeting the target there (never below the utilisation bound)."""
    options = ctx.options
    target = options.wait
    if target is None or t.arrivals_per_s <= 0:
        return t
    jobs = jobs_for(m, samples_on(inputs, m), inputs.arrivals, ctx.demand, ctx.waste,
                    idc=ctx.burstiness, seed=options.seed, count_waste=options.count_waste)
    if jobs.t_s.size == 0:
        return t
    thumb_slots = None
    lanes = lane_selects(jobs) if options.lanes == "thumbs" else None
    if lanes is None:
        n, got = smallest_fleet(jobs, target, options.percentile, t.instances, t.slots)
    else:
        thumbs, rest = lanes
        k, _ = smallest_fleet(jobs, target, options.percentile, 1, 1, thumbs)
        rest_start = max(1, t.instances * t.slots - k)
        r, _ = smallest_fleet(jobs, target, options.percentile, rest_start, 1, rest)
        n = math.ceil((k + r) / t.slots)
        thumb_slots = k
        got = _lanes_outcome(jobs, target, k, n * t.slots - k, thumbs, rest)
    n = max(n, t.instances_utilisation)
    if n != got.servers // t.slots and lanes is None:
        got = replay(jobs, n * t.slots, target)
    media_h = (t.on_demand_usd_h / t.on_demand_usd_per_media_h
               if t.on_demand_usd_per_media_h else 0.0)
    moved = _at_instances(t, n, price, media_h, None, None)
    return replace(
        moved,
        # The bound that set the count: the replay's when it moved the analytic answer.
        bound=t.bound if n == t.instances_analytic else "replay",
        decided_by="replay",
        wait_at_target_percentile_s=got.wait_at_percentile_s,
        hours_met=got.hours_met,
        hours=got.hours,
        share_over_target=got.share_over_target,
        waits_by_job_type=dict(got.by_job_type),
        replay_source=jobs.source,
        thumb_slots=thumb_slots,
    )


def _lanes_outcome(jobs: Any, target: WaitTarget, k: int, r: int, thumbs: Any,
                   rest: Any) -> ReplayOutcome:
    """One outcome of the two lanes together (waits of both pools, judged as one window)."""
    waits = np.zeros(jobs.t_s.size)
    waits[thumbs] = fcfs_waits(jobs.t_s[thumbs], jobs.service_s[thumbs], k)
    waits[rest] = fcfs_waits(jobs.t_s[rest], jobs.service_s[rest], max(1, r))
    return judge(jobs, waits, target, k + r)


def recommend(
    sized: Sequence[TypeSizing],
    capacity: CapacityType,
    how_many: int,
    architectures: Sequence[str] = (),
) -> FleetRecommendation | None:
    """The `how_many` cheapest types, weighted by their throughput of the mix (docs/sizing.md),
    of one architecture (that of the cheapest type) unless `architectures` lists those the
    fleet request has a launch template for."""
    usable = [t for t in sized if t.instances > 0]
    if architectures:
        usable = [t for t in usable if t.arch in architectures]
    elif usable:
        usable = [t for t in usable if t.arch == usable[0].arch]
    chosen = usable[: max(1, how_many)]
    if not chosen:
        return None
    base = min(t.capacity_jobs_per_hour for t in chosen)
    members = []
    total = 0
    for t in chosen:
        weight = max(0.001, round(t.capacity_jobs_per_hour / base, 3))
        n = t.fleet_instances(capacity)
        total = max(total, math.ceil(n * weight - 1e-9))
        members.append(FleetMember(t.instance_type, weight, t.estimated, n, t.usd_h(capacity),
                                   t.arch))
    smallest = min(chosen, key=lambda t: t.capacity_jobs_per_hour)
    unit = (
        f"the throughput of one {smallest.instance_type} on this job mix "
        f"({base:.1f} jobs/h at full use of its slots)"
    )
    first = chosen[0]
    cost = FleetCost(
        instance_type=first.instance_type,
        instances_on_demand=first.instances,
        instances_spot=first.instances_spot,
        on_demand_usd_h=first.on_demand_usd_h,
        spot_usd_h=first.spot_usd_h,
        max_on_demand_usd_h=max(t.on_demand_usd_h for t in chosen),
        max_spot_usd_h=max(t.spot_usd_h for t in chosen),
    )
    return FleetRecommendation(capacity, tuple(members), total, unit, cost)


def _design_demand(t: TypeSizing, demand: HourlyDemand, hours: HourLoad | None,
                   labels: Mapping[str, Demand], percentile: float) -> dict[str, Demand]:
    """The mix of `t`'s design hour, per job type, as Demand records (what the tables show)."""
    if hours is None:
        return dict(labels)
    h = hours.design_hour(percentile)
    when = t.design_hour[:13].replace("T", " ") + "h" if t.design_hour else f"hour {h}"
    out = {}
    for jt in sorted(demand.jobs):
        src = labels[jt].source if jt in labels else ""
        note = f"{when}, the p{percentile:g} hour of load on {t.instance_type}"
        out[jt] = Demand(jt, float(np.asarray(demand.jobs[jt])[h]),
                         float(np.asarray(demand.media[jt])[h]), unit_of(jt),
                         f"{note}; {src}" if src.startswith("forecast") else note)
    return out


def with_best_slots(inputs: SizingInputs, options: SizingOptions) -> SizingInputs:
    """With `--slots best`, the measurements at the best packing density within
    options.max_slowdown (planner.density.with_density_slots); else `inputs` unchanged."""
    if options.slots != "best" or inputs.density_levels is None:
        return inputs
    from planner.density import with_density_slots

    return replace(inputs, measurements=with_density_slots(
        inputs.measurements, inputs.density_levels, max_slowdown=options.max_slowdown,
        job_types=sorted(inputs.histories) or None))


def size_fleet(inputs: SizingInputs, options: SizingOptions) -> SizingResult:
    """Size every priced and measured (or estimated) instance type; rank; confirm the cheapest
    in a replay when asked (options.replay); recommend. Pure (the replay is seeded)."""
    check_utilisation(options.utilisation)
    inputs = with_best_slots(inputs, options)
    labels = resolve_demand(
        inputs.histories,
        percentile=options.percentile,
        forecasts=options.forecasts,
        growth=options.growth,
    )
    hd = hourly_demand(inputs.histories, forecasts=options.forecasts, growth=options.growth)
    measured_jobs = {jt for m in inputs.measurements.values() for jt in m.services}
    missing = sorted(set(labels) - measured_jobs)
    if missing:
        raise SizingError(
            f"no measurement of {', '.join(missing)} in the data (a succeeded attempt with an "
            "instance type and a wall time, in the window): cannot size for it"
        )
    ctx = _Context(hd, inputs.waste, options, inputs.burstiness, inputs.start)
    estimable = with_estimates(inputs.measurements, inputs.prices, options.slots)
    pool = estimable if options.include_estimated else dict(inputs.measurements)
    sized: list[TypeSizing] = []
    skipped: dict[str, str] = {}
    refused: dict[str, ResponseTargetError] = {}
    for name in inputs.prices:
        if name not in pool:
            skipped[name] = (
                "not measured, and estimates are left out"
                if name in estimable
                else "not measured, and no measured type of its family to estimate from"
            )
    for name, m in sorted(pool.items()):
        if name not in inputs.prices:
            skipped[name] = f"not in the price table {inputs.prices.source}"
            continue
        try:
            sized.append(size_type(m, inputs.prices[name], ctx, samples_on(inputs, m)))
        except CannotSize as exc:
            # Under this type's own service time, say: faster types may still meet the
            # target, so this one is left out rather than the whole sizing refused.
            if isinstance(exc, ResponseTargetError):
                refused[name] = exc
            skipped[name] = str(exc)
    if not sized:
        if refused and options.wait is not None:
            name, fastest = min(refused.items(), key=lambda kv: kv[1].floor_s)
            raise SizingError(
                f"no instance type can meet the response target {options.wait.label()}: the "
                f"p{options.wait.percentile:g} of the service time alone is "
                f"{fastest.floor_s:.1f}s on the fastest, {name}"
            )
        reasons = list(skipped.items())
        detail = "; ".join(f"{k}: {v}" for k, v in reasons[:3]) or "no instance type measured"
        more = f"; and {len(reasons) - 3} more" if len(reasons) > 3 else ""
        raise SizingError(f"no instance type can be sized ({detail}{more})")
    cap = options.capacity

    def rank(ts: Sequence[TypeSizing]) -> list[TypeSizing]:
        return sorted(ts, key=lambda t: (t.usd_h(cap), t.estimated, t.instance_type))

    sized = rank(sized)
    if options.replay and options.wait is not None:
        sized = _replay_cheapest(sized, pool, inputs, ctx, rank)
    top = sized[0]
    top_hours = hourly_load(pool[top.instance_type], hd, inputs.waste,
                            {j: smp.scv for j, smp in
                             samples_on(inputs, pool[top.instance_type]).items()},
                            count_waste=options.count_waste)
    return SizingResult(
        options=options,
        demand=_design_demand(top, hd, top_hours, labels, options.percentile),
        types=tuple(sized),
        skipped=skipped,
        recommendation=recommend(sized, cap, options.fleet_types, options.architectures),
        waste=dict(inputs.waste),
    )


def _replay_cheapest(
    sized: list[TypeSizing],
    pool: Mapping[str, InstanceMeasurements],
    inputs: SizingInputs,
    ctx: _Context,
    rank: Any,
) -> list[TypeSizing]:
    """Replay the cheapest types until the `fleet_types` cheapest (of the architectures the
    recommendation may use) have all been replayed: a replay may move a type down the ranking."""
    done: set[str] = set()
    want = ctx.options.fleet_types
    while True:
        rec = recommend(sized, ctx.options.capacity, want, ctx.options.architectures)
        names = [m.instance_type for m in rec.members] if rec else []
        todo = [n for n in names if n not in done]
        if not todo:
            return sized
        for name in todo:
            i = next(k for k, t in enumerate(sized) if t.instance_type == name)
            sized[i] = replay_type(sized[i], pool[name], inputs.prices[name], inputs, ctx)
            done.add(name)
        sized = rank(sized)


def resize(result: SizingResult, inputs: SizingInputs, **changes: Any) -> SizingResult:
    """Size again with some options changed (the TUI's recompute)."""
    return size_fleet(inputs, replace(result.options, **changes))


@dataclass(frozen=True)
class FleetReplay:
    """A given fleet run over the window (`mjplan replay`)."""

    instance_type: str
    instances: int
    slots: int
    slots_source: str
    target: WaitTarget
    #: What the replay ran.
    source: str
    outcome: ReplayOutcome
    start: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        o = self.outcome
        hours = []
        for h in range(o.first_hour, len(o.hourly_jobs)):
            jobs = int(np.asarray(o.hourly_jobs)[h])
            wait = float(np.asarray(o.hourly_wait_s)[h])
            hours.append({"hour": hours_start(self.start, h) or h, "jobs": jobs,
                          "wait_at_percentile_s": wait if jobs else None})
        return {
            "instance_type": self.instance_type,
            "instances": self.instances,
            "slots": self.slots,
            "slots_source": self.slots_source,
            "target": self.target.label(),
            "arrivals": self.source,
            "hours_met": o.hours_met,
            "hours": o.hours,
            "share_over_target": o.share_over_target,
            "wait_at_percentile_s": o.wait_at_percentile_s,
            "job_types": [
                {"job_type": jt, "jobs": n, "wait_at_percentile_s": w, "share_over_target": s}
                for jt, (n, w, s) in sorted(o.by_job_type.items())
            ],
            "by_hour": hours,
        }


def replay_fleet(
    inputs: SizingInputs, options: SizingOptions, instance_type: str, instances: int,
) -> FleetReplay:
    """Run the window's demand (as `size_fleet` reads it from `options`: forecasts, growth)
    through `instances` instances of `instance_type` (slots by `options.slots`). Raises
    SizingError for a type without measurements (or an estimate) or a count below 1."""
    if instances < 1:
        raise SizingError("instances must be at least 1")
    inputs = with_best_slots(inputs, options)
    pool = with_estimates(inputs.measurements, inputs.prices, options.slots)
    m = pool.get(instance_type)
    if m is None:
        raise SizingError(f"{instance_type}: not measured, and no measured type of its family "
                          f"in {inputs.prices.source} to estimate it from")
    resolve_demand(inputs.histories, percentile=options.percentile,
                   forecasts=options.forecasts, growth=options.growth)  # its checks
    hd = hourly_demand(inputs.histories, forecasts=options.forecasts, growth=options.growth)
    missing = sorted(set(hd.jobs) - set(m.services))
    if missing:
        raise SizingError(f"no measurement of {', '.join(missing)} on {instance_type}")
    target = options.wait or WaitTarget()
    choice = m.slots_choice(options.slots)
    jobs = jobs_for(m, samples_on(inputs, m), inputs.arrivals, hd, inputs.waste,
                    idc=inputs.burstiness, seed=options.seed, count_waste=options.count_waste)
    outcome = replay(jobs, instances * choice.slots, target)
    return FleetReplay(instance_type, instances, choice.slots, choice.source, target,
                       jobs.source, outcome, inputs.start)
