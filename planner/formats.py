"""How the planner writes numbers and names for people: money, durations, RTF, job types.

One module, so that `mjplan summary`/`size`, the TUI, the HTML report and the charts agree
digit for digit. Pure functions of plain values (no DataFrame, no I/O); a value that is null,
NaN or infinite reads `-` (or what the caller passes as `missing`).

    usd(1234.5)             -> "$1,234.50"      money in tables (digits=3 for $/media h)
    usd_brief(0.0123)       -> "$0.0123"        money as a chart label (three significant digits)
    number(1.324) / interval(1.27, 1.36) -> "1.32" / "1.27-1.36"   statistics in tables
    rtf(1.26)               -> "1.3x"           the plan's badge precision (`RTF 1.3x`) everywhere
    duration_ms(245_000)    -> "4m05s"          wall time of a job
    clock(150)              -> "2:30"           length of a medium
    short_job_type(...)     -> "export"         ordered_job_types(...) in the plan's order
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from collectors.schema import JOB_TYPES

#: The label of a null instance type, codec or input class (in SQL group keys and charts).
UNKNOWN = "unknown"

#: Short names for the job types of plan 87, so tables fit 80 columns.
SHORT_JOB_TYPES = {
    "create_video_export_v1": "export",
    "upload_edit_proxy_v1": "proxy",
    "upload_thumb_v1": "thumb",
    "upload_audio_envelope_v1": "audio",
}


def finite(value: Any) -> float | None:
    """`value` as a finite float, or None for null, NaN, infinities, booleans and non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def short_job_type(job_type: str | None) -> str:
    """`create_video_export_v1` -> `export`; unknown types pass through unchanged; `-` for null."""
    if job_type is None:
        return "-"
    return SHORT_JOB_TYPES.get(job_type, job_type)


def full_job_type(name: str) -> str:
    """The job type a name stands for: a short name (`export`, any case) -> its full name
    (`create_video_export_v1`); any other name unchanged (the schema accepts other types)."""
    text = name.strip()
    for full, short in SHORT_JOB_TYPES.items():
        if text.lower() == short:
            return full
    return text


def known_job_types(names: Iterable[str] = JOB_TYPES) -> str:
    """`export (create_video_export_v1), proxy (...), ...`: the job types a user may name, by
    the short name where there is one, for a message that refuses an unknown one."""
    return ", ".join(
        f"{SHORT_JOB_TYPES[n]} ({n})" if n in SHORT_JOB_TYPES else n
        for n in ordered_job_types(names))


def ordered_job_types(values: Iterable[str | None]) -> list[str]:
    """The distinct job types of `values` in the plan's order (`collectors.schema.JOB_TYPES`),
    then any others alphabetically; nulls dropped."""
    present = {v for v in values if v is not None}
    return [t for t in JOB_TYPES if t in present] + sorted(present - set(JOB_TYPES))


def number(value: Any, digits: int = 2, *, missing: str = "-") -> str:
    """`1.32` (two decimals by default)."""
    x = finite(value)
    return missing if x is None else f"{x:.{digits}f}"


def interval(low: Any, high: Any, digits: int = 2, *, missing: str = "-") -> str:
    """`1.27-1.36`; `missing` when either bound is unknown."""
    if finite(low) is None or finite(high) is None:
        return missing
    return f"{number(low, digits)}-{number(high, digits)}"


def usd(value: Any, digits: int = 2, *, missing: str = "-") -> str:
    """`$1,234.50` (`digits` decimals: 3 for the cost of a media hour)."""
    x = finite(value)
    return missing if x is None else f"${x:,.{digits}f}"


def usd_brief(value: Any, *, missing: str = "") -> str:
    """Three significant digits under $100 (`$0.0123`: a media hour of audio costs a tenth of a
    cent), whole dollars from there (`$1,234`); for labels on charts."""
    x = finite(value)
    if x is None:
        return missing
    return f"${x:.3g}" if x < 100 else f"${x:,.0f}"


def rtf(value: Any, *, missing: str = "-") -> str:
    """A real-time factor as a multiple: `1.3x`, one decimal, as the plan's badge (`RTF 1.3x`);
    two under 0.1, so a slow job does not read `0.0x`. Null, non-finite or not positive:
    `missing`."""
    x = finite(value)
    if x is None or x <= 0:
        return missing
    return f"{x:.2f}x" if x < 0.1 else f"{x:.1f}x"


def duration_ms(ms: Any, *, missing: str = "-") -> str:
    """Milliseconds as `850ms`, `12.3s`, `4m05s` or `1h02m`."""
    x = finite(ms)
    if x is None:
        return missing
    if x < 1000:
        return f"{x:.0f}ms"
    seconds = x / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def short_duration_ms(ms: Any, *, missing: str = "-") -> str:
    """`duration_ms` in at most 5 cells (the jobs table's column): from 10 minutes the seconds
    are dropped (`12m`), from 10 hours the minutes (`10h`); rounded down, as a clock reads."""
    text = duration_ms(ms, missing=missing)
    if len(text) <= 5:
        return text
    return re.sub(r"(\d+[mh]).*", r"\1", text)


def clock(seconds: Any) -> str | None:
    """The length of a medium as a clock: `2:30` for 150 s, `1:02:03` over an hour, `0:07` for
    7.4 s (rounded to the nearest second); None when unknown or negative (a badge leaves it out).
    """
    x = finite(seconds)
    if x is None or x < 0:
        return None
    total = int(round(x))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
