"""`mjplan tui [--data URL]` and bare `mjplan` open the app on the right dataset."""

from __future__ import annotations

import pytest

from planner import cli
from planner.tui.app import PlannerApp


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The dataset URLs the app was started with (the app itself is not run: no terminal)."""
    urls: list[str | None] = []

    def fake_run(self: PlannerApp, *args: object, **kwargs: object) -> None:
        urls.append(self.url)

    monkeypatch.setattr(PlannerApp, "run", fake_run)
    return urls


def test_bare_mjplan_opens_the_tui_on_the_embedded_data(opened: list[str | None]) -> None:
    assert cli.main([]) == 0
    assert opened == [None]


def test_mjplan_tui_data_url(opened: list[str | None]) -> None:
    assert cli.main(["tui", "--data", "s3://bucket/prefix"]) == 0
    assert opened == ["s3://bucket/prefix"]
