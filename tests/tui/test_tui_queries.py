"""`planner.tui_queries`: the two-step page equals `queries.list_attempts`; the jobs view's
search and CSV export (`queries`)."""

from __future__ import annotations

from typing import Any

import pytest

from planner import queries
from planner.errors import PlannerError
from planner.tui_queries import attempts_page


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


def test_search_finds_a_piece_of_job_id_host_codec_or_error_in_any_case(dataset: Any) -> None:
    # Checked against Python's own substring test over every row.
    rows = dataset.connection.execute(
        f"SELECT attempt_id, {', '.join(queries.SEARCH_COLUMNS)} FROM attempts").fetchall()
    job_id = next(r[1] for r in rows if r[1])
    error = next(r[6] for r in rows if r[6])
    for text in (job_id[3:9].upper(), "H264", "vm", error[2:12]):
        expected = sorted(r[0] for r in rows if any(
            v is not None and text.lower() in str(v).lower() for v in r[1:]))
        assert expected, text
        got = queries.list_attempts(dataset, search=text, limit=len(rows), with_badges=False)
        assert sorted(got["attempt_id"].to_list()) == expected, text
        assert queries.count_attempts(dataset, search=text) == len(expected)
    assert queries.count_attempts(dataset, search="no such text anywhere") == 0


def test_csv_export_holds_the_whole_selection_in_order(dataset: Any, tmp_path: Any) -> None:
    import csv

    path = tmp_path / "jobs.csv"
    n = queries.export_attempts_csv(dataset, str(path), order_by="started_at", descending=False,
                            status="failed")
    with path.open(newline="") as f:
        written = list(csv.DictReader(f))
    expected = queries.list_attempts(dataset, status="failed", order_by="started_at",
                                     descending=False, limit=10**9, with_badges=False)
    assert n == len(written) == expected.height > 0
    assert [r["attempt_id"] for r in written] == expected["attempt_id"].to_list()
    commands = expected["ffmpeg_commands"].to_list()
    assert [r["ffmpeg_commands"] for r in written] == ["\n".join(c or []) for c in commands]


def test_pages_by_time_are_list_attempts_pages_when_starts_are_missing(tmp_path: Any) -> None:
    # attempts_page narrows a page by time from the n-th start (tui_queries._narrowed); rows
    # without a start are ordered by their finish and must stay in.
    import datetime as dt

    from planner.dataset import open_dataset
    from tests.rows import T0, row, write

    rows = []
    for i in range(60):
        r = row(start_s=60.0 * i, job_type=("upload_thumb_v1", "upload_edit_proxy_v1")[i % 2])
        if i % 7 == 3:  # no start: ordered by its finish, among the newest
            r["started_at"] = None
            r["finished_at"] = T0 + dt.timedelta(seconds=60.0 * 60 + i)
        rows.append(r)
    ds = open_dataset(str(write(tmp_path / "d", rows)[0].parents[2]))
    since, until = T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=50)
    for descending in (True, False):
        for limit, offset in ((5, 0), (10, 5), (20, 40), (200, 0), (0, 0)):
            for filters in ({}, {"since": since}, {"until": until}, {"status": "succeeded"},
                            {"since": since, "until": until, "job_type": "upload_thumb_v1"}):
                got = attempts_page(ds, **filters, order_by="started_at", descending=descending,
                                    limit=limit, offset=offset)
                expected = queries.list_attempts(
                    ds, **filters, order_by="started_at", descending=descending, limit=limit,
                    offset=offset).to_dicts()
                assert got == expected, (descending, limit, offset, filters)
    ds.close()
