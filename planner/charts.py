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

from collectors.schema import JOB_TYPES

if TYPE_CHECKING:
    import polars as pl

RTF_DISTRIBUTION = "rtf-distribution"
RTF_VS_INPUT = "rtf-vs-input"
THROUGHPUT_COST = "throughput-cost"
FLEET_VS_DEMAND = "fleet-vs-demand"
RESOURCES = "resources"

#: Every chart, in the order the report shows them.
CHART_NAMES = (RTF_DISTRIBUTION, RTF_VS_INPUT, THROUGHPUT_COST, FLEET_VS_DEMAND, RESOURCES)

PALETTE = (
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A",
    "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
)  # fmt: skip

_AGGREGATE_MARKER = {"symbol": "diamond", "size": 11, "color": "black", "line": {"width": 1}}
_NO_INSTANCE = "(unknown)"
_GREY = "#9E9E9E"


def ordered_job_types(values: Iterable[str | None]) -> list[str]:
    """Job types in plan order (JOB_TYPES), then any other type alphabetically."""
    present = {v for v in values if v is not None}
    known = [t for t in JOB_TYPES if t in present]
    return known + sorted(present - set(JOB_TYPES))


def color_map(keys: Iterable[str | None]) -> dict[str, str]:
    """A colour per key, by sorted order; a missing key (null) is grey.

    Pass the map of every instance type to each chart (`colors=`) so that an instance type has
    one colour across charts that do not all show the same instance types.
    """
    names = sorted({k for k in keys if k is not None})
    out = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(names)}
    out[_NO_INSTANCE] = _GREY
    return out


def _colors(given: Mapping[str, str] | None, keys: Iterable[str | None]) -> dict[str, str]:
    keys = list(keys)
    if given is None:
        return color_map(keys)
    # Keys the caller's map lacks still get a colour, after the ones it has.
    missing = color_map(k for k in keys if k is not None and k not in given)
    return {**missing, **given}


def _label(value: str | None) -> str:
    return _NO_INSTANCE if value is None else str(value)


def _named(fig: go.Figure, name: str, title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        meta={"chart": name},
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


def _column(frame: pl.DataFrame, name: str) -> list[Any]:
    return frame.get_column(name).to_list()


def rtf_distribution(
    points: pl.DataFrame,
    aggregates: pl.DataFrame | None = None,
    *,
    aggregate_column: str = "rtf_aggregate",
    kind: str = "box",
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """RTF per instance type, one panel per job type, with the aggregate RTF marked.

    `points`: one row per attempt with `job_type`, `instance_type`, `rtf` (attempt_points()).
    `aggregates`: one row per (job_type, instance_type) with `aggregate_column`, the aggregate
    RTF of planner.stats (total media seconds / total wall seconds), drawn as a black diamond:
    the figure sizing uses, which sits above the median when long inputs run faster.
    `kind`: "box" or "violin". Panels have their own y axis: thumbnails run at hundreds of x
    real time, exports at about 1x.
    """
    if kind not in ("box", "violin"):
        raise ValueError(f"kind must be 'box' or 'violin', got {kind!r}")
    title = "RTF per instance type (× real time; ◆ aggregate)"
    pts = points.filter(points.get_column("rtf").is_not_null())
    if pts.is_empty():
        return _empty(RTF_DISTRIBUTION, title, "No attempt with an RTF")
    job_types = ordered_job_types(_column(pts, "job_type"))
    colors = _colors(colors, _column(pts, "instance_type"))
    fig = make_subplots(
        rows=len(job_types),
        cols=1,
        subplot_titles=job_types,
        vertical_spacing=min(0.12, 0.35 / max(1, len(job_types))),
    )
    shown: set[str] = set()
    agg_shown = False
    for row, job_type in enumerate(job_types, start=1):
        sub = pts.filter(pts.get_column("job_type") == job_type)
        instances = sorted({_label(v) for v in _column(sub, "instance_type")})
        for inst in instances:
            if inst == _NO_INSTANCE:
                grp = sub.filter(sub.get_column("instance_type").is_null())
            else:
                grp = sub.filter(sub.get_column("instance_type") == inst)
            y = _column(grp, "rtf")
            common: dict[str, Any] = {
                "x": [inst] * len(y),
                "y": y,
                "name": inst,
                "legendgroup": inst,
                "showlegend": inst not in shown,
                "marker_color": colors[inst],
                "hovertemplate": f"{job_type}<br>{inst}<br>RTF %{{y:.2f}}x<extra></extra>",
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
            ys = _column(agg, aggregate_column)
            keep = [(x, y) for x, y in zip(xs, ys, strict=True) if x in instances and y is not None]
            if keep:
                fig.add_trace(
                    go.Scatter(
                        x=[x for x, _ in keep],
                        y=[y for _, y in keep],
                        mode="markers",
                        marker=_AGGREGATE_MARKER,
                        name="aggregate RTF",
                        legendgroup="aggregate",
                        showlegend=not agg_shown,
                        hovertemplate=(
                            f"{job_type}<br>%{{x}}<br>aggregate RTF %{{y:.2f}}x<extra></extra>"
                        ),
                    ),
                    row=row,
                    col=1,
                )
                agg_shown = True
        fig.update_yaxes(title_text="RTF (×)", rangemode="tozero", row=row, col=1)
    mode = "overlay" if kind == "box" else None
    fig.update_layout(height=260 * len(job_types) + 80)
    if mode:
        fig.update_layout(boxmode=mode)
    else:
        fig.update_layout(violinmode="overlay")
    return _named(fig, RTF_DISTRIBUTION, title)


def rtf_vs_input(
    points: pl.DataFrame,
    *,
    x: str = "pixels_per_second",
    color: str = "input_video_codec",
    x_title: str = "pixels per media second (width × height × fps)",
) -> go.Figure:
    """RTF of each attempt against an input characteristic, coloured by codec, per job type.

    `points`: attempt_points(). Attempts without a value of `x` (audio-only inputs have no
    pixels) are left out. The x axis is logarithmic: inputs span 240p to 4K.
    """
    title = "RTF against the input (each point an attempt)"
    pts = points.filter(
        points.get_column("rtf").is_not_null()
        & points.get_column(x).is_not_null()
        & (points.get_column(x) > 0)
    )
    if pts.is_empty():
        return _empty(RTF_VS_INPUT, title, f"No attempt with an RTF and a {x}")
    job_types = ordered_job_types(_column(pts, "job_type"))
    colors = color_map(_column(pts, color))
    fig = make_subplots(
        rows=len(job_types),
        cols=1,
        subplot_titles=job_types,
        vertical_spacing=min(0.12, 0.35 / max(1, len(job_types))),
    )
    shown: set[str] = set()
    for row, job_type in enumerate(job_types, start=1):
        sub = pts.filter(pts.get_column("job_type") == job_type)
        for key in sorted({_label(v) for v in _column(sub, color)}):
            if key == _NO_INSTANCE:
                grp = sub.filter(sub.get_column(color).is_null())
            else:
                grp = sub.filter(sub.get_column(color) == key)
            fig.add_trace(
                go.Scatter(
                    x=_column(grp, x),
                    y=_column(grp, "rtf"),
                    mode="markers",
                    marker={"size": 5, "opacity": 0.6, "color": colors[key]},
                    name=key,
                    legendgroup=key,
                    showlegend=key not in shown,
                    text=[_label(v) for v in _column(grp, "instance_type")],
                    hovertemplate=(
                        f"{job_type}<br>{key} on %{{text}}<br>"
                        "%{x:.3s} px/s<br>RTF %{y:.2f}x<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
            shown.add(key)
        fig.update_xaxes(type="log", title_text=x_title, row=row, col=1)
        fig.update_yaxes(title_text="RTF (×)", rangemode="tozero", row=row, col=1)
    fig.update_layout(height=260 * len(job_types) + 80, legend_title_text=color)
    return _named(fig, RTF_VS_INPUT, title)


def throughput_cost(
    frame: pl.DataFrame,
    *,
    throughput_column: str = "units_per_instance_hour",
    cost_column: str = "cost_per_unit",
    unit_column: str = "unit_label",
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """Throughput and cost per unit of work per instance type, one row of panels per job type.

    `frame`: one row per (job_type, instance_type) with the throughput of one instance
    (`throughput_column`: media hours, or jobs, per instance-hour), the price of one unit
    (`cost_column`: USD per media hour, or per job) and the unit's name (`unit_column`).
    """
    title = "Throughput and cost per unit of work, per instance type"
    rows = frame.filter(frame.get_column(throughput_column).is_not_null())
    if rows.is_empty():
        return _empty(THROUGHPUT_COST, title, "No throughput measured")
    job_types = ordered_job_types(_column(rows, "job_type"))
    colors = _colors(colors, _column(rows, "instance_type"))
    titles: list[str] = []
    for jt in job_types:
        unit = _column(rows.filter(rows.get_column("job_type") == jt), unit_column)[0]
        titles += [f"{jt}: {unit} per instance-hour", f"{jt}: USD per {unit}"]
    fig = make_subplots(
        rows=len(job_types),
        cols=2,
        subplot_titles=titles,
        horizontal_spacing=0.12,
        vertical_spacing=min(0.14, 0.4 / max(1, len(job_types))),
    )
    for row, job_type in enumerate(job_types, start=1):
        sub = rows.filter(rows.get_column("job_type") == job_type)
        insts = [_label(v) for v in _column(sub, "instance_type")]
        bar_colors = [colors[i] for i in insts]
        thr = _column(sub, throughput_column)
        cost = _column(sub, cost_column)
        fig.add_trace(
            go.Bar(
                x=insts,
                y=thr,
                marker_color=bar_colors,
                showlegend=False,
                text=[_fmt(v) for v in thr],
                textposition="outside",
                hovertemplate="%{x}: %{y:.3g} per instance-hour<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=insts,
                y=cost,
                marker_color=bar_colors,
                showlegend=False,
                text=[_fmt(v, money=True) for v in cost],
                textposition="outside",
                hovertemplate="%{x}: USD %{y:.4g}<extra></extra>",
            ),
            row=row,
            col=2,
        )
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=260 * len(job_types) + 80)
    return _named(fig, THROUGHPUT_COST, title)


def _fmt(value: float | None, *, money: bool = False) -> str:
    if value is None:
        return ""
    if money:
        return f"${value:.4f}" if value < 1 else f"${value:,.2f}"
    return f"{value:.3g}"


def fleet_vs_demand(
    curve: pl.DataFrame,
    *,
    x: str = "demand_multiplier",
    instances: str = "instances",
    cost: str = "cost_per_hour",
    current: float | None = 1.0,
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """How the recommended fleet grows with demand: instances per instance type, and cost.

    `curve`: one row per (demand multiplier, instance type) with the instance count the sizing
    recommends (`instances`) and its cost (`cost`, USD per hour); see chart_data.fleet_curve().
    Instance counts are stacked bars (the fleet), the total cost a line on the right axis.
    `current`: the multiplier of today's demand, marked with a dashed line (None: no mark).
    """
    title = "Recommended fleet as demand grows"
    if curve.is_empty():
        return _empty(FLEET_VS_DEMAND, title, "No sizing result")
    colors = _colors(colors, _column(curve, "instance_type"))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    xs = sorted(set(_column(curve, x)))
    labels = [f"{v:g}×" for v in xs]
    for inst in sorted({_label(v) for v in _column(curve, "instance_type")}):
        sub = curve.filter(curve.get_column("instance_type") == inst)
        by_x = dict(zip(_column(sub, x), _column(sub, instances), strict=True))
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[by_x.get(v, 0) for v in xs],
                name=inst,
                marker_color=colors[inst],
                hovertemplate=f"{inst}<br>demand %{{x}}<br>%{{y}} instances<extra></extra>",
            ),
            secondary_y=False,
        )
    totals: dict[float, float] = {}
    for xv, c in zip(_column(curve, x), _column(curve, cost), strict=True):
        totals[xv] = totals.get(xv, 0.0) + (c or 0.0)
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[totals[v] for v in xs],
            mode="lines+markers",
            name="cost (USD/h)",
            line={"color": "black"},
            hovertemplate="demand %{x}<br>USD %{y:,.2f} per hour<extra></extra>",
        ),
        secondary_y=True,
    )
    if current is not None and current in xs:
        fig.add_vline(x=xs.index(current), line_dash="dash", line_color="grey")
    fig.update_layout(barmode="stack", height=420)
    fig.update_xaxes(title_text="demand (× today's)", type="category")
    fig.update_yaxes(title_text="instances", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="USD per hour", secondary_y=True, rangemode="tozero")
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
    """CPU and memory of the sampled attempts per job type (boxes per instance type).

    `points`: attempt_points(). Only attempts with CPU samples (`cpu_sample_count` > 0) count:
    sampling is optional (plan 87, phase 2), and a missing sample is not a zero.
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
            if inst == _NO_INSTANCE:
                grp = sampled.filter(sampled.get_column("instance_type").is_null())
            else:
                grp = sampled.filter(sampled.get_column("instance_type") == inst)
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
                    boxpoints="outliers",
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
