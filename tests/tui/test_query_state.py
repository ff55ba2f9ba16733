"""The free time range of the jobs view (`R`): parsing, without an app."""

from __future__ import annotations

import datetime as dt

import pytest

from planner.tui import formatting as f
from planner.tui.query_state import JobsQuery, RangeError, TimeRange, parse_time_range
from tests.tui.helpers import utc


@pytest.mark.parametrize(("text", "since", "until", "shown"), [
    # Dates: an end date includes its whole day.
    ("2026-11-01..2026-11-15", utc(2026, 11, 1), utc(2026, 11, 16), "2026-11-01..2026-11-15"),
    (" 2026-11-01 .. 2026-11-15 ", utc(2026, 11, 1), utc(2026, 11, 16),
     "2026-11-01..2026-11-15"),
    # Either end missing.
    ("2026-11-20..", utc(2026, 11, 20), None, "2026-11-20.."),
    ("..2026-11-10", None, utc(2026, 11, 11), "..2026-11-10"),
    # Times: to the minute includes that minute, to the second that second.
    ("..2026-11-10 12:00", None, utc(2026, 11, 10, 12, 1), "..2026-11-10 12:00"),
    ("2026-11-10T06:30..2026-11-10T07:15:09Z", utc(2026, 11, 10, 6, 30),
     utc(2026, 11, 10, 7, 15, 10), "2026-11-10 06:30..2026-11-10 07:15:09"),
    ("2026-1-5 8:05 UTC..", utc(2026, 1, 5, 8, 5), None, "2026-01-05 08:05.."),
    # The same day at both ends, or one day alone: that day.
    ("2026-11-15..2026-11-15", utc(2026, 11, 15), utc(2026, 11, 16), "2026-11-15"),
    ("2026-11-15", utc(2026, 11, 15), utc(2026, 11, 16), "2026-11-15"),
    ("2026-11-15 12:00", utc(2026, 11, 15, 12), utc(2026, 11, 15, 12, 1), "2026-11-15 12:00"),
    # A start later in the day than a same-day end date is fine: the end takes the whole day.
    ("2026-11-15 18:00..2026-11-15", utc(2026, 11, 15, 18), utc(2026, 11, 16),
     "2026-11-15 18:00..2026-11-15"),
])
def test_good_ranges(text: str, since: dt.datetime | None, until: dt.datetime | None,
                     shown: str) -> None:
    r = parse_time_range(text)
    assert r is not None
    assert (r.since, r.until, r.text()) == (since, until, shown)


def test_empty_entry_is_no_range() -> None:
    assert parse_time_range("") is None
    assert parse_time_range("   ") is None


@pytest.mark.parametrize(("text", "message"), [
    ("2026-11-15..2026-11-01", "the end 2026-11-01 is before the start 2026-11-15"),
    ("2026-11-15 12:00..2026-11-15 11:59", "the end 2026-11-15 11:59 is before the start"),
    ("2026-11-15..2026-11-14 23:59", "the end 2026-11-14 23:59 is before the start"),
    ("garbage", "start 'garbage' is not a date (YYYY-MM-DD [HH:MM[:SS]])"),
    ("2026-11-01..soon", "end 'soon' is not a date"),
    ("yesterday..", "start 'yesterday' is not a date"),
    ("11-01..11-15", "start '11-01' is not a date"),
    ("2026-13-01..", "start '2026-13-01': month must be in 1..12"),
    ("..2026-02-30", "end '2026-02-30': day is out of range for month"),
    ("2026-11-01 25:00..", "start '2026-11-01 25:00': hour must be in 0..23"),
    ("2026-11-01..2026-11-02..2026-11-03", "one `..` between the start and the end"),
    ("..", "type a start, an end or both"),
    ("..9999-12-31", "is past the last date"),
])
def test_bad_ranges(text: str, message: str) -> None:
    with pytest.raises(RangeError) as info:
        parse_time_range(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_short_text_drops_the_years() -> None:
    r = parse_time_range("2026-11-01..2026-11-10 12:00")
    assert r is not None
    assert r.text(short=True) == "11-01..11-10 12:00"
    assert r.text() == "2026-11-01..2026-11-10 12:00"
    # The end on the start's day: its time only.
    r = parse_time_range("2026-11-21 06:00..2026-11-21 12:00")
    assert r is not None
    assert r.text(short=True) == "11-21 06:00..12:00"
    assert r.text() == "2026-11-21 06:00..2026-11-21 12:00"  # what `R` offers to edit
    r = parse_time_range("2026-11-21 06:00..2026-11-21")
    assert r is not None and r.text(short=True) == "11-21 06:00..11-21"
    assert TimeRange(None, utc(2026, 11, 11), "", "2026-11-10").text(short=True) == "..11-10"


def test_filter_bar_shows_a_free_range() -> None:
    q = JobsQuery(time_range=parse_time_range("2026-11-20.."))
    assert "[b]r[/]ange 2026-11-20.. │" in f.describe_jobs_query(q)
    assert "[b]r[/]ange 11-20.. │" in f.describe_jobs_query(q, short=True)
