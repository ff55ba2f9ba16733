"""RTF statistics: DuckDB aggregates per group, then small pure maths on the group figures.

What a group reports (job type x instance type, optionally x input class):

* attempts, succeeded, success_rate.
* Aggregate RTF = sum(input seconds) / sum(wall seconds) over succeeded attempts with both
  known: the media seconds one busy worker slot gets through per second, which is what fleet
  sizing needs. The mean of per-attempt RTFs (rtf_mean) is shown beside it for contrast: it
  weights a 3 s clip like a 2 h film and is biased upwards (Jensen: E[y/x] >= E[y]/E[x] when
  wall time varies), so sizing from it under-provisions.
* A 95 % confidence interval for the aggregate RTF by the delta method for a ratio estimator:
  with d_i = y_i - R x_i (y input seconds, x wall seconds, R = sum y / sum x),
  SE(R) = sqrt(var(d) / n) / mean(x), and R +- t(0.975, n-1) SE(R). var(d) is
  var(y) + R^2 var(x) - 2 R cov(x, y), from DuckDB's numerically stable var_samp/covar_samp,
  so the interval costs one pass over the rows whatever their number. It treats attempts as
  independent draws; it is honest for tens of attempts and more (tests check ~95 % coverage
  at n = 60), too narrow for a handful - hence the low_sample flag.
* Per-attempt RTF percentiles p10/p50/p90/p99 (exact, DuckDB quantile_cont).
* CPU and memory where sampled (cpu_pct_avg is % of one core; cpu_util is that over the usable
  cores, 0..1; mem in MB), with the number of sampled attempts.
* low_sample: fewer than LOW_SAMPLE (30) attempts stand behind the group's main figure.
* source: where the group's rows come from, 'production', 'bench' (mjcollect bench) or
  'synthetic', several joined with '+' (collectors.schema.SOURCE_SQL for version-1 rows).

Thumbnails (throughput unit "jobs"): media seconds mean nothing for one decoded frame, so RTF
fields are null and the group is summarised as seconds per job (p50/p90, mean) and jobs per
hour per busy slot = 3600 / mean seconds per job, with a CI from the t interval of the mean
(inverted). `throughput`, `throughput_ci_low/high` and `throughput_unit` hold whichever figure
fits the job type, so a table or the sizing code can show one column for all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from collectors import schema
from planner.badges import codec_name
from planner.errors import EmptySelectionError, PlannerError
from planner.formats import UNKNOWN
from planner.queries import KNOWN_INPUT, MEASURED_WALL, connection_of, where_clause

if TYPE_CHECKING:
    import datetime as dt

    import duckdb
    import polars as pl

    from planner.dataset import Dataset

#: Fewer attempts than this behind a figure and it is flagged low_sample.
LOW_SAMPLE = 30
#: Confidence level of the intervals.
CONFIDENCE = 0.95

GroupBy = Literal["instance", "class", "codec", "job_type"]
GROUP_BYS: tuple[str, ...] = ("instance", "class", "codec", "job_type")

#: Resolution bands by the shorter displayed side (a portrait 1080x1920 is "1080p").
RESOLUTION_BANDS: tuple[tuple[int, str], ...] = (
    (480, "<=480p"),
    (720, "720p"),
    (1080, "1080p"),
    (1440, "1440p"),
)
TOP_BAND = "2160p+"
AUDIO_ONLY = "audio only"


def resolution_band(
    width: int | None,
    height: int | None,
    video_codec: str | None = None,
    audio_codec: str | None = None,
) -> str:
    """ "<=480p", "720p", "1080p", "1440p", "2160p+" by the shorter side; "audio only" for an
    input without video; "unknown" when the size is not known."""
    if not width or not height:
        return AUDIO_ONLY if video_codec is None and audio_codec is not None else UNKNOWN
    short = min(width, height)
    for limit, name in RESOLUTION_BANDS:
        if short <= limit:
            return name
    return TOP_BAND


def _band_sql() -> str:
    whens = " ".join(
        f"WHEN least(input_width, input_height) <= {limit} THEN '{name}'"
        for limit, name in RESOLUTION_BANDS
    )
    return (
        "CASE WHEN coalesce(input_width, 0) <= 0 OR coalesce(input_height, 0) <= 0 THEN "
        f"(CASE WHEN input_video_codec IS NULL AND input_audio_codec IS NOT NULL "
        f"THEN '{AUDIO_ONLY}' ELSE '{UNKNOWN}' END) {whens} ELSE '{TOP_BAND}' END"
    )


def _codec_sql() -> str:
    # Raw ffprobe names here; display names are mapped after aggregation (badges.codec_name).
    return (
        "CASE WHEN input_video_codec IS NOT NULL THEN input_video_codec "
        "WHEN input_audio_codec IS NOT NULL THEN 'audio:' || input_audio_codec "
        f"ELSE '{UNKNOWN}' END"
    )


def codec_class_name(raw: str) -> str:
    """Display name of a codec class: "H.264", "AAC (audio only)", "unknown"."""
    if raw == UNKNOWN:
        return raw
    if raw.startswith("audio:"):
        return f"{codec_name(raw[len('audio:') :]) or UNKNOWN} (audio only)"
    return codec_name(raw) or UNKNOWN


# ---------------------------------------------------------------------------- pure maths


def t_quantile(confidence: float, dof: float) -> float:
    """Two-sided Student t critical value (1.96-ish for large dof)."""
    from scipy import stats as sps

    return float(sps.t.ppf(0.5 + confidence / 2, dof))


def ratio_ci(
    n: int,
    mean_x: float,
    mean_y: float,
    var_x: float,
    var_y: float,
    cov_xy: float,
    confidence: float = CONFIDENCE,
) -> tuple[float, float, float]:
    """(R, low, high): ratio of means R = mean_y / mean_x and its delta-method interval.

    Sample variances/covariance (n - 1 denominators). NaN bounds when n < 2 or mean_x <= 0;
    the low bound is at least 0.
    """
    if n < 1 or not mean_x > 0:
        return (math.nan, math.nan, math.nan)
    r = mean_y / mean_x
    if n < 2:
        return (r, math.nan, math.nan)
    var_d = max(var_y + r * r * var_x - 2 * r * cov_xy, 0.0)
    se = math.sqrt(var_d / n) / mean_x
    half = t_quantile(confidence, n - 1) * se
    # Input and wall seconds are positive, so is their ratio: the symmetric interval of a few
    # widely spread attempts would reach below 0 (printed "-0.48-4.68"); it is cut at 0.
    return (r, max(r - half, 0.0), r + half)


def ratio_ci_of_samples(
    y: Sequence[float], x: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """`ratio_ci` from paired samples (y input seconds, x wall seconds)."""
    import numpy as np

    ya, xa = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    n = int(ya.size)
    if n < 2:
        return ratio_ci(
            n,
            float(xa.mean()) if n else 0.0,
            float(ya.mean()) if n else 0.0,
            0.0,
            0.0,
            0.0,
            confidence,
        )
    cov = np.cov(xa, ya, ddof=1)
    return ratio_ci(
        n,
        float(xa.mean()),
        float(ya.mean()),
        float(cov[0, 0]),
        float(cov[1, 1]),
        float(cov[0, 1]),
        confidence,
    )


def mean_rate_ci(
    n: int, mean_s: float, sd_s: float, per: float = 3600.0, confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """(rate, low, high) of `per / mean seconds` (jobs per hour), from a t interval of the mean
    seconds, inverted (the rate is monotone in the mean). NaN bounds when n < 2."""
    if n < 1 or not mean_s > 0:
        return (math.nan, math.nan, math.nan)
    rate = per / mean_s
    if n < 2 or not math.isfinite(sd_s):
        return (rate, math.nan, math.nan)
    half = t_quantile(confidence, n - 1) * sd_s / math.sqrt(n)
    low_mean, high_mean = mean_s - half, mean_s + half
    return (rate, per / high_mean, per / low_mean if low_mean > 0 else math.inf)


# ---------------------------------------------------------------------------- queries


def _group_exprs(by: str) -> list[tuple[str, str]]:
    if by not in GROUP_BYS:
        raise PlannerError(f"cannot group by {by!r}; choose one of {', '.join(GROUP_BYS)}")
    keys = [("job_type", "job_type")]
    if by != "job_type":
        keys.append(("instance_type", f"coalesce(instance_type, '{UNKNOWN}')"))
    if by == "class":
        keys.append(("input_class", _band_sql()))
    elif by == "codec":
        keys.append(("input_class", _codec_sql()))
    return keys


_AGG_SQL = """
WITH a AS (
  SELECT {key_select},
    status = 'succeeded' AS ok,
    CASE WHEN status = 'succeeded' AND {known_input} AND {measured_wall}
         THEN input_duration_seconds END AS y,
    CASE WHEN status = 'succeeded' AND {known_input} AND {measured_wall}
         THEN duration_ms / 1000.0 END AS x,
    CASE WHEN status = 'succeeded' AND {measured_wall} THEN duration_ms / 1000.0 END AS wall,
    CASE WHEN status = 'succeeded' THEN cpu_pct_avg END AS cpu_avg,
    CASE WHEN status = 'succeeded' THEN cpu_pct_max END AS cpu_max,
    CASE WHEN status = 'succeeded' AND coalesce(cpu_cores_usable, cpu_cores) > 0
         THEN cpu_pct_avg / (100.0 * coalesce(cpu_cores_usable, cpu_cores)) END AS cpu_util,
    CASE WHEN status = 'succeeded' THEN mem_rss_mb_max END AS mem_max,
    {source_sql} AS src
  FROM attempts{where}
)
SELECT {key_names},
  count(*) AS attempts,
  count(*) FILTER (WHERE ok) AS succeeded,
  count(y) AS n_rtf,
  sum(y) AS input_seconds,
  sum(x) AS wall_seconds,
  avg(x) AS mean_x, avg(y) AS mean_y,
  var_samp(x) AS var_x, var_samp(y) AS var_y, covar_samp(x, y) AS cov_xy,
  avg(y / x) AS rtf_mean,
  quantile_cont(y / x, [0.1, 0.5, 0.9, 0.99]) AS rtf_q,
  count(wall) AS n_wall,
  avg(wall) AS seconds_per_job_mean,
  stddev_samp(wall) AS sd_wall,
  quantile_cont(wall, [0.5, 0.9]) AS wall_q,
  count(cpu_avg) AS cpu_sampled,
  avg(cpu_avg) AS cpu_pct_avg,
  quantile_cont(cpu_max, 0.9) AS cpu_pct_max_p90,
  avg(cpu_util) AS cpu_util,
  avg(mem_max) AS mem_rss_mb_avg,
  quantile_cont(mem_max, 0.9) AS mem_rss_mb_p90,
  max(mem_max) AS mem_rss_mb_max,
  string_agg(DISTINCT src, '+' ORDER BY src) AS source
FROM a
GROUP BY ALL
ORDER BY ALL
"""

#: The resource figures _AGG_SQL ends with (in its order), passed on to the summary under the
#: same names: one list, so the SQL's columns and the summary's cannot fall out of step.
_RESOURCE_COLUMNS = (
    "cpu_sampled",
    "cpu_pct_avg",
    "cpu_pct_max_p90",
    "cpu_util",
    "mem_rss_mb_avg",
    "mem_rss_mb_p90",
    "mem_rss_mb_max",
)

#: Columns of `rtf_summary`, in order (group keys first; input_class only with by=class/codec).
SUMMARY_COLUMNS = (
    "attempts",
    "succeeded",
    "success_rate",
    "throughput_unit",
    "throughput",
    "throughput_ci_low",
    "throughput_ci_high",
    "rtf",
    "rtf_ci_low",
    "rtf_ci_high",
    "rtf_mean",
    "rtf_p10",
    "rtf_p50",
    "rtf_p90",
    "rtf_p99",
    "input_seconds",
    "wall_seconds",
    "n_rtf",
    "jobs_per_hour",
    "jobs_per_hour_ci_low",
    "jobs_per_hour_ci_high",
    "seconds_per_job_mean",
    "seconds_per_job_p50",
    "seconds_per_job_p90",
    "n_wall",
    *_RESOURCE_COLUMNS,
    "low_sample",
    "source",
)


def _nan_to_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _q(values: Any, i: int) -> float | None:
    if values is None or len(values) <= i:
        return None
    v = values[i]
    return None if v is None else float(v)


def rtf_summary(
    source: Dataset | duckdb.DuckDBPyConnection,
    *,
    by: GroupBy | str = "instance",
    job_type: str | Sequence[str] | None = None,
    instance_type: str | Sequence[str] | None = None,
    since: dt.datetime | dt.date | str | None = None,
    until: dt.datetime | dt.date | str | None = None,
    synthetic: bool | None = None,
    confidence: float = CONFIDENCE,
    low_sample: int = LOW_SAMPLE,
) -> pl.DataFrame:
    """The summary table: one row per job_type x instance_type (by="instance"), also x
    input_class (by="class": resolution band; by="codec": codec display name), or per job_type
    alone (by="job_type"). Columns: the group keys, then SUMMARY_COLUMNS (see the module
    docstring for their meaning; seconds, MB, % of one core).

    Raises EmptySelectionError when the filters select no attempt, PlannerError for a bad `by`.
    """
    import polars as pl

    keys = _group_exprs(by)
    where, params = where_clause(
        job_type=job_type,
        instance_type=instance_type,
        since=since,
        until=until,
        synthetic=synthetic,
    )
    sql = _AGG_SQL.format(
        key_select=", ".join(f"{expr} AS {name}" for name, expr in keys),
        key_names=", ".join(name for name, _ in keys),
        where=where,
        known_input=KNOWN_INPUT,
        measured_wall=MEASURED_WALL,
        source_sql=schema.SOURCE_SQL,
    )
    rows = connection_of(source).sql(sql, params=params).fetchall()
    if not rows:
        raise EmptySelectionError("no attempts match the selection")
    names = [name for name, _ in keys]
    agg_names = [
        "attempts",
        "succeeded",
        "n_rtf",
        "input_seconds",
        "wall_seconds",
        "mean_x",
        "mean_y",
        "var_x",
        "var_y",
        "cov_xy",
        "rtf_mean",
        "rtf_q",
        "n_wall",
        "seconds_per_job_mean",
        "sd_wall",
        "wall_q",
        *_RESOURCE_COLUMNS,
        "source",
    ]
    out: list[dict[str, Any]] = []
    for raw in rows:
        g = dict(zip([*names, *agg_names], raw, strict=True))
        unit = schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(
            g["job_type"], schema.THROUGHPUT_MEDIA_SECONDS
        )
        rec: dict[str, Any] = {name: g[name] for name in names}
        if "input_class" in rec and by == "codec":
            rec["input_class"] = codec_class_name(str(rec["input_class"]))
        n_rtf, n_wall = int(g["n_rtf"]), int(g["n_wall"])
        jph = mean_rate_ci(
            n_wall,
            g["seconds_per_job_mean"] or math.nan,
            g["sd_wall"] if g["sd_wall"] is not None else math.nan,
            confidence=confidence,
        )
        if unit == schema.THROUGHPUT_JOBS:
            rtf = (math.nan, math.nan, math.nan)
            rtf_mean, rq = None, None
            throughput, n_main = jph, n_wall
        else:
            rtf = ratio_ci(
                n_rtf,
                g["mean_x"] or 0.0,
                g["mean_y"] or 0.0,
                g["var_x"] or 0.0,
                g["var_y"] or 0.0,
                g["cov_xy"] or 0.0,
                confidence,
            )
            rtf_mean, rq = g["rtf_mean"], g["rtf_q"]
            throughput, n_main = rtf, n_rtf
        attempts, succeeded = int(g["attempts"]), int(g["succeeded"])
        rec.update(
            attempts=attempts,
            succeeded=succeeded,
            success_rate=succeeded / attempts if attempts else None,
            throughput_unit=unit,
            throughput=_nan_to_none(throughput[0]),
            throughput_ci_low=_nan_to_none(throughput[1]),
            throughput_ci_high=_nan_to_none(throughput[2]),
            rtf=_nan_to_none(rtf[0]),
            rtf_ci_low=_nan_to_none(rtf[1]),
            rtf_ci_high=_nan_to_none(rtf[2]),
            rtf_mean=rtf_mean,
            rtf_p10=_q(rq, 0),
            rtf_p50=_q(rq, 1),
            rtf_p90=_q(rq, 2),
            rtf_p99=_q(rq, 3),
            input_seconds=g["input_seconds"] if unit != schema.THROUGHPUT_JOBS else None,
            wall_seconds=g["wall_seconds"] if unit != schema.THROUGHPUT_JOBS else None,
            n_rtf=n_rtf,
            jobs_per_hour=_nan_to_none(jph[0]),
            jobs_per_hour_ci_low=_nan_to_none(jph[1]),
            jobs_per_hour_ci_high=_nan_to_none(jph[2]),
            seconds_per_job_mean=g["seconds_per_job_mean"],
            seconds_per_job_p50=_q(g["wall_q"], 0),
            seconds_per_job_p90=_q(g["wall_q"], 1),
            n_wall=n_wall,
            cpu_sampled=int(g["cpu_sampled"]),
            cpu_pct_avg=g["cpu_pct_avg"],
            cpu_pct_max_p90=g["cpu_pct_max_p90"],
            cpu_util=g["cpu_util"],
            mem_rss_mb_avg=g["mem_rss_mb_avg"],
            mem_rss_mb_p90=g["mem_rss_mb_p90"],
            mem_rss_mb_max=g["mem_rss_mb_max"],
            low_sample=n_main < low_sample,
            source=g["source"],
        )
        out.append(rec)
    schema_pl: dict[str, Any] = {name: pl.String for name in names}
    for col in SUMMARY_COLUMNS:
        if col in ("attempts", "succeeded", "n_rtf", "n_wall", "cpu_sampled"):
            schema_pl[col] = pl.Int64
        elif col in ("throughput_unit", "source"):
            schema_pl[col] = pl.String
        elif col == "low_sample":
            schema_pl[col] = pl.Boolean
        else:
            schema_pl[col] = pl.Float64
    return pl.DataFrame(out, schema=schema_pl, orient="row")


def rtf_histogram(
    source: Dataset | duckdb.DuckDBPyConnection,
    *,
    by: GroupBy | str = "instance",
    bins: int = 40,
    job_type: str | Sequence[str] | None = None,
    instance_type: str | Sequence[str] | None = None,
    since: dt.datetime | dt.date | str | None = None,
    until: dt.datetime | dt.date | str | None = None,
    synthetic: bool | None = None,
) -> pl.DataFrame:
    """Histogram bins of per-attempt RTF (seconds per job for thumbnails), for plotting.

    One row per group and non-empty bin: the group keys, `measure` ("rtf" or "seconds_per_job"),
    `bin` (0-based), `bin_low`, `bin_high`, `count`. Bins are equal-width from 0 to the 99th
    percentile of the job type (shared by its groups, so they can be overlaid); values above it
    are counted in the last bin. Succeeded attempts with a positive wall time only: the
    population of rtf_summary's percentiles.
    """
    if bins < 1:
        raise PlannerError("bins must be >= 1")
    keys = _group_exprs(by)
    where, params = where_clause(
        job_type=job_type,
        instance_type=instance_type,
        since=since,
        until=until,
        synthetic=synthetic,
        status=schema.STATUS_SUCCEEDED,
    )
    jobs_types = [
        t for t, u in schema.THROUGHPUT_UNIT_BY_JOB_TYPE.items() if u == schema.THROUGHPUT_JOBS
    ]
    jobs_list = ", ".join(f"'{t}'" for t in jobs_types)  # constants of the schema, not input
    key_select = ", ".join(f"{expr} AS {name}" for name, expr in keys)
    key_names = ", ".join(name for name, _ in keys)
    sql = f"""
    WITH v AS (
      SELECT {key_select},
        CASE WHEN NOT {MEASURED_WALL} THEN NULL
             WHEN job_type IN ({jobs_list}) THEN duration_ms / 1000.0
             WHEN {KNOWN_INPUT}
             THEN input_duration_seconds / (duration_ms / 1000.0) END AS value
      FROM attempts{where}
    ), e AS (
      SELECT job_type, quantile_cont(value, 0.99) AS hi FROM v WHERE value IS NOT NULL
      GROUP BY job_type
    ), b AS (
      SELECT v.*, e.hi / ? AS width,
        coalesce(least(CAST(floor(v.value / nullif(e.hi / ?, 0)) AS BIGINT), ? - 1), 0) AS bin
      FROM v JOIN e USING (job_type) WHERE v.value IS NOT NULL
    )
    SELECT {key_names},
      CASE WHEN job_type IN ({jobs_list}) THEN 'seconds_per_job' ELSE 'rtf' END AS measure,
      bin, bin * min(width) AS bin_low, (bin + 1) * min(width) AS bin_high, count(*) AS count
    FROM b GROUP BY {key_names}, measure, bin ORDER BY {key_names}, bin
    """
    import polars as pl

    df: pl.DataFrame = connection_of(source).sql(sql, params=[*params, bins, bins, bins]).pl()
    if by == "codec" and "input_class" in df.columns:
        df = df.with_columns(
            pl.col("input_class").map_elements(codec_class_name, return_dtype=pl.String)
        )
    return df
