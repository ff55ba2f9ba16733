"""Queueing maths of M/M/c (Erlang C), pure: the wait bound of the fleet sizing (`planner.sizing`).

## The model

Jobs arrive as a Poisson process of rate lam (jobs per second) at c identical servers (job
slots), each serving one job at a time for an exponential time of mean 1 / mu seconds (mu:
services per second per server); a job that finds every server busy waits in one FIFO queue.
The offered load is a = lam / mu (Erlangs: busy servers on average). The queue is stable only
while a < c; otherwise it grows without bound (probability of waiting 1, percentiles infinite).

## The formulas

Erlang B, by the numerically stable recurrence (no factorials; fine for thousands of servers):

    B(0) = 1,   B(k) = a B(k-1) / (k + a B(k-1))

Erlang C, the probability that an arrival waits, from B of the same (c, a):

    C(c, a) = c B / (c - a (1 - B))                              (a < c; else 1)

The queue wait W (0 with probability 1 - C, else exponential of rate theta = c mu - lam):

    P(W > t) = C e^(-theta t)
    p-th percentile of W = ln(C / (1 - p/100)) / theta           (0 when C <= 1 - p/100)

The response time T = W + service (service ~ Exp(mu), independent of W):

    P(T > t) = (1 - C) e^(-mu t) + C (theta e^(-mu t) - mu e^(-theta t)) / (theta - mu)

with the Erlang-2 tail C e^(-mu t) (1 + mu t) for the queued part when theta = mu; its
percentiles are found by bisection. Units throughout: lam and mu per second, t in seconds.
"""

from __future__ import annotations

import math


def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability for `servers` servers, `load` Erlangs (stable recurrence)."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must be non-negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c_from_b(servers: int, load: float, b: float) -> float:
    """Erlang C from Erlang B of the same (servers, load); 1.0 when load >= servers."""
    if load >= servers:
        return 1.0
    return servers * b / (servers - load * (1.0 - b))


def erlang_c(servers: int, load: float) -> float:
    """Probability an arrival waits in M/M/c with `servers` servers and `load` Erlangs (a = l/mu).

    1.0 when load >= servers (the queue grows without bound).
    """
    if servers <= 0:
        return 1.0
    return erlang_c_from_b(servers, load, erlang_b(servers, load))


def wait_tail(
    c_prob: float, servers: int, lam: float, mu: float, t: float, factor: float = 1.0
) -> float:
    """P(queue wait > t) in M/M/c given the Erlang C probability; with `factor` (Allen-Cunneen,
    `variability_factor`) a waiting job's wait is exponential of `factor` times the M/M/c mean."""
    return c_prob * math.exp(-(servers * mu - lam) * t / factor)


def response_tail(
    c_prob: float, servers: int, lam: float, mu: float, t: float, factor: float = 1.0
) -> float:
    """P(wait + service > t) in M/M/c given the Erlang C probability; `factor` as in
    `wait_tail` (the service stays exponential there: the rough part, which the replay checks)."""
    theta = (servers * mu - lam) / factor
    if abs(theta - mu) < 1e-12 * mu:  # wait ~ Exp(mu) and service ~ Exp(mu): Erlang-2 tail
        queued = math.exp(-mu * t) * (1.0 + mu * t)
    else:
        queued = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1.0 - c_prob) * math.exp(-mu * t) + c_prob * queued


def _stable_erlang_c(servers: int, lam: float, mu: float) -> float | None:
    """Erlang C of M/M/c, or None when it is overloaded (lam / mu >= servers): the queue then
    grows without bound and the tail formulas do not apply, so each caller says what it means."""
    load = lam / mu
    return None if load >= servers else erlang_c(servers, load)


def wait_probability(servers: int, lam: float, mu: float, t: float) -> float:
    """P(queue wait > t seconds) in M/M/c; lam arrivals/s, mu services/s per server."""
    c_prob = _stable_erlang_c(servers, lam, mu)
    if c_prob is None:
        return 1.0
    return wait_tail(c_prob, servers, lam, mu, t)


def wait_percentile(
    servers: int, lam: float, mu: float, percentile: float, factor: float = 1.0
) -> float:
    """The p-th percentile (0-100) of queue wait in M/M/c (x `factor`, Allen-Cunneen),
    seconds; inf when overloaded."""
    c_prob = _stable_erlang_c(servers, lam, mu)
    if c_prob is None:
        return math.inf
    tail = 1.0 - percentile / 100.0
    if c_prob <= tail:
        return 0.0
    return math.log(c_prob / tail) / (servers * mu - lam) * factor


def response_percentile(
    servers: int, lam: float, mu: float, percentile: float, factor: float = 1.0
) -> float:
    """The p-th percentile of wait + service in M/M/c (`factor` as in `wait_tail`), by
    bisection on the tail."""
    c_prob = _stable_erlang_c(servers, lam, mu)
    if c_prob is None:
        return math.inf
    tail = 1.0 - percentile / 100.0
    lo, hi = 0.0, 1.0 / mu
    while response_tail(c_prob, servers, lam, mu, hi, factor) > tail:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if response_tail(c_prob, servers, lam, mu, mid, factor) > tail:
            lo = mid
        else:
            hi = mid
    return hi


# --------------------------------------------------------------------------------------------
# Variability: the Allen-Cunneen correction (G/G/c)


def variability_factor(arrival_scv: float, service_scv: float) -> float:
    """(ca^2 + cs^2) / 2: how much longer a G/G/c queue waits than M/M/c (Allen-Cunneen).

    1 for Poisson arrivals and exponential service; (1 + cs^2) / 2 for Poisson arrivals (the
    Lee-Longton M/G/c approximation, exact in mean for M/G/1: Pollaczek-Khinchine); Kingman's
    G/G/1 formula at one server. SCVs are squared coefficients of variation (variance / mean^2).
    """
    if arrival_scv < 0 or service_scv < 0:
        raise ValueError("squared coefficients of variation are >= 0")
    # Never 0 (D/D/c does not wait at all): the tails divide by it.
    return max((arrival_scv + service_scv) / 2.0, 1e-6)


def mean_wait(servers: int, lam: float, mu: float, factor: float = 1.0) -> float:
    """Mean queue wait, C / (servers mu - lam) x `factor` (Allen-Cunneen); inf if overloaded."""
    c_prob = _stable_erlang_c(servers, lam, mu)
    if c_prob is None:
        return math.inf
    return c_prob / (servers * mu - lam) * factor
