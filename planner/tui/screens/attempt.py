"""Attempt detail: the badges, a failed attempt's error (wrapped, whole), where its time went
and what it read and wrote (when it named phases or counted io: planner.io_hints), the
manifest's `metrics` as JSON, the ffmpeg commands, and the other attempts of the same job
(enter opens one). `y` copies the commands and `e` the error to the clipboard (OSC 52: the
terminal's clipboard, also over ssh)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from planner.tui import data, formatting
from planner.tui.messages import AttemptLoaded, QueryFailed, post_result
from planner.tui.widgets.attempts_table import AttemptsTable


class AttemptScreen(Screen[None]):
    """One attempt, pushed over the Jobs view; escape goes back."""

    TITLE = "mjplan · 2 Attempt"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        # The tab labels underline these letters; the footer keeps room for the view keys.
        Binding("m", "tab('tab-metrics')", "Metrics", show=False),
        Binding("c", "tab('tab-commands')", "Commands", show=False),
        Binding("a", "tab('tab-siblings')", "Job's attempts", show=False),
        Binding("y", "copy('commands')", "Copy cmd"),
        Binding("e", "copy('error')", "Copy error"),
        # The metrics and commands panes scroll with these too (the arrows already do).
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
    ]

    def __init__(self, attempt_id: str) -> None:
        super().__init__()
        self.attempt_id = attempt_id
        self.row: dict[str, Any] | None = None
        #: The metrics JSON as shown (plain text), for people who copy it and for tests.
        self.metrics_json = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Attempt {formatting.escape_markup(self.attempt_id)}", id="attempt-title")
        yield Static("", id="attempt-badges")
        yield Static("", id="attempt-error")
        yield Static("", id="attempt-io")
        with TabbedContent(id="attempt-tabs"):
            with TabPane("[u]M[/]etrics", id="tab-metrics"), VerticalScroll(id="metrics-scroll"):
                yield Static("", id="metrics-json")
            with TabPane("ffmpeg [u]c[/]ommands", id="tab-commands"), VerticalScroll(
                    id="commands-scroll"):
                yield Static("", id="commands")
            with TabPane("Job's [u]a[/]ttempts", id="tab-siblings"):
                yield AttemptsTable(id="siblings")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#attempt-tabs").loading = True
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="attempt")
    def load(self) -> None:
        ds = self.app.dataset  # type: ignore[attr-defined]
        post_result(self, "attempt",
                    lambda: AttemptLoaded(*data.attempt_with_siblings(ds, self.attempt_id)))

    @on(AttemptLoaded)
    def _loaded(self, message: AttemptLoaded) -> None:
        row = self.row = message.row
        self.query_one("#attempt-tabs").loading = False
        self.query_one("#attempt-title", Static).update(formatting.attempt_title(row))
        self.query_one("#attempt-badges", Static).update(formatting.badge_line(data.badges(row)))
        error = self.query_one("#attempt-error", Static)
        error.update(Text(f"Error: {row['error']}") if row.get("error") else "")
        error.display = bool(row.get("error"))
        io_text = data.attempt_io_text(row)
        io = self.query_one("#attempt-io", Static)
        io.update(Text(io_text))
        io.display = bool(io_text)
        metrics_json = formatting.pretty_json(data.metrics_of_row(row))
        # Wrapped: a long error or command line is read whole, not cut at the edge.
        self.query_one("#metrics-json", Static).update(
            Syntax(metrics_json, "json", theme="ansi_dark", background_color="default",
                   word_wrap=True)
        )
        self.metrics_json = metrics_json
        self.query_one("#commands", Static).update(
            Text(formatting.commands_text(row.get("ffmpeg_commands")))
        )
        table = self.query_one("#siblings", AttemptsTable)
        table.append(message.siblings)
        if self.attempt_id in table.rows:
            table.move_cursor(row=table.get_row_index(self.attempt_id))
        self.refresh_bindings()  # the copy keys show once there is something to copy
        self._focus_pane()

    #: The widget of each tab that takes the keys: arrows and page keys scroll it at once.
    _PANE_FOCUS: ClassVar[dict[str, str]] = {
        "tab-metrics": "#metrics-scroll", "tab-commands": "#commands-scroll",
        "tab-siblings": "#siblings",
    }

    @on(TabbedContent.TabActivated)
    def _focus_pane(self) -> None:
        tabs = self.query_one("#attempt-tabs", TabbedContent)
        target = self._PANE_FOCUS.get(tabs.active)
        if target is not None and not tabs.loading:
            self.query_one(target).focus()

    @on(QueryFailed)
    def _failed(self, message: QueryFailed) -> None:
        if message.view != "attempt":
            return
        message.stop()
        self.query_one("#attempt-tabs").loading = False
        self.query_one("#attempt-badges", Static).update(
            f"[b red]Error:[/] {formatting.escape_markup(message.message)}"
        )

    @on(DataTable.RowSelected, "#siblings")
    def _open_sibling(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is not None and key != self.attempt_id:
            self.app.switch_screen(AttemptScreen(str(key)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy":
            row = self.row or {}
            field = "ffmpeg_commands" if parameters == ("commands",) else "error"
            return bool(row.get(field))
        return True

    def action_copy(self, what: str) -> None:
        """Put the attempt's ffmpeg commands (one a line) or its error on the clipboard."""
        row = self.row or {}
        if what == "commands":
            text = "\n".join(row.get("ffmpeg_commands") or [])
        else:
            text = str(row.get("error") or "")
        if not text:
            return
        self.app.copy_to_clipboard(text)
        lines = text.count("\n") + 1
        self.notify(f"Copied the {'error' if what == 'error' else 'ffmpeg command'}"
                    f"{'s' if what != 'error' and lines > 1 else ''} "
                    f"({len(text):,} characters) to the clipboard", title="Copied")

    def action_scroll(self, step: int) -> None:
        focused = self.focused
        if isinstance(focused, VerticalScroll):
            focused.scroll_relative(y=step, animate=False)

    def action_tab(self, tab: str) -> None:
        self.query_one("#attempt-tabs", TabbedContent).active = tab

    def action_back(self) -> None:
        self.dismiss()
