"""SizingOptions from plain values: the CLI's arguments and the TUI's typed text agree."""

from __future__ import annotations

import datetime as dt

import pytest

from planner.demand import Forecast
from planner.sizing_options import (
    SizingError,
    WaitTarget,
    build_sizing_options,
    parse_duration,
    parse_wait,
    parse_window,
)


def test_typed_text_and_numbers_give_the_same_options() -> None:
    typed = build_sizing_options(percentile="p99", growth=" 1.5 ", utilisation="0.6",
                                 wait="p90=2m", forecasts=["upload_thumb_v1=900/h"])
    given = build_sizing_options(percentile=99.0, growth=1.5, utilisation=0.6, wait="p90=120s",
                                 forecasts=("upload_thumb_v1=900",))
    assert typed == given
    assert typed.wait == WaitTarget(90, 120.0)
    assert typed.forecasts == (Forecast("upload_thumb_v1", 900.0, "jobs_per_hour"),)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"percentile": "0"}, "percentile must be in (0, 100], got 0"),
        ({"percentile": "high"}, "percentile 'high' is not a number"),
        ({"growth": "two"}, "growth 'two' is not a number"),
        ({"growth": "nan"}, "growth 'nan' is not a finite number"),
        ({"growth": 0}, "growth must be above 0"),
        ({"utilisation": "1.2"}, "utilisation must be in (0, 1], got 1.2"),
        ({"wait": "p95=soon"}, "is not a duration"),
        ({"capacity": "reserved"}, "capacity 'reserved': choose spot or on-demand"),
        ({"interruption": ["c5.large=x"]}, "expected TYPE=RATE"),
        ({"interruption": ["c5.large=1"]}, "the rate is a fraction in [0, 1)"),
        ({"slots": "lots"}, "expected auto, mean, max, best or a number"),
        ({"slots": 0}, "slots must be at least 1"),
        ({"fleet_types": 0}, "fleet types must be at least 1"),
    ],
)
def test_bad_values_are_refused_in_one_line(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SizingError, match=None) as err:
        build_sizing_options(**kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_one_duration_parser_for_windows_and_waits() -> None:
    assert parse_window("14d") == dt.timedelta(days=14)
    assert parse_window("2w") == parse_window("336h") == parse_window("20160m")
    assert parse_duration("250ms", "x", bare="s") == dt.timedelta(milliseconds=250)
    assert parse_wait("90").seconds == 90 and parse_wait("p99=1.5m").seconds == 90
    assert parse_wait("p95=10m+service") == WaitTarget(95, 600.0, includes_service=True)
    with pytest.raises(SizingError, match="window '90': is not a duration"):
        parse_window("90")  # a window needs its unit: 90 what?
    with pytest.raises(SizingError, match="must be above zero"):
        parse_window("0d")
    with pytest.raises(SizingError, match="--window 'two weeks'"):
        parse_window("two weeks", "--window")
