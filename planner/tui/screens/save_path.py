"""Asks where to write a file (the fleet request, a CSV of the jobs), and before overwriting.

The path is shown, editable, before anything is written: by default in the user's documents
folder when there is one, else the current folder. An existing file is overwritten only after
a second enter on the same path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from planner.tui.formatting import escape_markup


def documents_folder() -> Path | None:
    """The user's documents folder (`XDG_DOCUMENTS_DIR`, else ~/Documents) if it exists."""
    for candidate in (os.environ.get("XDG_DOCUMENTS_DIR"), "~/Documents"):
        if candidate:
            folder = Path(candidate).expanduser()
            if folder.is_dir():
                return folder
    return None


def default_save_path(name: str, folder: str | None = None) -> str:
    """Where `name` is offered to be written: in `folder` when given, else the documents
    folder, else the current one; absolute, so the user sees where it goes."""
    base = Path(folder).expanduser() if folder else documents_folder() or Path.cwd()
    return str((base / name).resolve())


def check_save_path(text: str) -> tuple[str, str]:
    """(absolute path, "") when `text` can be written to, else ("", why not) in one line."""
    if not text.strip():
        return "", "type a file name"
    path = Path(text.strip()).expanduser().resolve()
    if path.is_dir():
        return "", f"{path} is a folder: add a file name"
    if not path.parent.is_dir():
        return "", f"no folder {path.parent}"
    return str(path), ""


class SavePathScreen(ModalScreen[str | None]):
    """Dismissed with the path to write, or None (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, prompt: str, default: str) -> None:
        super().__init__()
        self.prompt = prompt
        self.default = default
        #: The existing file the user was warned about: enter again on it overwrites.
        self.confirming: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static(escape_markup(self.prompt), id="save-prompt")
            yield Input(self.default, id="save-path")
            yield Static("enter writes · escape cancels", id="save-note")

    def on_mount(self) -> None:
        self.query_one("#save-box").border_title = "Write to"
        box = self.query_one("#save-path", Input)
        box.cursor_position = len(box.value)
        box.focus()

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        path, problem = check_save_path(event.value)
        note = self.query_one("#save-note", Static)
        if problem:
            note.update(f"[b red]{escape_markup(problem)}[/]")
            return
        if Path(path).exists() and self.confirming != path:
            self.confirming = path
            note.update(f"[b $warning]{escape_markup(path)} exists.[/] Enter again to "
                        "overwrite it, or change the name.")
            return
        self.dismiss(path)

    @on(Input.Changed, "#save-path")
    def _changed(self, event: Input.Changed) -> None:
        if self.confirming is not None:
            self.confirming = None
            self.query_one("#save-note", Static).update("enter writes · escape cancels")

    def action_cancel(self) -> None:
        self.dismiss(None)
