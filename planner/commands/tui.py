"""`mjplan tui [--data URL]`: the interactive planner (jobs, attempt detail, RTF, fleet sizing)."""

from __future__ import annotations

import argparse

HELP = "open the interactive planner (jobs, attempts, RTF distributions, fleet sizing)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="URL",
        default=None,
        help="dataset: a folder or s3://bucket/prefix (default: the embedded data)",
    )


def run(args: argparse.Namespace) -> int:
    from planner.tui.app import PlannerApp

    PlannerApp(url=args.data).run()
    return 0
