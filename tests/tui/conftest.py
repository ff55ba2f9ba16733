"""Fixtures for the TUI tests: the embedded dataset opened once, and pilot helpers."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

ScreenT = TypeVar("ScreenT", bound=Screen[Any])

#: The dataset the TUI tests drive: the embedded default data.
TEST_DATA_URL: str | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests here with asyncio.run (no async plugin is installed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True


@pytest.fixture(scope="session")
def fixed_data_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small dataset that never changes (for the snapshots): three days of the seeded
    generator of the embedded data, at 0.3 times its arrival rate (863 attempts).

    The embedded data grows as people add measured attempts; snapshots of it would break on
    every such commit. This one changes only when data/generate_synthetic.py does.
    """
    import datetime as dt
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "generate_synthetic.py"
    spec = importlib.util.spec_from_file_location("mj_generate_synthetic", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("fixed-data")
    module.write(module.generate(87, 3, 0.3, dt.date(2026, 11, 23)), out, 87)
    return str(out)


@pytest.fixture(scope="session")
def dataset() -> Iterator[Any]:
    """The same data the app opens, for computing what it should show."""
    from planner.dataset import open_dataset

    ds = open_dataset(TEST_DATA_URL)
    yield ds
    ds.close()


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until `predicate()` holds (workers are threads: poll, do not sleep).
    The timeout only turns a hang into a failure; it is not a speed target."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate.__doc__ or predicate}")
        await pilot.pause(0.02)
    await pilot.pause()


async def open_view(
    pilot: Pilot[Any], key: str, screen_type: type[ScreenT], loaded: str
) -> ScreenT:
    """Press `key` and wait until a `screen_type` screen shows its data (its attribute
    `loaded` is set); that screen."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen_type)
                   and getattr(pilot.app.screen, loaded) is not None)
    screen = pilot.app.screen
    assert isinstance(screen, screen_type)
    return screen
