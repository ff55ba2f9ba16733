"""Tables of `mjplan size` and `mjplan summary` that fit the terminal, and their other formats.

Each column has a tier: 0 always shown, 1 where the terminal has room for it, 2 with `--wide`
only. Tier-1 columns are dropped from the right until every line fits (never a cell squeezed
to `c5…`), so 80 columns show the essentials and 120 most of the rest. `--format csv` and
`json` give every column, for scripts; `markdown` the columns a table would show, for
pasting. Not a subcommand (planner.cli lists those).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from planner.table_rows import Column

FORMATS = ("table", "csv", "json", "markdown")
def add_format_arguments(parser: argparse.ArgumentParser) -> None:
    """`--format table|csv|json|markdown`, `--wide` and `--json` (= `--format json`)."""
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (fits the terminal; default), csv or json (every column), "
                        "markdown")
    parser.add_argument("--wide", action="store_true",
                        help="every column in the table, however wide the terminal")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts "
                        "(= --format json)")


def output_format(args: argparse.Namespace) -> str:
    return "json" if getattr(args, "json", False) else str(getattr(args, "format", "table"))


def terminal_width() -> int:
    """Columns of the terminal (or $COLUMNS); 80 when output goes to a pipe or file."""
    return shutil.get_terminal_size((80, 24)).columns


def _render(columns: Sequence[Column], rows: Sequence[Mapping[str, str]]) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    for c in columns:
        table.add_column(c.header, justify="right" if c.right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(row.get(c.key, "") for c in columns))
    out = io.StringIO()
    # Wide enough never to squeeze a cell: the caller picks the columns so it fits.
    Console(file=out, width=10_000, color_system=None, highlight=False).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def fit_columns(
    columns: Sequence[Column], rows: Sequence[Mapping[str, str]], width: int, wide: bool
) -> list[Column]:
    """The columns drawn in `width` cells: every one with `wide`, else tiers 0 and 1, the
    highest-tier ones dropped from the right until it fits (tier 0 stays)."""
    if wide:
        return list(columns)
    chosen = [c for c in columns if c.tier <= 1]
    while len(chosen) > 1 and _width(_render(chosen, rows)) > width:
        worst = max(c.tier for c in chosen)
        drop = next(c for c in reversed(chosen) if c.tier == worst)
        if worst == 0 and drop is chosen[0]:
            break
        chosen.remove(drop)
    return chosen


def _width(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def table_text(
    columns: Sequence[Column], rows: Sequence[Mapping[str, str]], *, width: int, wide: bool
) -> str:
    """The rows as a text table of the columns that fit `width` (see fit_columns)."""
    return _render(fit_columns(columns, rows, width, wide), rows)


def markdown_table(columns: Sequence[Column], rows: Sequence[Mapping[str, str]]) -> str:
    """A GitHub-flavoured Markdown table (`|` in a cell escaped)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    head = "| " + " | ".join(cell(c.header) for c in columns) + " |"
    rule = "|" + "|".join("---:" if c.right else ":---" for c in columns) + "|"
    body = ["| " + " | ".join(cell(r.get(c.key, "")) for c in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def csv_text(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with a header of the column headers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.header for c in columns])
    writer.writerows([[r.get(c.key, "") for c in columns] for r in rows])
    return out.getvalue().rstrip("\n")


def json_text(doc: Any) -> str:
    return json.dumps(doc, indent=2, default=str)


def wrap(text: str, width: int, indent: str = "") -> str:
    """`text` in lines of at most `width` cells, later lines indented by `indent`."""
    return textwrap.fill(text, width=max(20, width), subsequent_indent=indent,
                         break_on_hyphens=False)
