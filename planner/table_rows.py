"""The rows of the planner's tables as text, defined once for the terminal (`mjplan size`,
`mjplan summary`), the HTML report and the notebooks, so they show the same cells: the ranked
fleet sizing and the RTF statistics of a job type.

Each Column has a tier, which the terminal uses to choose what fits (planner.commands.tables):
0 always shown, 1 where there is room, 2 only when every column is asked for (`--wide`, CSV,
the report). Pure: results in, dicts of strings out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.sizing import SizingResult


@dataclass(frozen=True)
class Column:
    """`key` of the row dicts, its `header`, aligned right (numbers) or left, and its tier."""

    key: str
    header: str
    right: bool = True
    tier: int = 0


def ranked_columns(capacity: str) -> list[Column]:
    """The ranked table's columns: the chosen capacity type's count and costs always, the
    other type's and how each count was reached from 120 columns, every column with --wide."""
    short = {"spot": "Spot", "on-demand": "OD"}
    other = short["on-demand" if capacity == "spot" else "spot"]
    return [
        Column("rank", "#"),
        Column("instance", "Instance", right=False),
        Column("from", "From", right=False, tier=2),
        Column("vcpu", "vCPU", tier=2),
        Column("slots", "Slots", tier=1),
        Column("service", "Service s", tier=2),
        Column("load", "Load", tier=2),
        Column("util_n", "Util n", tier=2),
        Column("wait_n", "Wait n", tier=2),
        Column("bound", "Bound", right=False, tier=1),
        Column("inst", "Inst"),
        Column("wait", "Wait p"),
        Column("util", "Util", tier=1),
        Column("usd_h", "$/h"),
        Column("usd_month", "$/month"),
        Column("usd_media_h", "$/media h"),
        Column("band", "Spot band", right=False, tier=2),
        Column("other_inst", f"{other} inst", tier=1),
        Column("other_usd_h", f"{other} $/h", tier=1),
        Column("other_usd_month", f"{other} $/month", tier=1),
        Column("other_usd_media_h", f"{other} $/media h", tier=2),
    ]


def ranked_rows(result: SizingResult, top: int) -> list[dict[str, str]]:
    from planner import formats
    from planner.answer import HOURS_PER_MONTH

    capacity = result.options.capacity
    other = "on-demand" if capacity == "spot" else "spot"
    rows = []
    for i, t in enumerate(result.types[:top], 1):
        wait_s = t.wait_at_target_percentile_s
        per_media = {"spot": t.spot_usd_per_media_h, "on-demand": t.on_demand_usd_per_media_h}
        rows.append({
            "rank": str(i),
            "instance": t.instance_type + ("*" if t.estimated else ""),
            "from": t.from_label,
            "vcpu": str(t.vcpus),
            "slots": str(t.slots),
            "service": f"{t.mean_service_s:.1f}",
            "load": f"{t.load_erlangs:.2f}",
            "util_n": str(t.instances_utilisation),
            "wait_n": "-" if t.instances_wait is None else str(t.instances_wait),
            "bound": t.bound,
            "inst": str(t.fleet_instances(capacity)),
            "wait": "-" if wait_s is None else f"{wait_s:.1f}s",
            "util": f"{t.utilisation:.0%}",
            "usd_h": formats.usd(t.usd_h(capacity)),
            "usd_month": formats.usd(t.usd_h(capacity) * HOURS_PER_MONTH, 0),
            "usd_media_h": formats.usd(per_media[capacity], 3),
            "band": t.interruption_band,
            "other_inst": str(t.fleet_instances(other)),  # type: ignore[arg-type]
            "other_usd_h": formats.usd(t.usd_h(other)),  # type: ignore[arg-type]
            "other_usd_month": formats.usd(t.usd_h(other) * HOURS_PER_MONTH, 0),  # type: ignore[arg-type]
            "other_usd_media_h": formats.usd(per_media[other], 3),
        })
    return rows


def summary_columns(by: str, jobs: bool, has_instance: bool, has_class: bool) -> list[Column]:
    cols = []
    if has_instance:
        cols.append(Column("instance", "instance", right=False))
    if has_class:
        cols.append(Column("class", by, right=False))
    cols += [Column("attempts", "attempts"), Column("ok", "ok %", tier=1)]
    if jobs:
        cols += [Column("jobs_h", "jobs/h"), Column("ci", "95% CI"),
                 Column("s_p50", "s/job p50"), Column("s_p90", "s/job p90", tier=1)]
    else:
        cols += [Column("rtf", "RTF"), Column("ci", "95% CI"), Column("mean", "mean RTF", tier=2),
                 Column("p10", "p10", tier=1), Column("p50", "p50"), Column("p90", "p90"),
                 Column("p99", "p99", tier=1)]
    return [*cols, Column("cpu", "CPU %", tier=1), Column("rss", "RSS MB p90", tier=1),
            Column("few", "", right=False)]


def summary_row(row: dict[str, Any], jobs: bool) -> dict[str, str]:
    from planner import formats

    cells = {
        "instance": str(row.get("instance_type")),
        "class": str(row.get("input_class")),
        "attempts": f"{row['attempts']:,}",
        "ok": formats.number(100 * row["success_rate"], 1),
        "cpu": formats.number(row["cpu_pct_avg"], 0),
        "rss": formats.number(row["mem_rss_mb_p90"], 0),
        "few": "few" if row["low_sample"] else "",
    }
    if jobs:
        cells |= {
            "jobs_h": formats.number(row["jobs_per_hour"], 0),
            "ci": formats.interval(row["jobs_per_hour_ci_low"], row["jobs_per_hour_ci_high"], 0),
            "s_p50": formats.number(row["seconds_per_job_p50"]),
            "s_p90": formats.number(row["seconds_per_job_p90"]),
        }
    else:
        cells |= {
            "rtf": formats.number(row["rtf"]),
            "ci": formats.interval(row["rtf_ci_low"], row["rtf_ci_high"]),
            "mean": formats.number(row["rtf_mean"]),
            **{f"p{p}": formats.number(row[f"rtf_p{p}"]) for p in (10, 50, 90, 99)},
        }
    return cells


def job_type_title(job_type: str) -> str:
    """A job type's table title: `export · create_video_export_v1 (RTF: media s / wall s)`."""
    from collectors import schema
    from planner.formats import short_job_type

    jobs = schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type) == schema.THROUGHPUT_JOBS
    unit = "jobs per hour per busy slot" if jobs else "RTF: media s / wall s"
    short = short_job_type(job_type)
    return f"{short} · {job_type} ({unit})" if short != job_type else f"{job_type} ({unit})"
