"""The help screen: every key of every view."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: (section, [(key, what it does)]); kept beside the bindings it documents. Two columns of
#: them fit 80x24; a narrower or shorter screen scrolls (the box takes the keys).
KEYS_LEFT: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Everywhere", (
        ("1 2", "Jobs, Attempt detail"),
        ("3 4", "Distributions, Fleet sizing"),
        ("tab", "next view (shift+tab back)"),
        ("?  q", "this help; quit"),
    )),
    ("Jobs", (
        ("j k ↑ ↓", "move (pgup pgdn: a screen)"),
        ("g G", "first, last row (home end)"),
        ("enter", "attempt detail (also 2)"),
        ("t i s", "next type, instance, status"),
        ("r", "next range before the newest"),
        ("R", "type a range in UTC, e.g."),
        ("", "2026-11-01..2026-11-15"),
        ("o", "next sort (↑↓ in the header)"),
        ("/", "search job id, host, codec,"),
        ("", "error: any piece, any case"),
        ("esc", "clear the search"),
        ("x", "clear filters and search"),
        ("e", "write the list as CSV"),
    )),
)
KEYS_RIGHT: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Attempt detail", (
        ("m c a", "metrics, commands, attempts"),
        ("j k ↑ ↓", "scroll; enter opens attempt"),
        ("y e", "copy command(s), error"),
        ("", "(to the clipboard: OSC 52)"),
        ("esc", "back to Jobs"),
    )),
    ("Distributions", (
        ("t T", "next, previous job type"),
        ("i I", "next, previous instance"),
    )),
    ("Fleet sizing", (
        ("tab", "next input (edits apply)"),
        ("esc", "back to the table"),
        ("j k g G", "move in the table"),
        ("w", "write the fleet request JSON"),
        ("", "Growth multiplies demand;"),
        ("", "Pctl: size for that"),
        ("", "percentile hour of the"),
        ("", "Window (14d, 36h, 2w)"),
        ("", "w and e ask where to write,"),
        ("", "and before replacing a file"),
    )),
)
KEYS = KEYS_LEFT + KEYS_RIGHT


def help_text(sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = KEYS) -> str:
    """The keys as aligned text, one section after another."""
    lines: list[str] = []
    for section, keys in sections:
        lines.append(f"[b]{section}[/b]")
        lines.extend(f"[b $accent]{key:<7}[/] {what}" for key, what in keys)
        lines.append("")
    return "\n".join(lines).rstrip()


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys; any of escape, q or ? closes it, j/k and arrows scroll it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", key_display="esc"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"), Horizontal(id="help-columns"):
            yield Static(help_text(KEYS_LEFT), id="help-text")
            yield Static(help_text(KEYS_RIGHT), id="help-text-right")

    def on_mount(self) -> None:
        box = self.query_one("#help-box")
        box.border_title = "Keys"
        box.border_subtitle = "esc closes · j k ↑ ↓ scroll"
        box.focus()

    def action_scroll(self, step: int) -> None:
        self.query_one("#help-box", VerticalScroll).scroll_relative(y=step, animate=False)
