"""The density panel of the Distributions view: the text (pure) and what the view shows, against
`planner.density` on the same data."""

from __future__ import annotations

from typing import Any

from planner import formats
from planner.density import density_curve
from planner.prices import load_prices
from planner.tui.app import PlannerApp
from planner.tui.distribution_texts import density_text
from planner.tui.screens.distributions import DistributionsScreen
from planner.tui.screens.jobs import JobsScreen
from tests.tui.conftest import TEST_DATA_URL, open_view, wait_for
from tests.tui.helpers import static_text

EXPORT = "create_video_export_v1"


def _row(running: int, rtf: float, best: bool = False, bounded: bool = False,
         job_type: str = EXPORT, instance_type: str = "c7i.large") -> dict[str, Any]:
    jobs = job_type == "upload_thumb_v1"
    return {"instance_type": instance_type, "job_type": job_type, "running": running,
            "rtf": rtf, "service_s": 60 / rtf, "throughput": running * (3600 * rtf / 60 if jobs
                                                                        else rtf),
            "throughput_unit": "jobs" if jobs else "media_seconds", "slowdown": 2.0 / rtf,
            "best": best, "bounded": bounded}


def test_density_text_lines() -> None:
    curve = [_row(1, 2.0), _row(2, 1.5, bounded=True), _row(3, 1.2, best=True),
             _row(1, 3.0, best=True, bounded=True, instance_type="m6i.large")]
    text = density_text(curve, EXPORT, "c7i.large").splitlines()
    assert text[1:3] == ["Density (at once)", " n   RTF  med/s slow"]
    assert text[3:6] == [" 1  2.00    2.0 1.00", " 2  1.50    3.0 1.33✓", " 3  1.20    3.6 1.67★"]
    assert all(len(line) <= 25 for line in text)  # the panel is 27 cells with its padding
    assert density_text(curve, EXPORT, None).splitlines()[1:] == [
        "Density within bound", "  c7i.large      x2", "  m6i.large      x1"]
    assert density_text(curve, "upload_thumb_v1", "c7i.large") == ""  # no levels: no panel
    thumbs = density_text([_row(1, 60.0, True, True, job_type="upload_thumb_v1")],
                          "upload_thumb_v1", "c7i.large").splitlines()
    assert thumbs[2] == " n s/job  job/h slow" and thumbs[3] == " 1  1.00   3600 0.03★✓"


async def test_the_view_shows_the_density_of_the_selected_instance_type(dataset: Any) -> None:
    curve = density_curve(dataset, load_prices()).to_dicts()
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen)
                       and app.screen.loaded > 0)
        screen = await open_view(pilot, "d", DistributionsScreen, "data")
        figures = static_text(screen.query_one("#dist-stats"))
        bounded = [r for r in curve if r["job_type"] == EXPORT and r["bounded"]]
        assert bounded and all(f"x{r['running']}" in figures for r in bounded)
        await pilot.press("i")
        inst = screen.instance_type
        figures = static_text(screen.query_one("#dist-stats"))
        rows = [r for r in curve if (r["job_type"], r["instance_type"]) == (EXPORT, inst)]
        assert rows and "Density (at once)" in figures
        for r in rows:
            assert f"{r['running']:>2} {formats.number(r['rtf'], 2):>5} " in figures
