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

  The rtf sums run over the attempts whose input duration is known: an attempt whose probe
  failed has wall seconds but no media seconds, and counting its wall time would pull the rtf
  down (the rule of planner.queries.KNOWN_INPUT, which planner.stats follows as well).

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
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner.queries import KNOWN_INPUT, MEASURED_WALL, connection_of
from planner.slots import MIN_OVERLAP_S, SlotsChoice, choose_slots
from planner.slots import SlotsRule as _SlotsRule

log = logging.getLogger("planner.throughput")

if TYPE_CHECKING:
    import polars as pl


#: How job slots per instance are taken from the measurements (planner.slots).
SlotsRule = _SlotsRule


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
    #: Busy seconds (all hosts) during which k attempts ran, index k, over stretches of at
    #: least planner.slots.MIN_OVERLAP_S (for the slots inference).
    level_seconds: tuple[float, ...] = ()

    @property
    def measured(self) -> bool:
        """False when no attempt of the type had a host name: one job at a time is assumed."""
        return self.busy_seconds > 0

    @property
    def mean_concurrency(self) -> float:
        """Time-weighted mean number of running attempts while a host was busy (1 if unknown)."""
        return self.attempt_seconds / self.busy_seconds if self.busy_seconds > 0 else 1.0

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
    #: Sum of wall seconds of the attempts with a known input duration (the rtf's denominator;
    #: wall_seconds when every input duration is known).
    media_wall_seconds: float

    @property
    def service_s(self) -> float:
        """Mean seconds one job holds a slot."""
        return self.wall_seconds / self.attempts

    @property
    def rtf(self) -> float | None:
        """Input media seconds per wall second of one slot, over the attempts with a known
        input duration; None without media seconds."""
        if self.media_seconds <= 0 or self.media_wall_seconds <= 0:
            return None
        return self.media_seconds / self.media_wall_seconds


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
    #: The workers' configured slots (the `worker_slots` column, schema v2), if recorded.
    worker_slots: int | None = None
    #: Where the measured rows come from: 'production', 'bench', 'synthetic', several joined
    #: with '+' (`measure_sources`); None when not looked up.
    source: str | None = field(default=None, compare=False)
    #: Slots of the best packing density within the slowdown bound (`--slots best`,
    #: planner.density.with_density_slots); its services are then those measured at it.
    density_slots: int | None = field(default=None, compare=False)

    @property
    def estimated(self) -> bool:
        return self.estimated_from is not None

    @property
    def slots(self) -> int:
        """Job slots by the default rule (the mean concurrency, rounded)."""
        return self.slots_for("mean")

    def slots_for(self, rule: SlotsRule) -> int:
        """Job slots per instance by `rule` (planner.slots.choose_slots)."""
        return self.slots_choice(rule).slots

    def slots_choice(self, rule: SlotsRule) -> SlotsChoice:
        """Job slots per instance by `rule`, and where the number came from."""
        if self.fixed_slots is not None:
            return SlotsChoice(self.fixed_slots, f"scaled by vCPUs from {self.estimated_from}")
        c = self.concurrency
        return choose_slots(
            rule,
            worker_slots=self.worker_slots,
            level_seconds=c.level_seconds,
            mean_concurrency=c.mean_concurrency,
            max_concurrency=c.max_concurrency,
            measured=c.measured,
            density_slots=self.density_slots,
        )

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


def _since_clause(since: dt.datetime | None) -> tuple[str, list[Any]]:
    if since is None:
        return "", []
    return " AND started_at >= ?", [since]


INTERVALS_SQL = """
SELECT instance_type, hostname, epoch_us(started_at) AS s, epoch_us(finished_at) AS f
FROM attempts
WHERE hostname IS NOT NULL AND instance_type IS NOT NULL
  AND started_at IS NOT NULL AND finished_at > started_at {since}
"""


def host_concurrency(
    starts_us: Any, finishes_us: Any
) -> tuple[float, float, int, list[float]]:
    """(attempt seconds, busy seconds, max concurrency, busy seconds at each level k over
    stretches of at least planner.slots.MIN_OVERLAP_S) of one host's intervals [s, f).

    Inputs are int64 microsecond arrays sorted by start. Busy time is the length of the union
    of the intervals: each interval adds the part of it past the latest finish before it,
    max(0, f - max(s, running max of earlier finishes)). The most at once comes from the sweep
    of +1 (start) and -1 (finish) events in time order, finishes first on ties (half-open
    intervals: one attempt ending as another starts is not an overlap).
    """
    import numpy as np

    s = np.asarray(starts_us, dtype=np.int64)
    f = np.asarray(finishes_us, dtype=np.int64)
    attempt_us = int((f - s).sum())
    prev = np.maximum.accumulate(f)
    prev_max = np.concatenate(([s[0]], prev[:-1]))
    busy_us = int(np.maximum(0, f - np.maximum(s, prev_max)).sum())
    times = np.concatenate((s, f))
    deltas = np.concatenate((np.ones(len(s), np.int8), -np.ones(len(f), np.int8)))
    order = np.lexsort((deltas, times))
    level = np.cumsum(deltas[order], dtype=np.int64)
    max_level = int(level.max())
    stretch = np.diff(times[order])
    keep = stretch >= MIN_OVERLAP_S * 1e6
    by_level = np.bincount(level[:-1][keep], weights=stretch[keep] / 1e6,
                           minlength=max_level + 1)
    return attempt_us / 1e6, busy_us / 1e6, max_level, by_level.tolist()


def measure_concurrency(
    source: Any, since: dt.datetime | None = None
) -> dict[str, Concurrency]:
    """Concurrency per instance type from the attempts' intervals (all statuses).

    One scan into Arrow; hosts are dictionary-encoded and the intervals sorted by (host, start)
    in numpy (cheaper than sorting on two string columns in SQL), then each host is swept by
    `host_concurrency`.
    """
    import numpy as np
    import pyarrow.compute as pc

    clause, params = _since_clause(since)
    sql = INTERVALS_SQL.format(since=clause)
    table = connection_of(source).sql(sql, params=params).to_arrow_table()
    if table.num_rows == 0:
        return {}
    # The NUL separator cannot occur in an instance type, so the pair splits back unambiguously.
    key = pc.binary_join_element_wise(table["instance_type"], table["hostname"], "\x00")
    encoded = key.combine_chunks().dictionary_encode()
    host_names = encoded.dictionary.to_pylist()
    hid = encoded.indices.to_numpy()
    s = table["s"].to_numpy()
    f = table["f"].to_numpy()
    order = np.lexsort((s, hid))
    hid, s, f = hid[order], s[order], f[order]
    edges = np.flatnonzero(np.diff(hid)) + 1
    sums: dict[str, list[float]] = {}
    levels: dict[str, list[float]] = {}
    for lo, hi in zip(np.r_[0, edges], np.r_[edges, len(hid)], strict=True):
        itype = host_names[int(hid[lo])].split("\x00", 1)[0]
        att, busy, level, by_level = host_concurrency(s[lo:hi], f[lo:hi])
        acc = sums.setdefault(itype, [0, 0.0, 0.0, 0])
        acc[0] += 1
        acc[1] += att
        acc[2] += busy
        acc[3] = max(acc[3], level)
        total = levels.setdefault(itype, [])
        total.extend([0.0] * (len(by_level) - len(total)))
        for k, v in enumerate(by_level):
            total[k] += v
    return {
        itype: Concurrency(itype, int(a[0]), a[1], a[2], int(a[3]), tuple(levels[itype]))
        for itype, a in sorted(sums.items())
    }


# One scan for services and waste: grouped by status as well, with the figures services need
# (rows with a positive duration) beside those waste needs (rows with any duration).
OUTCOMES_SQL = f"""
SELECT instance_type, job_type, status,
       count(*) FILTER (WHERE {MEASURED_WALL}) AS n_pos,
       coalesce(sum(duration_ms) FILTER (WHERE {MEASURED_WALL}), 0) / 1000.0 AS wall_pos,
       coalesce(sum(input_duration_seconds)
                FILTER (WHERE {MEASURED_WALL} AND {KNOWN_INPUT}), 0) AS media_pos,
       coalesce(sum(duration_ms)
                FILTER (WHERE {MEASURED_WALL} AND {KNOWN_INPUT}), 0) / 1000.0
           AS media_wall_pos,
       count(*) AS n_all,
       coalesce(sum(duration_ms), 0) / 1000.0 AS wall_all
FROM attempts
WHERE duration_ms IS NOT NULL {{since}}
GROUP BY instance_type, job_type, status
"""


def measure_outcomes(
    source: Any, since: dt.datetime | None = None
) -> tuple[dict[tuple[str, str], Service], dict[str, Waste]]:
    """Services per (instance type, job type) from succeeded attempts with a positive duration
    and an instance type, and waste per job type (all attempts with a duration), in one scan."""
    clause, params = _since_clause(since)
    rows = connection_of(source).execute(OUTCOMES_SQL.format(since=clause), params).fetchall()
    return outcomes_of(rows)


def outcomes_of(
    rows: Iterable[Sequence[Any]],
) -> tuple[dict[tuple[str, str], Service], dict[str, Waste]]:
    """Services and waste from the rows of OUTCOMES_SQL (instance type, job type, status, n_pos,
    wall_pos, media_pos, media_wall_pos, n_all, wall_all), pure: the engines' view of the
    same sums (planner.sizing_views) goes through it too."""
    services: dict[tuple[str, str], Service] = {}
    waste_acc: dict[str, list[float]] = {}
    for itype, jtype, status, n_pos, wall_pos, media_pos, media_wall, n_all, wall_all in rows:
        if status == "succeeded" and itype is not None and n_pos:
            services[(itype, jtype)] = Service(
                itype, jtype, int(n_pos), float(wall_pos), float(media_pos), float(media_wall)
            )
        acc = waste_acc.setdefault(jtype, [0, 0, 0.0, 0.0])
        acc[0] += n_all
        if status == "failed":
            acc[1] += n_all
            acc[2] += wall_all
        elif status == "succeeded":
            acc[3] += wall_all
    waste = {
        jt: Waste(jt, int(a[0]), int(a[1]), float(a[2]), float(a[3]))
        for jt, a in sorted(waste_acc.items())
    }
    return dict(sorted(services.items())), waste


def measure_sources(source: Any, since: dt.datetime | None = None) -> dict[str, str]:
    """Where each instance type's succeeded attempts come from: 'production', 'bench' or
    'synthetic', several joined with '+' (version-1 rows by their `synthetic` flag)."""
    from collectors.schema import SOURCE_SQL

    clause, params = _since_clause(since)
    rows = connection_of(source).execute(
        f"SELECT instance_type, string_agg(DISTINCT {SOURCE_SQL}, '+' ORDER BY {SOURCE_SQL}) "
        f"FROM attempts WHERE status = 'succeeded' AND instance_type IS NOT NULL{clause} "
        "GROUP BY ALL", params).fetchall()
    return {str(t): str(s) for t, s in rows}


def measure_services(
    source: Any, since: dt.datetime | None = None
) -> dict[tuple[str, str], Service]:
    """Service per (instance type, job type) from succeeded attempts."""
    return measure_outcomes(source, since)[0]


def measure_waste(source: Any, since: dt.datetime | None = None) -> dict[str, Waste]:
    """Failed-attempt share and wasted wall time per job type (all instance types together)."""
    return measure_outcomes(source, since)[1]


def measure_worker_slots(source: Any, since: dt.datetime | None = None) -> dict[str, int]:
    """The workers' configured slots per instance type (the most common `worker_slots` value,
    `most_common_slots`),
    where the data has the column (schema v2) and a value; {} otherwise."""
    con = connection_of(source)
    columns = {r[0] for r in con.execute("DESCRIBE attempts").fetchall()}
    if "worker_slots" not in columns:
        return {}
    clause, params = _since_clause(since)
    rows = con.execute(
        "SELECT instance_type, worker_slots, count(*) FROM attempts WHERE instance_type IS NOT "
        f"NULL AND worker_slots >= 1 {clause} GROUP BY instance_type, worker_slots",
        params).fetchall()
    return most_common_slots(rows)


def most_common_slots(rows: Iterable[Sequence[Any]]) -> dict[str, int]:
    """Per instance type, the `worker_slots` value most attempts recorded, from rows (instance
    type, worker_slots, attempts); on a tie the larger value (pure, so any engine's counts give
    the same answer)."""
    best: dict[str, tuple[int, int]] = {}
    for itype, slots, n in rows:
        key = (int(n), int(slots))
        if key > best.get(str(itype), (0, 0)):
            best[str(itype)] = key
    return {t: slots for t, (_, slots) in sorted(best.items())}


def measurements_from(
    concurrency: Mapping[str, Concurrency],
    services: Mapping[tuple[str, str], Service],
    worker_slots: Mapping[str, int] | None = None,
) -> dict[str, InstanceMeasurements]:
    """InstanceMeasurements for each type with both a concurrency and a service."""
    by_type: dict[str, dict[str, Service]] = {}
    for (itype, jtype), svc in services.items():
        by_type.setdefault(itype, {})[jtype] = svc
    out = {}
    for itype, svcs in sorted(by_type.items()):
        conc = concurrency.get(itype)
        if conc is None:
            # No attempt with a host name (an older collector, or a dataset without them):
            # concurrency cannot be measured; one job per instance at a time is assumed, and
            # said so (Concurrency.measured is False, mjplan size prints it).
            log.warning("%s: no host names, concurrency not measured; 1 job slot assumed", itype)
            conc = Concurrency(itype, 0, 0.0, 0.0, 0)
        out[itype] = InstanceMeasurements(
            itype, conc, svcs, worker_slots=(worker_slots or {}).get(itype))
    return out


def measure_instances(
    source: Any, since: dt.datetime | None = None
) -> dict[str, InstanceMeasurements]:
    """Concurrency and services together, for every instance type with succeeded attempts."""
    return measurements_from(measure_concurrency(source, since), measure_services(source, since))


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
