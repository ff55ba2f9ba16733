"""What a user asks the fleet sizing for, built and checked from plain values (core work).

`mjplan size`, `mjplan report` and the TUI's sizing form all go through `build_sizing_options`
(numbers may come typed as text, from a form) and `parse_duration` (the one duration parser:
windows, wait targets), so the three accept and refuse the same inputs with the same one-line
`SizingError`. Nothing here reads data.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from planner.demand import Forecast, parse_forecast
from planner.errors import PlannerError
from planner.slots import SlotsRule

CapacityType = Literal["spot", "on-demand"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


#: Lanes of the replay: one FCFS line, or thumbnails in a pool of their own.
Lanes = Literal["none", "thumbs"]
ARCHITECTURES = ("x86_64", "arm64")


class SizingError(PlannerError):
    """Inputs no fleet can satisfy, or out of range (utilisation, wait target, percentile)."""


def parse_duration(text: str, what: str, *, bare: str | None = None) -> dt.timedelta:
    """`90m`, `36h`, `14d`, `2w`, `60s`, `1.5m`, `250ms` -> timedelta; `bare` is the unit of a
    number without one (None: a unit is required). Raises SizingError naming `what`."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d|w)?\s*", text)
    unit = m.group(2) or bare if m else None
    if m is None or unit is None:
        example = "60s, 2m" if bare == "s" else "14d"
        raise SizingError(
            f"{what} {text!r}: is not a duration (a number and ms, s, m, h, d or w, e.g. {example})"
        )
    seconds = float(m.group(1)) * _UNITS[unit]
    return dt.timedelta(seconds=seconds)


def parse_window(text: str, what: str = "window") -> dt.timedelta:
    """How far back the data is read: `14d`, `36h`, `2w`, `90m`; above zero."""
    window = parse_duration(text, what)
    if window <= dt.timedelta(0):
        raise SizingError(f"{what} {text!r}: must be above zero")
    return window


@dataclass(frozen=True)
class WaitTarget:
    """`percentile` of the queue wait (or of wait + service) at most `seconds`."""

    percentile: float = 95.0
    seconds: float = 60.0
    includes_service: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.percentile < 100:
            raise SizingError(f"wait percentile must be in (0, 100), got {self.percentile:g}")
        if not self.seconds >= 0 or math.isinf(self.seconds):
            raise SizingError(f"wait target must be >= 0 seconds, got {self.seconds:g}")

    @property
    def tail(self) -> float:
        """The allowed probability of exceeding the target."""
        return 1.0 - self.percentile / 100.0

    def label(self) -> str:
        what = "response" if self.includes_service else "wait"
        return f"p{self.percentile:g} {what} <= {self.seconds:g}s"


def parse_wait(text: str) -> WaitTarget:
    """`p95=60s` (also `60`, `2m`, `p99=1.5m`); a trailing `+service` targets wait + service."""
    raw = text.strip().replace(" ", "")
    includes_service = raw.endswith("+service")
    if includes_service:
        raw = raw[: -len("+service")]
    pct = 95.0
    if "=" in raw:
        head, raw = raw.split("=", 1)
        if not head.lower().startswith("p"):
            raise SizingError(f"wait target {text!r}: expected pNN=SECONDS, e.g. p95=60s")
        try:
            pct = float(head[1:])
        except ValueError:
            raise SizingError(f"wait target {text!r}: {head!r} is not a percentile") from None
    seconds = parse_duration(raw, f"wait target {text!r}:", bare="s").total_seconds()
    return WaitTarget(pct, seconds, includes_service)


@dataclass(frozen=True)
class SizingOptions:
    """What the user asks (all fast to change)."""

    percentile: float = 95.0
    forecasts: tuple[Forecast, ...] = ()
    growth: float = 1.0
    utilisation: float = 0.7
    wait: WaitTarget | None = field(default_factory=WaitTarget)
    capacity: CapacityType = "spot"
    #: Interruption rates (fractions) overriding the price table's, by instance type.
    interruption_overrides: Mapping[str, float] = field(default_factory=dict)
    include_estimated: bool = True
    #: How many instance types the recommended fleet diversifies over.
    fleet_types: int = 3
    #: Apply the measured waste of failed attempts (retries) to the load.
    count_waste: bool = True
    #: Job slots per instance (planner.slots: auto = worker_slots, else inferred).
    slots: SlotsRule = "auto"
    #: With slots "best": a job may take at most this many times its duration alone
    #: (planner.density).
    max_slowdown: float = 1.5
    #: CPU architectures the recommended fleet may mix, one launch template each (x86_64,
    #: arm64). Empty: one launch template, so one architecture (that of the cheapest type).
    architectures: tuple[str, ...] = ()
    #: Confirm the analytic instance counts with a replay of the window (planner.replay).
    replay: bool = True
    #: "thumbs": thumbnails get their own pool of slots in the replay.
    lanes: Lanes = "none"
    #: Seed of the replay's draws: the same inputs give the same answer.
    seed: int = 12


def check_utilisation(utilisation: float) -> None:
    if not 0 < utilisation <= 1:
        raise SizingError(f"utilisation must be in (0, 1], got {utilisation:g}")


def _number(value: float | str, what: str, example: str) -> float:
    """A number given as a number (argparse) or as typed text (a form); finite."""
    shown = str(value).strip()
    try:
        number = float(shown)
    except ValueError:
        raise SizingError(f"{what} {shown!r} is not a number (e.g. {example})") from None
    if not math.isfinite(number):
        raise SizingError(f"{what} {shown!r} is not a finite number (e.g. {example})")
    return number


def parse_slots(value: str | int) -> SlotsRule:
    """`auto`, `mean`, `max`, `best` or a whole number >= 1."""
    text = str(value).strip().lower()
    if text in ("auto", "mean", "max", "best"):
        return text  # type: ignore[return-value]
    try:
        slots = int(text)
    except ValueError:
        raise SizingError(f"slots {value!r}: expected auto, mean, max, best or a number"
                          ) from None
    if slots < 1:
        raise SizingError("slots must be at least 1")
    return slots


def build_sizing_options(
    *,
    percentile: float | str = 95.0,
    forecasts: Sequence[str] = (),
    growth: float | str = 1.0,
    utilisation: float | str = 0.7,
    wait: str = "p95=60s",
    capacity: str = "spot",
    interruption: Sequence[str] = (),
    include_estimated: bool = True,
    fleet_types: int = 3,
    slots: str | int = "auto",
    max_slowdown: float | str = 1.5,
    architectures: Sequence[str] = (),
    replay: bool = True,
    lanes: str = "none",
) -> SizingOptions:
    """SizingOptions from plain values as a person gives them (checked before any data is read).

    `percentile` may carry a `p` (`p95`); `wait` is `pNN=DURATION[+service]` or empty/`none`;
    `forecasts` as `--forecast` takes them; `interruption` as `TYPE=RATE`. Raises SizingError
    (one line, naming the value) for anything out of range.
    """
    pct_text = percentile.strip().removeprefix("p").removeprefix("P") if isinstance(
        percentile, str) else percentile
    pct = _number(pct_text, "percentile", "95")
    if not 0 < pct <= 100:
        raise SizingError(f"percentile must be in (0, 100], got {pct:g}")
    grow = _number(growth, "growth", "1.2")
    if not grow > 0:
        raise SizingError(f"growth must be above 0, got {grow:g}")
    util = _number(utilisation, "utilisation", "0.7")
    check_utilisation(util)
    if fleet_types < 1:
        raise SizingError("fleet types must be at least 1")
    if capacity not in ("spot", "on-demand"):
        raise SizingError(f"capacity {capacity!r}: choose spot or on-demand")
    slowdown = _number(max_slowdown, "max slowdown", "1.5")
    if not slowdown >= 1:
        raise SizingError(f"max slowdown must be at least 1, got {slowdown:g}")
    if lanes not in ("none", "thumbs"):
        raise SizingError(f"lanes {lanes!r}: choose none or thumbs")
    for arch in architectures:
        if arch not in ARCHITECTURES:
            raise SizingError(f"architecture {arch!r}: choose x86_64 or arm64")
    target = None if wait.strip().lower() in ("none", "off", "") else parse_wait(wait)
    overrides: dict[str, float] = {}
    for item in interruption:
        name, _, raw = item.partition("=")
        try:
            rate = float(raw)
        except ValueError:
            raise SizingError(f"interruption {item!r}: expected TYPE=RATE (0.1)") from None
        if not 0 <= rate < 1:
            raise SizingError(f"interruption {item!r}: the rate is a fraction in [0, 1)")
        overrides[name.strip()] = rate
    return SizingOptions(
        percentile=pct,
        forecasts=tuple(parse_forecast(f) for f in forecasts),
        growth=grow,
        utilisation=util,
        wait=target,
        capacity=capacity,  # type: ignore[arg-type]
        interruption_overrides=overrides,
        include_estimated=include_estimated,
        fleet_types=fleet_types,
        slots=parse_slots(slots),
        max_slowdown=slowdown,
        architectures=tuple(dict.fromkeys(architectures)),
        replay=replay,
        lanes=lanes,  # type: ignore[arg-type]
    )
