"""The sizing inputs as views of Athena, Trino or Spark: what `mjplan size` measures on a
dataset (planner.sizing.load_sizing_inputs), computed by the engine over its table, so that a
team can size from years of data: run the views, download their results, and
`mjplan size --inputs FOLDER` (planner.sizing_results turns the results into the inputs of
docs/sizing-inputs.md).

Every view reads `<table>_dedup` (one row per attempt, planner.ddl) over the same window as
`mjplan size --window` (`<table>_sizing_window`: whole hours ending at the hour of the data's last
start, as planner.demand.window_bounds; the window's length is given to `mjplan ddl --window`):

- `_sizing_window`: the data's first and last start, the window's [start_at, end_at), its hours;
- `_sizing_demand`: first attempts per job type and hour of the window (planner.demand);
- `_sizing_outcomes`: per instance type x job type x status, the sums of
  planner.throughput.OUTCOMES_SQL (services and waste);
- `_sizing_sources`, `_sizing_worker_slots`: where each type's rows come from, and the
  configured slots with how many attempts say each (planner.throughput);
- `_sizing_concurrency`: per instance type, hosts, attempt and busy seconds, the most attempts
  at once and the busy seconds at each level k (planner.throughput.host_concurrency as a sweep
  with window functions: +1 at a start, -1 at a finish, the running sum is the level, the time
  to the next event the stretch at that level; stretches under planner.slots.MIN_OVERLAP_S left
  out of the levels);
- `_sizing_samples`: up to planner.service_times.PER_GROUP service times per instance type x
  job type, the first by the md5 of the attempt id (the planner picks the same ones);
- `_sizing_arrivals`: first attempts per minute of the window (planner.arrivals.burstiness);
- `_sizing_density`: per instance type x job type x attempts running on the host at the start
  x source, the sums of planner.density.measure_levels (for `--slots best`).

Exact but for two things: Athena and Trino read timestamps to the millisecond (Spark and the
planner to the microsecond), so their interval lengths are the planner's on times cut to the
millisecond; and sums of doubles may differ in the last bits (another order of addition).
tests/planner/test_sizing_results.py runs every engine's views in DuckDB and sizes from them.
"""

from __future__ import annotations

from collectors.schema import SOURCE_SQL
from planner.arrivals import BIN_S
from planner.ddl import Engine, Target
from planner.density import UNKNOWN_TYPE
from planner.queries import KNOWN_INPUT, MEASURED_WALL
from planner.service_times import PER_GROUP, SAMPLE_ORDER
from planner.slots import MIN_OVERLAP_S

#: Ticks of the time differences each engine computes exactly (Athena and Trino read
#: timestamps to the millisecond; Spark keeps microseconds).
TICKS_PER_S: dict[Engine, int] = {"athena": 1000, "trino": 1000, "spark": 1_000_000}

#: The result of each view, by the view's suffix, in the order the views are created.
PARTS: tuple[str, ...] = ("sizing_window", "sizing_demand", "sizing_outcomes", "sizing_sources",
                          "sizing_worker_slots", "sizing_concurrency", "sizing_samples",
                          "sizing_arrivals", "sizing_density")


def ticks(engine: Engine, start: str, end: str) -> str:
    """SQL: whole ticks (TICKS_PER_S) from timestamp `start` to timestamp `end`."""
    if engine == "spark":
        return f"(unix_micros({end}) - unix_micros({start}))"
    return f"date_diff('millisecond', {start}, {end})"


def _sample_order(engine: Engine) -> str:
    # The md5 as hexadecimal text sorts as its bytes do, in every engine and in the planner.
    if engine == "spark":
        return SAMPLE_ORDER
    return "to_hex(md5(to_utf8(attempt_id)))"


def _windowed(t: Target, where: str = "") -> str:
    """FROM clause: the deduplicated attempts that started in or after the window's start."""
    cond = f" AND {where}" if where else ""
    return (f"FROM {t.name('_dedup')} a CROSS JOIN {t.name('_sizing_window')} w\n"
            f"WHERE a.started_at >= w.start_at{cond}")


def window_view(t: Target) -> str:
    hours = t.window_hours
    last_hour = "date_trunc('hour', last_start)"
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_window')} AS
SELECT first_start, last_start, start_at,
  CASE WHEN start_at >= {last_hour} THEN start_at + INTERVAL '1' HOUR ELSE {last_hour} END
    AS end_at,
  {hours} AS window_hours
FROM (
  SELECT first_start, last_start,
    greatest({last_hour} - INTERVAL '{hours}' HOUR, date_trunc('hour', first_start)) AS start_at
  FROM (
    SELECT min(started_at) AS first_start, max(started_at) AS last_start
    FROM {t.name('_dedup')}
    WHERE started_at IS NOT NULL
  ) b
) s"""


def demand_view(t: Target) -> str:
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_demand')} AS
SELECT d.job_type, d.hour, d.jobs, d.media_jobs, d.media_seconds
FROM {t.name('_hourly_demand')} d CROSS JOIN {t.name('_sizing_window')} w
WHERE d.hour >= w.start_at AND d.hour < w.end_at"""


def outcomes_view(t: Target) -> str:
    pos = MEASURED_WALL
    both = f"{MEASURED_WALL} AND {KNOWN_INPUT}"
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_outcomes')} AS
SELECT instance_type, job_type, status,
  sum(CASE WHEN {pos} THEN 1 ELSE 0 END) AS n_pos,
  CAST(coalesce(sum(CASE WHEN {pos} THEN duration_ms END), 0) AS DOUBLE) / 1000 AS wall_pos,
  coalesce(sum(CASE WHEN {both} THEN input_duration_seconds END), 0) AS media_pos,
  CAST(coalesce(sum(CASE WHEN {both} THEN duration_ms END), 0) AS DOUBLE) / 1000
    AS media_wall_pos,
  count(*) AS n_all,
  CAST(coalesce(sum(duration_ms), 0) AS DOUBLE) / 1000 AS wall_all
{_windowed(t, "duration_ms IS NOT NULL")}
GROUP BY instance_type, job_type, status"""


def sources_view(t: Target) -> str:
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_sources')} AS
SELECT DISTINCT instance_type, {SOURCE_SQL} AS source
{_windowed(t, "status = 'succeeded' AND instance_type IS NOT NULL")}"""


def worker_slots_view(t: Target) -> str:
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_worker_slots')} AS
SELECT instance_type, worker_slots, count(*) AS attempts
{_windowed(t, "instance_type IS NOT NULL AND worker_slots >= 1")}
GROUP BY instance_type, worker_slots"""


def concurrency_view(t: Target) -> str:
    tick = TICKS_PER_S[t.engine]
    min_ticks = round(MIN_OVERLAP_S * tick)
    host = "PARTITION BY instance_type, hostname ORDER BY t"
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_concurrency')} AS
WITH iv AS (
  SELECT instance_type, hostname, {ticks(t.engine, 'w.start_at', 'a.started_at')} AS s,
    {ticks(t.engine, 'w.start_at', 'a.finished_at')} AS f
  {_windowed(t, "hostname IS NOT NULL AND instance_type IS NOT NULL "
                "AND finished_at > started_at")}
), ev AS (
  SELECT instance_type, hostname, s AS t, 1 AS d FROM iv
  UNION ALL
  SELECT instance_type, hostname, f AS t, -1 AS d FROM iv
), instant AS (
  -- One row per host and instant: finishes come before starts at one instant (half-open
  -- intervals), so the level after the instant is the running sum of the net changes and no
  -- level between is higher than the ones before and after it.
  SELECT instance_type, hostname, t, sum(d) AS net FROM ev GROUP BY instance_type, hostname, t
), lv AS (
  SELECT instance_type, hostname,
    sum(net) OVER ({host} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS level,
    lead(t) OVER ({host}) - t AS stretch
  FROM instant
), hosts AS (
  SELECT instance_type, count(*) AS hosts, sum(attempt_ticks) AS attempt_ticks
  FROM (SELECT instance_type, hostname, sum(f - s) AS attempt_ticks FROM iv
        GROUP BY instance_type, hostname) h
  GROUP BY instance_type
), busy AS (
  SELECT instance_type, max(level) AS max_concurrency,
    sum(CASE WHEN level > 0 THEN stretch ELSE 0 END) AS busy_ticks
  FROM lv GROUP BY instance_type
), levels AS (
  SELECT instance_type, level, sum(stretch) AS level_ticks
  FROM lv WHERE stretch >= {min_ticks} GROUP BY instance_type, level
)
SELECT h.instance_type, h.hosts,
  CAST(h.attempt_ticks AS DOUBLE) / {tick} AS attempt_seconds,
  CAST(b.busy_ticks AS DOUBLE) / {tick} AS busy_seconds,
  b.max_concurrency,
  l.level,
  CAST(l.level_ticks AS DOUBLE) / {tick} AS level_seconds
FROM hosts h JOIN busy b ON b.instance_type = h.instance_type
LEFT JOIN levels l ON l.instance_type = h.instance_type"""


def samples_view(t: Target) -> str:
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_samples')} AS
SELECT instance_type, job_type, pick, wall_s, input_s
FROM (
  SELECT instance_type, job_type, CAST(duration_ms AS DOUBLE) / 1000 AS wall_s,
    CASE WHEN {KNOWN_INPUT} THEN input_duration_seconds END AS input_s,
    row_number() OVER (PARTITION BY instance_type, job_type
                       ORDER BY {_sample_order(t.engine)}) AS pick
  {_windowed(t, f"status = 'succeeded' AND {MEASURED_WALL} AND instance_type IS NOT NULL")}
) s
WHERE pick <= {PER_GROUP}"""


def arrivals_view(t: Target) -> str:
    per_bin = round(BIN_S * TICKS_PER_S[t.engine])
    since = ticks(t.engine, "w.start_at", "a.started_at")
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_arrivals')} AS
SELECT minute_index, count(*) AS jobs
FROM (
  SELECT floor(CAST({since} AS DOUBLE) / {per_bin}) AS minute_index
  {_windowed(t, "a.started_at < w.end_at AND coalesce(attempt_number, 1) = 1")}
) m
GROUP BY minute_index"""


def density_view(t: Target) -> str:
    # Whole milliseconds summed as integers, so the converter's sum over sources is exact.
    return f"""CREATE OR REPLACE VIEW {t.name('_sizing_density')} AS
SELECT coalesce(instance_type, '{UNKNOWN_TYPE}') AS instance_type, job_type,
  host_running_at_start AS running, {SOURCE_SQL} AS source,
  count(*) AS attempts,
  sum(duration_ms) AS wall_ms,
  sum(CASE WHEN {KNOWN_INPUT} THEN input_duration_seconds END) AS media_s,
  sum(CASE WHEN {KNOWN_INPUT} THEN duration_ms END) AS media_wall_ms
{_windowed(t, f"status = 'succeeded' AND {MEASURED_WALL} AND host_running_at_start >= 1")}
GROUP BY coalesce(instance_type, '{UNKNOWN_TYPE}'), job_type, host_running_at_start,
  {SOURCE_SQL}"""


def sizing_views_sql(t: Target) -> list[str]:
    """The sizing views, in creation order (after planner.ddl's), without trailing semicolons."""
    return [window_view(t), demand_view(t), outcomes_view(t), sources_view(t),
            worker_slots_view(t), concurrency_view(t), samples_view(t), arrivals_view(t),
            density_view(t)]
