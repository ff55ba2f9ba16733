"""Arguments several `mjplan` subcommands share, defined once so their spelling and help agree.

Not a subcommand itself (planner.cli lists those). Stays import-light: `mjplan --help` builds
every parser.
"""

from __future__ import annotations

import argparse


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
