"""Pure text helpers for the TUI: no Textual, no I/O, so they are tested without an app.

Small helpers the views share (terminal cells, times, durations, RTF, job types, markup) and
the views' short texts: the jobs query line, the attempt's title and commands, the sizing
view's recommendation and demand lines. The tables' columns and the distributions view's
histogram are in their own modules (`jobs_columns`, `sizing_columns`, `distribution_texts`).

Times are shown in UTC. Money, durations, RTF and job type names are `planner.formats`'.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from planner import formats

if TYPE_CHECKING:
    from planner.tui.query_state import JobsQuery

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


def head_cells(text: str, width: int) -> str:
    """The longest start of `text` that fits in `width` cells."""
    out, used = [], 0
    for ch in text:
        used += cells(ch)
        if used > width:
            break
        out.append(ch)
    return "".join(out)


def tail_cells(text: str, width: int) -> str:
    """The longest end of `text` that fits in `width` cells."""
    return head_cells(text[::-1], width)[::-1]


def fit_cells(text: str, width: int) -> str:
    """`text` cut to `width` terminal cells with a trailing `…` when longer (not padded)."""
    if cells(text) <= width:
        return text
    if width <= 1:
        return head_cells(text, width)
    return head_cells(text, width - 1) + "…"


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


def format_count(n: int) -> str:
    """`1234567` -> `1,234,567`."""
    return f"{n:,}"


def pretty_json(value: Any) -> str:
    """JSON with two-space indents; timestamps and other non-JSON values as strings."""
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


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
        f"[b]t[/]ype {formats.short_job_type(query.job_type) if query.job_type else 'all'}",
        f"[b]i[/]nstance {query.instance_type or 'all'}",
        f"[b]s[/]tatus {query.status or 'all'}",
        f"[b]r[/]ange {time_range}",
        f"s[b]o[/]rt {sort}",
    ]
    if query.search:
        parts.append(f"[b]/[/] {escape_markup(query.search)}")
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
        f"{escape_markup(formats.short_job_type(row.get('job_type')))} · [{colour}]{status}[/] · "
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
        parts.append(f"{formats.short_job_type(job_type)} {d.jobs_per_hour:.1f}{origin}")
    if common:
        head = f"Demand jobs/h ({common})"
    else:
        head = "Demand jobs/h" + (f" x{growth:g}" if growth != 1 else "")
    return f"{head}: " + (", ".join(parts) if parts else "none")


def decided_text(t: Any) -> str:
    """One line on how the cheapest type's count was decided and how it ran the window, from a
    `planner.sizing.TypeSizing`: `c7i.large: 3, analytic 3 confirmed by the replay; target met
    in 326 of 336 h, 0.6% of jobs over`."""
    if t.decided_by != "replay":
        how = f"analytic {t.instances_analytic} (no replay)"
    elif t.instances == t.instances_analytic:
        how = f"analytic {t.instances_analytic} confirmed by the replay"
    else:
        how = f"analytic {t.instances_analytic}, the replay needs {t.instances}"
    ran = ""
    if t.hours_met is not None and t.share_over_target is not None:
        ran = (f"; target met in {t.hours_met} of {t.hours} h, "
               f"{t.share_over_target:.1%} of jobs over")
    return f"{t.instance_type}: {t.instances}, {how}{ran}"
