"""Distributions: RTF histogram per job type x instance type (placeholder until stats lands)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class DistributionsScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Distributions")
        yield Footer()
