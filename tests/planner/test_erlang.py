"""Erlang B/C and the M/M/c wait maths against published values and closed forms."""

from __future__ import annotations

import math

import pytest

from planner.queueing import erlang_b, erlang_c, wait_percentile, wait_probability
from planner.sizing import SizingError, WaitTarget, instances_for_wait, parse_wait

# Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
# (callcentrehelper.com): 100 calls per 30 minutes, 180 s handling time -> A = 10 Erlangs.
# Published: probability a call waits 68.21 % with 11 agents, 44.94 % (12), 28.53 % (13),
# 17.41 % (14); with 13 agents the average speed of answer is 17.1 s and the service level
# (answered within 20 s) 79.6 %.
CALL_CENTRE = [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)]


@pytest.mark.parametrize(("agents", "published"), CALL_CENTRE)
def test_erlang_c_matches_the_published_call_centre_table(agents: int, published: float) -> None:
    assert erlang_c(agents, 10.0) == pytest.approx(published, abs=5e-5)


def test_call_centre_speed_of_answer_and_service_level() -> None:
    lam, mu = 100 / 1800, 1 / 180  # calls per second, services per second per agent
    c = erlang_c(13, lam / mu)
    assert c * 180 / (13 - 10) == pytest.approx(17.1, abs=0.05)  # ASA = C / (c mu - lambda)
    assert 1 - wait_probability(13, lam, mu, 20.0) == pytest.approx(0.796, abs=5e-4)


def test_erlang_b_published_value() -> None:
    # The classic Erlang B table: 10 trunks, 5 Erlangs -> blocking 1.84 %.
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=5e-5)


def test_closed_forms_mm1_and_mm2() -> None:
    # M/M/1: P(wait) = rho. M/M/2: P(wait) = 2 rho^2 / (1 + rho), rho = a / 2.
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    rho = 0.5
    assert erlang_c(2, 1.0) == pytest.approx(2 * rho**2 / (1 + rho))


def test_overload_waits_for_ever() -> None:
    assert erlang_c(4, 4.0) == 1.0
    assert wait_percentile(4, 1.0, 0.25, 95) == math.inf


def test_large_fleets_stay_finite() -> None:
    # A naive a^c / c! overflows far below this; the recurrence does not.
    c = erlang_c(2000, 1950.0)
    assert 0.0 < c < 1.0
    assert c == pytest.approx(0.17868, abs=5e-5)


def test_wait_percentile_inverts_the_tail() -> None:
    lam, mu = 100 / 1800, 1 / 180
    t95 = wait_percentile(13, lam, mu, 95)
    assert wait_probability(13, lam, mu, t95) == pytest.approx(0.05)
    # Enough agents that fewer than 5 % wait at all: the p95 wait is 0.
    assert wait_percentile(20, lam, mu, 95) == 0.0


def test_instances_for_wait_is_the_smallest_meeting_the_target() -> None:
    lam, mu = 100 / 1800, 1 / 180
    target = WaitTarget(95, 60)
    n = instances_for_wait(lam, mu, 1, target)  # one agent per "instance"
    assert wait_percentile(n, lam, mu, 95) <= 60
    assert wait_percentile(n - 1, lam, mu, 95) > 60
    assert n == 14
    # Two slots per instance: the same servers, rounded up to whole instances.
    assert instances_for_wait(lam, mu, 2, target) == 7


def test_response_target_below_the_service_time_is_refused() -> None:
    # p95 of an exponential service of mean 180 s is 180 ln 20 = 539 s.
    with pytest.raises(SizingError, match="below the p95 of the service time"):
        instances_for_wait(100 / 1800, 1 / 180, 1, WaitTarget(95, 500, includes_service=True))
    n = instances_for_wait(100 / 1800, 1 / 180, 1, WaitTarget(95, 600, includes_service=True))
    assert n > 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p95=60s", WaitTarget(95, 60)),
        ("p99=1.5m", WaitTarget(99, 90)),
        ("45", WaitTarget(95, 45)),
        ("p90=10m+service", WaitTarget(90, 600, includes_service=True)),
    ],
)
def test_parse_wait(text: str, expected: WaitTarget) -> None:
    assert parse_wait(text) == expected


@pytest.mark.parametrize("text", ["p95=soon", "q95=60", "p100=60s", "p95=-3s"])
def test_parse_wait_refuses_nonsense(text: str) -> None:
    with pytest.raises(SizingError):
        parse_wait(text)
