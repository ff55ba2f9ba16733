"""How the planner writes numbers for people, shared by the CLI, the TUI and the HTML report so
they agree digit for digit."""

from __future__ import annotations

from typing import Any


def fmt_usd(value: Any, digits: int = 2) -> str:
    """`$1,234.50`; "-" for null."""
    return "-" if value is None else f"${value:,.{digits}f}"
