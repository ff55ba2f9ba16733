"""`planner.tui_queries`: the two-step page equals `queries.list_attempts`; job id prefixes."""

from __future__ import annotations

from typing import Any

import pytest

from planner import queries
from planner.errors import EmptySelectionError, PlannerError
from planner.tui_queries import attempts_page, resolve_job_id


@pytest.mark.parametrize(
    ("filters", "order_by", "descending", "offset"),
    [
        ({}, "started_at", True, 0),
        ({}, "started_at", True, 5000),
        ({"status": "failed"}, "finished_at", False, 100),
        ({"job_type": "upload_thumb_v1", "status": "succeeded"}, "rtf", True, 0),
        ({"status": "failed"}, "rtf", False, 40),  # one pass (queries.list_attempts)
        ({"instance_type": "c7i.large"}, "duration_ms", True, 200),
        ({"job_type": "nothing_v1"}, "started_at", True, 0),
    ],
)
def test_page_equals_list_attempts(
    dataset: Any, filters: dict[str, Any], order_by: str, descending: bool, offset: int
) -> None:
    cur = dataset.cursor()
    expected = queries.list_attempts(
        cur, **filters, order_by=order_by, descending=descending, limit=200, offset=offset
    ).to_dicts()
    got = attempts_page(
        cur, **filters, order_by=order_by, descending=descending, limit=200, offset=offset
    )
    assert [r["attempt_id"] for r in got] == [r["attempt_id"] for r in expected]
    assert got == expected
    cur.close()


def test_page_refuses_what_list_attempts_refuses(dataset: Any) -> None:
    with pytest.raises(PlannerError, match="cannot order by 'job_id'"):
        attempts_page(dataset, order_by="job_id")
    with pytest.raises(PlannerError, match="must be >= 0"):
        attempts_page(dataset, offset=-1)


def test_resolve_job_id(dataset: Any) -> None:
    ids = [r[0] for r in dataset.connection.execute(
        "SELECT DISTINCT job_id FROM attempts ORDER BY job_id LIMIT 2").fetchall()]
    assert resolve_job_id(dataset, ids[0]) == ids[0]
    assert resolve_job_id(dataset, ids[0][:12]) == ids[0]
    with pytest.raises(EmptySelectionError, match="no job id starts with 'zz'"):
        resolve_job_id(dataset, "zz")
    with pytest.raises(PlannerError, match="several job ids start with"):
        resolve_job_id(dataset, ids[0][:1])
