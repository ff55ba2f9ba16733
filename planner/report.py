"""One self-contained HTML file: the planner's summary tables and its charts, readable offline.

plotly.js is embedded once, inline, in the page's head (about 4.8 MB), so the file opens from a
mail attachment or a shared drive with no network; each chart is a `<div>` drawn by it.

`render_html` is pure (tables and figures in, a string out); `build_report` gathers the numbers
from the planner (stats, sizing) and the charts from `planner.charts`.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner import formats

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import polars as pl

    from planner.dataset import Dataset
    from planner.prices import PriceTable
    from planner.sizing import SizingOptions, SizingResult

Formatter = Callable[[Any], str]


@dataclass(frozen=True)
class Table:
    """A summary table of the report: a title, a frame, and how to write each column's values.

    `formats` maps a column to a function giving its text (columns without one use str(), and
    null is written "-"); `labels` renames columns for people; `numeric` names the columns
    aligned right (default: the frame's numeric columns).
    """

    title: str
    frame: pl.DataFrame
    formats: Mapping[str, Formatter] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    numeric: frozenset[str] | None = None


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; color: #222; padding: 0 1em; }
h1 { margin-bottom: 0.2em; }
.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; }
th { background: #f4f4f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 0.9em; }
nav a { margin-right: 1em; }
section { margin-bottom: 2em; }
pre { background: #f7f7f9; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
#answer { background: #f3f7ff; border-left: 4px solid #3567d6; padding: 0.6em 1.2em 0.8em;
          margin: 1em 0 1.5em; }
#answer .headline { font-size: 1.45em; font-weight: 600; margin: 0.3em 0; }
#answer .sub { font-size: 1.05em; margin: 0.2em 0 0.8em; }
#answer h3 { margin: 0.9em 0 0.2em; font-size: 1em; }
#answer ul { margin: 0.2em 0; padding-left: 1.3em; }
#answer table { margin: 0.3em 0 0.2em; }
.how { color: #444; font-size: 0.92em; margin: -0.3em 0 1.8em 0.5em; }
"""


def _cell(value: Any, fmt: Formatter | None) -> str:
    if value is None:
        return "-"
    if fmt is not None:
        return fmt(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render_table(table: Table) -> str:
    """An HTML `<table>` of `table`; every value is escaped."""
    cols = table.frame.columns
    numeric = table.numeric
    if numeric is None:
        numeric = frozenset(
            c for c, t in zip(cols, table.frame.dtypes, strict=True) if t.is_numeric()
        )
    head = "".join(f"<th>{html.escape(table.labels.get(c, c))}</th>" for c in cols)
    body = []
    for row in table.frame.iter_rows(named=True):
        cells = []
        for c in cols:
            cls = ' class="num"' if c in numeric else ""
            text = html.escape(_cell(row[c], table.formats.get(c)))
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (
        f"<h3>{html.escape(table.title)}</h3>{note}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def render_html(
    *,
    title: str,
    subtitle: str,
    tables: Sequence[Table],
    figures: Sequence[go.Figure],
    generated_at: dt.datetime | None = None,
    after_tables: str = "",
    notes: str = "",
    lead: str = "",
    charts_note: str = "",
) -> str:
    """The whole report page; plotly.js is inlined once and every figure is a div using it.

    In the order a reader wants them: `lead` (trusted HTML: the answer, what it assumes and
    what the data covers; the first screen), the charts (each with its one line on how to read
    it, `layout.meta["how"]`, and `charts_note` above them), then the tables. A figure's
    section id is its `layout.meta["chart"]` (planner.charts), else `chart-<n>`.
    `after_tables` is HTML placed after the tables (trusted: built by the caller), `notes` a
    text under them.
    """
    from plotly.offline import get_plotlyjs

    when = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    chart_html = []
    nav = ['<a href="#answer">answer</a>'] if lead else []
    for i, fig in enumerate(figures):
        meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
        name = str(meta.get("chart", f"chart-{i + 1}"))
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"{name}-plot",
            config={"displaylogo": False, "responsive": True},
        )
        how = str(meta.get("how") or "")
        how_html = f'<p class="how">{html.escape(how)}</p>' if how else ""
        chart_html.append(
            f'<section id="{html.escape(name)}" class="chart">{div}{how_html}</section>')
        nav.append(f'<a href="#{html.escape(name)}">{html.escape(name)}</a>')
    nav.append('<a href="#summary">tables</a>')
    tables_html = "".join(render_table(t) for t in tables)
    notes_html = f'<p class="note">{html.escape(notes)}</p>' if notes else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">{html.escape(subtitle)} · generated {when}</p>
{lead}
<nav>{"".join(nav)}</nav>
<h2>Charts</h2>
{f'<p class="note">{html.escape(charts_note)}</p>' if charts_note else ""}
{"".join(chart_html)}
<section id="summary"><h2>Tables</h2>{tables_html}{after_tables}{notes_html}</section>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Gathering the planner's numbers and drawing them

#: Rows of the ranked sizing table (as `mjplan size --top`).
DEFAULT_TOP = 15


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, computed by the planner (nothing is computed here)."""

    url: str
    attempts: int
    synthetic_attempts: int
    files: int
    #: Files of the dataset that could not be read (planner.dataset skips them).
    skipped_files: int
    #: planner.stats.rtf_summary(by="instance").
    summary: pl.DataFrame
    #: planner.sizing.size_fleet at the options given; None when the data cannot be sized.
    result: SizingResult | None
    #: Why there is no sizing (the planner's message), else None.
    sizing_error: str | None
    #: "spot" or "on-demand": the prices the costs are in.
    capacity: str
    #: chart_data.throughput_cost_frame of the measured types.
    throughput: pl.DataFrame
    #: chart_data.fleet_curve at several demand multipliers.
    curve: pl.DataFrame
    #: chart_data.attempt_points (a stratified sample of attempts).
    points: pl.DataFrame
    window: dt.timedelta
    prices_source: str
    #: planner.io_hints.phase_summary(by="instance"): where the wall time goes; None when no
    #: attempt succeeded.
    phases: pl.DataFrame | None = None
    #: planner.density.density_curve at the report's prices; None when not gathered.
    density: pl.DataFrame | None = None
    #: Attempts by where they come from: "production" (measured), "bench", "synthetic".
    coverage: Mapping[str, int] = field(default_factory=dict)
    #: Attempts on hosts without an instance type (development machines): left out of charts.
    unknown_instance_attempts: int = 0


def gather(
    ds: Dataset,
    *,
    options: SizingOptions | None = None,
    window: dt.timedelta = dt.timedelta(days=14),
    prices: PriceTable | None = None,
    per_group: int | None = None,
    multipliers: Sequence[float] | None = None,
) -> ReportData:
    """Run the planner on `ds`: summary statistics, sizing (and at several demand levels), the
    throughput per type and a sample of attempts for the charts.

    Data that cannot be sized (no attempt with a host name to measure concurrency, no arrival
    in the window, no instance type fit for the demand) still gets its statistics and RTF
    charts: `result` is then None and `sizing_error` says why. Other errors propagate.
    """
    import polars as pl

    from planner import chart_data
    from planner.density import density_curve
    from planner.errors import EmptySelectionError
    from planner.io_hints import phase_summary
    from planner.prices import load_prices
    from planner.sizing import SizingError, SizingOptions, load_sizing_inputs, size_fleet
    from planner.stats import rtf_summary

    options = options or SizingOptions()
    prices = prices if prices is not None else load_prices()
    summary = rtf_summary(ds, by="instance")
    result: SizingResult | None = None
    error: str | None = None
    throughput = chart_data.throughput_cost_frame({}, prices, options.capacity)
    curve = pl.DataFrame()
    try:
        inputs = load_sizing_inputs(ds, window=window, prices=prices)
        throughput = chart_data.throughput_cost_frame(
            inputs.measurements, inputs.prices, options.capacity
        )
        result = size_fleet(inputs, options)
        curve = chart_data.fleet_curve(
            inputs, options, multipliers or chart_data.DEFAULT_MULTIPLIERS
        )
    except (SizingError, EmptySelectionError) as exc:
        error = str(exc)
    from collectors.schema import SOURCE_SQL

    rows = ds.connection.sql(
        "SELECT count(*), count(*) FILTER (WHERE synthetic), "
        "count(*) FILTER (WHERE instance_type IS NULL) FROM attempts"
    ).fetchall()
    total, synthetic, unknown = (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else (
        0, 0, 0)
    coverage = {str(k): int(n) for k, n in ds.connection.sql(
        f"SELECT {SOURCE_SQL} AS s, count(*) FROM attempts GROUP BY s ORDER BY s").fetchall()}
    try:
        phases: pl.DataFrame | None = phase_summary(ds, by="instance")
    except EmptySelectionError:
        phases = None
    return ReportData(
        url=ds.url,
        attempts=total,
        synthetic_attempts=synthetic,
        files=len(ds.files),
        skipped_files=len(ds.skipped),
        summary=summary,
        result=result,
        sizing_error=error,
        capacity=options.capacity,
        throughput=throughput,
        curve=curve,
        points=chart_data.attempt_points(ds, per_group=per_group or chart_data.DEFAULT_PER_GROUP),
        window=window,
        prices_source=prices.source,
        phases=phases,
        density=density_curve(ds, prices, on_demand=options.capacity == "on-demand"),
        coverage=coverage,
        unknown_instance_attempts=unknown,
    )


def charted(data: ReportData) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(points, summary) the charts draw: without the attempts of hosts that have no instance
    type (a development machine's 800x RTF would set every axis), unless there are no others.
    `charts_note` says so under the charts' heading."""
    import polars as pl

    from planner.formats import UNKNOWN

    points, summary = data.points, data.summary
    known = points.filter(pl.col("instance_type").is_not_null())
    if known.height and known.height < points.height:
        points = known
        summary = summary.filter(pl.col("instance_type") != UNKNOWN)
    return points, summary


def charts_note(data: ReportData) -> str:
    """The line above the charts when charted() left attempts out."""
    points, _ = charted(data)
    if points.height == data.points.height or not data.unknown_instance_attempts:
        return ""
    from planner.formats import UNKNOWN

    return (f"{data.unknown_instance_attempts:,} attempts of hosts without an instance type "
            f"(development machines, '{UNKNOWN}' in the tables) are left out of the charts: "
            "they are not a type one can buy, and their speeds would set the axes.")


def figures(data: ReportData) -> list[go.Figure]:
    """The charts of the report, in CHART_NAMES order, one colour per instance type; the
    attempts of hosts without an instance type left out (charted())."""
    import polars as pl

    from planner import charts

    points, summary = charted(data)
    # Measured types (in the points) first: they get the most distinct colours.
    colors = charts.color_map(
        points["instance_type"],
        more=(
            v
            for frame in (data.throughput, data.curve)
            if "instance_type" in frame.columns
            for v in frame["instance_type"]
        ),
    )
    why = f"Not sized: {data.sizing_error}" if data.sizing_error else "No sizing result"
    return [
        charts.rtf_distribution(points, summary, colors=colors),
        charts.rtf_vs_input(points),
        charts.throughput_cost(data.throughput, colors=colors, capacity=data.capacity),
        charts.fleet_vs_demand(data.curve, colors=colors, empty_message=why),
        charts.resources(points, colors=colors),
        charts.density(data.density if data.density is not None else pl.DataFrame(),
                       colors=colors),
    ]


def summary_tables(summary: pl.DataFrame) -> list[Table]:
    """One table per job type, every column of `mjplan summary --wide` (RTF, or jobs/h for
    thumbnails), the cells written by planner.table_rows as the terminal writes them."""
    import polars as pl

    from collectors import schema
    from planner.formats import ordered_job_types
    from planner.table_rows import job_type_title, summary_columns, summary_row

    tables = []
    for job_type in ordered_job_types(summary["job_type"].to_list()):
        part = summary.filter(pl.col("job_type") == job_type)
        jobs = schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type) == schema.THROUGHPUT_JOBS
        columns = summary_columns("instance", jobs, True, False)
        rows = [summary_row(r, jobs) for r in part.iter_rows(named=True)]
        frame = pl.DataFrame({c.header: [r.get(c.key, "") for r in rows] for c in columns})
        tables.append(Table(job_type_title(job_type), frame,
                            numeric=frozenset(c.header for c in columns if c.right)))
    return tables


def phase_tables(phases: pl.DataFrame | None) -> list[Table]:
    """Where the wall time goes per job type x instance type, with a sentence for each
    I/O-bound group (planner.io_hints); no table when no attempt named phases or counted io."""
    import polars as pl

    from collectors.schema import PHASES
    from planner import formats
    from planner.io_hints import has_io_hints, io_bound_sentences

    if phases is None or not has_io_hints(phases):
        return []
    pct = {f"share_{p}": p for p in PHASES}
    frame = phases.select(
        "job_type", "instance_type", "phased",
        *(pl.col(c).alias(name) for c, name in pct.items()),
        "transcode_rtf", "download_mb_per_s", "upload_mb_per_s", "io_mb_per_s", "cpu_pct_avg",
        pl.when(pl.col("io_bound")).then(pl.lit("yes")).otherwise(pl.lit("")).alias("I/O-bound"),
    )

    def share(v: Any) -> str:
        return formats.number(100 * v, 0)

    one = functools.partial(formats.number, digits=1)
    sentences = io_bound_sentences(phases)
    return [Table(
        "Where the wall time goes (% of wall time of succeeded attempts with phases)",
        frame,
        formats={**dict.fromkeys(pct.values(), share),
                 "transcode_rtf": formats.number,
                 **dict.fromkeys(("download_mb_per_s", "upload_mb_per_s", "io_mb_per_s"), one),
                 "cpu_pct_avg": functools.partial(formats.number, digits=0)},
        labels={"job_type": "job type", "instance_type": "instance", "transcode_rtf":
                "transcode RTF", "download_mb_per_s": "down MB/s", "upload_mb_per_s":
                "up MB/s", "io_mb_per_s": "I/O MB/s", "cpu_pct_avg": "CPU %"},
        note=" ".join(sentences) if sentences else
        "No job type is I/O-bound: a faster instance type shortens every attempt.",
    )]


def sizing_tables(result: SizingResult, top: int = DEFAULT_TOP) -> list[Table]:
    """Demand, the ranked table of `mjplan size --wide` (first `top` rows) and the
    recommended fleet."""
    import polars as pl

    from planner.table_rows import ranked_columns, ranked_rows

    o = result.options
    demand = pl.DataFrame(
        {
            "job type": [d.job_type for d in result.demand.values()],
            "jobs/h": [f"{d.jobs_per_hour:,.1f}" for d in result.demand.values()],
            "media h/h": [
                f"{d.processed_media_hours_per_hour:.2f}" if d.processed_media_hours_per_hour
                else "-"
                for d in result.demand.values()
            ],
            "source": [d.source for d in result.demand.values()],
        }
    )
    wait = o.wait.label() if o.wait else "no wait target"
    columns = ranked_columns(o.capacity)
    rows = ranked_rows(result, top)
    more = len(result.types) - top
    ranked = Table(
        f"Ranked by {o.capacity} $/h (one type carrying all the demand; * = estimated)",
        pl.DataFrame({c.header: [r[c.key] for r in rows] for c in columns}),
        note=(
            f"Targets: utilisation <= {o.utilisation:g}, {wait}; capacity: {o.capacity}."
            + (f" {more} more types not shown." if more > 0 else "")
        ),
        numeric=frozenset(c.header for c in columns if c.right),
    )
    tables = [Table("Demand sized for", demand), ranked]
    rec = result.recommendation
    if rec is not None:
        fleet = pl.DataFrame(
            {
                "instance type": [m.instance_type + ("*" if m.estimated else "")
                                  for m in rec.members],
                "weighted capacity": [f"{m.weighted_capacity:g}" for m in rec.members],
                "instances alone": [str(m.instances_alone) for m in rec.members],
                "USD/h alone": [formats.usd(m.usd_h_alone) for m in rec.members],
            }
        )  # fmt: skip
        tables.append(
            Table(
                f"Recommended {rec.capacity} fleet: TotalTargetCapacity "
                f"{rec.total_target_capacity}",
                fleet,
                note=f"{result.headline()} 1 unit of capacity = {rec.unit}",
                numeric=frozenset({"weighted capacity", "instances alone", "USD/h alone"}),
            )
        )
    return tables


#: Where attempts come from (collectors.schema SOURCES), as the report's coverage names them.
COVERAGE_WORDS = {
    "production": "measured in production",
    "bench": "measured by mjcollect bench",
    "synthetic": "synthetic (the seeded model, not measurements)",
}


def lead_html(data: ReportData) -> str:
    """The first screen: the recommendation in words and dollars a month, the demand it was
    sized for, what it assumes, and what the data covers (measured / bench / estimated /
    synthetic). Every value escaped."""
    from planner.answer import HOURS_PER_MONTH, answer_of
    from planner.formats import usd

    e = html.escape
    result = data.result
    answer = answer_of(result) if result is not None else None
    parts = ['<section id="answer">']
    if answer is None or result is None:
        why = data.sizing_error or "no instance type carries the demand"
        parts.append(f'<p class="headline">No fleet recommended: {e(why)}</p>')
    else:
        o = result.options
        parts.append(f'<p class="headline">{e(answer.sentence())}</p>')
        sub = " · ".join(x for x in (
            answer.wait,
            f"{usd(answer.usd_per_media_h, 3)} per media hour"
            if answer.usd_per_media_h is not None else "") if x)
        if sub:
            parts.append(f'<p class="sub">{e(sub)}</p>')
        parts.append("<h3>Sized for</h3>")
        parts.append(f"<p>{e(answer.demand)}.</p>")
        wait = o.wait.label() if o.wait else "no wait target"
        estimated = sorted(t.instance_type for t in result.types if t.estimated)
        assumptions = [
            f"Buy {o.capacity}; a month is {HOURS_PER_MONTH:g} hours; prices "
            f"{data.prices_source}.",
            f"Job slots at most {o.utilisation:.0%} busy, {wait}.",
            f"Demand from the last {data.window.total_seconds() / 86400:g} days of data"
            + (f", x{o.growth:g} growth" if o.growth != 1 else "") + ".",
            f"As a diversified fleet (EC2 Fleet request below the tables): {answer.fleet}.",
        ]
        if estimated:
            assumptions.append(
                f"{len(estimated)} instance types are estimated, not measured (marked *): "
                "throughput scaled by vCPUs from a measured type of the same family.")
        parts.append("<h3>Assumptions</h3><ul>"
                     + "".join(f"<li>{e(a)}</li>" for a in assumptions) + "</ul>")
    parts.append("<h3>What the data covers</h3>")
    cover = []
    for source, words in COVERAGE_WORDS.items():
        n = data.coverage.get(source, 0)
        if n:
            share = n / data.attempts if data.attempts else 0.0
            cover.append((words, f"{n:,}", "<1%" if 0 < share < 0.005 else f"{share:.0%}"))
    rows = "".join(f'<tr><td>{e(w)}</td><td class="num">{e(n)}</td><td class="num">{e(p)}'
                   "</td></tr>" for w, n, p in cover)
    parts.append(f"<table><thead><tr><th>attempts</th><th>count</th><th>share</th></tr></thead>"
                 f"<tbody>{rows}</tbody></table>")
    if result is not None:
        measured = sorted({t.instance_type for t in result.types if not t.estimated})
        estimated = sorted({t.instance_type for t in result.types if t.estimated})
        parts.append(f"<p>Instance types: {len(measured)} measured ({e(', '.join(measured))})"
                     + (f", {len(estimated)} estimated from their family" if estimated else "")
                     + ".</p>")
    if data.unknown_instance_attempts:
        parts.append(f'<p class="note">{data.unknown_instance_attempts:,} attempts ran on hosts '
                     "without an instance type (development machines): in the tables as "
                     "'unknown', left out of the charts; no fleet of them is priced.</p>")
    parts.append("</section>")
    return "".join(parts)


def build_report(
    data: ReportData,
    *,
    title: str = "MediaJobs capacity report",
    top: int = DEFAULT_TOP,
    launch_template: str | None = None,
    launch_templates: Mapping[str, str] | None = None,
    generated_at: dt.datetime | None = None,
) -> str:
    """The report page of `data` (see gather): the answer first (lead_html), then every chart,
    then the summary and sizing tables and the fleet request."""
    import json

    from planner.fleet import DEFAULT_LAUNCH_TEMPLATE, fleet_request
    from planner.stats import LOW_SAMPLE

    synthetic = (
        f", {data.synthetic_attempts} of them synthetic (a model, not measurements)"
        if data.synthetic_attempts
        else ""
    )
    skipped = f" ({data.skipped_files} unreadable files skipped)" if data.skipped_files else ""
    subtitle = (
        f"data {data.url}: {data.attempts} attempts in {data.files} files{skipped}{synthetic}; "
        f"demand window {data.window.total_seconds() / 86400:g} days; prices {data.prices_source}"
    )
    rec = data.result.recommendation if data.result else None
    extra = ""
    if data.sizing_error:
        extra = f'<h3>Sizing</h3><p class="note">Not sized: {html.escape(data.sizing_error)}</p>'
    if rec is not None:
        request = fleet_request(
            rec, launch_template_name=launch_template or DEFAULT_LAUNCH_TEMPLATE,
            launch_templates=launch_templates,
        )
        extra = (
            "<h3>EC2 Fleet request (aws ec2 create-fleet --cli-input-json)</h3>"
            f"<pre>{html.escape(json.dumps(request, indent=2))}</pre>"
        )
    return render_html(
        title=title,
        subtitle=subtitle,
        tables=[
            *summary_tables(data.summary),
            *phase_tables(data.phases),
            *(sizing_tables(data.result, top) if data.result else []),
        ],
        figures=figures(data),
        generated_at=generated_at,
        after_tables=extra,
        lead=lead_html(data),
        charts_note=charts_note(data),
        notes=(
            "RTF = total input seconds / total wall seconds of succeeded attempts (95% CI: delta "
            "method); mean RTF = mean of per-attempt ratios, for contrast; few = under "
            f"{LOW_SAMPLE} attempts. Charts draw a stratified sample of attempts (per job type "
            "x instance type); the aggregates and the tables use every attempt."
        ),
    )
