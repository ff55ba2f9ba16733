"""Packing density: how an instance type's throughput grows with the attempts it runs at once.

Formulas and the two choices (best: most throughput per dollar; bounded: most within
`max_slowdown`) are in docs/density.md; this module computes them. The level of an attempt is
`host_running_at_start` (schema version 2); rows without it are left out.

`measure_levels` is the one query (sums per instance type x job type x level); everything else
is pure over its frame: `curve_from_levels` (the curve, CURVE_COLUMNS then the sums),
`best_densities` (one row per instance type x job type), `best_slots` (slots per instance type
for sizing: the smallest bounded level over the job types), `with_density_slots` (`mjplan size
--slots best`: those slots and the services measured at them). `source` says where a level's
numbers come from ('production', 'bench', 'synthetic', joined with '+').
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from collectors import schema
from planner.errors import PlannerError
from planner.queries import KNOWN_INPUT, MEASURED_WALL, connection_of

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from planner.dataset import Dataset
    from planner.prices import PriceTable
    from planner.throughput import InstanceMeasurements

#: Default bound on a job's duration at a level, as a multiple of its duration alone.
DEFAULT_MAX_SLOWDOWN = 1.5
#: Levels with fewer succeeded attempts are shown but never chosen.
DEFAULT_MIN_ATTEMPTS = 5
#: The instance type of rows without one (off EC2: a bench on a laptop or a VM).
UNKNOWN_TYPE = "unknown"

#: Columns of `density_curve`, in order.
CURVE_COLUMNS = (
    "instance_type", "job_type", "running", "attempts", "rtf", "service_s", "throughput",
    "throughput_unit", "slowdown", "usd_h", "per_usd", "source", "eligible", "best", "bounded",
)


class DensityError(PlannerError):
    """Bad density options (one line for the user)."""


def check_options(max_slowdown: float, min_attempts: int) -> None:
    """DensityError unless max_slowdown >= 1 and min_attempts >= 1."""
    if not max_slowdown >= 1.0 or max_slowdown == float("inf"):
        raise DensityError(f"--max-slowdown must be a number >= 1, got {max_slowdown!r}")
    if min_attempts < 1:
        raise DensityError(f"--min-attempts must be >= 1, got {min_attempts!r}")


def _levels_sql(job_types: Sequence[str] | None, instance_types: Sequence[str] | None,
                since: dt.datetime | None, sources: Sequence[str] | None
                ) -> tuple[str, list[Any]]:
    where = ["status = 'succeeded'", MEASURED_WALL, "host_running_at_start >= 1"]
    params: list[Any] = []
    if job_types:
        where.append(f"job_type IN ({', '.join('?' for _ in job_types)})")
        params += list(job_types)
    if instance_types:
        where.append(f"coalesce(instance_type, '{UNKNOWN_TYPE}') IN "
                     f"({', '.join('?' for _ in instance_types)})")
        params += list(instance_types)
    if since is not None:
        where.append("started_at >= ?")
        params.append(since)
    if sources:
        where.append(f"{schema.SOURCE_SQL} IN ({', '.join('?' for _ in sources)})")
        params += list(sources)
    sql = f"""
        SELECT coalesce(instance_type, '{UNKNOWN_TYPE}') AS instance_type,
               job_type,
               host_running_at_start AS running,
               count(*) AS attempts,
               sum(duration_ms) / 1000.0 AS wall_s,
               sum(CASE WHEN {KNOWN_INPUT} THEN input_duration_seconds END) AS media_s,
               sum(CASE WHEN {KNOWN_INPUT} THEN duration_ms END) / 1000.0 AS media_wall_s,
               string_agg(DISTINCT {schema.SOURCE_SQL}, '+' ORDER BY {schema.SOURCE_SQL})
                   AS source
        FROM attempts
        WHERE {' AND '.join(where)}
        GROUP BY ALL
        ORDER BY 1, 2, 3
    """
    return sql, params


def measure_levels(
    source: Dataset | duckdb.DuckDBPyConnection,
    *,
    job_types: Sequence[str] | None = None,
    instance_types: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    sources: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Sums per instance type x job type x level (succeeded attempts with a level): attempts,
    wall_s, media_s, media_wall_s (seconds), source. The I/O half of `density_curve`."""
    import polars as pl

    sql, params = _levels_sql(job_types, instance_types, since, sources)
    df: pl.DataFrame = connection_of(source).sql(sql, params=params).pl()
    return df.cast({"running": pl.Int64, "attempts": pl.Int64, "wall_s": pl.Float64,
                    "media_s": pl.Float64, "media_wall_s": pl.Float64})


def curve_from_levels(
    levels: pl.DataFrame,
    prices: PriceTable | Mapping[str, float] | None = None,
    *,
    on_demand: bool = False,
    max_slowdown: float = DEFAULT_MAX_SLOWDOWN,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
) -> pl.DataFrame:
    """The density curve (CURVE_COLUMNS) from `measure_levels` sums. Pure.

    `prices`: a PriceTable (spot price, or on-demand with `on_demand`), or USD per hour by
    instance type; types without a price have null usd_h and per_usd.
    """
    import polars as pl

    check_options(max_slowdown, min_attempts)
    usd = _usd_by_type(prices, on_demand)
    jobs_unit = pl.col("job_type").replace_strict(
        schema.THROUGHPUT_UNIT_BY_JOB_TYPE, default=schema.THROUGHPUT_MEDIA_SECONDS
    )
    df = levels.with_columns(
        throughput_unit=jobs_unit,
        rtf=pl.when((pl.col("media_s") > 0) & (pl.col("media_wall_s") > 0))
        .then(pl.col("media_s") / pl.col("media_wall_s")),
        service_s=pl.col("wall_s") / pl.col("attempts"),
    )
    by_jobs = pl.col("throughput_unit") == schema.THROUGHPUT_JOBS
    df = df.with_columns(
        throughput=pl.when(by_jobs).then(pl.col("running") * 3600.0 / pl.col("service_s"))
        .otherwise(pl.col("running") * pl.col("rtf")),
    )
    key = ["instance_type", "job_type"]
    alone = df.filter(pl.col("running") == 1).select(
        *key, rtf_1=pl.col("rtf"), service_1=pl.col("service_s"))
    df = df.join(alone, on=key, how="left").with_columns(
        slowdown=pl.when(by_jobs).then(pl.col("service_s") / pl.col("service_1"))
        .otherwise(pl.col("rtf_1") / pl.col("rtf")),
        usd_h=pl.col("instance_type").replace_strict(usd, default=None, return_dtype=pl.Float64),
    ).with_columns(
        per_usd=pl.col("throughput") * 3600.0 / pl.col("usd_h"),
        eligible=(pl.col("attempts") >= min_attempts) & pl.col("throughput").is_not_null(),
    )
    within = pl.col("eligible") & ((pl.col("running") == 1)
                                   | (pl.col("slowdown") <= max_slowdown).fill_null(False))
    df = df.with_columns(
        best=_is_top(pl.col("eligible"), key),
        bounded=_is_top(within, key),
    )
    # The sums behind each level stay (after CURVE_COLUMNS): sizing rebuilds services from them.
    return df.select(*CURVE_COLUMNS, "wall_s", "media_s", "media_wall_s").sort(key + ["running"])


def _is_top(mask: pl.Expr, key: list[str]) -> pl.Expr:
    """True on the row of most throughput among the `mask` rows of its group (fewest running
    attempts on a tie: the same throughput for less contention)."""
    import polars as pl

    score = pl.when(mask).then(pl.col("throughput"))
    top = score.max().over(key)
    first = pl.when(mask & (score == top)).then(pl.col("running")).min().over(key)
    return (mask & (pl.col("running") == first)).fill_null(False)


def _usd_by_type(prices: PriceTable | Mapping[str, float] | None, on_demand: bool
                 ) -> dict[str, float]:
    if prices is None:
        return {}
    from planner.prices import PriceTable

    if isinstance(prices, PriceTable):
        return {t: (p.on_demand_usd_h if on_demand else p.spot_usd_h)
                for t, p in prices.prices.items()}
    return {str(t): float(v) for t, v in prices.items()}


def density_curve(
    source: Dataset | duckdb.DuckDBPyConnection,
    prices: PriceTable | Mapping[str, float] | None = None,
    *,
    on_demand: bool = False,
    max_slowdown: float = DEFAULT_MAX_SLOWDOWN,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
    job_types: Sequence[str] | None = None,
    instance_types: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    sources: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Per instance type x job type x attempts running at once (CURVE_COLUMNS); see module doc.
    Empty (with the columns) when no attempt has a level."""
    check_options(max_slowdown, min_attempts)
    levels = measure_levels(source, job_types=job_types, instance_types=instance_types,
                            since=since, sources=sources)
    return curve_from_levels(levels, prices, on_demand=on_demand, max_slowdown=max_slowdown,
                             min_attempts=min_attempts)


def best_densities(curve: pl.DataFrame) -> pl.DataFrame:
    """One row per instance type x job type: best_running / best_throughput / best_per_usd (the
    most throughput) and bounded_* (the most within the slowdown bound), null when no level
    qualifies; throughput_unit, source."""
    import polars as pl

    key = ["instance_type", "job_type"]
    best = curve.filter(pl.col("best")).select(
        *key, best_running=pl.col("running"), best_throughput=pl.col("throughput"),
        best_per_usd=pl.col("per_usd"), best_slowdown=pl.col("slowdown"))
    bounded = curve.filter(pl.col("bounded")).select(
        *key, bounded_running=pl.col("running"), bounded_throughput=pl.col("throughput"),
        bounded_per_usd=pl.col("per_usd"), bounded_slowdown=pl.col("slowdown"))
    groups = curve.group_by(key, maintain_order=True).agg(
        pl.col("throughput_unit").first(),
        levels=pl.col("running").count(),
        attempts=pl.col("attempts").sum(),
        source=pl.col("source").str.split("+").explode().unique().sort().str.join("+"),
    )
    return (groups.join(best, on=key, how="left").join(bounded, on=key, how="left")
            .sort(key))


def best_slots(curve: pl.DataFrame, *, job_types: Sequence[str] | None = None) -> dict[str, int]:
    """Job slots per instance type for fleet sizing: the smallest `bounded` level over the job
    types measured on it (restricted to `job_types` when given), so no job type slows down more
    than the curve's bound. Types where no job type has a bounded level are left out."""
    import polars as pl

    rows = curve.filter(pl.col("bounded"))
    if job_types:
        rows = rows.filter(pl.col("job_type").is_in(list(job_types)))
    out = rows.group_by("instance_type").agg(pl.col("running").min()).sort("instance_type")
    return {str(t): int(n) for t, n in out.iter_rows()}


def with_density_slots(
    measurements: Mapping[str, InstanceMeasurements],
    levels: pl.DataFrame,
    *,
    max_slowdown: float = DEFAULT_MAX_SLOWDOWN,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
    job_types: Sequence[str] | None = None,
) -> dict[str, InstanceMeasurements]:
    """`--slots best`: each measured type with a density curve gets `density_slots` =
    best_slots (over `job_types`, the demand's) and, for each job type measured at that level,
    the service measured there (contention at that density is in it); other types and job
    types keep theirs. `levels`: measure_levels() sums. Pure."""
    from dataclasses import replace

    import polars as pl

    from planner.throughput import Service

    if levels.is_empty():
        return dict(measurements)
    curve = curve_from_levels(levels, max_slowdown=max_slowdown, min_attempts=min_attempts)
    slots = best_slots(curve, job_types=job_types)
    out: dict[str, InstanceMeasurements] = {}
    for name, m in measurements.items():
        n = slots.get(name)
        if n is None or m.estimated:
            out[name] = m
            continue
        at_n = curve.filter((pl.col("instance_type") == name) & (pl.col("running") == n))
        services = dict(m.services)
        for r in at_n.iter_rows(named=True):
            services[r["job_type"]] = Service(
                name, r["job_type"], int(r["attempts"]), float(r["wall_s"]),
                float(r["media_s"] or 0.0), float(r["media_wall_s"] or 0.0))
        out[name] = replace(m, services=services, density_slots=n)
    return out
