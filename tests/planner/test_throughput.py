"""Throughput, concurrency, waste and demand measured on a hand-made trace of attempts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from planner.dataset import Dataset, open_dataset
from planner.demand import load_demand_history
from planner.throughput import (
    measure_concurrency,
    measure_instances,
    measure_services,
    measure_waste,
    throughput_frame,
)
from tests.rows import T0, attempt, write_rows

EXPORT, THUMB = "create_video_export_v1", "upload_thumb_v1"


def trace() -> list[dict[str, object]]:
    """Host h1 and h2 are c5.large, h3 is c7g.large; times in seconds after T0."""
    return [
        # h1: two exports overlapping 5 s, then a thumbnail alone.
        attempt(job_type=EXPORT, start_s=0, wall_s=10, input_s=20, hostname="h1"),
        attempt(job_type=EXPORT, start_s=5, wall_s=10, input_s=10, hostname="h1"),
        attempt(job_type=THUMB, start_s=20, wall_s=10, input_s=None, hostname="h1"),
        # h2: a failed export and its retry, side by side for 20 s.
        attempt(job_type=EXPORT, start_s=0, wall_s=20, input_s=40, hostname="h2",
                status="failed", job_id="job-d"),
        attempt(job_type=EXPORT, start_s=0, wall_s=20, input_s=40, hostname="h2",
                attempt_number=2, job_id="job-d"),
        # h3 (c7g.large): a long export with a thumbnail inside it, one more thumbnail later.
        attempt(job_type=EXPORT, start_s=0, wall_s=30, input_s=90, hostname="h3",
                instance_type="c7g.large"),
        attempt(job_type=THUMB, start_s=10, wall_s=2, input_s=None, hostname="h3",
                instance_type="c7g.large"),
        attempt(job_type=THUMB, start_s=40, wall_s=1, input_s=None, hostname="h3",
                instance_type="c7g.large"),
        # No host name: counts for service and waste, not for concurrency.
        attempt(job_type=THUMB, start_s=50, wall_s=4, input_s=None, hostname=None,
                instance_type="c7g.large"),
    ]


@pytest.fixture(scope="module")
def ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    root = tmp_path_factory.mktemp("trace")
    write_rows(trace(), root)
    return open_dataset(str(root))


def test_concurrency_from_overlapping_intervals(ds: Dataset) -> None:
    conc = measure_concurrency(ds)
    c5 = conc["c5.large"]
    # h1: levels 1,2,1 over [0,5),[5,10),[10,15), idle, 1 over [20,30): 30 attempt-s in 25 s busy.
    # h2: level 2 over [0,20): 40 attempt-s in 20 s.
    assert (c5.hosts, c5.attempt_seconds, c5.busy_seconds) == (2, 70.0, 45.0)
    assert c5.mean_concurrency == pytest.approx(70 / 45)
    assert (c5.max_concurrency, c5.slots) == (2, 2)
    c7 = conc["c7g.large"]
    # h3: 1 on [0,10), 2 on [10,12), 1 on [12,30), 1 on [40,41): 33 attempt-s in 31 s busy.
    assert (c7.hosts, c7.attempt_seconds, c7.busy_seconds) == (1, 33.0, 31.0)
    assert (c7.max_concurrency, c7.slots) == (2, 1)


def test_service_times_and_rtf(ds: Dataset) -> None:
    svc = measure_services(ds)
    export = svc[("c5.large", EXPORT)]
    assert (export.attempts, export.wall_seconds, export.media_seconds) == (3, 40.0, 70.0)
    assert export.service_s == pytest.approx(40 / 3)
    assert export.rtf == pytest.approx(1.75)
    thumb = svc[("c7g.large", THUMB)]
    assert (thumb.attempts, thumb.wall_seconds) == (3, 7.0)
    assert thumb.rtf is None


def test_per_instance_throughput(ds: Dataset) -> None:
    m = measure_instances(ds)
    c5 = m["c5.large"]
    # media seconds per wall second = mean concurrency * rtf
    assert c5.media_seconds_per_second(EXPORT) == pytest.approx(70 / 45 * 1.75)
    assert c5.jobs_per_hour(THUMB) == pytest.approx(70 / 45 * 3600 / 10)
    assert m["c7g.large"].jobs_per_hour(THUMB) == pytest.approx(33 / 31 * 3600 / (7 / 3))
    frame = throughput_frame(m)
    assert frame.height == 4
    assert frame["slots"].to_list() == [2, 2, 1, 1]


def test_waste_of_failed_attempts(ds: Dataset) -> None:
    w = measure_waste(ds)[EXPORT]
    assert (w.attempts, w.failed_attempts) == (5, 1)
    assert w.retry_share == pytest.approx(0.2)
    assert w.waste_ratio == pytest.approx(20 / 70)
    assert measure_waste(ds)[THUMB].retry_share == 0.0


def test_window_filters_measurements(ds: Dataset) -> None:
    later = T0 + dt.timedelta(seconds=35)
    assert set(measure_concurrency(ds, later)) == {"c7g.large"}


def test_demand_history_counts_first_attempts_per_hour(tmp_path: Path) -> None:
    rows = [
        attempt(job_type=EXPORT, start_s=60, wall_s=5, input_s=30),
        attempt(job_type=EXPORT, start_s=3600 + 60, wall_s=5, input_s=10),
        attempt(job_type=EXPORT, start_s=3600 + 120, wall_s=5, input_s=20),
        attempt(job_type=EXPORT, start_s=3600 + 180, wall_s=5, input_s=20, attempt_number=2),
        attempt(job_type=EXPORT, start_s=3 * 3600, wall_s=5, input_s=40),
        attempt(job_type=THUMB, start_s=3 * 3600 + 5, wall_s=1, input_s=None),
        # The hour of the last start is partial: left out of the window.
        attempt(job_type=EXPORT, start_s=5 * 3600 + 10, wall_s=5, input_s=50),
    ]
    write_rows(rows, tmp_path)
    hist = load_demand_history(open_dataset(str(tmp_path)), dt.timedelta(days=14))
    assert hist[EXPORT].jobs == (1.0, 2.0, 0.0, 1.0, 0.0)
    assert hist[EXPORT].media_seconds == (30.0, 30.0, 0.0, 40.0, 0.0)
    assert hist[EXPORT].media_seconds_per_job == pytest.approx(25.0)
    assert hist[THUMB].jobs == (0.0, 0.0, 0.0, 1.0, 0.0)
    two_hours = load_demand_history(open_dataset(str(tmp_path)), dt.timedelta(hours=2))
    assert two_hours[EXPORT].jobs == (1.0, 0.0)


def test_host_sweep_half_open_and_nested_intervals() -> None:
    from planner.throughput import host_concurrency

    second = 1_000_000
    # One attempt ends as the next starts: never two at once.
    assert host_concurrency([0, 10 * second], [10 * second, 20 * second])[:3] == (20.0, 20.0, 1)
    # Two short attempts inside a long one: 120 attempt-s in 100 s busy, at most 2 at once.
    starts = [0, 10 * second, 30 * second]
    finishes = [100 * second, 20 * second, 40 * second]
    assert host_concurrency(starts, finishes)[:3] == (120.0, 100.0, 2)


def test_rtf_leaves_out_attempts_without_an_input_duration(tmp_path: Path) -> None:
    from planner.stats import rtf_summary

    # Two exports at RTF 2 (60 media s in 30 s) and two whose probe failed (no input duration):
    # their 60 wall seconds have no media seconds beside them and must not halve the RTF.
    rows = [attempt(job_type=EXPORT, start_s=100 * i, wall_s=30, input_s=60) for i in range(2)]
    rows += [attempt(job_type=EXPORT, start_s=500 + 100 * i, wall_s=30, input_s=None)
             for i in range(2)]
    write_rows(rows, tmp_path)
    ds = open_dataset(str(tmp_path))
    export = measure_services(ds)[("c5.large", EXPORT)]
    assert export.rtf == pytest.approx(2.0)
    assert export.service_s == pytest.approx(30.0)  # every attempt held a slot for 30 s
    assert rtf_summary(ds)["rtf"].to_list() == [pytest.approx(export.rtf)]


def test_demand_counts_a_job_without_input_duration_at_the_mean(tmp_path: Path) -> None:
    rows = [
        # Hour 0: two exports of 30 and 50 media seconds. Hour 1: two whose probe failed.
        attempt(job_type=EXPORT, start_s=60, wall_s=5, input_s=30),
        attempt(job_type=EXPORT, start_s=120, wall_s=5, input_s=50),
        attempt(job_type=EXPORT, start_s=3600 + 60, wall_s=5, input_s=None),
        attempt(job_type=EXPORT, start_s=3600 + 120, wall_s=5, input_s=None),
        attempt(job_type=EXPORT, start_s=2 * 3600 + 60, wall_s=5, input_s=10),  # partial hour
    ]
    write_rows(rows, tmp_path)
    hist = load_demand_history(open_dataset(str(tmp_path)), dt.timedelta(days=14))[EXPORT]
    assert hist.jobs == (2.0, 2.0)
    # The mean of the known inputs (40 s), not 0, for each job of hour 1.
    assert hist.media_seconds == (80.0, 80.0)
    assert hist.media_seconds_per_job == pytest.approx(40.0)
