"""`mjplan size --json` as a dict to compare two sizings by: the dataset's name left out and
floats to 12 significant digits (shared by the tests that size from saved or engine inputs)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from planner.cli import main as mjplan


def size_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert mjplan(["size", "--json", *argv]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    doc.pop("dataset")
    rounded: dict[str, Any] = significant(doc)
    return rounded


def significant(value: Any) -> Any:
    """Floats to 12 significant digits: DuckDB sums in parallel, so the same sum over the same
    rows can differ in its last bit from one run to the next (0.01426145984465182 and
    0.014261459844651816 were seen); everything else compares exactly."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: significant(v) for k, v in value.items()}
    if isinstance(value, list):
        return [significant(v) for v in value]
    return value
