"""SVG snapshots of each view at 80x24, on a small fixed dataset (`fixed_data_url`).

One per view and one of the no-data message; filters, search and help are asserted by the
pilot tests (test_jobs.py), which cost less than a screenshot each.

Regenerate after an intended change of the look:
    .venv/bin/pytest tests/tui/test_snapshots.py --snapshot-update
and look at the SVGs in tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from planner.tui.app import PlannerApp
from planner.tui.screens.attempt import AttemptScreen
from planner.tui.screens.distributions import DistributionsScreen
from planner.tui.screens.jobs import JobsScreen
from planner.tui.screens.sizing import SizingScreen
from tests.tui.conftest import open_view, wait_for
from tests.tui.helpers import static_text


def _app(url: str) -> PlannerApp:
    app = PlannerApp(url)
    app.sub_title = "fixed test data"  # not the temporary folder's name, which varies
    return app


async def _jobs(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen)
                   and app.screen.total is not None and not app.screen.fetching)


def test_jobs_view(snap_compare: Any, fixed_data_url: str) -> None:
    assert snap_compare(_app(fixed_data_url), run_before=_jobs)


def _view(
    key: str, screen_type: type[Screen[Any]], loaded: str, *then: str
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """From the jobs view, `key` opens a view; once its data is in, `then` keys are pressed."""
    async def run_before(pilot: Pilot[Any]) -> None:
        await _jobs(pilot)
        await open_view(pilot, key, screen_type, loaded)
        await pilot.press(*then)

    return run_before


def test_attempt_detail(snap_compare: Any, fixed_data_url: str) -> None:
    run_before = _view("enter", AttemptScreen, "row")
    assert snap_compare(_app(fixed_data_url), run_before=run_before)


def test_distributions(snap_compare: Any, fixed_data_url: str) -> None:
    run_before = _view("d", DistributionsScreen, "data", "i")
    assert snap_compare(_app(fixed_data_url), run_before=run_before)


def test_fleet_sizing(snap_compare: Any, fixed_data_url: str) -> None:
    run_before = _view("f", SizingScreen, "answer")
    assert snap_compare(_app(fixed_data_url), run_before=run_before)


def test_no_data_message(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative folder name, so the message (which names it) is the same on every machine.
    monkeypatch.chdir(tmp_path)
    Path("empty-dataset").mkdir()

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: "Cannot open" in static_text(
            pilot.app.screen.query_one("#start-text")))

    app = PlannerApp("empty-dataset")
    assert snap_compare(app, run_before=run_before)
