"""The planner's TUI: opens a dataset off the UI thread, then shows four views by key.

Views on 1-4 (Tab and Shift+Tab go round them): Jobs, Attempt detail, Distributions (also
d), Fleet sizing (also f). Jobs, Distributions and Fleet are Textual modes, each with its
own screen stack; Attempt detail is pushed over Jobs (Enter, or 2 for the row under the
cursor). `?` shows the keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input, Select

from planner.errors import describe
from planner.tui import data
from planner.tui.messages import DatasetOpened, QueryFailed
from planner.tui.screens.jobs import JobsScreen
from planner.tui.screens.start import StartScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    from planner.dataset import CacheMode


# The other views are imported when first opened, not at start: the Fleet view brings the
# sizing core and numpy (about 0.2 s), which the first screen (Jobs) does not need.
def _distributions_screen() -> Screen[None]:
    from planner.tui.screens.distributions import DistributionsScreen

    return DistributionsScreen()


def _sizing_screen() -> Screen[None]:
    from planner.tui.screens.sizing import SizingScreen

    return SizingScreen()


#: Seconds the app waits for a dataset being opened before it draws the start screen instead.
OPEN_WAIT_S = 0.3


class PlannerApp(App[None]):
    """`mjplan tui`: `url` None opens the embedded default data."""

    CSS_PATH = "app.tcss"
    TITLE = "mjplan"
    MODES: ClassVar[dict[str, Any]] = {
        "start": StartScreen,
        "jobs": JobsScreen,
        "distributions": _distributions_screen,
        "sizing": _sizing_screen,
    }
    DEFAULT_MODE = "start"
    BINDINGS: ClassVar[list[BindingType]] = [
        # One footer entry for the four (80 columns hold no more); each screen's title says
        # its number, and the help lists them.
        Binding("1", "view('jobs')", "Views", key_display="1-4"),
        Binding("2", "attempt", "Attempt", show=False),
        Binding("3,d", "view('distributions')", "Distributions", show=False),
        Binding("4,f", "view('sizing')", "Fleet", show=False),
        # Priority, so a screen's own Tab (next widget) does not take it; check_action gives
        # it back to the inputs of the Fleet form, where Tab goes to the next input.
        Binding("tab", "next_view(1)", "Next view", show=False, priority=True),
        Binding("shift+tab", "next_view(-1)", "Previous view", show=False, priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]
    #: The views Tab goes round, in order (the Attempt detail is reached from Jobs).
    VIEW_ORDER: ClassVar[tuple[str, ...]] = ("jobs", "distributions", "sizing")

    def __init__(self, url: str | None = None, output_dir: str | None = None,
                 cache: CacheMode = "off", opening: data.Opening | None = None) -> None:
        # A dataset that opens quickly (a warm cache, the embedded data) is waited for, a
        # moment at most, before anything is drawn: then the app starts on the Jobs view with
        # its first rows, instead of drawing the start screen, switching, and fetching them
        # through a worker (the wait also lets the opening thread have the GIL).
        ready = opening.open_within(OPEN_WAIT_S) if opening is not None else None
        if ready is not None:
            self.DEFAULT_MODE = "jobs"  # type: ignore[misc]  # read by App.__init__
        super().__init__()
        self.url = url
        #: How the dataset is opened: through the local cache ("on"), anew, or without it.
        self.cache_mode: CacheMode = cache
        #: The dataset being opened (and its first page read) since before the app was made,
        #: by `mjplan tui`; None: the app opens it.
        self.opening = opening
        #: The folder `w` (fleet request) and `e` (CSV) offer to write to; None: the user's
        #: documents folder, else the current one.
        self.output_dir = output_dir
        self.dataset: Any = ready
        self.sub_title = data.describe_source(url)

    def on_mount(self) -> None:
        if self.dataset is not None:
            self._say_skipped(self.dataset)
        else:
            self.open_dataset()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dataset")
    def open_dataset(self) -> None:
        try:
            ds = (self.opening.dataset() if self.opening is not None
                  else data.open_dataset(self.url, self.cache_mode))
        except Exception as exc:  # noqa: BLE001 - any failure becomes a message in the app
            self.post_message(QueryFailed("dataset", describe(exc)))
            return
        self.post_message(DatasetOpened(ds, data.describe_source(self.url)))

    @on(DatasetOpened)
    def _dataset_opened(self, message: DatasetOpened) -> None:
        self.dataset = message.dataset
        self.switch_mode("jobs")
        self._say_skipped(message.dataset)

    def _say_skipped(self, dataset: Any) -> None:
        skipped = getattr(dataset, "skipped", [])
        if skipped:
            # The dataset opened without them; say so rather than show fewer rows silently.
            self.notify(f"{len(skipped)} unreadable file(s) skipped, e.g. {skipped[0].path}",
                        title="Dataset", severity="warning", timeout=10)

    @on(QueryFailed)
    def _dataset_failed(self, message: QueryFailed) -> None:
        # Only the dataset's own failure is the app's; the views show theirs in place.
        if message.view == "dataset":
            for screen in self.screen_stack:
                if isinstance(screen, StartScreen):
                    screen.show_error(message.message)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The views need the dataset: their keys are hidden until it is open.
        if action in ("view", "attempt", "next_view") and self.dataset is None:
            return False
        if action == "next_view":
            # Over a question (help, where to write) or in a form, Tab is the widgets'.
            if isinstance(self.screen, ModalScreen):
                return False
            focused = self.focused
            chain = [focused, *focused.ancestors] if focused is not None else []
            return not any(isinstance(w, Input | Select) for w in chain)
        return True

    def action_view(self, mode: str) -> None:
        from planner.tui.screens.attempt import AttemptScreen

        if self.current_mode != mode:
            self.switch_mode(mode)
        elif mode == "jobs":
            # From an attempt back to the list.
            while isinstance(self.screen, AttemptScreen):
                self.pop_screen()

    def action_next_view(self, step: int) -> None:
        order = self.VIEW_ORDER
        current = order.index(self.current_mode) if self.current_mode in order else 0
        self.switch_mode(order[(current + step) % len(order)])

    def action_attempt(self) -> None:
        """The attempt open over Jobs, else the one under the Jobs cursor."""
        if self.current_mode != "jobs":
            self.switch_mode("jobs")
        screen = self.screen
        if isinstance(screen, JobsScreen):
            screen.open_highlighted()

    def action_help(self) -> None:
        from planner.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
