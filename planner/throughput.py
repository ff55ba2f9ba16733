"""What one instance of each measured type does: job slots, service times, media throughput.

Measured from the `attempts` view (DuckDB), per instance type:

* **Concurrency** from the attempts' intervals `[started_at, finished_at)` on each host (a host is
  a (hostname, instance_type) pair). Sweeping the start (+1) and finish (-1) events of a host in
  time order gives the number of attempts running, `k(t)`. Over the host's busy time (k > 0):

      mean concurrency = integral k(t) dt / busy time
                       = sum of attempt durations / length of the union of the intervals

  summed over all hosts of the type before dividing (a time-weighted mean over hosts). This is
  how many jobs a worker of that type ran at once while it had work; `slots` (the servers of
  the queueing model) is that mean rounded to the nearest whole job, at least 1. The largest
  `k` seen is kept as `max_concurrency` for reference.
* **Service time** per (instance type, job type) from succeeded attempts, measured AT that
  concurrency (so contention between the jobs of one host is already in it):

      service_s = sum of wall seconds / attempts               (mean seconds one job holds a slot)
      rtf       = sum of input media seconds / sum of wall seconds   (per slot)

* **Throughput of one instance** at the measured concurrency:

      media seconds per wall second = mean concurrency * rtf
      jobs per hour                 = mean concurrency * 3600 / service_s   (thumbnails)

* **Waste** per job type: failed attempts held a slot for nothing (a spot interruption or an
  error) and their job is retried:

      retry share = failed attempts / attempts
      waste ratio = wall seconds of failed attempts / wall seconds of succeeded attempts

Records are frozen dataclasses; the queries take a duckdb connection (or a Dataset) and an
optional lower bound on `started_at` (the window).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import duckdb
    import polars as pl


#: How job slots per instance are taken from the measurements: see InstanceMeasurements.slots_for.
SlotsRule = Literal["mean", "max"] | int


@dataclass(frozen=True)
class Concurrency:
    """How many attempts the hosts of one instance type ran at once."""

    instance_type: str
    hosts: int
    #: Sum of attempt durations on these hosts, seconds.
    attempt_seconds: float
    #: Time at least one attempt was running, summed over hosts, seconds.
    busy_seconds: float
    #: The most attempts seen running at once on one host.
    max_concurrency: int

    @property
    def mean_concurrency(self) -> float:
        """Time-weighted mean number of running attempts while a host was busy."""
        return self.attempt_seconds / self.busy_seconds if self.busy_seconds > 0 else 0.0

    @property
    def slots(self) -> int:
        """Job slots per instance for the queueing model: the mean concurrency, rounded, >= 1."""
        return max(1, int(self.mean_concurrency + 0.5))


@dataclass(frozen=True)
class Service:
    """Service of one job type on one instance type (succeeded attempts)."""

    instance_type: str
    job_type: str
    attempts: int
    #: Sum of wall seconds of the attempts.
    wall_seconds: float
    #: Sum of their input media seconds (0 when unknown, e.g. thumbnails without a probe).
    media_seconds: float

    @property
    def service_s(self) -> float:
        """Mean seconds one job holds a slot."""
        return self.wall_seconds / self.attempts

    @property
    def rtf(self) -> float | None:
        """Input media seconds per wall second of one slot; None without media seconds."""
        if self.media_seconds <= 0 or self.wall_seconds <= 0:
            return None
        return self.media_seconds / self.wall_seconds


@dataclass(frozen=True)
class Waste:
    """Failed attempts of one job type: slots held for nothing, and retries."""

    job_type: str
    attempts: int
    failed_attempts: int
    failed_wall_seconds: float
    succeeded_wall_seconds: float

    @property
    def retry_share(self) -> float:
        """Failed attempts / attempts."""
        return self.failed_attempts / self.attempts if self.attempts else 0.0

    @property
    def waste_ratio(self) -> float:
        """Wall seconds of failed attempts per wall second of succeeded ones."""
        if self.succeeded_wall_seconds <= 0:
            return 0.0
        return self.failed_wall_seconds / self.succeeded_wall_seconds


NO_WASTE = Waste("", 0, 0, 0.0, 0.0)


@dataclass(frozen=True)
class InstanceMeasurements:
    """All we know of one instance type: its concurrency and the service of each job type.

    `estimated_from` is set when these figures were not measured on this type but derived from
    a measured type of the same family (see `planner.sizing.estimate_by_vcpus`).
    """

    instance_type: str
    concurrency: Concurrency
    services: Mapping[str, Service]
    estimated_from: str | None = None
    #: Job slots fixed by an estimate (None: from the measured concurrency, see `slots_for`).
    fixed_slots: int | None = field(default=None, compare=False)

    @property
    def estimated(self) -> bool:
        return self.estimated_from is not None

    @property
    def slots(self) -> int:
        """Job slots by the default rule (the mean concurrency, rounded)."""
        return self.slots_for("mean")

    def slots_for(self, rule: SlotsRule) -> int:
        """Job slots per instance: 'mean' = measured mean concurrency rounded (>= 1), 'max' =
        the most attempts seen at once on one host (the workers' configured limit, when they
        reached it), or a whole number the user gives."""
        if self.fixed_slots is not None:
            return self.fixed_slots
        if rule == "mean":
            return self.concurrency.slots
        if rule == "max":
            return max(1, self.concurrency.max_concurrency)
        return int(rule)

    def media_seconds_per_second(self, job_type: str) -> float | None:
        """Media seconds one instance processes per wall second at the measured concurrency."""
        s = self.services.get(job_type)
        rtf = s.rtf if s else None
        return None if rtf is None else self.concurrency.mean_concurrency * rtf

    def jobs_per_hour(self, job_type: str) -> float | None:
        """Jobs one instance completes per hour at the measured concurrency."""
        s = self.services.get(job_type)
        if s is None or s.service_s <= 0:
            return None
        return self.concurrency.mean_concurrency * 3600.0 / s.service_s


def _con(source: Any) -> duckdb.DuckDBPyConnection:
    """The duckdb connection of a Dataset, or the connection itself."""
    con = getattr(source, "connection", source)
    return con  # type: ignore[no-any-return]


def _since_clause(since: dt.datetime | None) -> tuple[str, list[Any]]:
    if since is None:
        return "", []
    return " AND started_at >= ?", [since]


CONCURRENCY_SQL = """
WITH iv AS (
    SELECT hostname, instance_type, started_at AS s, finished_at AS f
    FROM attempts
    WHERE hostname IS NOT NULL AND instance_type IS NOT NULL
      AND started_at IS NOT NULL AND finished_at > started_at {since}
),
ev AS (
    SELECT hostname, instance_type, s AS t, 1 AS d FROM iv
    UNION ALL
    SELECT hostname, instance_type, f AS t, -1 AS d FROM iv
),
net AS (
    SELECT hostname, instance_type, t, sum(d) AS d FROM ev GROUP BY hostname, instance_type, t
),
run AS (
    SELECT instance_type, hostname, t,
           sum(d) OVER (PARTITION BY hostname, instance_type ORDER BY t
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS level,
           lead(t) OVER (PARTITION BY hostname, instance_type ORDER BY t) AS next_t
    FROM net
)
SELECT instance_type,
       count(DISTINCT hostname) AS hosts,
       coalesce(sum(level * date_diff('microsecond', t, next_t)) FILTER (WHERE level > 0), 0)
           / 1e6 AS attempt_seconds,
       coalesce(sum(date_diff('microsecond', t, next_t)) FILTER (WHERE level > 0), 0)
           / 1e6 AS busy_seconds,
       max(level) AS max_concurrency
FROM run
GROUP BY instance_type
ORDER BY instance_type
"""


def measure_concurrency(
    source: Any, since: dt.datetime | None = None
) -> dict[str, Concurrency]:
    """Concurrency per instance type from the attempts' intervals (all statuses)."""
    clause, params = _since_clause(since)
    rows = _con(source).execute(CONCURRENCY_SQL.format(since=clause), params).fetchall()
    return {
        r[0]: Concurrency(r[0], int(r[1]), float(r[2]), float(r[3]), int(r[4] or 0))
        for r in rows
    }


SERVICE_SQL = """
SELECT instance_type, job_type, count(*) AS attempts,
       sum(duration_ms) / 1000.0 AS wall_seconds,
       coalesce(sum(input_duration_seconds), 0) AS media_seconds
FROM attempts
WHERE status = 'succeeded' AND instance_type IS NOT NULL AND duration_ms > 0 {since}
GROUP BY instance_type, job_type
ORDER BY instance_type, job_type
"""


def measure_services(
    source: Any, since: dt.datetime | None = None
) -> dict[tuple[str, str], Service]:
    """Service per (instance type, job type) from succeeded attempts."""
    clause, params = _since_clause(since)
    rows = _con(source).execute(SERVICE_SQL.format(since=clause), params).fetchall()
    return {
        (r[0], r[1]): Service(r[0], r[1], int(r[2]), float(r[3]), float(r[4])) for r in rows
    }


WASTE_SQL = """
SELECT job_type, count(*) AS attempts,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       coalesce(sum(duration_ms) FILTER (WHERE status = 'failed'), 0) / 1000.0 AS failed_s,
       coalesce(sum(duration_ms) FILTER (WHERE status = 'succeeded'), 0) / 1000.0 AS ok_s
FROM attempts
WHERE duration_ms IS NOT NULL {since}
GROUP BY job_type
ORDER BY job_type
"""


def measure_waste(source: Any, since: dt.datetime | None = None) -> dict[str, Waste]:
    """Failed-attempt share and wasted wall time per job type (all instance types together)."""
    clause, params = _since_clause(since)
    rows = _con(source).execute(WASTE_SQL.format(since=clause), params).fetchall()
    return {r[0]: Waste(r[0], int(r[1]), int(r[2]), float(r[3]), float(r[4])) for r in rows}


def measure_instances(
    source: Any, since: dt.datetime | None = None
) -> dict[str, InstanceMeasurements]:
    """Concurrency and services together, for every instance type with succeeded attempts."""
    conc = measure_concurrency(source, since)
    services = measure_services(source, since)
    by_type: dict[str, dict[str, Service]] = {}
    for (itype, jtype), svc in services.items():
        # Without a usable interval (no hostname) the type's concurrency is unknown: left out.
        if itype in conc:
            by_type.setdefault(itype, {})[jtype] = svc
    return {
        itype: InstanceMeasurements(itype, conc[itype], svcs) for itype, svcs in by_type.items()
    }


def throughput_frame(measurements: Mapping[str, InstanceMeasurements]) -> pl.DataFrame:
    """One row per (instance type, job type): slots, service time, RTF, media s/s, jobs/h."""
    import polars as pl

    rows = []
    for m in measurements.values():
        for jt, s in sorted(m.services.items()):
            rows.append(
                {
                    "instance_type": m.instance_type,
                    "job_type": jt,
                    "estimated": m.estimated,
                    "hosts": m.concurrency.hosts,
                    "mean_concurrency": m.concurrency.mean_concurrency,
                    "slots": m.slots,
                    "attempts": s.attempts,
                    "service_s": s.service_s,
                    "rtf": s.rtf,
                    "media_s_per_s": m.media_seconds_per_second(jt),
                    "jobs_per_hour": m.jobs_per_hour(jt),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "instance_type": pl.String, "job_type": pl.String, "estimated": pl.Boolean,
            "hosts": pl.Int64, "mean_concurrency": pl.Float64, "slots": pl.Int64,
            "attempts": pl.Int64, "service_s": pl.Float64, "rtf": pl.Float64,
            "media_s_per_s": pl.Float64, "jobs_per_hour": pl.Float64,
        },
    )
