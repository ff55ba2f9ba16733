"""The TUI starts light: with a warm cache of a local dataset, the Jobs view (its rows, the count
and the filters' value lists) comes up without importing the analysis stack the other views use
(pandas, polars, pyarrow, numpy, plotly, scipy) nor their screens. Those load when a view that
needs them is opened. Checked in fresh interpreters: this test process has imported them all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What the first screen must not load (each costs 0.1 to 0.4 s to import).
HEAVY = ("pandas", "polars", "pyarrow", "numpy", "plotly", "scipy",
         "planner.sizing", "planner.tui.screens.sizing", "planner.tui.screens.distributions",
         "planner.tui.screens.attempt")

#: Runs the app headless until the Jobs view shows rows, the count and the filter values,
#: then prints what it loaded; then opens the Fleet view and prints again.
SCRIPT = """
import asyncio, json, sys
from planner.tui.app import PlannerApp
from planner.tui.screens.jobs import JobsScreen

HEAVY = {heavy!r}

async def until(pilot, ready):
    for _ in range(3000):
        if ready():
            return
        await pilot.pause(0.01)
    raise TimeoutError("the jobs view did not load")

async def main():
    app = PlannerApp(url={url!r}, cache="on")
    async with app.run_test(size=(120, 40)) as pilot:
        def jobs():
            return app.screen if isinstance(app.screen, JobsScreen) else None
        await until(pilot, lambda: jobs() is not None and jobs().loaded > 0
                    and jobs().total is not None and len(jobs().job_types) > 1)
        screen = jobs()
        first = dict(rows=screen.loaded, total=screen.total, cache=str(app.dataset.cache),
                     heavy=sorted(m for m in HEAVY if m in sys.modules))
        await pilot.press("f")
        await until(pilot, lambda: type(app.screen).__name__ == "SizingScreen")
        print(json.dumps(dict(first=first, after_fleet=sorted(
            m for m in HEAVY if m in sys.modules))))

asyncio.run(main())
"""


def _python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_jobs_view_starts_without_the_analysis_stack(fixed_data_url: str) -> None:
    # The cache is built first (that reads the files with pyarrow); the TUI then finds it warm.
    # MJPLAN_CACHE_DIR (tests/conftest.py) reaches both interpreters.
    _python(f"from planner.dataset import open_dataset; "
            f"open_dataset({fixed_data_url!r}, cache='on')")
    report = json.loads(_python(SCRIPT.format(url=fixed_data_url, heavy=HEAVY)).splitlines()[-1])
    first = report["first"]
    assert first["cache"] != "None", "the app did not open the dataset through the cache"
    assert first["rows"] > 0 and first["total"] >= first["rows"]
    assert first["heavy"] == []
    # Opening the Fleet view then loads its part of the stack, as it must.
    assert {"numpy", "planner.sizing", "planner.tui.screens.sizing"} <= set(
        report["after_fleet"])
