"""What the user chose in the jobs view: filters, search and sort, as one frozen record."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: Sort orders the `o` key cycles through: (key, label).
SORTS: tuple[tuple[str, str], ...] = (
    ("newest", "newest first"),
    ("oldest", "oldest first"),
    ("rtf_desc", "RTF high→low"),
    ("rtf_asc", "RTF low→high"),
    ("duration_desc", "longest first"),
)

#: The jobs table's column each sort orders by, and the arrow its header shows (▼ high to low,
#: newest first; ▲ low to high, oldest first).
SORT_COLUMNS: dict[str, tuple[str, str]] = {
    "newest": ("started", "▼"),
    "oldest": ("started", "▲"),
    "rtf_desc": ("rtf", "▼"),
    "rtf_asc": ("rtf", "▲"),
    "duration_desc": ("duration", "▼"),
}

#: Time ranges the `r` key cycles through, in hours before the newest attempt (None = all).
#: Relative to the data rather than to the clock, so an old dataset still shows its last day.
RANGES_HOURS: tuple[int | None, ...] = (None, 24, 24 * 7, 24 * 30)

STATUSES: tuple[str | None, ...] = (None, "succeeded", "failed")


class RangeError(ValueError):
    """A free time range that cannot be read; its message is one line for the user."""


@dataclass(frozen=True)
class TimeRange:
    """A free time range of the jobs view, in UTC: since <= t < until, either end open.

    `since`/`until` are what `queries.list_attempts` takes; `start`/`end` are the ends as the
    user gave them, normalised (`2026-11-01`, `2026-11-10 12:00`), "" for an open end.
    """

    since: dt.datetime | None
    until: dt.datetime | None
    start: str = ""
    end: str = ""

    def text(self, *, short: bool = False) -> str:
        """`2026-11-01..2026-11-15`, `2026-11-20..`, or `2026-11-20` for one day, as
        `parse_time_range` reads it back. `short` (for the filter bar) drops the years and an
        end's date when it is the start's: `11-01..11-15`, `11-21 06:00..12:00`."""
        if self.start and self.start == self.end:
            return self.start[5:] if short else self.start
        if not short:
            return f"{self.start}..{self.end}"
        start, end = self.start[5:], self.end[5:]
        if start and end[:5] == start[:5] and len(end) > 5:
            end = end[6:]
        return f"{start}..{end}"


#: One end of a free range: a date, optionally a time to the minute or second (`T` or space).
_END = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(?:Z|UTC)?",
    re.IGNORECASE | re.ASCII,
)
#: What the messages suggest.
RANGE_EXAMPLE = "2026-11-01..2026-11-15, 2026-11-20.. or ..2026-11-10 12:00"


def _parse_end(text: str, which: str) -> tuple[dt.datetime, dt.timedelta, str]:
    """(the instant `text` starts at, how long it lasts, normalised text) of one end.

    A date lasts a day, a time to the minute a minute, a time to the second a second: an end
    includes all of what it names, so `..2026-11-15` takes in the whole of the 15th.
    """
    m = _END.fullmatch(text)
    if m is None:
        raise RangeError(f"{which} {text!r} is not a date (YYYY-MM-DD [HH:MM[:SS]])")
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    hour = int(m[4]) if m[4] else 0
    minute = int(m[5]) if m[5] else 0
    second = int(m[6]) if m[6] else 0
    try:
        when = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError as exc:
        raise RangeError(f"{which} {text!r}: {exc}") from None
    if m[6]:
        return when, dt.timedelta(seconds=1), when.strftime("%Y-%m-%d %H:%M:%S")
    if m[4]:
        return when, dt.timedelta(minutes=1), when.strftime("%Y-%m-%d %H:%M")
    return when, dt.timedelta(days=1), when.strftime("%Y-%m-%d")


def parse_time_range(text: str) -> TimeRange | None:
    """A free range typed by the user: `start..end` in UTC, either end optional; None for an
    empty entry (no range).

    Each end is `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS` (`T` also separates
    the time; a trailing `Z` or `UTC` is allowed). The end includes all of what it names (a
    date the whole day), so `until` is the first instant after it. A single date or time
    without `..` is that day (minute, second) alone. Raises RangeError (one line) for
    anything else, an end before the start, or `..` alone.
    """
    text = text.strip()
    if not text:
        return None
    if ".." in text:
        first, _, second = text.partition("..")
        if ".." in second:
            raise RangeError(f"{text!r}: one `..` between the start and the end")
    else:
        first = second = text
    first, second = first.strip(), second.strip()
    if not first and not second:
        raise RangeError("type a start, an end or both, e.g. " + RANGE_EXAMPLE)
    since = until = None
    start = end = ""
    if first:
        since, _, start = _parse_end(first, "start")
    if second:
        last, length, end = _parse_end(second, "end")
        try:
            until = last + length
        except OverflowError:
            raise RangeError(f"end {end} is past the last date there is") from None
        if since is not None and until <= since:
            raise RangeError(f"the end {end} is before the start {start}")
    return TimeRange(since, until, start, end)


@dataclass(frozen=True)
class JobsQuery:
    """The jobs view's selection; None means "any".

    The time range is either a preset (`range_hours` before the newest attempt) or a free
    range (`time_range`), never both.
    """

    job_type: str | None = None
    instance_type: str | None = None
    status: str | None = None
    range_hours: int | None = None
    time_range: TimeRange | None = None
    search: str = ""
    sort: str = "newest"


@dataclass(frozen=True)
class SizingForm:
    """The fleet sizing inputs as typed in the form (parsed by `planner.tui.data.size`).

    `demand`: empty for "from data" (the `percentile` hour of the window), else forecasts
    separated by spaces or commas, as `mjplan size --forecast` takes them
    (`upload_edit_proxy_v1=40h/d`). `growth`: multiplies the demand, from data or forecast.
    `percentile`: the hour of the window to size for (also the peak factor of a daily
    forecast), `95` or `p95`. `window`: how far back the data is read, as `--window` (`14d`).
    `utilisation`: target busy share of the job slots, 0..1. `wait`: `p95=60s`, empty for none.
    `capacity`: "spot" or "on-demand". `prices`: a price CSV path, empty for the default table.
    The defaults are those of `mjplan size`.
    """

    demand: str = ""
    growth: str = "1"
    percentile: str = "95"
    window: str = "14d"
    utilisation: str = "0.7"
    wait: str = "p95=60s"
    capacity: str = "spot"
    prices: str = ""
