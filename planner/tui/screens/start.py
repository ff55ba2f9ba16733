"""The first screen: says which dataset is being opened, then why it could not be."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, LoadingIndicator, Static


class StartScreen(Screen[None]):
    """Shown until the dataset is open; shows the error if it cannot be opened."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="start-box"):
            yield Static("Opening the dataset…", id="start-text")
            yield LoadingIndicator(id="start-loading")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        source = getattr(self.app, "sub_title", "")
        self.query_one("#start-text", Static).update(f"Opening {source}…")

    def show_error(self, message: str) -> None:
        """Replace the spinner by the error, for people: one paragraph, no traceback."""
        self.query_one("#start-loading", LoadingIndicator).display = False
        text = self.query_one("#start-text", Static)
        text.add_class("error")
        text.update(f"Cannot open the dataset.\n\n{message}\n\nPress q to quit.")
