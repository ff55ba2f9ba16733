"""One self-contained HTML file: the planner's summary tables and its charts, readable offline.

plotly.js is embedded once, inline, in the page's head (about 4.8 MB), so the file opens from a
mail attachment or a shared drive with no network; each chart is a `<div>` drawn by it.

`render_html` is pure (tables and figures in, a string out); `build_report` gathers the numbers
from the planner (stats, sizing) and the charts from `planner.charts`.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import polars as pl

Formatter = Callable[[Any], str]


@dataclass(frozen=True)
class Table:
    """A summary table of the report: a title, a frame, and how to write each column's values.

    `formats` maps a column to a function giving its text (columns without one use str(), and
    null is written as an en dash); `labels` renames columns for people.
    """

    title: str
    frame: pl.DataFrame
    formats: Mapping[str, Formatter] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    note: str = ""


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
"""


def _cell(value: Any, fmt: Formatter | None) -> str:
    if value is None:
        return "–"
    if fmt is not None:
        return fmt(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render_table(table: Table) -> str:
    """An HTML `<table>` of `table`; every value is escaped."""
    cols = table.frame.columns
    numeric = {c for c, t in zip(cols, table.frame.dtypes, strict=True) if t.is_numeric()}
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
) -> str:
    """The whole report page; plotly.js is inlined once and every figure is a div using it.

    A figure's section id is its `layout.meta["chart"]` (planner.charts), else `chart-<n>`.
    """
    from plotly.offline import get_plotlyjs

    when = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    chart_html = []
    nav = ['<a href="#summary">summary</a>']
    for i, fig in enumerate(figures):
        meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
        name = str(meta.get("chart", f"chart-{i + 1}"))
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"{name}-plot",
            config={"displaylogo": False, "responsive": True},
        )
        chart_html.append(f'<section id="{html.escape(name)}" class="chart">{div}</section>')
        nav.append(f'<a href="#{html.escape(name)}">{html.escape(name)}</a>')
    tables_html = "".join(render_table(t) for t in tables)
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
<nav>{"".join(nav)}</nav>
<section id="summary"><h2>Summary</h2>{tables_html}</section>
<h2>Charts</h2>
{"".join(chart_html)}
</body>
</html>
"""
