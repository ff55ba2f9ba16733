"""Distributions: the per-attempt RTF histogram of one job type x instance type, with its
p50/p90/p99 marked, and the aggregate RTF beside it (and, where attempts named phases, where
their wall time goes: planner.io_hints), with the packing density under it (RTF per attempt by
attempts running at once, planner.density). t/T and i/I switch the group.

One worker runs `planner.stats.rtf_summary` and `rtf_histogram` for every group at once (by
instance type, and per job type over all instances; the histograms also in finer bins, which a
taller screen shows merged to its height); switching groups then only redraws.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from planner import formats
from planner.tui import data, formatting
from planner.tui.distribution_texts import bins_of, density_text, group_marks, group_stats_text
from planner.tui.messages import DistributionLoaded, QueryFailed, post_result
from planner.tui.widgets.histogram import Histogram

#: Histogram bins: fits 24 lines with the header, the selector line and the footer.
BINS = 16
#: The same histograms in finer bins, merged to what a taller screen holds: 24, 32 or 48 bins
#: (divisors of it above BINS).
FINE_BINS = 96


class DistributionsScreen(Screen[None]):
    """RTF histograms per job type x instance type."""

    TITLE = "mjplan · 3 RTF distributions"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "job_type(1)", "Type"),
        Binding("T", "job_type(-1)", "Prev type", show=False),
        Binding("i", "instance(1)", "Instance"),
        Binding("I", "instance(-1)", "Prev instance", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: data.Distributions | None = None
        self.job_types: list[str] = []
        self.job_type_index = 0
        self.instance_index = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="dist-selector")
        with Horizontal(id="dist-body"):
            yield Histogram(id="histogram")
            yield Static("", id="dist-stats")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#dist-body").loading = True
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="distributions")
    def load(self) -> None:
        ds = self.app.dataset  # type: ignore[attr-defined]
        post_result(self, "distributions",
                    lambda: DistributionLoaded(data.distributions(ds, BINS, FINE_BINS)))

    @on(DistributionLoaded)
    def _loaded(self, message: DistributionLoaded) -> None:
        self.data = message.figures
        self.job_types = formats.ordered_job_types(
            r["job_type"] for r in message.figures.by_job_type)
        self.query_one("#dist-body").loading = False
        self.redraw()

    @on(QueryFailed)
    def _failed(self, message: QueryFailed) -> None:
        if message.view != "distributions":
            return
        message.stop()
        self.query_one("#dist-body").loading = False
        self.query_one("#dist-selector", Static).update(
            f"[b red]Error:[/] {formatting.escape_markup(message.message)}"
        )

    # Selection ------------------------------------------------------------------------------

    @property
    def job_type(self) -> str | None:
        return self.job_types[self.job_type_index] if self.job_types else None

    def instance_types(self) -> list[str | None]:
        """None (all instances) first, then the instance types that ran this job type."""
        if self.data is None:
            return [None]
        names = sorted({str(r["instance_type"]) for r in self.data.by_instance
                        if r["job_type"] == self.job_type and r["instance_type"] is not None})
        return [None, *names]

    @property
    def instance_type(self) -> str | None:
        options = self.instance_types()
        return options[self.instance_index % len(options)]

    def action_job_type(self, step: int) -> None:
        if self.job_types:
            self.job_type_index = (self.job_type_index + step) % len(self.job_types)
            self.instance_index = 0
            self.redraw()

    def action_instance(self, step: int) -> None:
        self.instance_index = (self.instance_index + step) % len(self.instance_types())
        self.redraw()

    def current(
        self,
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        """(summary row, histogram rows, fine histogram rows) of the selected group."""
        assert self.data is not None
        jt, inst = self.job_type, self.instance_type
        d = self.data
        groups = ((d.by_job_type, d.hist_by_job_type, d.fine_by_job_type) if inst is None
                  else (d.by_instance, d.hist_by_instance, d.fine_by_instance))
        summary, hist, fine = (
            [r for r in rows
             if r["job_type"] == jt and (inst is None or r["instance_type"] == inst)]
            for rows in groups
        )
        return (summary[0] if summary else None), hist, fine

    def redraw(self) -> None:
        if self.data is None:
            return
        options = self.instance_types()
        inst = self.instance_type
        self.query_one("#dist-selector", Static).update(
            f"[b]t[/] job type [b]{formatting.escape_markup(str(self.job_type))}[/] "
            f"({self.job_type_index + 1}/{len(self.job_types)}) │ "
            f"[b]i[/] instance [b]{inst or 'all'}[/] "
            f"({self.instance_index % len(options) + 1}/{len(options)})"
        )
        summary, hist, fine = self.current()
        edges, counts = bins_of(hist, BINS)
        measure = hist[0]["measure"] if hist else "rtf"
        # The bins' unit and what the counts are: each bar is succeeded attempts.
        caption = ("s/job (thumbnails: no RTF) │ succeeded attempts"
                   if measure == "seconds_per_job"
                   else "per-attempt RTF, x realtime │ succeeded attempts")
        self.query_one(Histogram).show(edges, counts, group_marks(summary), caption,
                                       fine=bins_of(fine, FINE_BINS))
        phases = self.current_phases()
        self.query_one("#dist-stats", Static).update(Text(
            group_stats_text(summary) + (f"\n\n{phases}" if phases else "")
            + density_text(self.data.density, self.job_type, inst)))

    def current_phases(self) -> str:
        """Where the selected group's wall time goes (planner.io_hints), or ""."""
        from planner.io_hints import group_phases_text

        assert self.data is not None
        jt, inst = self.job_type, self.instance_type
        rows = self.data.phases_by_job_type if inst is None else self.data.phases_by_instance
        match = [r for r in rows
                 if r["job_type"] == jt and (inst is None or r["instance_type"] == inst)]
        return group_phases_text(match[0] if match else None)
