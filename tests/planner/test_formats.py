"""The planner's formats (`planner.formats`): one way to write money, durations, RTF and job
types, shared by the CLI, the TUI, the report and the charts."""

from __future__ import annotations

import pytest

from collectors.schema import JOB_TYPES
from planner import formats
from planner.badges import rtf_badge


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0:00"),
        (59.6, "1:00"),
        (150, "2:30"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (3723, "1:02:03"),
        (None, None),
        (-1, None),
    ],
)
def test_media_lengths_as_a_clock(seconds: float | None, text: str | None) -> None:
    assert formats.clock(seconds) == text


def test_wall_durations() -> None:
    assert [formats.duration_ms(v) for v in (None, 850, 12_340, 245_000, 3_725_000)] == [
        "-", "850ms", "12.3s", "4m05s", "1h02m"
    ]
    # The jobs table's 5 cells: `12m04s` would be cut to `12m4…`.
    assert [formats.short_duration_ms(v) for v in (850, 245_000, 724_000, 3_725_000,
                                                   36_500_000, None)] == [
        "850ms", "4m05s", "12m", "1h02m", "10h", "-"]
    assert formats.duration_ms(float("nan")) == "-"


def test_rtf_one_decimal_as_the_plans_badge() -> None:
    assert formats.rtf(1.3) == "1.3x"
    assert formats.rtf(1.26) == "1.3x"
    assert formats.rtf(12.34) == "12.3x"
    assert formats.rtf(0.04) == "0.04x"  # not 0.0x
    assert [formats.rtf(v) for v in (None, float("nan"), float("inf"), 0, -1)] == ["-"] * 5
    # The badge is the same text behind "RTF ".
    assert rtf_badge({"rtf": 1.26}) == f"RTF {formats.rtf(1.26)}"


def test_money() -> None:
    assert formats.usd(1234.5) == "$1,234.50"
    assert formats.usd(0.0123, 3) == "$0.012"
    assert [formats.usd(v) for v in (None, float("nan"), float("inf"))] == ["-"] * 3
    assert formats.usd_brief(0.0123) == "$0.0123"
    assert formats.usd_brief(12.345) == "$12.3"
    assert formats.usd_brief(1234.5) == "$1,234"
    assert formats.usd_brief(None) == ""


def test_numbers_and_intervals() -> None:
    assert formats.number(1.324) == "1.32"
    assert formats.number(98.76, 1) == "98.8"
    assert formats.number(None) == "-" and formats.number(float("nan")) == "-"
    assert formats.interval(1.271, 1.356) == "1.27-1.36"
    assert formats.interval(11.6, 14.4, 0) == "12-14"
    assert formats.interval(None, 1.0) == "-"


def test_job_types_short_and_in_the_plans_order() -> None:
    assert [formats.short_job_type(t) for t in JOB_TYPES] == ["export", "proxy", "thumb", "audio"]
    assert formats.short_job_type("other_v2") == "other_v2"
    assert formats.short_job_type(None) == "-"
    mixed = ["zz_v1", None, JOB_TYPES[3], "aa_v1", JOB_TYPES[0], JOB_TYPES[3]]
    assert formats.ordered_job_types(mixed) == [JOB_TYPES[0], JOB_TYPES[3], "aa_v1", "zz_v1"]
