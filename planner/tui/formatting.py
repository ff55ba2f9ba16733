"""Pure text helpers for the TUI: no Textual, no I/O, so they are tested without an app.

Times are shown in UTC, durations from milliseconds, RTF as a multiple ("1.30x").
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.tui.query_state import JobsQuery

#: Short names for the job types of plan 87, so the jobs table fits 80 columns.
_SHORT_JOB_TYPES = {
    "create_video_export_v1": "export",
    "upload_edit_proxy_v1": "proxy",
    "upload_thumb_v1": "thumb",
    "upload_audio_envelope_v1": "audio",
}

#: Eighths of a cell, for bars with sub-cell resolution.
_EIGHTHS = " ▏▎▍▌▋▊▉"


def short_job_type(job_type: str | None) -> str:
    """`create_video_export_v1` -> `export`; unknown types pass through unchanged."""
    if job_type is None:
        return "-"
    return _SHORT_JOB_TYPES.get(job_type, job_type)


def ordered_job_types(values: Iterable[str | None]) -> list[str]:
    """Job types in the plan's order (JOB_TYPES), then any others sorted; nulls dropped."""
    from collectors.schema import JOB_TYPES

    present = {v for v in values if v is not None}
    return [t for t in JOB_TYPES if t in present] + sorted(present - set(JOB_TYPES))


def short_id(value: str | None, width: int = 10) -> str:
    """An id cut to `width` cells with a trailing `…` (UUIDs in a narrow table), its control
    characters shown as escapes (`visible_text`)."""
    if value is None:
        return "-"
    return fit_cells(visible_text(value), width)


#: Characters that would act on the terminal or reorder the line rather than show: C0/C1
#: controls (ESC starts a terminal sequence), format characters (bidi overrides such as
#: U+202E reverse what follows; zero-width ones hide), line and paragraph separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def visible_text(value: str) -> str:
    """`value` with every character that does not show as itself written as an escape
    (`\\x1b`, `\\u202e`), so what a dataset holds is shown literally, on one line."""
    import unicodedata

    if value.isprintable():
        return value
    out = []
    for ch in value:
        if ch != " " and unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def cells(text: str) -> int:
    """Terminal cells `text` takes (an East Asian wide character or an emoji takes two)."""
    from rich.cells import cell_len

    return cell_len(text)


def _head_cells(text: str, width: int) -> str:
    """The longest start of `text` that fits in `width` cells."""
    out, used = [], 0
    for ch in text:
        used += cells(ch)
        if used > width:
            break
        out.append(ch)
    return "".join(out)


def _tail_cells(text: str, width: int) -> str:
    """The longest end of `text` that fits in `width` cells."""
    return _head_cells(text[::-1], width)[::-1]


def fit_cells(text: str, width: int) -> str:
    """`text` cut to `width` terminal cells with a trailing `…` when longer (not padded)."""
    if cells(text) <= width:
        return text
    if width <= 1:
        return _head_cells(text, width)
    return _head_cells(text, width - 1) + "…"


def pad_cells(text: str, width: int, *, right: bool = False) -> str:
    """`text` (at most `width` cells) padded with spaces to `width` cells, on the left when
    `right` (right-aligned)."""
    fill = " " * max(0, width - cells(text))
    return fill + text if right else text + fill


def format_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A timestamp as `YYYY-MM-DD HH:MM:SS` (or `fmt`) in UTC; `-` for null.

    A naive timestamp is taken as UTC already (the dataset stores UTC).
    """
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime(fmt)


def format_short_time(value: dt.datetime | None) -> str:
    """A timestamp as `MM-DD HH:MM` in UTC, for table cells; `-` for null."""
    return format_time(value, "%m-%d %H:%M")


def format_duration_ms(ms: float | None) -> str:
    """Milliseconds as `850ms`, `12.3s`, `4m05s` or `1h02m`; `-` for null."""
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return "-"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_short_duration_ms(ms: float | None) -> str:
    """`format_duration_ms` in at most 5 cells (the jobs table's column): from 10 minutes the
    seconds are dropped (`12m`), from 10 hours the minutes (`10h`); rounded down, as a
    clock reads."""
    text = format_duration_ms(ms)
    if len(text) <= 5:
        return text
    return re.sub(r"(\d+[mh]).*", r"\1", text)


def format_rtf(rtf: float | None) -> str:
    """A real-time factor as `1.30x`; `-` for null."""
    if rtf is None or math.isnan(rtf):
        return "-"
    return f"{rtf:.2f}x"


def format_count(n: int) -> str:
    """`1234567` -> `1,234,567`."""
    return f"{n:,}"


def pretty_json(value: Any) -> str:
    """JSON with two-space indents; timestamps and other non-JSON values as strings."""
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


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
            f"  {_num(row.get('jobs_per_hour'), '.0f')}",
            f"  95% CI {_num(row.get('jobs_per_hour_ci_low'), '.0f')}"
            f"–{_num(row.get('jobs_per_hour_ci_high'), '.0f')}",
            "",
            f"s/job p50  {_num(row.get('seconds_per_job_p50'), '.2f')}",
            f"s/job p90  {_num(row.get('seconds_per_job_p90'), '.2f')}",
            f"s/job mean {_num(row.get('seconds_per_job_mean'), '.2f')}",
        ]
    else:
        lines += [
            "Aggregate RTF",
            f"  {format_rtf(row.get('rtf'))}",
            f"  95% CI {format_rtf(row.get('rtf_ci_low'))}–{format_rtf(row.get('rtf_ci_high'))}",
            f"mean of RTFs {format_rtf(row.get('rtf_mean'))}",
            "",
            f"p10  {format_rtf(row.get('rtf_p10'))}",
            f"p50  {format_rtf(row.get('rtf_p50'))}",
            f"p90  {format_rtf(row.get('rtf_p90'))}",
            f"p99  {format_rtf(row.get('rtf_p99'))}",
        ]
    if row.get("low_sample"):
        lines += ["", "⚠ low sample"]
    return "\n".join(lines)


def _num(value: float | None, spec: str) -> str:
    if value is None or math.isnan(value):
        return "-"
    return format(value, spec)


def group_marks(row: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Percentile marks for the histogram of a group: RTF p50/p90/p99, or s/job p50/p90."""
    if row is None:
        return {}
    if row.get("throughput_unit") == "jobs":
        return {"p50": row.get("seconds_per_job_p50"), "p90": row.get("seconds_per_job_p90")}
    return {"p50": row.get("rtf_p50"), "p90": row.get("rtf_p90"), "p99": row.get("rtf_p99")}


def cycle(options: Sequence[Any], current: Any) -> Any:
    """The option after `current` (the first one if `current` is not among them)."""
    if not options:
        return current
    try:
        return options[(list(options).index(current) + 1) % len(options)]
    except ValueError:
        return options[0]


def format_range(hours: int | None) -> str:
    """24 -> `last 24h`, 168 -> `last 7d`, None -> `all`."""
    if hours is None:
        return "all"
    if hours % 24 == 0 and hours >= 48:
        return f"last {hours // 24}d"
    return f"last {hours}h"


def describe_jobs_query(query: JobsQuery, *, short: bool = False) -> str:
    """One line (markup): `type export │ instance all │ status failed │ range all │ sort
    newest first`. A free range reads `range 2026-11-01..2026-11-15`; `short` drops its years
    (`range 11-01..11-15`), for when the line would not fit."""
    return " │ ".join(jobs_query_parts(query, short=short))


def jobs_query_parts(query: JobsQuery, *, short: bool = False) -> list[str]:
    """The parts of `describe_jobs_query` (markup), one per filter, the sort, the search."""
    from planner.tui.query_state import SORTS

    sort = dict(SORTS).get(query.sort, query.sort)
    if query.time_range is not None:
        time_range = query.time_range.text(short=short)
    else:
        time_range = format_range(query.range_hours)
    parts = [
        f"[b]t[/]ype {short_job_type(query.job_type) if query.job_type else 'all'}",
        f"[b]i[/]nstance {query.instance_type or 'all'}",
        f"[b]s[/]tatus {query.status or 'all'}",
        f"[b]r[/]ange {time_range}",
        f"s[b]o[/]rt {sort}",
    ]
    if query.search:
        parts.append(f"job ~ {escape_markup(query.search)}")
    return parts


def escape_markup(text: str) -> str:
    """Text shown inside Textual markup, with `[` escaped."""
    return text.replace("\\", "\\\\").replace("[", "\\[")


def attempt_title(row: Mapping[str, Any]) -> str:
    """`Attempt 2 of job j-123 · export · failed · 2026-11-20 10:00:00` (markup)."""
    status = row.get("status") or "-"
    colour = "green" if status == "succeeded" else "red"
    number = row.get("attempt_number")
    head = f"Attempt {number}" if number is not None else "Attempt"
    return (
        f"[b]{head}[/] of job [b]{escape_markup(visible_text(str(row.get('job_id'))))}[/] · "
        f"{escape_markup(short_job_type(row.get('job_type')))} · [{colour}]{status}[/] · "
        f"{format_time(row.get('started_at'))}"
    )


def badge_line(badges: Mapping[str, str]) -> str:
    """The badges side by side, each in reverse video; missing ones left out."""
    shown = [f"[reverse] {escape_markup(text)} [/]" for text in badges.values() if text]
    return "  ".join(shown) if shown else "(no badges: nothing was measured)"


def commands_text(commands: Sequence[str] | None) -> str:
    """The ffmpeg command lines, numbered, or a note that there were none."""
    if not commands:
        return "No ffmpeg command was recorded for this attempt."
    return "\n\n".join(f"{i}. {cmd}" for i, cmd in enumerate(commands, 1))


#: Labels of the sizing table's columns, by key (the wider forms' as `mjplan size` writes them).
SIZING_LABELS: dict[str, str] = {
    "rank": "#", "type": "Instance", "from": "Est. from", "vcpus": "vCPU", "slots": "Slots",
    "service": "Service s", "load": "Load", "util_n": "Util n", "wait_n": "Wait n",
    "instances": "Inst", "fleet": "Fleet", "bound": "Bound", "wait_p": "Wait p", "util": "Util",
    "usd_h": "$/h", "usd_media_h": "$/media h",
    "od_instances": "OD inst", "od_usd_h": "OD $/h", "od_usd_media_h": "OD $/media h",
    "band": "Spot band", "spot_instances": "Spot inst", "spot_usd_h": "Spot $/h",
    "spot_usd_media_h": "Spot $/media h",
}
#: The sizing table's forms, narrowest first; `sizing_columns` picks the widest that fits.
#: At 80 columns: `Fleet`, `$/h` and `$/media h` in the chosen capacity type (`Inst` is the
#: on-demand count). Wider: on-demand and spot side by side, then (about 190 columns) every
#: column of `mjplan size`: the two bounds' counts, the wait reached, where an estimate is from.
SIZING_LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("rank", "type", "slots", "instances", "fleet", "bound", "util", "usd_h", "usd_media_h"),
    ("rank", "type", "slots", "bound", "util", "od_instances", "od_usd_h", "spot_instances",
     "spot_usd_h", "usd_media_h"),
    ("rank", "type", "slots", "bound", "util", "od_instances", "od_usd_h", "od_usd_media_h",
     "spot_instances", "spot_usd_h", "spot_usd_media_h"),
    ("rank", "type", "from", "vcpus", "slots", "service", "load", "util_n", "wait_n", "bound",
     "wait_p", "util", "od_instances", "od_usd_h", "od_usd_media_h", "band", "spot_instances",
     "spot_usd_h", "spot_usd_media_h"),
)
#: (key, label) of the columns at 80 columns.
SIZING_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (key, SIZING_LABELS[key]) for key in SIZING_LAYOUTS[0]
)


def format_usd(value: float | None, digits: int = 2) -> str:
    """`$1.23`; `-` for null."""
    if value is None or math.isnan(value) or math.isinf(value):
        return "-"
    return f"${value:,.{digits}f}"


def sizing_texts(rank: int, t: Any, capacity: str) -> dict[str, str]:
    """Every cell of one row of the sizing table for a `planner.sizing.TypeSizing`, by
    SIZING_LABELS key.

    `Fleet`, `$/h` and `$/media h` are in the chosen capacity type (spot adds interruption
    headroom to the count); `Inst` and `OD ...` are on-demand, `Spot ...` spot. An estimated
    type is marked with `*`.
    """
    spot = capacity == "spot"
    wait_s = t.wait_at_target_percentile_s
    return {
        "rank": str(rank),
        "type": t.instance_type + ("*" if t.estimated else ""),
        "from": t.estimated_from or "",
        "vcpus": str(t.vcpus),
        "slots": str(t.slots),
        "service": f"{t.mean_service_s:.1f}",
        "load": f"{t.load_erlangs:.2f}",
        "util_n": str(t.instances_utilisation),
        "wait_n": "-" if t.instances_wait is None else str(t.instances_wait),
        "instances": str(t.instances),
        "fleet": str(t.instances_spot if spot else t.instances),
        "bound": t.bound,
        "wait_p": "-" if wait_s is None else f"{wait_s:.1f}s",
        "util": f"{t.utilisation:.0%}",
        "usd_h": format_usd(t.spot_usd_h if spot else t.on_demand_usd_h),
        "usd_media_h": format_usd(
            t.spot_usd_per_media_h if spot else t.on_demand_usd_per_media_h, 3),
        "od_instances": str(t.instances),
        "od_usd_h": format_usd(t.on_demand_usd_h),
        "od_usd_media_h": format_usd(t.on_demand_usd_per_media_h, 3),
        "band": t.interruption_band,
        "spot_instances": str(t.instances_spot),
        "spot_usd_h": format_usd(t.spot_usd_h),
        "spot_usd_media_h": format_usd(t.spot_usd_per_media_h, 3),
    }


def sizing_cells(
    rank: int, t: Any, capacity: str, columns: Sequence[str] = SIZING_LAYOUTS[0]
) -> list[str]:
    """One row of the sizing table (`sizing_texts`), in the order of `columns`."""
    texts = sizing_texts(rank, t, capacity)
    return [texts[key] for key in columns]


def sizing_label(key: str, columns: Sequence[str], capacity: str) -> str:
    """The header of column `key` among `columns`: a figure in the chosen capacity type says
    which (`Spot $/media h`) when on-demand and spot figures stand side by side."""
    label = SIZING_LABELS[key]
    if key in ("fleet", "usd_h", "usd_media_h") and "od_usd_h" in columns:
        label = ("Spot " if capacity == "spot" else "OD ") + label
    return label


def sizing_columns(
    width: int, rows: Sequence[Mapping[str, str]], capacity: str, padding: int = 1
) -> tuple[str, ...]:
    """The widest of SIZING_LAYOUTS whose columns fit in `width` cells: each column as wide as
    its label (`sizing_label`) or its widest cell in `rows` (`sizing_texts`), with `padding`
    cells each side (a DataTable's cell padding). The narrowest when none fits."""
    def cells(key: str, columns: Sequence[str]) -> int:
        widest = max((len(r[key]) for r in rows), default=0)
        return max(len(sizing_label(key, columns, capacity)), widest) + 2 * padding

    fitting = [c for c in SIZING_LAYOUTS if sum(cells(k, c) for k in c) <= width]
    return fitting[-1] if fitting else SIZING_LAYOUTS[0]


def recommendation_text(rec: Any, types: Sequence[Any] = ()) -> str:
    """The recommended fleet in two lines (plain text) for a `FleetRecommendation` or None.

    Given the sized `types` (`TypeSizing`), the unit reads in a line of 80 columns: `1 unit =
    one c5.large's throughput of this mix (33.8 jobs/h, all slots busy)`; else as the planner
    words it.
    """
    if rec is None:
        return "No fleet recommended: no instance type carries the demand."
    members = ", ".join(
        f"{m.instance_type}{'*' if m.estimated else ''} ×{m.weighted_capacity:g}"
        for m in rec.members
    )
    unit = rec.unit
    names = {m.instance_type for m in rec.members}
    chosen = [t for t in types if t.instance_type in names]
    if chosen:
        base = min(chosen, key=lambda t: t.capacity_jobs_per_hour)
        unit = (f"one {base.instance_type}'s throughput of this mix "
                f"({base.capacity_jobs_per_hour:.1f} jobs/h, all slots busy)")
    return (
        f"Recommended {rec.capacity} fleet: target capacity {rec.total_target_capacity} "
        f"over {members}\n1 unit = {unit}"
    )


def with_note(text: str, note: str, width: int) -> str:
    """`text` and `note` two spaces apart when the note fits on the last line `text` wraps to
    in `width` cells, else the note on a line of its own (never broken in the middle)."""
    import textwrap

    lines = textwrap.wrap(text, width) or [""]
    if width <= 0 or len(lines[-1]) + 2 + len(note) <= width:
        return f"{text}  {note}"
    return f"{text}\n{note}"


def demand_text(demand: Mapping[str, Any], growth: float = 1.0) -> str:
    """Demand per job type in one line, from `planner.demand.Demand`s: the jobs per hour sized
    for and where they come from, `Demand jobs/h (data p95 hour of 336 h x2): export 12.0, …`.

    When the sources differ (forecasts of some job types), each figure says its own, and the
    `growth` that multiplied them all is in the head: `Demand jobs/h x2: export 30.1 forecast`.
    """
    sources = {d.source for d in demand.values()}
    common = next(iter(sources)) if len(sources) == 1 else ""
    parts = []
    for job_type, d in demand.items():
        origin = "" if common else (" forecast" if d.source.startswith("forecast") else " data")
        parts.append(f"{short_job_type(job_type)} {d.jobs_per_hour:.1f}{origin}")
    if common:
        head = f"Demand jobs/h ({common})"
    else:
        head = "Demand jobs/h" + (f" x{growth:g}" if growth != 1 else "")
    return f"{head}: " + (", ".join(parts) if parts else "none")


# The jobs table ------------------------------------------------------------------------------

#: Column keys of the jobs table, in order. Badges last: they are the widest.
JOBS_COLUMNS: tuple[str, ...] = (
    "started", "job", "type", "status", "duration", "rtf", "input", "host"
)
#: Column labels, full and compact (the status column is a ✓/✗ symbol, no room for a word).
_JOBS_LABELS = {
    "started": "Started", "job": "Job", "type": "Type", "status": "Status",
    "duration": "Took", "rtf": "RTF", "input": "Input", "host": "Host",
}
#: Columns whose cells are right-aligned (numbers).
_RIGHT = frozenset({"duration", "rtf"})
#: Cells the table's vertical scrollbar takes (`scrollbar-size-vertical` in app.tcss).
JOBS_SCROLLBAR = 1
#: Content widths of the full form: the plan's badges as `planner.badges` writes them. The
#: job id takes what is left over, up to 64 cells: a whole UUID (36), and most other ids
#: (those of `mjcollect demo` are up to 62).
_FULL_WIDTHS = {
    "started": 11, "job": 12, "type": 6, "status": 6,
    "duration": 5, "rtf": 7, "input": 28, "host": 26,
}
_FULL_JOB_MAX = 64
#: Content widths of the compact form at 80 columns: `23:22`, 8 cells of the job id (the
#: first group of a UUID; `short_job_id`), `export`, ✓, `4m56s`, `3.4x`,
#: `1080x1920 H.264 AAC 2:30` (24) and `c7i.2xlarge 8c 16G` (18). Room beyond that goes to the
#: date (`11-22 23:22`), then to the badges up to their longest common compact forms, then
#: to the job id.
_COMPACT_WIDTHS = {
    "started": 5, "job": 8, "type": 6, "status": 1,
    "duration": 5, "rtf": 4, "input": 24, "host": 18,
}
_COMPACT_GROW = {"input": 27, "host": 20}
#: Narrowest the badge columns get (cut with `…`) before the table scrolls sideways instead.
_COMPACT_MIN = {"input": 10, "host": 9}


@dataclass(frozen=True)
class JobsLayout:
    """The form of the jobs table: `full` (the plan's badges as written) or compact, and the
    content width of each column (JOBS_COLUMNS keys)."""

    full: bool
    widths: dict[str, int]

    @property
    def total(self) -> int:
        """Cells the columns take, the space before each included."""
        return sum(self.widths.values()) + len(self.widths)

    def label(self, key: str) -> str:
        """The column's header cell: blank over the status symbols, `Time` over times only."""
        text = _JOBS_LABELS[key]
        if len(text) > self.widths[key]:
            text = {"status": "", "started": "Time"}.get(key, text)
        return self.cell(key, text)

    def cell(self, key: str, text: str) -> str:
        """`text` fitted to the column: a space, then the text cut with `…` and padded."""
        width = self.widths[key]
        return " " + pad_cells(fit_cells(text, width), width, right=key in _RIGHT)


def jobs_layout(width: int) -> JobsLayout:
    """Column widths of the jobs table for a table `width` cells wide (scrollbar included).

    Each column takes one cell of space before its content. The full form when everything
    fits at full width (109 columns and up); else the compact form, which fits in 80.
    Below 80 the badge columns are cut shorter (with `…`); below 57 the table scrolls.
    """
    room = width - JOBS_SCROLLBAR - len(JOBS_COLUMNS)
    full = dict(_FULL_WIDTHS)
    spare = room - sum(full.values())
    if spare >= 0:
        full["job"] += min(spare, _FULL_JOB_MAX - full["job"])
        return JobsLayout(True, full)
    compact = dict(_COMPACT_WIDTHS)
    spare = room - sum(compact.values())
    if spare >= 6:
        compact["started"] = 11
        spare -= 6
    for key, most in _COMPACT_GROW.items():
        grow = max(0, min(spare, most - compact[key]))
        compact[key] += grow
        spare -= grow
    compact["job"] += max(0, spare)
    for key in ("host", "input"):  # too narrow: cut the badges, the host first
        cut = max(0, min(-spare, compact[key] - _COMPACT_MIN[key]))
        compact[key] -= cut
        spare += cut
    return JobsLayout(False, compact)


def compact_rtf_badge(row: Mapping[str, Any]) -> str:
    """`RTF 1.3x` as `1.3x`; `20x` from 10 up, `2kx` from 1000 up, `.05x` under 0.1."""
    from planner.badges import rtf_badge

    text = rtf_badge(row).removeprefix("RTF ")
    if not text:
        return ""
    value = float(text.removesuffix("x"))
    if value >= 999.5:
        return f"{value / 1000:.0f}kx"
    if value >= 10:
        return f"{value:.0f}x"
    return text.removeprefix("0") if value < 0.1 else text


def compact_input_badge(row: Mapping[str, Any]) -> str:
    """`1080x1920 H.264 AAC, 2:30` as `1080x1920 H.264 AAC 2:30`."""
    from planner.badges import input_badge

    return input_badge(row).replace(", ", " ")


def compact_host_badge(row: Mapping[str, Any]) -> str:
    """`c7i.large, 2 cores, 4GB` as `c7i.large 2c 4G`; unknown parts left out."""
    from planner.badges import host_badge

    parts = []
    for part in host_badge(row).split(", "):
        if m := re.fullmatch(r"(\d+) cores?", part):
            part = f"{m[1]}c"
        elif re.fullmatch(r"\d+(\.\d)?GB", part):
            part = part.removesuffix("B")
        parts.append(part)
    return " ".join(parts)


_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
#: Where an id's parts meet: `demo-87-h264_640x360-2`, `jobs/2026/11/0042`, `a.b:c`.
_ID_SEPARATORS = "-_./:"


def is_uuid(value: str) -> bool:
    """Whether `value` is a UUID (`524d38ef-3a98-4692-a724-4aae6d3e7917`)."""
    return _UUID.fullmatch(value) is not None


def job_id_prefix(ids: Iterable[str | None]) -> str:
    """The start shared by the non-UUID ids among `ids`, ending at a separator
    (`demo-87-` for `demo-87-h264_…-1`, `demo-87-vp9_…-2`); `""` with fewer than two such ids.

    Ids made by one system often share their first parts (a namespace, a run), so on a page
    of them those parts tell nothing apart; `short_job_id` leaves them out when short of room.
    """
    named = sorted({v for v in ids if v is not None and not is_uuid(v)})
    if len(named) < 2:
        return ""
    first, last = named[0], named[-1]  # the common prefix of all is that of these two
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    shared = first[:n]
    cut = max(shared.rfind(c) for c in _ID_SEPARATORS)
    return shared[: cut + 1]


def short_job_id(value: str | None, width: int, prefix: str = "") -> str:
    """A job id in `width` terminal cells that keeps what tells ids apart.

    An id that fits is shown whole. A UUID keeps its start (`524d38ef`, its first group at
    8 cells): UUIDs differ from the first character, and the start is what the search takes.
    Other ids are made of parts, and those of one system share their start
    (`demo-87-h264_640x360_180s-upload_thumb_v1-2`): cut at the end they all read
    `demo-87…`. So the `prefix` shared by the page's ids (`job_id_prefix`) is left out,
    marked by a leading `…`, and the rest keeps its start and its last part (a counter, a
    run: `-2`, `-0042`) with `…` between: `…h264…-2`; without a prefix, `demo-…-0042`.
    Control characters show as escapes (`visible_text`); wide characters count two cells.
    """
    if value is None:
        return "-"
    text = visible_text(value)
    if cells(text) <= width:
        return text
    if is_uuid(value):
        # Cut at the end of a group, no `…` needed (`524d38ef`); elsewhere with one.
        return value[:width] if value[width] == "-" else fit_cells(value, width)
    if width < 4:
        return fit_cells(text, width)
    lead = ""
    if prefix and value.startswith(prefix) and len(value) > len(prefix):
        text, lead = visible_text(value[len(prefix):]), "…"
        if cells(text) + 1 <= width:
            return lead + text
    room = width - len(lead) - 1
    last = max(text.rfind(c) for c in _ID_SEPARATORS)
    tail = text[last:] if last > 0 else ""
    # The tail gets at most half the room: the start matters as much (and is searched).
    if not tail or cells(tail) > (room + 1) // 2:
        tail = _tail_cells(text, (room + 1) // 2)
    head = _head_cells(text, room - cells(tail))
    return f"{lead}{head}…{tail}"


def status_symbol(status: str | None) -> str:
    """`✓` for succeeded, `✗` for failed, else the status's first letter (`-` for null)."""
    if not status:
        return "-"
    return {"succeeded": "✓", "failed": "✗"}.get(status, status[:1])


def jobs_cells(
    row: Mapping[str, Any], layout: JobsLayout, id_prefix: str = ""
) -> dict[str, str]:
    """The texts of one attempt row (JOBS_COLUMNS keys), fitted to `layout` by `cell`; the job
    id by `short_job_id` (`id_prefix` shared by the ids around it, `job_id_prefix`).

    Full form: the badges as `planner.badges` writes them (RTF without its prefix, the column
    says it); the `rtf_badge`... columns of the row are used when present.
    """
    status = row.get("status")
    when = row.get("started_at") or row.get("finished_at")
    if layout.full:
        from planner.badges import host_badge, input_badge, rtf_badge

        texts = {
            "started": format_short_time(when),
            "status": "ok" if status == "succeeded" else status or "-",
            "rtf": (row.get("rtf_badge") or rtf_badge(row)).removeprefix("RTF "),
            "input": row.get("input_badge") or input_badge(row),
            "host": row.get("host_badge") or host_badge(row),
        }
    else:
        texts = {
            "started": format_short_time(when)[-layout.widths["started"]:],
            "status": status_symbol(status),
            "rtf": compact_rtf_badge(row),
            "input": compact_input_badge(row),
            "host": compact_host_badge(row),
        }
    texts |= {
        "job": short_job_id(row.get("job_id"), layout.widths["job"], id_prefix),
        "type": short_job_type(row.get("job_type")),
        "duration": format_short_duration_ms(row.get("duration_ms")),
    }
    return {k: layout.cell(k, visible_text(texts[k] or "-")) for k in JOBS_COLUMNS}
