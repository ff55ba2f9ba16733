"""Fleet sizing: the inputs in a form, the ranked instance types, the recommended fleet.

The queries behind the sizing (`load_sizing_inputs`) run in a worker, once per window; every
change of an input re-runs `size_fleet` (pure arithmetic, milliseconds) in a worker and
redraws. `w` asks where to write the recommended fleet as an EC2 Fleet request JSON (and
before overwriting a file), then writes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Select, Static
from textual.worker import get_current_worker

from planner.answer import answer_of
from planner.errors import PlannerError
from planner.tui import data, formatting
from planner.tui.messages import FleetRequestWritten, QueryFailed, SizingComputed, post_result
from planner.tui.query_state import SizingForm
from planner.tui.screens.save_path import SavePathScreen, default_save_path
from planner.tui.widgets.sizing_table import SizingTable

#: The form's fields, each edited in the input `in-FIELD`.
_FORM_FIELDS = frozenset(f.name for f in fields(SizingForm))


class SizingScreen(Screen[None]):
    """Edit the inputs in place; the table follows."""

    TITLE = "mjplan · 4 Fleet sizing"

    BINDINGS: ClassVar[list[BindingType]] = [
        # Tab switches views from the table (PlannerApp); `e` goes into the form, where Tab
        # goes from input to input.
        Binding("e", "edit", "Edit inputs"),
        Binding("w", "write", "Write fleet JSON"),
        # Shown while an input has focus: the footer then hides the letter keys (they type).
        # From the capacity Select too, but unshown (the footer has no room beside them).
        Binding("escape", "focus_table(True)", "Back to the table"),
        Binding("escape", "focus_table(False)", "Table", show=False),
    ]
    AUTO_FOCUS = "#sizing-table"

    def __init__(self) -> None:
        super().__init__()
        self.form = SizingForm()
        #: The inputs of the last result shown.
        self.inputs: Any = None
        #: The queries' results per window (a new window runs them again; they take a while).
        self.inputs_by_window: dict[dt.timedelta, Any] = {}
        self.result: Any = None
        self.generation = 0
        self.computed_generation = 0
        #: The generation whose inputs the worker refused, and why (`w` says so).
        self.failed: tuple[int, str] | None = None
        self.written: str | None = None

    @property
    def answer(self) -> Any:
        """The result of the current form once final (replayed), else None."""
        final = self.computed_generation == self.generation
        return self.result if final else None

    def _field(self, label: str, field: str, tooltip: str, placeholder: str = "",
               *, first: bool = False) -> ComposeResult:
        """A labelled input of the form's `field` (id `in-FIELD`, read back by `_input_changed`);
        `first` of its row: the label in the row's label column, else as long as its word."""
        yield Label(label, classes="form-label" if first else "form-label-inline")
        yield Input(getattr(self.form, field), placeholder=placeholder, id=f"in-{field}",
                    compact=True, tooltip=tooltip)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="form-row"):
            yield from self._field(
                "Demand", "demand",
                "Empty: the percentile hour of the data's window. Or a forecast per job type: "
                "media hours per day (40h/d) or jobs per hour (900/h)",
                "from data, or forecasts: type=40h/d type=900/h", first=True)
            yield from self._field("Growth", "growth",
                                   "Multiplies the demand (from data or forecast), e.g. 1.2")
        with Horizontal(classes="form-row"):
            yield from self._field(
                "Wait", "wait",
                "Queue-wait target pNN=DURATION (p95=60s); +service to bound wait plus "
                "service; empty or none for no wait target", "none", first=True)
            yield from self._field("Util", "utilisation",
                                   "Target busy share of the job slots, 0 < U <= 1")
            yield Label("Buy", classes="form-label-inline")
            yield Select([("spot", "spot"), ("on-demand", "on-demand")], value=self.form.capacity,
                         allow_blank=False, id="in-capacity", compact=True)
        with Horizontal(classes="form-row"):
            yield from self._field("Prices", "prices", "A price table CSV",
                                   "data/prices.csv (default)", first=True)
            yield from self._field("Pctl", "percentile",
                                   "Size for this percentile hour of the window, 0 < P <= 100 "
                                   "(also the peak factor of a daily forecast)")
            yield from self._field("Window", "window",
                                   "How far back from the last attempt to read: 14d, 36h, 2w")
        yield Static("", id="sizing-status")
        yield SizingTable(id="sizing-table")
        yield Static("", id="sizing-fleet")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(SizingTable).loading = True
        self._status("Measuring throughput and demand…")
        self.recompute()

    # Workers --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="sizing")
    def compute(self, generation: int, form: SizingForm) -> None:
        got: dict[str, Any] = {}

        def query() -> SizingComputed:
            window = data.sizing_window(form)  # a bad window is told before any query
            options = data.sizing_options(form)  # so is any other bad value
            inputs = self.inputs_by_window.get(window)
            if inputs is None:
                # Kept even if this form cannot be sized, so the next edit skips the queries.
                inputs = data.load_sizing_inputs(self.app.dataset, window)  # type: ignore[attr-defined]
                self.inputs_by_window[window] = inputs
            # The analytic answer first (milliseconds), the replay's after it (below).
            inputs, result = data.size(inputs, data.analytic(options), form.prices)
            self.inputs_by_window[window] = inputs  # with the form's price table
            got.update(inputs=inputs, options=options)
            final = not (options.replay and options.wait is not None)
            return SizingComputed(generation, inputs, result, final=final)

        # The view names the form's generation: a slow query (another window) that fails after
        # a newer form was sized must not put its error over that result.
        if not post_result(self, f"sizing#{generation}", query):
            return
        if not got["options"].replay or got["options"].wait is None:
            return
        if get_current_worker().is_cancelled:
            return  # a newer form is being sized
        post_result(self, f"sizing#{generation}", lambda: SizingComputed(
            generation, got["inputs"], data.size(got["inputs"], got["options"], form.prices)[1]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sizing-write")
    def write(self, result: Any, path: str) -> None:
        post_result(self, "sizing",
                    lambda: FleetRequestWritten(data.write_fleet_request(result, path)))

    # Rendering ------------------------------------------------------------------------------

    def recompute(self) -> None:
        self.generation += 1
        try:
            window = data.sizing_window(self.form)
        except PlannerError:
            window = None  # the worker says what is wrong
        if window is not None and window not in self.inputs_by_window and self.result is not None:
            self._status(f"Measuring throughput and demand over {self.form.window.strip()}…")
        self.compute(self.generation, self.form)

    @on(SizingComputed)
    def _computed(self, message: SizingComputed) -> None:
        if message.generation != self.generation:
            return
        if message.final:  # `w` writes only the answer, not the analytic first guess
            self.computed_generation = message.generation
        self.inputs, self.result = message.inputs, message.result
        result = message.result
        table = self.query_one(SizingTable)
        table.loading = False
        table.show(result.types, result.options.capacity)
        self._mark_stale(False)
        # The answer first, right under the form (planner.answer, as mjplan size and the report
        # say it); the diversified fleet and its unit in the box below the table.
        answer = answer_of(result)
        self.query_one("#sizing-fleet", Static).update(
            Text(formatting.recommendation_text(result.recommendation, result.types))
        )
        demand = formatting.demand_text(result.demand, result.options.growth)
        demand += "\n" + (formatting.decided_text(result.types[0]) if message.final
                          else "Replaying the window to confirm the instance counts…")
        if any(t.estimated for t in result.types):
            status = self.query_one("#sizing-status", Static)
            demand = formatting.with_note(demand, "* estimated from a measured type of its "
                                          "family", status.content_size.width)
        head = (f"[b]{formatting.escape_markup(answer.brief())}[/b]\n" if answer is not None
                else "")
        self._status(head + formatting.escape_markup(demand))

    @on(QueryFailed)
    def _failed(self, message: QueryFailed) -> None:
        view, _, generation = message.view.partition("#")
        if view != "sizing":
            return
        message.stop()
        if generation and int(generation) != self.generation:
            return  # the error of a form since changed
        table = self.query_one(SizingTable)
        table.loading = False
        self.failed = (self.generation, message.message)
        stale = ""
        if self.result is not None:
            # The table and fleet below are of the last inputs that could be sized: say so, and
            # dim them, so nobody reads them as the answer to what the form now says.
            self._mark_stale(True)
            stale = "\n[dim]Below: the last inputs that could be sized.[/]"
        self._status(f"[b red]Error:[/] {formatting.escape_markup(message.message)}{stale}")

    @on(FleetRequestWritten)
    def _written(self, message: FleetRequestWritten) -> None:
        self.written = message.path
        self._status(f"Wrote the fleet request to {formatting.escape_markup(message.path)}")
        self.notify(f"Fleet request written to {message.path}", title="Fleet sizing")

    def _status(self, text: str) -> None:
        self.query_one("#sizing-status", Static).update(text)

    def _mark_stale(self, stale: bool) -> None:
        """Dim (app.tcss) the table and fleet while they are of inputs older than the form's."""
        self.query("#sizing-table, #sizing-fleet").set_class(stale, "stale")

    # Inputs ---------------------------------------------------------------------------------

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        field = (event.input.id or "").removeprefix("in-")
        if field in _FORM_FIELDS:
            self._set(field, event.value)

    @on(Select.Changed, "#in-capacity")
    def _capacity_changed(self, event: Select.Changed) -> None:
        self._set("capacity", str(event.value))

    def _set(self, field: str, value: str) -> None:
        from dataclasses import replace

        if getattr(self.form, field) == value:
            return
        self.form = replace(self.form, **{field: value})
        self.recompute()

    def action_write(self) -> None:
        if self.failed is not None and self.failed[0] == self.generation:
            # Nothing is being sized: the table is of the last good inputs, not of these.
            self._status(f"[b red]Error:[/] {formatting.escape_markup(self.failed[1])}\n"
                         "Not written: correct the inputs, then press w.")
            return
        if self.result is None or self.computed_generation != self.generation:
            self._status("Wait for the sizing to finish, then press w again.")
            return
        result = self.result

        def chosen(path: str | None) -> None:
            if path:
                self.write(result, path)

        default = default_save_path(f"fleet-request-{result.options.capacity}.json",
                                    getattr(self.app, "output_dir", None))
        self.app.push_screen(SavePathScreen(
            f"Write the recommended {result.options.capacity} fleet as an EC2 Fleet request "
            "(JSON) to", default), chosen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_table" and parameters == (True,):
            return isinstance(self.focused, Input)
        return True

    def action_edit(self) -> None:
        self.query_one("#in-demand", Input).focus()

    def action_focus_table(self, shown: bool = False) -> None:
        self.query_one(SizingTable).focus()
