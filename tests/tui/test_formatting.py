"""The TUI's pure text helpers, without an app."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from planner.tui import distribution_texts as dist
from planner.tui import formatting as f
from planner.tui import jobs_columns as jc
from planner.tui.query_state import JobsQuery


def test_times() -> None:
    t = dt.datetime(2026, 11, 25, 19, 44, 6, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert f.format_time(t) == "2026-11-25 17:44:06"
    assert f.format_short_time(t) == "11-25 17:44"


def test_short_ids() -> None:
    assert f.short_id("524d38ef-3a98-4692-a724-4aae6d3e7917") == "524d38ef-…"
    assert f.short_id("job-1") == "job-1"


def test_bar_uses_eighths() -> None:
    assert dist.bar(1.0, 4) == "████"
    assert dist.bar(0.5, 4) == "██  "
    assert dist.bar(1 / 32, 4) == "▏   "
    assert dist.bar(0.0, 3) == "   "


def test_histogram_lines_mark_the_bins_holding_the_percentiles() -> None:
    lines = dist.histogram_lines([0, 1, 2, 3], [5, 10, 2], {"p50": 1.2, "p90": 2.0, "p99": 7.5},
                              width=10)
    assert lines == [
        "  0.00–1.00 " + "█████     " + "      5",
        "  1.00–2.00 " + "██████████" + "     10 ◀ p50",
        "      ≥2.00 " + "██        " + "      2 ◀ p90 p99",  # the last bin is open-ended
    ]
    with pytest.raises(ValueError, match="3 edges for 3 bins"):
        dist.histogram_lines([0, 1, 2], [1, 2, 3], {})


def test_bins_of_fills_empty_bins() -> None:
    rows = [{"bin": 0, "bin_low": 0.0, "bin_high": 0.5, "count": 3},
            {"bin": 3, "bin_low": 1.5, "bin_high": 2.0, "count": 1}]
    assert dist.bins_of(rows, 4) == ([0.0, 0.5, 1.0, 1.5, 2.0], [3, 0, 0, 1])
    assert dist.bins_of([], 4) == ([], [])


def test_merge_bins_sums_neighbours_and_keeps_every_kth_edge() -> None:
    edges = [i * 0.5 for i in range(7)]
    assert dist.merge_bins(edges, [1, 2, 3, 4, 5, 6], 3) == ([0.0, 1.0, 2.0, 3.0], [3, 7, 11])
    assert dist.merge_bins(edges, [1, 2, 3, 4, 5, 6], 6) == (edges, [1, 2, 3, 4, 5, 6])
    with pytest.raises(ValueError):
        dist.merge_bins(edges, [1, 2, 3, 4, 5, 6], 4)


def test_histogram_shows_as_many_fine_bins_as_its_lines_hold() -> None:
    from planner.tui.widgets.histogram import Histogram

    h = Histogram()
    coarse = [float(i) for i in range(5)], [1, 2, 3, 4]
    fine = [i / 3 for i in range(13)], list(range(12))
    h.show(*coarse, {}, "caption", fine=fine)
    assert h.binning(None) == coarse
    assert h.binning(5) == coarse  # 4 bins and the caption: no more fit
    assert h.binning(7) == dist.merge_bins(*fine, 6)  # 6 fit, 12 do not
    assert h.binning(40) == fine
    assert len(h.lines(60, 7)) == 7
    h.show(*coarse, {}, "caption")  # no fine bins
    assert h.binning(40) == coarse


def test_describe_jobs_query() -> None:
    q = JobsQuery(job_type="upload_thumb_v1", status="failed", range_hours=168, sort="rtf_desc",
                  search="ab[c")
    assert f.describe_jobs_query(q) == (
        "[b]t[/]ype thumb │ [b]i[/]nstance all │ [b]s[/]tatus failed │ [b]r[/]ange last 7d │ "
        "s[b]o[/]rt RTF high→low │ [b]/[/] ab\\[c"
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
    code = ("import sys, planner.tui_queries, planner.tui.formatting, planner.tui.query_state, "
            "planner.tui.jobs_columns, planner.tui.sizing_columns, planner.tui.distribution_texts; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


_ROW = {
    "status": "succeeded", "rtf": 1.3, "input_width": 1080, "input_height": 1920,
    "input_video_codec": "h264", "input_audio_codec": "aac", "input_duration_seconds": 150,
    "instance_type": "c7i.large", "cpu_cores": 2, "mem_gb": 4,
}


def test_compact_badges() -> None:
    assert jc.compact_rtf_badge(_ROW) == "1.3x"
    assert jc.compact_input_badge(_ROW) == "1080x1920 H.264 AAC 2:30"
    assert jc.compact_host_badge(_ROW) == "c7i.large 2c 4G"
    assert [jc.compact_rtf_badge({"rtf": v}) for v in (0.05, 9.94, 20.4, 974.4, 1234.5)] == [
        ".05x", "9.9x", "20x", "974x", "1kx"
    ]
    assert jc.compact_rtf_badge({"status": "failed"}) == ""
    # No instance type: the label of the tables and charts ("unknown"), not the host name.
    assert jc.compact_host_badge({"hostname": "vm", "cpu_cores": 1, "mem_gb": 7.5}) == (
        "unknown 1c 7.5G")
    thumb = {"job_type": "upload_thumb_v1", "status": "succeeded"}
    assert [jc.compact_rtf_badge({**thumb, "duration_ms": ms})
            for ms in (300, 442, 5000, 60_000)] == ["12k", "8k/h", ".72k", "60/h"]
    assert jc.compact_host_badge({}) == jc.compact_input_badge({}) == ""
    assert [jc.status_symbol(s) for s in ("succeeded", "failed", "running", None)] == [
        "✓", "✗", "r", "-"
    ]


def test_jobs_layout_fits_the_width() -> None:
    narrow = jc.jobs_layout(80)
    assert not narrow.full
    assert narrow.widths == {
        "started": 5, "job": 8, "type": 6, "status": 1,
        "duration": 5, "rtf": 4, "input": 24, "host": 18,
    }
    # Every layout from 57 columns up fits beside the 1-cell scrollbar.
    for width in range(57, 200):
        layout = jc.jobs_layout(width)
        assert layout.total <= width - jc.JOBS_SCROLLBAR, width
        assert list(layout.widths) == list(jc.JOBS_COLUMNS)
    assert jc.jobs_layout(86).widths["started"] == 11  # room for the date
    assert not jc.jobs_layout(108).full
    wide = jc.jobs_layout(120)
    assert wide.full and wide.widths["input"] == 28 and wide.widths["host"] == 26
    # Room to spare goes to the job id: up to 64 cells (a UUID, `mjcollect demo`'s ids).
    assert jc.jobs_layout(100).widths["job"] == 17
    assert jc.jobs_layout(160).widths["job"] == 62
    assert jc.jobs_layout(200).widths["job"] == 64
    assert jc.jobs_layout(200).total == 161
    # Too narrow: the badges are cut, then the table scrolls sideways.
    assert jc.jobs_layout(60).widths["host"] == 9
    assert jc.jobs_layout(30).total > 30


def test_jobs_cells_compact_and_full() -> None:
    row = {**_ROW, "job_id": "524d38ef-3a98-4692-a724-4aae6d3e7917", "job_type":
           "upload_edit_proxy_v1", "duration_ms": 115_400,
           "started_at": dt.datetime(2026, 11, 22, 23, 22, 5)}
    narrow = jc.jobs_layout(80)
    cells = jc.jobs_cells(row, narrow)
    assert "".join(cells[k] for k in jc.JOBS_COLUMNS) == (
        " 23:22 524d38ef proxy  ✓ 1m55s 1.3x 1080x1920 H.264 AAC 2:30 c7i.large 2c 4G   "
    )
    assert "".join(narrow.label(k) for k in jc.JOBS_COLUMNS).split() == [
        "Time", "Job", "Type", "Took", "RTF", "Input", "Host"
    ]
    wide = jc.jobs_layout(120)
    cells = jc.jobs_cells(row, wide)
    assert [cells[k].strip() for k in jc.JOBS_COLUMNS] == [
        "11-22 23:22", "524d38ef-3a98-4692-a7…", "proxy", "ok", "1m55s", "1.3x",
        "1080x1920 H.264 AAC, 2:30", "c7i.large, 2 cores, 4GB",
    ]
    assert all(len(cells[k]) == wide.widths[k] + 1 for k in jc.JOBS_COLUMNS)


def test_with_note_keeps_the_note_whole() -> None:
    note = "* estimated"
    # It fits after the last wrapped line: two spaces apart.
    assert f.with_note("Demand: export 1.0", note, 40) == "Demand: export 1.0  * estimated"
    assert f.with_note("Demand: export 1.0, audio 2.0", note, 24) == (
        "Demand: export 1.0, audio 2.0  * estimated")
    # It would be broken: a line of its own.
    assert f.with_note("Demand: export 1.0, audio 2.0", note, 30) == (
        "Demand: export 1.0, audio 2.0\n* estimated")


_UUID = "524d38ef-3a98-4692-a724-4aae6d3e7917"
#: Ids as `mjcollect demo` writes them (the embedded data's measured rows).
_DEMO = [
    "demo-87-h264_1280x720_10s_truncated-upload_audio_envelope_v1-2",
    "demo-87-vp9_854x480_30s-create_video_export_v1-1",
    "demo-87-hevc_1280x720_20s-upload_thumb_v1-2",
]


def test_short_job_id_keeps_a_uuid_s_first_group() -> None:
    assert jc.short_job_id(_UUID, 8) == "524d38ef"
    assert jc.short_job_id(_UUID, 13) == "524d38ef-3a98"
    assert jc.short_job_id(_UUID, 12) == "524d38ef-3a…"
    assert jc.short_job_id(_UUID, 36, "demo-87-") == _UUID
    assert jc.short_job_id(None, 8) == "-"


def test_short_job_id_leaves_out_the_start_the_page_shares() -> None:
    prefix = jc.job_id_prefix([*_DEMO, _UUID, None])
    assert prefix == "demo-87-"  # UUIDs and nulls do not count
    shown = [jc.short_job_id(i, 8, prefix) for i in _DEMO]
    assert shown == ["…h264…-2", "…vp9_…-1", "…hevc…-2"]
    assert len(set(shown)) == len(shown)
    assert [jc.short_job_id(i, 17, prefix) for i in _DEMO] == [
        "…h264_1280x720…-2", "…vp9_854x480_3…-1", "…hevc_1280x720…-2"]
    # An id that fits is whole, prefix or not; one that does not start with it is cut alone.
    assert jc.short_job_id(_DEMO[1], 64, prefix) == _DEMO[1]
    assert jc.short_job_id("other-0001-xyz-0042", 12, prefix) == "other-…-0042"
    # One id alone, or ids sharing nothing, have no prefix.
    assert jc.job_id_prefix([_DEMO[0], _DEMO[0]]) == ""
    assert jc.job_id_prefix(["a-1", "b-1"]) == ""
    assert jc.job_id_prefix(["demo-870-x", "demo-871-y"]) == "demo-"


def test_short_job_id_keeps_head_and_tail_without_a_prefix() -> None:
    assert jc.short_job_id("demo-abcdefgh-0042", 11) == "demo-…-0042"
    assert jc.short_job_id("demo-abcdefgh-0042", 8) == "dem…0042"
    assert jc.short_job_id("demo-87-h264_1280x720", 8) == "dem…x720"
    assert jc.short_job_id("abcdefghijklmnop", 8) == "abc…mnop"


def test_short_ids_are_unchanged() -> None:
    for value in ("job-1", "j", "12345678"):
        assert jc.short_job_id(value, 8) == value
        assert jc.short_job_id(value, 8, "job-") == value


def test_hostile_ids_are_shown_literally_in_their_cells() -> None:
    # Markup is text here (the table gets Text, not markup); controls become escapes.
    assert jc.short_job_id("[red]x[/]", 12) == "[red]x[/]"
    assert jc.short_job_id("a\x1b[2Jb", 12) == "a\\x1b[2Jb"
    assert jc.short_job_id("bell\x07\nnext", 16) == "bell\\x07\\nnext"
    assert jc.short_job_id("ab\u202edc", 12) == "ab\\u202edc"  # no bidi reordering
    assert f.visible_text("plain id") == "plain id"
    # Wide characters take two cells: the cut counts cells, not characters.
    wide = "日本語のジョブ-0001"
    assert f.cells(wide) == 19
    assert jc.short_job_id(wide, 8) == "日…0001"  # 7 cells: 日 takes two
    assert f.cells(jc.short_job_id(wide, 7)) <= 7
    layout = jc.jobs_layout(80)
    for job_id in ("[red]x[/]", wide, "a\x1b[2Jb", "😀" * 20, _UUID, *_DEMO):
        cells = jc.jobs_cells({"job_id": job_id, "input_type": "[bold]"}, layout, "demo-87-")
        assert all(f.cells(cells[k]) == layout.widths[k] + 1 for k in jc.JOBS_COLUMNS), job_id
        assert "\x1b" not in cells["job"]
