"""What the notebooks call to show the planner's results well, in JupyterLab, VS Code and an
exported HTML file alike.

* Charts: plotly's renderer `plotly_mimetype+notebook` stores each figure twice in the
  notebook: as plotly's own mimetype (drawn by JupyterLab and VS Code) and as HTML with
  plotly.js inlined once (drawn by `jupyter nbconvert --to html`, GitHub's viewer aside, and
  any browser, offline). The mimetype alone left exported notebooks without charts.
* Tables: the report's formatted tables (units in the headers, sensible decimals: the cells
  `mjplan summary` prints), and polars frames with two decimals and thousands separators.
* The recommendation as sentences (planner.answer), not a dataclass repr.

Imports IPython only when a table is shown (it is the kernel's; the planner does not need it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.report import Table
    from planner.sizing import SizingResult

#: plotly's renderer for the notebooks (see the module's docstring).
RENDERER = "plotly_mimetype+notebook"
#: How polars frames print in the notebooks (`pl.Config(**POLARS_CONFIG)`).
POLARS_CONFIG: dict[str, Any] = {
    "tbl_rows": 60,
    "tbl_cols": 20,
    "float_precision": 2,
    "thousands_separator": ",",
    "tbl_hide_dataframe_shape": True,
}


def setup() -> None:
    """Charts stored for every viewer, frames printed with two decimals; call once at the top."""
    import plotly.io as pio
    import polars as pl

    pio.renderers.default = RENDERER
    pl.Config(**POLARS_CONFIG).__enter__()  # for the kernel's life, as set_* would


def tables(items: Sequence[Table]) -> Any:
    """The report's tables (planner.report.summary_tables, sizing_tables) as one HTML block."""
    from IPython.display import HTML

    from planner.report import render_table

    return HTML("".join(render_table(t) for t in items))  # type: ignore[no-untyped-call]


def answer(result: SizingResult) -> str:
    """The recommendation in sentences (what to buy, per hour and month on spot and
    on-demand, the wait, the demand): print() it."""
    from planner.answer import answer_of

    a = answer_of(result)
    if a is None:
        return "No fleet recommended: no instance type carries the demand."
    return "\n".join(a.lines())
