"""Job slots: the workers' worker_slots where recorded, else a robust inference (not the mean;
overlaps under a second ignored); where the number came from is said."""

from __future__ import annotations

import duckdb
import pytest

from planner.slots import choose_slots, infer_slots
from planner.throughput import host_concurrency, measure_worker_slots

S = 1_000_000  # microseconds


def choose(rule: str | int = "auto", worker_slots: int | None = None,
           levels: tuple[float, ...] = (0, 900, 90, 10), measured: bool = True) -> tuple[int, str]:
    got = choose_slots(rule, worker_slots=worker_slots, level_seconds=levels,  # type: ignore[arg-type]
                       mean_concurrency=1.1, max_concurrency=5, measured=measured)
    return got.slots, got.source


def test_rules_and_where_the_number_comes_from() -> None:
    assert choose(4) == (4, "--slots")
    assert choose("mean") == (1, "mean measured concurrency")
    assert choose("max") == (5, "most seen at once on a host")
    assert choose(worker_slots=2) == (2, "worker_slots (configured)")
    # A host busy at 1.1 on average, at 3 for 1 % of its busy time: 3 slots, not the mean's 1.
    assert choose() == (3, "inferred (p99.95 of concurrency)")
    assert choose(measured=False) == (1, "assumed 1 (no host names)")


def test_inference_is_a_high_percentile_of_busy_time() -> None:
    assert infer_slots([0, 100.0]) == 1
    assert infer_slots([5000, 60.0, 40.0]) == 2  # index 0 (idle) does not count
    assert infer_slots([0, 99_990.0, 10.0]) == 1  # 0.01 % of the time at 2: noise
    assert infer_slots([0, 99_900.0, 100.0]) == 2  # 0.1 %: the limit was reached
    assert infer_slots([0.0, 0.0]) is None


def test_overlaps_under_a_second_are_ignored() -> None:
    # One job ending as the next starts, 0.4 s of overlap (a worker's bookkeeping): 1 slot.
    *_, levels = host_concurrency([0, 9_600_000, 19_200_000], [10 * S, 19_800_000, 30 * S])
    assert infer_slots(levels) == 1
    assert host_concurrency([0, 9_600_000], [10 * S, 20 * S])[2] == 2  # the plain max says 2
    # Two jobs together for 5 s: a real second slot.
    *_, levels = host_concurrency([0, 5 * S], [10 * S, 20 * S])
    assert levels[2] == pytest.approx(5.0)
    assert infer_slots(levels) == 2


def test_worker_slots_column_read_only_where_present() -> None:
    con = duckdb.connect()
    con.execute("CREATE VIEW attempts AS SELECT * FROM (VALUES "
                "('c7g.large', 2, TIMESTAMP '2026-11-01'), "
                "('c7g.large', 2, TIMESTAMP '2026-11-02'), "
                "('c7g.large', 3, TIMESTAMP '2026-11-03'), ('c7i.large', NULL, TIMESTAMP "
                "'2026-11-03')) t(instance_type, worker_slots, started_at)")
    assert measure_worker_slots(con) == {"c7g.large": 2}  # the most common value
    old = duckdb.connect()
    old.execute("CREATE VIEW attempts AS SELECT 'c5.large' AS instance_type, "
                "TIMESTAMP '2026-11-01' AS started_at")
    assert measure_worker_slots(old) == {}  # a version-1 dataset: no column, no error
