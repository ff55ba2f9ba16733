"""Plotly figures of the planner's numbers, shared by the notebooks and `mjplan report --html`.

Every function takes polars DataFrames (per-attempt points from `planner.chart_data`, aggregates
from `planner.stats`, sizing results from `planner.sizing`) and returns a `plotly` Figure; none
queries or computes a statistic of its own, so a chart always shows the numbers the tables show.

Each figure carries a stable name in `layout.meta["chart"]` (see CHART_NAMES): the report uses
it as the id of the chart's section, the tests use it to find the chart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from collectors import schema
from planner import formats
from planner.formats import UNKNOWN, ordered_job_types

if TYPE_CHECKING:
    import polars as pl

RTF_DISTRIBUTION = "rtf-distribution"
RTF_VS_INPUT = "rtf-vs-input"
THROUGHPUT_COST = "throughput-cost"
FLEET_VS_DEMAND = "fleet-vs-demand"
RESOURCES = "resources"
DENSITY = "density"

#: Every chart, in the order the report shows them.
CHART_NAMES = (RTF_DISTRIBUTION, RTF_VS_INPUT, THROUGHPUT_COST, FLEET_VS_DEMAND, RESOURCES,
               DENSITY)

#: One line under each chart on how to read it (the report shows it; `layout.meta["how"]`).
HOW_TO_READ = {
    RTF_DISTRIBUTION: "Higher is faster: each box is one instance type's attempts (median, "
    "quartiles, outliers); the diamond is the speed sizing uses. A log axis means speeds span "
    "tens of times.",
    RTF_VS_INPUT: "Each dot is an attempt: a cloud that falls to the right means bigger inputs "
    "run slower than real time; colours are the input's video codec.",
    THROUGHPUT_COST: "Left: how much one instance gets through an hour (higher is better); "
    "right: what a unit of work costs on it (lower is better).",
    FLEET_VS_DEMAND: "How the fleet grows if demand grows: read across at 1x for today, 2x for "
    "double; steps are whole instances.",
    RESOURCES: "What one job uses while it runs: CPU in % of one core, memory in MB; each box "
    "is the spread over one instance type's attempts.",
    DENSITY: "Each line is one instance type running more jobs at once: the star is the most "
    "work per dollar, the ring the best within the slowdown bound; past them, jobs slow each "
    "other more than they add.",
}

#: A panel's values span at least this ratio (highest / lowest positive): its axis is
#: logarithmic, so a few very fast attempts (a development machine's 800x) do not flatten the
#: rest against zero.
LOG_AXIS_RATIO = 30.0

#: plotly's default ten, then plotly's Dark24 (minus its near-black): a fleet's measured types
#: get the first ten, estimated or priced-only types the rest.
PALETTE = (
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A",
    "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#B68100", "#750D86", "#EB663B",
    "#511CFB", "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE", "#862A16",
    "#A777F1", "#620042", "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038",
)  # fmt: skip

_AGGREGATE_MARKER = {"symbol": "diamond", "size": 11, "color": "black", "line": {"width": 1}}
_GREY = "#9E9E9E"


def color_map(keys: Iterable[str | None], more: Iterable[str | None] = ()) -> dict[str, str]:
    """A colour per key, by sorted order, then for the keys of `more` not in `keys`; a missing
    key (null) is grey.

    Pass the map of every instance type to each chart (`colors=`) so that an instance type has
    one colour across charts that do not all show the same instance types; put the measured
    types in `keys` and the others (estimated, priced) in `more`, so that the measured ones get
    the most distinct colours.
    """
    first = sorted({k for k in keys if k is not None})
    names = first + sorted({k for k in more if k is not None} - set(first))
    out = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(names)}
    out[UNKNOWN] = _GREY
    return out


def _colors(given: Mapping[str, str] | None, keys: Iterable[str | None]) -> dict[str, str]:
    keys = list(keys)
    if given is None:
        return color_map(keys)
    # Keys the caller's map lacks still get a colour, after the ones it has.
    missing = color_map(k for k in keys if k is not None and k not in given)
    return {**missing, **given}


def _label(value: str | None) -> str:
    return UNKNOWN if value is None else str(value)


def _named(fig: go.Figure, name: str, title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        meta={"chart": name, "how": HOW_TO_READ.get(name, "")},
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 70, "b": 50},
    )
    return fig


def _empty(name: str, title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=250)
    return _named(fig, name, title)


def value_axis(values: Iterable[Any]) -> dict[str, Any]:
    """Axis settings for `values`: logarithmic when the positive ones span LOG_AXIS_RATIO or
    more, else linear from zero."""
    positive = [float(v) for v in values if v is not None and float(v) > 0]
    if positive and max(positive) / min(positive) >= LOG_AXIS_RATIO:
        return {"type": "log"}
    return {"type": "linear", "rangemode": "tozero"}


def _column(frame: pl.DataFrame, name: str) -> list[Any]:
    return frame.get_column(name).to_list()


def measure_of(job_type: str) -> tuple[str, str, str]:
    """(per-attempt column, its aggregate column in planner.stats.rtf_summary, axis label).

    As in planner.stats: job types counted in media seconds are described by their RTF (the
    aggregate is total media seconds / total wall seconds), thumbnails by wall seconds per job
    (the aggregate is the mean, which jobs per hour is 3600 over).
    """
    if schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type) == schema.THROUGHPUT_JOBS:
        return "seconds_per_job", "seconds_per_job_mean", "seconds per job"
    return "rtf", "rtf", "RTF (× real time)"


def _subset(frame: pl.DataFrame, column: str, key: str) -> pl.DataFrame:
    if key == UNKNOWN:
        return frame.filter(frame.get_column(column).is_null() | (frame.get_column(column) == key))
    return frame.filter(frame.get_column(column) == key)


def rtf_distribution(
    points: pl.DataFrame,
    aggregates: pl.DataFrame | None = None,
    *,
    kind: str = "box",
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """RTF per instance type, one panel per job type, with the aggregate marked (◆).

    `points`: one row per attempt with `job_type`, `instance_type`, `rtf`, `seconds_per_job`
    (chart_data.attempt_points). `aggregates`: planner.stats.rtf_summary(by="instance"), whose
    aggregate figure of each (job type, instance type) is drawn as a black diamond: the RTF
    sizing uses (total media seconds / total wall seconds), which sits off the median when long
    and short inputs run at different speeds. Thumbnails are drawn in seconds per job with the
    mean marked (see measure_of). `kind`: "box" or "violin". Each panel has its own y axis.
    """
    if kind not in ("box", "violin"):
        raise ValueError(f"kind must be 'box' or 'violin', got {kind!r}")
    title = "RTF per instance type (◆ aggregate: Σ media s / Σ wall s; thumbnails: s per job)"
    job_types = [jt for jt in ordered_job_types(_column(points, "job_type")) if _has(points, jt)]
    if not job_types:
        return _empty(RTF_DISTRIBUTION, title, "No attempt with an RTF")
    colors = _colors(colors, _column(points, "instance_type"))
    fig = _job_type_panels(job_types)
    shown: set[str] = set()
    agg_shown = False
    for row, job_type in enumerate(job_types, start=1):
        col, agg_col, label = measure_of(job_type)
        sub = _measured(points, job_type, col)
        instances = sorted({_label(v) for v in _column(sub, "instance_type")})
        fmt = _y_format(col)
        for inst in instances:
            y = _column(_subset(sub, "instance_type", inst), col)
            common: dict[str, Any] = {
                "x": [inst] * len(y),
                "y": y,
                "name": inst,
                "legendgroup": inst,
                "showlegend": inst not in shown,
                "marker_color": colors[inst],
                "hovertemplate": f"{job_type}<br>{inst}<br>{fmt}<extra></extra>",
            }
            if kind == "box":
                fig.add_trace(go.Box(boxpoints="outliers", **common), row=row, col=1)
            else:
                fig.add_trace(
                    go.Violin(box_visible=True, points=False, meanline_visible=False, **common),
                    row=row,
                    col=1,
                )
            shown.add(inst)
        if aggregates is not None and not aggregates.is_empty():
            agg = aggregates.filter(aggregates.get_column("job_type") == job_type)
            xs = [_label(v) for v in _column(agg, "instance_type")]
            ys = _column(agg, agg_col)
            keep = [(x, y) for x, y in zip(xs, ys, strict=True) if x in instances and y is not None]
            if keep:
                fig.add_trace(
                    go.Scatter(
                        x=[x for x, _ in keep],
                        y=[y for _, y in keep],
                        mode="markers",
                        marker=_AGGREGATE_MARKER,
                        name="aggregate",
                        legendgroup="aggregate",
                        showlegend=not agg_shown,
                        hovertemplate=f"{job_type}<br>%{{x}}<br>aggregate {fmt}<extra></extra>",
                    ),
                    row=row,
                    col=1,
                )
                agg_shown = True
        fig.update_xaxes(categoryorder="array", categoryarray=instances, row=row, col=1)
        fig.update_yaxes(title_text=label, row=row, col=1, **value_axis(_column(sub, col)))
    fig.update_layout(height=260 * len(job_types) + 80)
    if kind == "box":
        fig.update_layout(boxmode="overlay")
    else:
        fig.update_layout(violinmode="overlay")
    return _named(fig, RTF_DISTRIBUTION, title)


def _has(points: pl.DataFrame, job_type: str) -> bool:
    """Whether `points` hold a value of the job type's measure."""
    return not _measured(points, job_type, measure_of(job_type)[0]).is_empty()


def _measured(points: pl.DataFrame, job_type: str, col: str) -> pl.DataFrame:
    """The points of one job type that have a value of its measure `col`."""
    sub = points.filter(points.get_column("job_type") == job_type)
    return sub.filter(sub.get_column(col).is_not_null())


def _y_format(col: str) -> str:
    """Hover format of a measure: RTF as a multiple, seconds per job (thumbnails) in seconds."""
    return "%{y:.2f}x" if col == "rtf" else "%{y:.2f} s"


def _job_type_panels(job_types: Sequence[str]) -> go.Figure:
    """One panel per job type, stacked, titled with the job type's measure: the layout of
    rtf_distribution and rtf_vs_input, kept in one place so the two charts read alike."""
    fig: go.Figure = make_subplots(
        rows=len(job_types),
        cols=1,
        subplot_titles=[f"{jt}: {measure_of(jt)[2]}" for jt in job_types],
        vertical_spacing=min(0.12, 0.35 / max(1, len(job_types))),
    )
    return fig


def rtf_vs_input(
    points: pl.DataFrame,
    *,
    x: str = "pixels_per_second",
    color: str = "input_video_codec",
    x_title: str = "pixels per media second (width × height × fps)",
    log_x: bool = True,
    color_title: str | None = None,
) -> go.Figure:
    """Each attempt's RTF against an input characteristic, coloured by codec, per job type.

    `points`: chart_data.attempt_points(). Thumbnails are drawn in seconds per job, as in
    rtf_distribution. Attempts without a value of `x` are left out (audio-only inputs have no
    pixels, so the audio envelope job drops out of the default chart). The x axis is
    logarithmic unless `log_x` is False: inputs span 240p to 4K. Any numeric column of the
    points works as `x` and any column as `color`: e.g. x="concurrency" (with_concurrency),
    color="instance_type".
    """
    title = f"RTF against {x_title} (each point an attempt; thumbnails: s per job)"
    pts = points.filter(points.get_column(x).is_not_null() & (points.get_column(x) > 0))
    job_types = [jt for jt in ordered_job_types(_column(pts, "job_type")) if _has(pts, jt)]
    if not job_types:
        return _empty(RTF_VS_INPUT, title, f"No attempt with an RTF and a {x}")
    colors = color_map(_column(pts, color))
    fig = _job_type_panels(job_types)
    shown: set[str] = set()
    for row, job_type in enumerate(job_types, start=1):
        col, _, label = measure_of(job_type)
        sub = _measured(pts, job_type, col)
        fmt = _y_format(col)
        for key in sorted({_label(v) for v in _column(sub, color)}):
            grp = _subset(sub, color, key)
            fig.add_trace(
                go.Scatter(
                    x=_column(grp, x),
                    y=_column(grp, col),
                    mode="markers",
                    marker={"size": 5, "opacity": 0.6, "color": colors[key]},
                    name=key,
                    legendgroup=key,
                    showlegend=key not in shown,
                    text=[_label(v) for v in _column(grp, "instance_type")],
                    hovertemplate=(
                        f"{job_type}<br>{key} on %{{text}}<br>%{{x:.3s}}<br>{fmt}<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
            shown.add(key)
        fig.update_xaxes(type="log" if log_x else "linear", title_text=x_title, row=row, col=1)
        fig.update_yaxes(title_text=label, row=row, col=1, **value_axis(_column(sub, col)))
    if color_title is None:
        color_title = "video codec" if color == "input_video_codec" else color.replace("_", " ")
    fig.update_layout(height=280 * len(job_types) + 80, legend_title_text=color_title)
    return _named(fig, RTF_VS_INPUT, title)


def throughput_cost(
    frame: pl.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    capacity: str = "spot",
) -> go.Figure:
    """Throughput of one instance and cost per unit of work, per instance type and job type.

    `frame`: chart_data.throughput_cost_frame(): per (job_type, instance_type) the work one
    instance gets through per hour (`units_per_instance_hour`: media hours, or 1000 jobs for
    thumbnails) and what a unit costs (`cost_per_unit`, USD, at `capacity` prices). One row of
    two panels per job type: throughput on the left, cost on the right (lower is better).
    """
    title = f"Throughput of one instance and {capacity} cost per unit of work"
    rows = frame.filter(frame.get_column("units_per_instance_hour").is_not_null())
    if rows.is_empty():
        return _empty(THROUGHPUT_COST, title, "No throughput measured")
    job_types = ordered_job_types(_column(rows, "job_type"))
    colors = _colors(colors, _column(rows, "instance_type"))
    titles: list[str] = []
    for jt in job_types:
        unit = _column(rows.filter(rows.get_column("job_type") == jt), "unit_label")[0]
        one = unit.removesuffix("s") if unit.endswith("hours") else unit  # "media hour"
        titles += [f"{jt}: {unit} per instance-hour", f"{jt}: USD per {one}"]
    fig = make_subplots(
        rows=len(job_types),
        cols=2,
        subplot_titles=titles,
        horizontal_spacing=0.1,
        vertical_spacing=min(0.14, 0.4 / max(1, len(job_types))),
    )
    for row, job_type in enumerate(job_types, start=1):
        sub = rows.filter(rows.get_column("job_type") == job_type).sort("instance_type")
        insts = [_label(v) for v in _column(sub, "instance_type")]
        bar_colors = [colors[i] for i in insts]
        for col, column, money in (
            (1, "units_per_instance_hour", False),
            (2, "cost_per_unit", True),
        ):
            values = _column(sub, column)
            fig.add_trace(
                go.Bar(
                    x=insts,
                    y=values,
                    marker_color=bar_colors,
                    showlegend=False,
                    text=[_fmt(v, money=money) for v in values],
                    textposition="outside",
                    cliponaxis=False,
                    hovertemplate=(
                        "%{x}: "
                        + ("USD %{y:.4g}" if money else "%{y:.3g} per instance-hour")
                        + "<extra></extra>"
                    ),
                ),
                row=row,
                col=col,
            )
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=280 * len(job_types) + 80)
    return _named(fig, THROUGHPUT_COST, title)


def _fmt(value: float | None, *, money: bool = False) -> str:
    if money:
        return formats.usd_brief(value)
    return "" if value is None else f"{value:.3g}"


def fleet_vs_demand(
    curve: pl.DataFrame,
    *,
    current: float | None = 1.0,
    colors: Mapping[str, str] | None = None,
    empty_message: str = "No sizing result",
) -> go.Figure:
    """How the recommendation moves as demand grows.

    `curve`: chart_data.fleet_curve() (planner.sizing.size_fleet at several demand
    multipliers). Left: instances of each type that is in the recommended fleet at some level,
    each carrying the whole demand alone, and the recommended fleet's target capacity (black,
    in its weighted units). Right: USD/h of the cheapest type at each level. `current`: the
    multiplier of today's demand, marked with a dashed line (None: no mark). `empty_message`
    is shown instead of a chart when `curve` is empty.
    """
    title = "Recommended fleet as demand grows"
    if curve.is_empty():
        return _empty(FLEET_VS_DEMAND, title, empty_message)
    colors = _colors(colors, _column(curve, "instance_type"))
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.12,
        subplot_titles=["instances (each type alone) and fleet target capacity",
                        "cost of the cheapest type (in its colour), USD per hour"],
    )  # fmt: skip
    chosen = sorted(set(_column(curve.filter(curve.get_column("recommended")), "instance_type")))
    for inst in chosen:
        sub = curve.filter(curve.get_column("instance_type") == inst).sort("demand_multiplier")
        fig.add_trace(
            go.Scatter(
                x=_column(sub, "demand_multiplier"),
                y=_column(sub, "instances"),
                mode="lines+markers",
                name=inst,
                line={"color": colors[inst]},
                hovertemplate=f"{inst}<br>demand %{{x:g}}×<br>%{{y}} instances<extra></extra>",
            ),
            row=1,
            col=1,
        )
    levels = curve.filter(curve.get_column("rank") == 1).sort("demand_multiplier")
    cheapest = _column(levels, "instance_type")
    fig.add_trace(
        go.Scatter(
            x=_column(levels, "demand_multiplier"),
            y=_column(levels, "target_capacity"),
            mode="lines+markers",
            name="fleet target capacity",
            line={"color": "black", "width": 3},
            hovertemplate="demand %{x:g}×<br>target capacity %{y}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=_column(levels, "demand_multiplier"),
            y=_column(levels, "cost_per_hour"),
            mode="lines+markers",
            name="cheapest type, USD/h",
            customdata=cheapest,
            # Each point in the colour of the type that is cheapest there (labels would overlap
            # where the cheapest type changes between close levels).
            marker={
                "color": [colors[t] for t in cheapest],
                "size": 10,
                "line": {"color": "black", "width": 1},
            },
            line={"color": "black", "dash": "dot"},
            hovertemplate="demand %{x:g}×<br>%{customdata}: USD %{y:,.2f}/h<extra></extra>",
        ),
        row=1,
        col=2,
    )
    if current is not None:
        for col in (1, 2):
            fig.add_vline(x=current, line_dash="dash", line_color="grey", row=1, col=col)
    fig.update_xaxes(title_text="demand (× today's)")
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=440)
    return _named(fig, FLEET_VS_DEMAND, title)


def resources(
    points: pl.DataFrame,
    *,
    metrics: Sequence[tuple[str, str]] = (
        ("cpu_pct_avg", "CPU, mean (% of one core)"),
        ("mem_rss_mb_max", "memory, peak RSS (MB)"),
    ),
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """CPU and memory of the sampled attempts per job type (boxes per instance type; whiskers
    reach the minimum and maximum).

    `points`: attempt_points(). Only attempts with CPU samples (`cpu_sample_count` > 0) count:
    sampling is optional (MEDIAJOB_SAMPLE_INTERVAL), and a missing sample is not a zero.
    """
    title = "CPU and memory per job type (sampled attempts)"
    sampled = points.filter(
        points.get_column("cpu_sample_count").is_not_null()
        & (points.get_column("cpu_sample_count") > 0)
    )
    if sampled.is_empty():
        return _empty(RESOURCES, title, "No attempt was sampled (MEDIAJOB_SAMPLE_INTERVAL)")
    job_types = ordered_job_types(_column(sampled, "job_type"))
    colors = _colors(colors, _column(sampled, "instance_type"))
    fig = make_subplots(
        rows=1, cols=len(metrics), subplot_titles=[t for _, t in metrics], horizontal_spacing=0.1
    )
    shown: set[str] = set()
    for col, (metric, label) in enumerate(metrics, start=1):
        for inst in sorted({_label(v) for v in _column(sampled, "instance_type")}):
            grp = _subset(sampled, "instance_type", inst)
            grp = grp.filter(grp.get_column(metric).is_not_null())
            if grp.is_empty():
                continue
            fig.add_trace(
                go.Box(
                    x=_column(grp, "job_type"),
                    y=_column(grp, metric),
                    name=inst,
                    legendgroup=inst,
                    showlegend=inst not in shown,
                    marker_color=colors[inst],
                    # Whiskers only: bimodal memory (4K vs 1080p inputs) makes a wall of outliers.
                    boxpoints=False,
                    hovertemplate=f"%{{x}}<br>{inst}<br>{label}: %{{y:.1f}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
            shown.add(inst)
        fig.update_xaxes(categoryorder="array", categoryarray=job_types, row=1, col=col)
        fig.update_yaxes(title_text=label, rangemode="tozero", row=1, col=col)
    fig.update_layout(boxmode="group", height=460)
    return _named(fig, RESOURCES, title)


def density(curve: pl.DataFrame, *, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Throughput of one instance by attempts running at once, one panel per job type, a line
    per instance type; the level with the most throughput per dollar is a star, the best one
    within the slowdown bound a ring. `curve`: planner.density.density_curve()."""
    title = "Packing density: one instance's throughput by attempts running at once"
    if curve.is_empty():
        return _empty(DENSITY, title, "No attempt recorded how many ran at once "
                      "(host_running_at_start, schema version 2; mjcollect bench measures it)")
    job_types = ordered_job_types(_column(curve, "job_type"))
    colors = _colors(colors, _column(curve, "instance_type"))
    units = ["jobs/h" if measure_of(jt)[0] == "seconds_per_job" else "media s/s"
             for jt in job_types]
    fig = make_subplots(rows=1, cols=len(job_types), horizontal_spacing=0.06,
                        subplot_titles=[f"{jt}: {u}" for jt, u in zip(job_types, units,
                                                                      strict=True)])
    shown: set[str] = set()
    for col, jt in enumerate(job_types, start=1):
        part = _subset(curve, "job_type", jt)
        for inst in sorted({_label(v) for v in _column(part, "instance_type")}):
            grp = _subset(part, "instance_type", inst).sort("running")
            symbols = ["star" if b else ("circle-open" if w else "circle")
                       for b, w in zip(_column(grp, "best"), _column(grp, "bounded"), strict=True)]
            fig.add_trace(go.Scatter(
                x=_column(grp, "running"), y=_column(grp, "throughput"), mode="lines+markers",
                name=inst, legendgroup=inst, showlegend=inst not in shown,
                marker={"color": colors[inst], "symbol": symbols, "size": 10},
                line={"color": colors[inst]},
                customdata=list(zip(_column(grp, "attempts"), _column(grp, "slowdown"),
                                    _column(grp, "source"), strict=True)),
                hovertemplate=(f"{inst}<br>%{{x}} at once: %{{y:.2f}}<br>"
                               "attempts %{customdata[0]}, slowdown %{customdata[1]:.2f}<br>"
                               "%{customdata[2]}<extra></extra>"),
            ), row=1, col=col)
            shown.add(inst)
        fig.update_xaxes(title_text="attempts running at once", dtick=1, row=1, col=col)
        fig.update_yaxes(rangemode="tozero", row=1, col=col)
    fig.update_layout(height=420)
    return _named(fig, DENSITY, title)
