"""The jobs table's columns: their widths by the table's width (the plan's badges in full, or
compact at 80 columns), and each cell's text: compact badges, job ids shortened to what tells
them apart, status symbols. Pure: no Textual, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from planner import formats
from planner.tui.formatting import (
    cells,
    fit_cells,
    format_short_time,
    head_cells,
    pad_cells,
    tail_cells,
    visible_text,
)

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

    @property
    def shows_date(self) -> bool:
        """Whether the Time column has room for `MM-DD HH:MM` (else it shows `HH:MM` only)."""
        return self.widths["started"] >= len("MM-DD HH:MM")

    def label(self, key: str, arrow: str = "") -> str:
        """The column's header cell: blank over the status symbols, `Time` over times only;
        `arrow` (▲ ▼, the sort) after the word, which is cut short to keep it in view."""
        text = _JOBS_LABELS[key]
        width = self.widths[key]
        if len(text) > width:
            text = {"status": "", "started": "Time"}.get(key, text)
        if arrow:
            text = text[: max(0, width - len(arrow))] + arrow
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
    """`RTF 1.3x` as `1.3x`; `20x` from 10 up, `2kx` from 1000 up, `.05x` under 0.1;
    thumbnails' `8,145 jobs/h` as `8k/h` (`.72k` under a thousand: k is jobs per hour)."""
    from planner.badges import rtf_badge

    text = rtf_badge(row).removeprefix("RTF ")
    if not text:
        return ""
    if text.endswith(" jobs/h"):  # thumbnails, in 4 cells: `8k/h`, `12k`, `.72k`, `40/h`
        jobs = float(text.removesuffix(" jobs/h").replace(",", ""))
        if jobs >= 9999.5:
            return f"{jobs / 1000:.0f}k"
        if jobs >= 999.5:
            return f"{jobs / 1000:.0f}k/h"
        return f"{jobs:.0f}/h" if jobs < 99.5 else f"{jobs / 1000:.2f}k".removeprefix("0")
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
    # "unknown (laptop)": the label alone, as the tables and charts write it.
    for part in re.sub(r" \(.*?\)", "", host_badge(row)).split(", "):
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
        tail = tail_cells(text, (room + 1) // 2)
    head = head_cells(text, room - cells(tail))
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
            "rtf": (row.get("rtf_badge") or rtf_badge(row)).removeprefix("RTF ")
            .replace(" jobs/h", "/h"),
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
        "type": formats.short_job_type(row.get("job_type")),
        "duration": formats.short_duration_ms(row.get("duration_ms")),
    }
    return {k: layout.cell(k, visible_text(texts[k] or "-")) for k in JOBS_COLUMNS}
