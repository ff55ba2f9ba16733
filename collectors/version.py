"""The collector's version, written on every row (`collector_version`)."""

from __future__ import annotations

from functools import cache

DISTRIBUTION = "mediajobs-capacity"


@cache
def collector_version() -> str:
    """The installed distribution's version ("0.1.0"), or "0+unknown" when not installed."""
    # importlib.metadata costs a few ms to import: only on the first finished attempt.
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"
