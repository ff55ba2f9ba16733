"""Per-attempt points for the charts: small, stratified samples of the `attempts` view.

Aggregates (aggregate RTF, percentiles, sizing) come from `planner.stats` and `planner.sizing`;
this module only fetches the individual attempts a box plot or a scatter draws, and keeps that
cheap on millions of rows: one pass counts attempts per (job type, instance type), a second pass
keeps each attempt with probability min(1, per_group / count) decided by a hash of its id.

Why not `USING SAMPLE reservoir(N)` on the whole view: a uniform sample of a dataset dominated by
thumbnails on one instance type leaves the rare job types and instance types with a handful of
points, or none, and the box plots of exactly the groups people ask about would be empty. The
hash keeps the sample stable between runs (same dataset, same points), which a report diffed
week to week needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from planner.errors import EmptySelectionError
from planner.queries import MEASURED_WALL, connection_of

if TYPE_CHECKING:
    import polars as pl

    from planner.prices import PriceTable
    from planner.sizing import SizingInputs, SizingOptions
    from planner.throughput import InstanceMeasurements

#: Default number of attempts kept per (job type, instance type): enough for a box plot's
#: quartiles and outliers, small enough that a report with every point stays a few MB.
DEFAULT_PER_GROUP = 1500

# The columns the charts draw; all are schema columns of the `attempts` view.
_POINT_COLUMNS = (
    "attempt_id",
    "job_type",
    "instance_type",
    "hostname",
    "status",
    "started_at",
    "finished_at",
    "duration_ms",
    "rtf",
    "input_duration_seconds",
    "input_video_codec",
    "input_audio_codec",
    "input_width",
    "input_height",
    "input_fps",
    "cpu_cores",
    "cpu_pct_avg",
    "cpu_pct_max",
    "mem_rss_mb_max",
    "cpu_sample_count",
)


def attempt_points(
    ds: Any,
    *,
    per_group: int = DEFAULT_PER_GROUP,
    succeeded_only: bool = True,
    seed: int = 0,
) -> pl.DataFrame:
    """A stratified sample of attempts, at most about `per_group` per (job type, instance type).

    Columns: the schema columns the charts use, plus `pixels_per_second` (width x height x fps:
    the pixels an encoder decodes per media second; null without video), `seconds_per_job`
    (wall seconds, duration_ms / 1000; null when no positive duration was measured, as
    planner.stats leaves those out) and `group_size` (the attempts of the group in the
    dataset, before sampling). Failed attempts are left out unless
    `succeeded_only` is False: their wall time says nothing about throughput.

    Raises EmptySelectionError when the dataset has no (succeeded) attempt.
    """
    if per_group < 1:
        raise ValueError(f"per_group must be >= 1, got {per_group}")
    con = connection_of(ds)
    where = "status = 'succeeded'" if succeeded_only else "TRUE"
    cols = ", ".join(f"a.{c}" for c in _POINT_COLUMNS)
    # hash() is a 64-bit unsigned value; its low bits modulo 1e6 are uniform enough for a
    # keep/drop decision at a resolution of one in a million.
    sql = f"""
        WITH g AS (
            SELECT job_type, instance_type, count(*) AS n
            FROM attempts WHERE {where} GROUP BY ALL
        )
        SELECT {cols},
               a.input_width::DOUBLE * a.input_height * a.input_fps AS pixels_per_second,
               CASE WHEN {MEASURED_WALL} THEN a.duration_ms / 1000.0 END AS seconds_per_job,
               g.n AS group_size
        FROM attempts a
        JOIN g ON a.job_type = g.job_type
              AND a.instance_type IS NOT DISTINCT FROM g.instance_type
        WHERE {where.replace("status", "a.status")}
          AND hash(a.attempt_id || ':' || $seed) % 1000000
              < 1000000 * least(1.0, $per_group / g.n)
        ORDER BY a.job_type, a.instance_type NULLS LAST, a.attempt_id
    """
    frame: pl.DataFrame = con.sql(
        sql, params={"seed": str(seed), "per_group": float(per_group)}
    ).pl()
    if frame.is_empty():
        which = "succeeded attempts" if succeeded_only else "attempts"
        raise EmptySelectionError(f"no {which} to draw")
    return frame


def with_concurrency(ds: Any, points: pl.DataFrame) -> pl.DataFrame:
    """`points` with a `concurrency` column: attempts on the same host whose run overlaps.

    A host is a (hostname, instance_type) pair, as in planner.throughput's concurrency.
    The count includes the attempt itself (1 = it ran alone) and failed attempts (they used the
    CPU all the same). Null when the host or either timestamp is unknown. A worker running two
    exports at once on two cores gets about half the RTF of one running alone: this is the
    column that shows it.
    """
    keys = points.select("attempt_id", "hostname", "instance_type", "started_at", "finished_at")
    # A Dataset's own cursor (it re-registers the raw scan): registering a frame on the shared
    # connection would race other threads (TUI workers) using it.
    cur = ds.cursor() if hasattr(ds, "cursor") and hasattr(ds, "connection") else ds
    try:
        cur.register("_points", keys.to_arrow())
        counts: pl.DataFrame = cur.sql(
            """
            SELECT p.attempt_id, count(*)::INTEGER AS concurrency
            FROM _points p JOIN attempts o
              ON o.hostname = p.hostname
             AND o.instance_type IS NOT DISTINCT FROM p.instance_type
             AND o.started_at < p.finished_at AND o.finished_at > p.started_at
            GROUP BY p.attempt_id
            """
        ).pl()
    finally:
        cur.unregister("_points")
        if cur is not ds:
            cur.close()
    return points.join(counts, on="attempt_id", how="left")


def throughput_cost_frame(
    measurements: Mapping[str, InstanceMeasurements],
    prices: PriceTable,
    capacity: str = "spot",
) -> pl.DataFrame:
    """Throughput of one instance and the price of a unit of work, per job type x instance type.

    From `planner.throughput.throughput_frame` (measured at the measured concurrency) and the
    price table: media hours per instance-hour (= media seconds per wall second) for job types
    counted in media seconds, thousands of jobs per instance-hour for thumbnails; `cost_per_unit`
    is the instance's USD/h (`capacity`: "spot" or "on-demand") over that throughput, USD per
    media hour or per 1000 jobs. Types missing from the price table get a null cost.
    Columns: job_type, instance_type, estimated, slots, unit_label, units_per_instance_hour,
    usd_h, cost_per_unit.
    """
    import polars as pl

    from collectors.schema import THROUGHPUT_JOBS, THROUGHPUT_UNIT_BY_JOB_TYPE
    from planner.throughput import throughput_frame

    rows = []
    for r in throughput_frame(measurements).iter_rows(named=True):
        jobs = THROUGHPUT_UNIT_BY_JOB_TYPE.get(r["job_type"]) == THROUGHPUT_JOBS
        units = (
            (r["jobs_per_hour"] / 1000.0 if r["jobs_per_hour"] is not None else None)
            if jobs
            else r["media_s_per_s"]
        )
        price = prices.prices.get(r["instance_type"])
        usd_h = None
        if price is not None:
            usd_h = price.spot_usd_h if capacity == "spot" else price.on_demand_usd_h
        rows.append(
            {
                "job_type": r["job_type"],
                "instance_type": r["instance_type"],
                "estimated": r["estimated"],
                "slots": r["slots"],
                "unit_label": "1000 jobs" if jobs else "media hours",
                "units_per_instance_hour": units,
                "usd_h": usd_h,
                "cost_per_unit": usd_h / units if usd_h is not None and units else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "job_type": pl.String, "instance_type": pl.String, "estimated": pl.Boolean,
            "slots": pl.Int64, "unit_label": pl.String, "units_per_instance_hour": pl.Float64,
            "usd_h": pl.Float64, "cost_per_unit": pl.Float64,
        },
    )  # fmt: skip


#: Demand multipliers of the fleet-vs-demand curve (x today's demand).
DEFAULT_MULTIPLIERS = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0)


def fleet_curve(
    inputs: SizingInputs,
    options: SizingOptions,
    multipliers: Sequence[float] = DEFAULT_MULTIPLIERS,
) -> pl.DataFrame:
    """The analytic sizing at several demand levels: `planner.sizing.size_fleet` (no replay)
    with the growth factor of `options` multiplied by each of `multipliers`.

    One row per (demand_multiplier, instance type sized): rank (cheapest first), instances (in
    the chosen capacity type, spot headroom included), cost_per_hour (USD/h of that fleet),
    estimated, recommended (a member of that level's recommended fleet) and the recommended
    fleet's target_capacity (its units; the same on every row of a level).
    """
    import polars as pl

    from planner.sizing import size_fleet

    if not multipliers or any(not m > 0 for m in multipliers):
        raise ValueError(f"multipliers must be above 0, got {list(multipliers)}")
    rows = []
    # The analytic model alone: a replay per level would cost seconds, and its draws would make
    # the curve wobble where demand grows (docs/sizing.md).
    for mult in sorted(set(multipliers)):
        result = size_fleet(inputs, replace(options, growth=options.growth * mult, replay=False))
        rec = result.recommendation
        members = {m.instance_type for m in rec.members} if rec else set()
        cap = result.options.capacity
        for rank, t in enumerate(result.types, start=1):
            rows.append(
                {
                    "demand_multiplier": float(mult),
                    "instance_type": t.instance_type,
                    "rank": rank,
                    "instances": t.fleet_instances(cap),
                    "cost_per_hour": t.usd_h(cap),
                    "estimated": t.estimated,
                    "recommended": t.instance_type in members,
                    "target_capacity": rec.total_target_capacity if rec else None,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "demand_multiplier": pl.Float64, "instance_type": pl.String, "rank": pl.Int64,
            "instances": pl.Int64, "cost_per_hour": pl.Float64, "estimated": pl.Boolean,
            "recommended": pl.Boolean, "target_capacity": pl.Int64,
        },
    )  # fmt: skip
