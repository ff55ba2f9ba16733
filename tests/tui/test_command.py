"""`mjplan tui [--data URL]` and bare `mjplan` open the app on the right dataset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from planner import cli
from planner.commands import tui as tui_cmd
from planner.tui.app import PlannerApp


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The dataset URLs the app was started with (the app itself is not run: no terminal)."""
    urls: list[str | None] = []

    def fake_run(self: PlannerApp, *args: object, **kwargs: object) -> None:
        urls.append(self.url)

    monkeypatch.setattr(PlannerApp, "run", fake_run)
    monkeypatch.setattr(tui_cmd, "has_terminal", lambda: True)
    return urls


def test_bare_mjplan_opens_the_tui_on_the_embedded_data(opened: list[str | None]) -> None:
    assert cli.main([]) == 0
    assert opened == [None]


def test_mjplan_tui_data_url(opened: list[str | None]) -> None:
    assert cli.main(["tui", "--data", "s3://bucket/prefix"]) == 0
    assert opened == ["s3://bucket/prefix"]


def test_without_a_terminal_mjplan_says_it_needs_one_and_exits() -> None:
    # As from cron or a pipe: no terminal on stdin or stdout (it used to spin at 100 % CPU).
    mjplan = str(Path(sys.executable).with_name("mjplan"))
    out = subprocess.run([mjplan], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert "needs a terminal" in out.stderr and "mjplan summary" in out.stderr
    assert out.stdout == ""
