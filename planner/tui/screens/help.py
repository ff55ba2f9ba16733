"""The help screen: every key of every view."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: (section, [(key, what it does)]); kept beside the bindings it documents.
KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Everywhere", (
        ("j", "Jobs: attempts, newest first"),
        ("d", "Distributions: RTF histograms"),
        ("f", "Fleet sizing"),
        ("?", "this help"),
        ("q", "quit"),
    )),
    ("Jobs", (
        ("enter", "attempt detail"),
        ("t", "next job type filter"),
        ("i", "next instance type filter"),
        ("s", "next status filter"),
        ("r", "next time range (before the newest attempt)"),
        ("R", "type a time range in UTC, either end optional:"),
        ("", "2026-11-01..2026-11-15, ..2026-11-10 12:00"),
        ("o", "next sort: newest, RTF high/low, duration"),
        ("/", "search by job id (enter applies, escape leaves)"),
        ("x", "clear filters and search"),
    )),
    ("Attempt detail", (
        ("m c a", "tabs: metrics, ffmpeg commands, job's attempts"),
        ("enter", "open the highlighted attempt of the same job"),
        ("escape", "back to Jobs"),
    )),
    ("Distributions", (
        ("t / T", "next / previous job type"),
        ("i / I", "next / previous instance type"),
    )),
    ("Fleet sizing", (
        ("tab", "next input; edits apply as you type"),
        ("", "Growth multiplies demand; Pctl sizes for that"),
        ("", "percentile hour of the Window (14d, 36h, 2w)"),
        ("escape", "leave the inputs (back to the table)"),
        ("w", "write the fleet request JSON (says where)"),
    )),
)


def help_text() -> str:
    """The keys as aligned text, one section after another."""
    lines: list[str] = []
    for section, keys in KEYS:
        lines.append(f"[b]{section}[/b]")
        lines.extend(f"  [b $accent]{key:<8}[/] {what}" for key, what in keys)
        lines.append("")
    return "\n".join(lines).rstrip()


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", key_display="esc"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"
