"""The distributions view's texts: a text histogram with sub-cell bars and percentile marks,
its bins from `planner.stats.rtf_histogram` rows, and the figures beside it. Pure: no Textual,
no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planner import formats

#: Eighths of a cell, for bars with sub-cell resolution.
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of `fraction` (0..1) of `width` cells, in eighths of a cell."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = int(round(fraction * width * 8))
    full, rest = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[rest] if rest else "")
    return text.ljust(width)


def histogram_lines(
    edges: Sequence[float],
    counts: Sequence[int],
    marks: Mapping[str, float | None],
    width: int = 40,
) -> list[str]:
    """A text histogram: one line per bin, `lo–hi  bar  count  ◀ marks`.

    `edges` has len(counts) + 1 values. The last bin is open-ended (it also holds the values
    above its upper edge, as `planner.stats.rtf_histogram` counts them), so it reads `≥ lo`.
    `marks` maps a label (`p50`) to a value; a mark is shown on the line of the bin holding it.
    """
    if len(edges) != len(counts) + 1:
        raise ValueError(f"{len(edges)} edges for {len(counts)} bins")
    peak = max(counts, default=0)
    lines = []
    for i, count in enumerate(counts):
        lo, hi = edges[i], edges[i + 1]
        last = i == len(counts) - 1
        labels = [
            label
            for label, value in marks.items()
            if value is not None and (lo <= value < hi or (last and value >= lo))
        ]
        fraction = count / peak if peak else 0.0
        mark = (" ◀ " + " ".join(labels)) if labels else ""
        span = f"≥{lo:.2f}" if last else f"{lo:.2f}–{hi:.2f}"
        lines.append(f"{span:>11} {bar(fraction, width)} {count:>6,}{mark}")
    return lines


def bins_of(rows: Sequence[Mapping[str, Any]], bins: int) -> tuple[list[float], list[int]]:
    """Full edges and counts from `rtf_histogram` rows of one group (empty bins left out there).

    Bins are equal-width from 0, so the width of any row gives every edge.
    """
    if not rows:
        return [], []
    width = float(rows[0]["bin_high"]) - float(rows[0]["bin_low"])
    counts = [0] * bins
    for r in rows:
        counts[int(r["bin"])] += int(r["count"])
    return [i * width for i in range(bins + 1)], counts


def merge_bins(
    edges: Sequence[float], counts: Sequence[int], bins: int
) -> tuple[list[float], list[int]]:
    """Equal-width bins merged into `bins` (a divisor of their number): every k-th edge, the
    counts of each k neighbours summed. The last keeps its open upper end."""
    if not counts or len(counts) % bins:
        raise ValueError(f"{len(counts)} bins do not merge into {bins}")
    k = len(counts) // bins
    return list(edges[::k]), [sum(counts[i:i + k]) for i in range(0, len(counts), k)]


def group_stats_text(row: Mapping[str, Any] | None) -> str:
    """The figures beside a histogram, from one `planner.stats.rtf_summary` row (plain text).

    Media job types: the aggregate RTF (sum of input seconds / sum of wall seconds) with its
    95 % interval, then the per-attempt percentiles. Thumbnails: jobs per hour per slot and
    seconds per job.
    """
    if row is None:
        return "No attempts in this group."
    ok = row.get("success_rate")
    lines = [
        f"attempts   {row['attempts']:,}",
        f"succeeded  {row['succeeded']:,}" + (f" ({ok:.0%})" if ok is not None else ""),
        "",
    ]
    if row.get("throughput_unit") == "jobs":
        lines += [
            "Jobs/hour per slot",
            f"  {formats.number(row.get('jobs_per_hour'), 0)}",
            f"  95% CI {formats.number(row.get('jobs_per_hour_ci_low'), 0)}"
            f"–{formats.number(row.get('jobs_per_hour_ci_high'), 0)}",
            "",
            f"s/job p50  {formats.number(row.get('seconds_per_job_p50'), 2)}",
            f"s/job p90  {formats.number(row.get('seconds_per_job_p90'), 2)}",
            f"s/job mean {formats.number(row.get('seconds_per_job_mean'), 2)}",
        ]
    else:
        lines += [
            "Aggregate RTF",
            f"  {formats.rtf(row.get('rtf'))}",
            f"  95% CI {formats.rtf(row.get('rtf_ci_low'))}–{formats.rtf(row.get('rtf_ci_high'))}",
            f"mean of RTFs {formats.rtf(row.get('rtf_mean'))}",
            "",
            f"p10  {formats.rtf(row.get('rtf_p10'))}",
            f"p50  {formats.rtf(row.get('rtf_p50'))}",
            f"p90  {formats.rtf(row.get('rtf_p90'))}",
            f"p99  {formats.rtf(row.get('rtf_p99'))}",
        ]
    if row.get("low_sample"):
        lines += ["", "⚠ low sample"]
    return "\n".join(lines)


def group_marks(row: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Percentile marks for the histogram of a group: RTF p50/p90/p99, or s/job p50/p90."""
    if row is None:
        return {}
    if row.get("throughput_unit") == "jobs":
        return {"p50": row.get("seconds_per_job_p50"), "p90": row.get("seconds_per_job_p90")}
    return {"p50": row.get("rtf_p50"), "p90": row.get("rtf_p90"), "p99": row.get("rtf_p99")}


def density_text(curve: Sequence[Mapping[str, Any]], job_type: str | None,
                 instance_type: str | None) -> str:
    """The density panel under the figures (`planner.density.density_curve` rows), "" when
    the group has no measured levels.

    An instance type: one line per number of attempts running at once: RTF per attempt (s/job
    for thumbnails), one instance's throughput, slowdown against one alone; ★ the most
    throughput per dollar, ✓ the most within the slowdown bound. All instances: each type's
    bounded level.
    """
    rows = [r for r in curve if r["job_type"] == job_type]
    if instance_type is None:
        bounded = [r for r in rows if r["bounded"]]
        if not bounded:
            return ""
        lines = ["", "Density within bound"]
        lines += [f"  {str(r['instance_type'])[:14]:<14} x{r['running']}" for r in bounded]
        return "\n".join(lines)
    rows = [r for r in rows if r["instance_type"] == instance_type]
    if not rows:
        return ""
    jobs = rows[0]["throughput_unit"] == "jobs"
    # Thumbnails: seconds per job, not RTF (one frame whatever the length).
    head = f" n {'s/job' if jobs else 'RTF':>5} {'job/h' if jobs else 'med/s':>6} slow"
    lines = ["", "Density (at once)", head]
    for r in rows:
        mark = ("★" if r["best"] else "") + ("✓" if r["bounded"] else "")
        speed = r["service_s"] if jobs else r["rtf"]
        lines.append(f"{r['running']:>2} {formats.number(speed, 2):>5} "
                     f"{formats.number(r['throughput'], 0 if jobs else 1):>6} "
                     f"{formats.number(r['slowdown'], 2):>4}{mark}")
    lines.append("★ best/$ ✓ in bound")
    return "\n".join(lines)
