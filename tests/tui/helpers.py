"""Reading what the TUI shows, as plain text."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import re
from collections.abc import AsyncIterator
from typing import Any

from textual import events
from textual.app import App
from textual.coordinate import Coordinate
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

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


async def type_keys(pilot: Pilot[Any], *keys: str) -> None:
    """`pilot.press(*keys)`, the characters typed into an Input without an idle wait after each.

    press waits for the app to go idle after every key (two 20 ms sleeps at least, about 0.1 s a
    key): a 30-character line took 3-4 s to type. A printable character typed into the Input that
    has focus is handled by that Input alone (inserted, stopped: no binding, no focus or screen
    change), so those keys are posted at once, as the same Key events press makes, in the same
    order, to the same queue. Any other key (backspace, enter: bindings, run when the key has
    bubbled up to the app), any key while no Input has focus, and the last key go through
    press, which waits until every event was handled.
    """
    app = pilot.app
    for key in keys[:-1]:
        if len(key) == 1 and key.isprintable() and isinstance(app.focused, Input):
            name = key if key.isalnum() else _character_to_key(key)
            app.post_message(events.Key(name, key))
        else:
            await pilot.press(key)
    await pilot.press(*keys[-1:])


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
