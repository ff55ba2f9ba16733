"""Reading what the TUI shows, as plain text."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import re
from collections.abc import AsyncIterator
from typing import Any

from textual.app import App
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Static

from planner.tui.app import PlannerApp
from planner.tui.screens.jobs import JobsScreen
from planner.tui.screens.sizing import SizingScreen
from tests.tui.conftest import TEST_DATA_URL, open_view, wait_for


def static_text(widget: Widget) -> str:
    """The text a Static shows (markup rendered, styles dropped).

    Takes any Widget (what `query_one(selector)` returns) and checks it is a Static.
    """
    assert isinstance(widget, Static), f"{widget!r} is not a Static"
    visual = widget.visual
    plain = getattr(visual, "plain", None)
    return str(plain if plain is not None else visual)


def jobs_screen(app: PlannerApp) -> JobsScreen:
    """The app's current screen, which must be the jobs view."""
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


def table_rows(table: DataTable[Any]) -> list[list[str]]:
    """Every row of a DataTable as plain strings (the jobs table's padding stripped)."""
    return [[str(c).strip() for c in table.get_row_at(i)] for i in range(table.row_count)]


def table_keys(table: DataTable[Any]) -> list[str]:
    """Row keys in display order."""
    return [str(table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value)
            for i in range(table.row_count)]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A UTC datetime."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[^)]*?-line-(\d+)\)">(.*?)</text>'
)


def screen_lines(app: App[Any]) -> list[str]:
    """What the terminal shows, one string per line, from the app's SVG screenshot (each cell
    is 12.2 px wide there); lines without text are left out."""
    lines: dict[int, list[tuple[float, str]]] = {}
    for m in _SVG_TEXT.finditer(app.export_screenshot()):
        lines.setdefault(int(m[2]), []).append((float(m[1]), html.unescape(m[3])))
    shown = []
    for _, parts in sorted(lines.items()):
        line = ""
        for x, text in sorted(parts):
            line = line.ljust(round(x / 12.2)) + text
        shown.append(line.replace("\xa0", " "))
    return shown


def jobs_shown(app: PlannerApp) -> bool:
    """The jobs view is up, with rows."""
    return isinstance(app.screen, JobsScreen) and app.screen.loaded > 0


@contextlib.asynccontextmanager
async def sizing_view(
    output_dir: str = ".",
) -> AsyncIterator[tuple[Pilot[Any], SizingScreen, DataTable[Any]]]:
    """The app at 80x24 with the fleet sizing view open on its first result; its table."""
    app = PlannerApp(TEST_DATA_URL, output_dir=output_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: jobs_shown(app))
        screen = await open_view(pilot, "f", SizingScreen, "answer")
        yield pilot, screen, screen.query_one("#sizing-table", DataTable)
