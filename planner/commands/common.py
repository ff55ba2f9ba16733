"""Arguments several `mjplan` subcommands share, defined once so their spelling and help agree.

Not a subcommand itself (planner.cli lists those). Stays import-light: `mjplan --help` builds
every parser.
"""

from __future__ import annotations

import argparse


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """`--data URL`: the dataset to read, None for the embedded data."""
    parser.add_argument(
        "--data",
        metavar="URL",
        default=None,
        help="dataset: a folder, a .parquet file or s3://bucket/prefix (default: the "
        "embedded data)",
    )
