"""The collector's version, written on every row (`collector_version`).

The one place it is set: pyproject.toml reads VERSION from here (`[tool.setuptools.dynamic]`),
so every row gets it without importlib.metadata, whose import and look-up through the
installed distributions cost a short job tens of milliseconds of CPU on each `mjcollect run`.
"""

from __future__ import annotations

DISTRIBUTION = "mediajobs-capacity"

VERSION = "0.1.0"


def collector_version() -> str:
    """The collector's version ("0.1.0")."""
    return VERSION
