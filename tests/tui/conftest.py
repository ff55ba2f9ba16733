"""Fixtures for the TUI tests: the embedded dataset opened once, and pilot helpers."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

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
def dataset() -> Iterator[Any]:
    """The same data the app opens, for computing what it should show."""
    from planner.dataset import open_dataset

    ds = open_dataset(TEST_DATA_URL)
    yield ds
    ds.close()


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until `predicate()` holds (workers are threads: poll, do not sleep)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate.__doc__ or predicate}")
        await pilot.pause(0.02)
    await pilot.pause()
