"""Arguments several `mjplan` subcommands share, defined once so their spelling and help agree.

Not a subcommand itself (planner.cli lists those). Stays import-light: `mjplan --help` builds
every parser.
"""

from __future__ import annotations

import argparse
import math
from typing import Any


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """`--data URL`: the dataset to read, None for the embedded data; `--refresh` and
    `--no-cache` set `args.cache` ("on" by default: planner.cache)."""
    parser.add_argument(
        "--data",
        metavar="URL",
        default=None,
        help="dataset: a folder, a .parquet file or s3://bucket/prefix (default: the "
        "embedded data)",
    )
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--refresh", dest="cache", action="store_const", const="refresh",
                       default="on", help="build the local cache of the dataset anew")
    cache.add_argument("--no-cache", dest="cache", action="store_const", const="off",
                       help="read the dataset's files, without the local cache")


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float (inf, nan) as None, through dicts, lists and tuples:
    JSON has no inf/nan."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
