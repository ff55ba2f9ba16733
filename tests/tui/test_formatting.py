"""The TUI's pure text helpers, without an app."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from planner.tui import formatting as f
from planner.tui.query_state import JobsQuery


def test_durations_and_times() -> None:
    assert [f.format_duration_ms(v) for v in (None, 850, 12_340, 245_000, 3_725_000)] == [
        "-", "850ms", "12.3s", "4m05s", "1h02m"
    ]
    t = dt.datetime(2026, 11, 25, 19, 44, 6, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert f.format_time(t) == "2026-11-25 17:44:06"
    assert f.format_short_time(t) == "11-25 17:44"
    assert f.format_rtf(1.3) == "1.30x" and f.format_rtf(None) == "-"


def test_short_names() -> None:
    assert f.short_job_type("upload_thumb_v1") == "thumb"
    assert f.short_job_type("other_v2") == "other_v2"
    assert f.short_id("524d38ef-3a98-4692-a724-4aae6d3e7917") == "524d38ef-…"
    assert f.short_id("job-1") == "job-1"


def test_bar_uses_eighths() -> None:
    assert f.bar(1.0, 4) == "████"
    assert f.bar(0.5, 4) == "██  "
    assert f.bar(1 / 32, 4) == "▏   "
    assert f.bar(0.0, 3) == "   "


def test_histogram_lines_mark_the_bins_holding_the_percentiles() -> None:
    lines = f.histogram_lines([0, 1, 2, 3], [5, 10, 2], {"p50": 1.2, "p90": 2.0, "p99": 7.5},
                              width=10)
    assert lines == [
        "  0.00–1.00 " + "█████     " + "      5",
        "  1.00–2.00 " + "██████████" + "     10 ◀ p50",
        "      ≥2.00 " + "██        " + "      2 ◀ p90 p99",  # the last bin is open-ended
    ]
    with pytest.raises(ValueError, match="3 edges for 3 bins"):
        f.histogram_lines([0, 1, 2], [1, 2, 3], {})


def test_bins_of_fills_empty_bins() -> None:
    rows = [{"bin": 0, "bin_low": 0.0, "bin_high": 0.5, "count": 3},
            {"bin": 3, "bin_low": 1.5, "bin_high": 2.0, "count": 1}]
    assert f.bins_of(rows, 4) == ([0.0, 0.5, 1.0, 1.5, 2.0], [3, 0, 0, 1])
    assert f.bins_of([], 4) == ([], [])


def test_describe_jobs_query() -> None:
    q = JobsQuery(job_type="upload_thumb_v1", status="failed", range_hours=168, sort="rtf_desc",
                  search="ab[c")
    assert f.describe_jobs_query(q) == (
        "[b]t[/]ype thumb │ [b]i[/]nstance all │ [b]s[/]tatus failed │ [b]r[/]ange last 7d │ "
        "s[b]o[/]rt RTF high→low │ job ~ ab\\[c"
    )


def test_cycle() -> None:
    assert f.cycle([None, "a", "b"], None) == "a"
    assert f.cycle([None, "a", "b"], "b") is None
    assert f.cycle([None, "a"], "gone") is None


def test_commands_text_is_numbered() -> None:
    assert f.commands_text(["ffmpeg -i a b", "ffmpeg -i b c"]) == (
        "1. ffmpeg -i a b\n\n2. ffmpeg -i b c"
    )
    assert f.commands_text(None) == "No ffmpeg command was recorded for this attempt."


def test_the_tui_query_helper_imports_no_textual() -> None:
    code = ("import sys, planner.tui_queries, planner.tui.formatting, planner.tui.query_state; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
