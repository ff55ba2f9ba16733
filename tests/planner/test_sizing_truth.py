"""The recommended fleet, judged on datasets with known truth by a simulation that shares no code
with the planner (tests/planner/queue_sim.py on fresh draws of tests/planner/truth_data.py): it
meets its p95 wait target, and one instance fewer misses it.

The worlds: job types with hourly Poisson rates peaking at different hours (exports at night,
uploads in the afternoon), lognormal input lengths of 10 s to 30 min beside 1.5 s thumbnails
(service SCV 5-8), thumbnails in batches (mean 3), failed attempts retried, hosts configured for
more slots than a lightly loaded fleet keeps busy.
"""

from __future__ import annotations

import functools
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from planner.dataset import open_dataset
from planner.prices import parse_prices
from planner.sizing import SizingInputs, SizingOptions, WaitTarget, load_sizing_inputs, size_fleet
from tests.planner import queue_sim
from tests.planner.truth_data import EXPORT, PROXY, THUMB, JobKind, World, measured_rows, true_jobs
from tests.rows import write_rows

PRICES = parse_prices(
    "instance_type,vcpus,memory_gib,on_demand_usd_h,spot_usd_h,interruption_band,"
    "interruption_rate\nc5.large,2,4,0.085,0.0323,5-10%,\n", "truth-prices.csv")

#: Offset peaks, long lognormal exports beside batched thumbnails, failures; 3-slot hosts.
MIXED = World((
    JobKind(EXPORT, 30, 0.8, 2, 120, 1.0, 2.0, fail_share=0.05),
    JobKind(PROXY, 90, 0.8, 15, 60, 0.9, 4.0, fail_share=0.03),
    JobKind(THUMB, 240, 0.6, 15, 1.5, 0.5, None, batch=3.0),
), slots_per_host=3, hosts=6)
#: Thumbnails only, bursty (batches of 4 on average), on 2-slot hosts; enough of them that a
#: batch starts at once (the data holds start times: a fleet that queued would smooth the bursts).
THUMBS = World((JobKind(THUMB, 1500, 0.5, 12, 2.0, 0.6, None, batch=4.0),),
               slots_per_host=2, hosts=14)
#: Long exports alone (a 10-minute target is a real constraint), 4-slot hosts.
EXPORTS = World((JobKind(EXPORT, 25, 0.7, 20, 600, 0.8, 1.0, fail_share=0.04),),
                slots_per_host=4, hosts=6)

HOURS = 48


def measured(world: World, tmp: Path, seed: int = 1, hours: int = HOURS) -> SizingInputs:
    write_rows(measured_rows(world, hours, seed), tmp)
    return load_sizing_inputs(open_dataset(str(tmp)), prices=PRICES)


@functools.cache
def _truth(world: World, hours: int, seed: int) -> tuple[queue_sim.Job, ...]:
    """true_jobs, drawn once per (world, hours, seed): the bursty thumbnails' truth is ~290,000
    jobs, several seconds to draw, and every run of `check` on that world judges on this draw."""
    return tuple(true_jobs(world, hours, seed=seed))


@pytest.fixture(scope="module", autouse=True)
def _drop_truths() -> Iterator[None]:
    """The draws are kept for this module only (the largest holds ~100 MB)."""
    yield
    _truth.cache_clear()


def fresh_truth(world: World, hours: int, seed: int) -> list[queue_sim.Job]:
    """The draw's jobs, not yet served, for one simulation (run_queue writes each job's wait)."""
    return [queue_sim.Job(j.arrived, j.hour, j.service, j.failures)
            for j in _truth(world, hours, seed)]


def check(inputs: SizingInputs, world: World, target_s: float) -> None:
    """Size `inputs` for a p95 wait of `target_s`; the fleet, run on a fresh draw of `world`
    (twice as many hours as the data), meets it in 95 % of the hours, one instance fewer not."""
    options = SizingOptions(utilisation=1.0, wait=WaitTarget(95, target_s),
                            include_estimated=False, capacity="on-demand")
    (t,) = size_fleet(inputs, options).types
    assert t.slots == world.slots_per_host, t.slots_source
    assert t.decided_by == "replay"
    n = t.instances
    hours = 2 * t.hours  # a fresh draw twice as long as the data: the truth, not the sample

    def run(instances: int) -> tuple[bool, int]:
        return queue_sim.simulate(lambda: fresh_truth(world, hours, 99), instances * t.slots,
                                  hours, target_s)

    met, ok_hours = run(n)
    assert met, f"{n} instances met the target in only {ok_hours} of {hours} hours"
    if n > 1:
        fewer, ok_fewer = run(n - 1)
        assert not fewer, f"{n - 1} instances already met it ({ok_fewer} of {hours} hours)"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> SizingInputs:
    return measured(MIXED, tmp_path_factory.mktemp("mixed"))


def test_mixed_world_at_a_minute(mixed: SizingInputs) -> None:
    check(mixed, MIXED, 60.0)


@pytest.mark.slow
def test_thumbnail_lane(mixed: SizingInputs) -> None:
    """--lanes thumbs: thumbnails get a pool of their own, sized in the replay; run alone on
    that many slots (a fresh draw of the world's thumbnails), they meet the target."""
    target = 10.0
    options = SizingOptions(utilisation=1.0, wait=WaitTarget(95, target), lanes="thumbs",
                            include_estimated=False, capacity="on-demand")
    (t,) = size_fleet(mixed, options).types
    assert t.thumb_slots is not None and 1 <= t.thumb_slots < t.instances * t.slots
    jobs, wait, over = t.waits_by_job_type[THUMB]
    assert jobs > 1000 and over <= 0.05 and wait <= target
    thumbs_only = World(tuple(k for k in MIXED.kinds if k.job_type == THUMB), 3, 6)
    hours = 2 * t.hours
    met, _ = queue_sim.simulate(lambda: fresh_truth(thumbs_only, hours, 98), t.thumb_slots,
                                hours, target)
    assert met
    if t.thumb_slots > 1:
        fewer, _ = queue_sim.simulate(lambda: fresh_truth(thumbs_only, hours, 98),
                                      t.thumb_slots - 1, hours, target)
        assert not fewer


@pytest.mark.slow
@pytest.mark.parametrize("target_s", [10.0, 600.0])
def test_mixed_world_from_ten_seconds_to_ten_minutes(mixed: SizingInputs, target_s: float) -> None:
    check(mixed, MIXED, target_s)


@pytest.fixture(scope="module")
def thumb_rows() -> list[dict[str, Any]]:
    """Four days of the bursty thumbnails (~150,000 rows)."""
    return measured_rows(THUMBS, 96, 1)


@pytest.fixture(scope="module")
def thumbs(tmp_path_factory: pytest.TempPathFactory, thumb_rows: list[dict[str, Any]]) -> Path:
    """The bursty thumbnails written once for every test of them."""
    folder = tmp_path_factory.mktemp("thumbs")
    write_rows(thumb_rows, folder)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("target_s", [20.0, 60.0])
def test_bursty_thumbnails(thumbs: Path, tmp_path: Path, target_s: float) -> None:
    # Not 10 s: there 2 instances meet the target in 92-93 % of the hours of the truth, so
    # close to the 95 % asked that a few days of data decide it by chance (2 or 3 instances
    # by the draw; docs/sizing.md, "Limits").
    # A copy of the data per target, opened afresh (the next test: the answer must not depend
    # on which order the rows are read in).
    shutil.copytree(thumbs, tmp_path / "ds")
    inputs = load_sizing_inputs(open_dataset(str(tmp_path / "ds")), prices=PRICES)
    check(inputs, THUMBS, target_s)


@pytest.mark.slow
def test_the_same_rows_in_any_order_size_alike(
    thumbs: Path, thumb_rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    # The replay draws services by position in the measured sample: rows taken in the order a
    # parallel scan returned them sized this data at 1 or 2 instances for a 60 s target from
    # one run to the next (1 is right: the truth meets it with 1 in 97 % of the hours).
    shuffled = list(thumb_rows)
    random.Random(7).shuffle(shuffled)
    write_rows(shuffled, tmp_path / "shuffled")
    options = SizingOptions(utilisation=1.0, wait=WaitTarget(95, 60.0),
                            include_estimated=False, capacity="on-demand")
    answers = []
    for folder in (thumbs, tmp_path / "shuffled", thumbs):
        (t,) = size_fleet(load_sizing_inputs(open_dataset(str(folder)), prices=PRICES),
                          options).types
        answers.append((t.instances, t.decided_by, t.waits_by_job_type))
    assert answers[0] == answers[1] == answers[2]


@pytest.mark.slow
@pytest.mark.parametrize("target_s", [60.0, 600.0])
def test_long_exports(tmp_path: Path, target_s: float) -> None:
    check(measured(EXPORTS, tmp_path), EXPORTS, target_s)
