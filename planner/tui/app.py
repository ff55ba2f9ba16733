"""The planner's TUI: opens a dataset off the UI thread, then shows four views by key.

Views (Textual modes, each with its own screen stack): Jobs (j), Distributions (d), Fleet
sizing (f); Attempt detail is pushed over Jobs with Enter. `?` shows the keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType

from planner.errors import describe
from planner.tui import data
from planner.tui.messages import DatasetOpened, QueryFailed
from planner.tui.screens.distributions import DistributionsScreen
from planner.tui.screens.help import HelpScreen
from planner.tui.screens.jobs import JobsScreen
from planner.tui.screens.sizing import SizingScreen
from planner.tui.screens.start import StartScreen

if TYPE_CHECKING:
    from planner.dataset import CacheMode


class PlannerApp(App[None]):
    """`mjplan tui`: `url` None opens the embedded default data."""

    CSS_PATH = "app.tcss"
    TITLE = "mjplan"
    MODES: ClassVar[dict[str, Any]] = {
        "start": StartScreen,
        "jobs": JobsScreen,
        "distributions": DistributionsScreen,
        "sizing": SizingScreen,
    }
    DEFAULT_MODE = "start"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "view('jobs')", "Jobs"),
        Binding("d", "view('distributions')", "Distributions"),
        Binding("f", "view('sizing')", "Fleet"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, url: str | None = None, output_dir: str = ".",
                 cache: CacheMode = "off") -> None:
        super().__init__()
        self.url = url
        #: How the dataset is opened: through the local cache ("on"), anew, or without it.
        self.cache_mode: CacheMode = cache
        #: Where `w` in Fleet sizing writes the fleet request JSON.
        self.output_dir = output_dir
        self.dataset: Any = None
        self.sub_title = data.describe_source(url)

    def on_mount(self) -> None:
        self.open_dataset()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dataset")
    def open_dataset(self) -> None:
        try:
            ds = data.open_dataset(self.url, self.cache_mode)
        except Exception as exc:  # noqa: BLE001 - any failure becomes a message in the app
            self.post_message(QueryFailed("dataset", describe(exc)))
            return
        self.post_message(DatasetOpened(ds, data.describe_source(self.url)))

    @on(DatasetOpened)
    def _dataset_opened(self, message: DatasetOpened) -> None:
        self.dataset = message.dataset
        self.switch_mode("jobs")
        skipped = getattr(message.dataset, "skipped", [])
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
        if action == "view":
            return self.dataset is not None
        return True

    def action_view(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
