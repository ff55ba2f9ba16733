"""Where attempts' wall time goes (download, probe, transcode, upload, other) and whether a job
type is I/O-bound, per job type x instance type.

The formulas (shares and rates as ratios of sums over succeeded attempts) and the I/O-bound
rule are in docs/io_hints.md; the rule's thresholds are the constants below. For an I/O-bound
job type a faster instance type buys little; sizing still uses whole-attempt service times.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from collectors.schema import (
    PHASE_DOWNLOAD,
    PHASE_UPLOAD,
    PHASES,
    THROUGHPUT_JOBS,
    THROUGHPUT_UNIT_BY_JOB_TYPE,
)
from planner.errors import EmptySelectionError, PlannerError
from planner.queries import KNOWN_INPUT, MEASURED_WALL, connection_of, where_clause

if TYPE_CHECKING:
    import datetime as dt

    import duckdb
    import polars as pl

    from planner.dataset import Dataset

#: Rule 1: the share of wall time in download + upload phases above which a group is I/O-bound.
IO_SHARE_LIMIT = 1 / 3
#: Rule 2: mean CPU of the tree (% of one core) below which it is waiting rather than working...
CPU_BUSY_MIN_PCT = 50.0
#: ...while at least this many MB (1e6 bytes) per wall second go through its reads and writes.
IO_FLOW_MIN_MB_PER_S = 1.0

#: The phases whose time is I/O (rule 1).
IO_PHASES = (PHASE_DOWNLOAD, PHASE_UPLOAD)

#: Columns of `phase_summary` after the group keys, in order.
PHASE_SUMMARY_COLUMNS = (
    "attempts",
    "phased",
    *(f"share_{p}" for p in PHASES),
    "io_share",
    "transcode_rtf",
    "download_mb_per_s",
    "upload_mb_per_s",
    "io_sampled",
    "io_mb_per_s",
    "cpu_pct_avg",
    "io_bound",
    "io_bound_reason",
)


def io_bound_reason(io_share: float | None, cpu_pct_avg: float | None,
                    io_mb_per_s: float | None) -> str | None:
    """Why a group is I/O-bound by the module's rule, in a few words; None when it is not (or
    nothing is known). Pure."""
    if io_share is not None and io_share > IO_SHARE_LIMIT:
        return f"{100 * io_share:.0f}% of wall time in download/upload"
    if (cpu_pct_avg is not None and io_mb_per_s is not None
            and cpu_pct_avg < CPU_BUSY_MIN_PCT and io_mb_per_s >= IO_FLOW_MIN_MB_PER_S):
        return f"CPU {cpu_pct_avg:.0f}% of a core while {io_mb_per_s:.1f} MB/s flowed"
    return None


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or not den > 0:
        return None
    value = float(num) / float(den)
    return value if math.isfinite(value) else None


_SQL = """
WITH a AS (
  SELECT {key_select},
    CASE WHEN {measured_wall} AND phase_other_ms IS NOT NULL THEN duration_ms END AS pwall,
    {phase_cols},
    CASE WHEN {measured_wall} AND {known_input} AND phase_transcode_ms > 0
         THEN input_duration_seconds END AS t_input_s,
    CASE WHEN {measured_wall} AND {known_input} AND phase_transcode_ms > 0
         THEN phase_transcode_ms END AS t_ms,
    CASE WHEN net_bytes_in > 0 AND phase_download_ms > 0 THEN net_bytes_in END AS d_bytes,
    CASE WHEN net_bytes_in > 0 AND phase_download_ms > 0 THEN phase_download_ms END AS d_ms,
    CASE WHEN net_bytes_out > 0 AND phase_upload_ms > 0 THEN net_bytes_out END AS u_bytes,
    CASE WHEN net_bytes_out > 0 AND phase_upload_ms > 0 THEN phase_upload_ms END AS u_ms,
    CASE WHEN {measured_wall} AND bytes_read IS NOT NULL AND bytes_written IS NOT NULL
         THEN duration_ms END AS io_wall,
    CASE WHEN {measured_wall} THEN bytes_read + bytes_written END AS io_bytes,
    CASE WHEN {measured_wall} AND bytes_read IS NOT NULL AND cpu_pct_avg IS NOT NULL
         THEN duration_ms END AS cpu_wall,
    CASE WHEN {measured_wall} AND bytes_read IS NOT NULL
         THEN cpu_pct_avg * duration_ms END AS cpu_x_wall
  FROM attempts{where}
)
SELECT {key_names},
  count(*) AS attempts,
  count(pwall) AS phased,
  sum(pwall) AS pwall,
  {phase_sums},
  sum(t_input_s) AS t_input_s, sum(t_ms) AS t_ms,
  sum(d_bytes) AS d_bytes, sum(d_ms) AS d_ms, sum(u_bytes) AS u_bytes, sum(u_ms) AS u_ms,
  count(io_wall) AS io_sampled, sum(io_wall) AS io_wall,
  sum(io_bytes) FILTER (WHERE io_wall IS NOT NULL) AS io_bytes,
  sum(cpu_wall) AS cpu_wall, sum(cpu_x_wall) FILTER (WHERE cpu_wall IS NOT NULL) AS cpu_x_wall
FROM a
GROUP BY ALL
ORDER BY ALL
"""


def phase_summary(
    source: Dataset | duckdb.DuckDBPyConnection,
    *,
    by: str = "instance",
    job_type: str | Sequence[str] | None = None,
    instance_type: str | Sequence[str] | None = None,
    since: dt.datetime | dt.date | str | None = None,
    until: dt.datetime | dt.date | str | None = None,
    synthetic: bool | None = None,
) -> pl.DataFrame:
    """One row per job_type x instance_type (by="instance") or per job_type (by="job_type"):
    the group keys, then PHASE_SUMMARY_COLUMNS (see the module docstring; shares 0..1, MB/s,
    % of one core). Succeeded attempts only.

    Raises EmptySelectionError when no succeeded attempt matches, PlannerError for a bad `by`.
    """
    import polars as pl

    if by not in ("instance", "job_type"):
        raise PlannerError(f"phases are summarised by instance or job_type, not {by!r}")
    keys = [("job_type", "job_type")]
    if by == "instance":
        keys.append(("instance_type", "coalesce(instance_type, 'unknown')"))
    where, params = where_clause(job_type=job_type, instance_type=instance_type, since=since,
                                 until=until, synthetic=synthetic, status="succeeded")
    sql = _SQL.format(
        key_select=", ".join(f"{expr} AS {name}" for name, expr in keys),
        key_names=", ".join(name for name, _ in keys),
        phase_cols=",\n    ".join(
            f"CASE WHEN {MEASURED_WALL} AND phase_other_ms IS NOT NULL THEN phase_{p}_ms END "
            f"AS p_{p}" for p in PHASES),
        phase_sums=", ".join(f"sum(p_{p}) AS p_{p}" for p in PHASES),
        where=where,
        measured_wall=MEASURED_WALL,
        known_input=KNOWN_INPUT,
    )
    cur = connection_of(source).sql(sql, params=params)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    if not rows:
        raise EmptySelectionError("no succeeded attempts match the selection")
    out = [_group_record(g, [name for name, _ in keys]) for g in rows]
    schema_pl: dict[str, Any] = {name: pl.String for name, _ in keys}
    for col in PHASE_SUMMARY_COLUMNS:
        schema_pl[col] = {"attempts": pl.Int64, "phased": pl.Int64, "io_sampled": pl.Int64,
                          "io_bound": pl.Boolean, "io_bound_reason": pl.String}.get(
                              col, pl.Float64)
    return pl.DataFrame(out, schema=schema_pl, orient="row")


def _group_record(g: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    rec: dict[str, Any] = {k: g[k] for k in keys}
    shares = {p: _ratio(g[f"p_{p}"], g["pwall"]) for p in PHASES}
    io_share = None
    if g["pwall"]:
        io_share = _ratio(sum(g[f"p_{p}"] or 0 for p in IO_PHASES), g["pwall"])
    io_mb_per_s = _ratio(g["io_bytes"] / 1e6 if g["io_bytes"] is not None else None,
                         g["io_wall"] / 1000 if g["io_wall"] else None)
    cpu = _ratio(g["cpu_x_wall"], g["cpu_wall"])
    reason = io_bound_reason(io_share, cpu, io_mb_per_s)
    rec.update(
        attempts=int(g["attempts"]),
        phased=int(g["phased"]),
        **{f"share_{p}": shares[p] for p in PHASES},
        io_share=io_share,
        # As planner.stats: one decoded frame of a thumbnail makes no media-seconds rate.
        transcode_rtf=None if THROUGHPUT_UNIT_BY_JOB_TYPE.get(g["job_type"]) == THROUGHPUT_JOBS
        else _ratio(g["t_input_s"], g["t_ms"] / 1000 if g["t_ms"] else None),
        download_mb_per_s=_ratio(g["d_bytes"] / 1e6 if g["d_bytes"] else None,
                                 g["d_ms"] / 1000 if g["d_ms"] else None),
        upload_mb_per_s=_ratio(g["u_bytes"] / 1e6 if g["u_bytes"] else None,
                               g["u_ms"] / 1000 if g["u_ms"] else None),
        io_sampled=int(g["io_sampled"]),
        io_mb_per_s=io_mb_per_s,
        cpu_pct_avg=cpu,
        io_bound=reason is not None,
        io_bound_reason=reason,
    )
    return rec


def has_io_hints(summary: pl.DataFrame) -> bool:
    """Whether any group of a phase_summary has phases or io figures to show."""
    return bool(summary.height) and bool(
        (summary["phased"] > 0).any() or (summary["io_sampled"] > 0).any())


def io_bound_sentences(summary: pl.DataFrame) -> list[str]:
    """One sentence per I/O-bound group of a phase_summary, for the report and the summary:
    where the time goes and what would help instead of a faster instance type."""
    out: list[str] = []
    for row in summary.filter(summary["io_bound"]).iter_rows(named=True):
        where = row["job_type"]
        if row.get("instance_type"):
            where += f" on {row['instance_type']}"
        out.append(
            f"{where}: {row['io_bound_reason']}, so a faster instance type would not help "
            "much; a network-optimised one, or overlapping the download with the transcode, "
            "would.")
    return out


def attempt_phases(row: Mapping[str, Any]) -> list[tuple[str, int, float | None]]:
    """(phase, ms, share of the attempt's wall time) of one attempt row, the phases it spent
    time in, in schema order; [] for a row without phases. Pure."""
    wall = row.get("duration_ms")
    out: list[tuple[str, int, float | None]] = []
    for p in PHASES:
        ms = row.get(f"phase_{p}_ms")
        if ms:
            out.append((p, int(ms), ms / wall if wall and wall > 0 else None))
    return out




# ---------------------------------------------------------------------------- plain text


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def attempt_io_text(row: Mapping[str, Any]) -> str:
    """One attempt's phases, bytes and network rates in a line or two of plain text (the
    TUI's attempt detail); "" when the row has none of them."""
    parts: list[str] = []
    phases = attempt_phases(row)
    if phases:
        parts.append("Phases: " + " · ".join(
            f"{p} {ms / 1000:.1f} s" + (f" ({100 * share:.0f}%)" if share is not None else "")
            for p, ms, share in phases))
    io = [f"{label} {_mb(row[col])}" for label, col in
          (("read", "bytes_read"), ("written", "bytes_written")) if row.get(col) is not None]
    for label, col, rate in (("downloaded", "net_bytes_in", "download_mb_per_s"),
                             ("uploaded", "net_bytes_out", "upload_mb_per_s")):
        if row.get(col) is not None:
            at = f" at {row[rate]:.1f} MB/s" if row.get(rate) is not None else ""
            io.append(f"{label} {_mb(row[col])}{at}")
    if io:
        parts.append("I/O: " + " · ".join(io))
    if row.get("transcode_rtf") is not None:
        parts.append(f"transcode RTF {row['transcode_rtf']:.2f}")
    return "\n".join(parts)


def group_phases_text(row: Mapping[str, Any] | None) -> str:
    """A phase_summary row as short lines of plain text, one figure a line (the narrow column
    beside the TUI's histogram); "" when the group has no phases nor io figures."""
    if row is None or not (row.get("phased") or row.get("io_sampled")):
        return ""
    lines = []
    if row.get("phased"):
        lines.append(f"Wall time ({row['phased']:,} phased)")
        lines += [f"  {p:<10} {100 * row[f'share_{p}']:3.0f}%" for p in PHASES
                  if row.get(f"share_{p}")]
    lines += [f"{label} {row[col]:.{digits}f}{unit}" for label, col, digits, unit in (
        ("transcode RTF", "transcode_rtf", 2, ""), ("down", "download_mb_per_s", 1, " MB/s"),
        ("up", "upload_mb_per_s", 1, " MB/s"), ("I/O", "io_mb_per_s", 1, " MB/s"))
        if row.get(col) is not None]
    lines.append(f"I/O-bound: {row['io_bound_reason']}" if row.get("io_bound")
                 else "Not I/O-bound")
    return "\n".join(lines)
