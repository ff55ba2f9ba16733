"""The recommended fleet, run as a queue: it meets the wait target, one instance fewer misses it.

Measured service times (exponential, seeded) are written as attempts on four 2-slot hosts; the
planner measures slots and service time from them, sizes for a forecast of 1800 thumbnails per
hour, and a discrete-event simulation (tests/planner/simulation.py) replays Poisson arrivals
with service times resampled from the measurements.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from planner.dataset import open_dataset
from planner.demand import Forecast
from planner.sizing import SizingOptions, WaitTarget, load_sizing_inputs, size_fleet
from tests.planner import simulation as sim
from tests.rows import measured_trace, write_rows

THUMB = "upload_thumb_v1"


def test_recommended_fleet_meets_the_wait_target_and_one_fewer_misses(tmp_path: Path) -> None:
    rows, services = measured_trace()
    write_rows(rows, tmp_path)
    inputs = load_sizing_inputs(open_dataset(str(tmp_path)), window=dt.timedelta(days=14))
    target = WaitTarget(95, 15.0)
    options = SizingOptions(
        forecasts=(Forecast(THUMB, 1800.0, "jobs_per_hour"),),
        utilisation=0.95,
        wait=target,
        capacity="on-demand",
        include_estimated=False,
    )
    result = size_fleet(inputs, options)
    c5 = {t.instance_type: t for t in result.types}["c5.large"]
    assert c5.slots == 2
    assert c5.mean_service_s == pytest.approx(sum(services) / len(services), rel=1e-3)
    assert c5.bound == "wait"
    n = c5.instances
    assert n == 10
    rate = 1800 / 3600
    for seed in (1, 2):
        ok = sim.run(rate_per_s=rate, measured_service_s=services, servers=n * c5.slots,
                     jobs=60_000, seed=seed)
        short = sim.run(rate_per_s=rate, measured_service_s=services,
                        servers=(n - 1) * c5.slots, jobs=60_000, seed=seed)
        assert sim.percentile(ok, 95) <= target.seconds
        assert sim.percentile(short, 95) > target.seconds


def test_simulation_matches_a_known_queue() -> None:
    # M/M/1 at rho = 0.5, mean service 1 s: P(wait > 0) = 0.5 and mean wait = 1 s.
    rng = random.Random(3)
    services = [rng.expovariate(1.0) for _ in range(50_000)]
    waits = sim.run(rate_per_s=0.5, measured_service_s=services, servers=1, jobs=100_000, seed=4)
    assert sum(w > 0 for w in waits) / len(waits) == pytest.approx(0.5, abs=0.02)
    assert sum(waits) / len(waits) == pytest.approx(1.0, abs=0.1)
