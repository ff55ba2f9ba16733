"""`mjplan tui [--data URL]`: the interactive planner (jobs, attempt detail, RTF, fleet sizing)."""

from __future__ import annotations

import argparse

from planner.commands.common import add_data_argument

HELP = "open the interactive planner (jobs, attempts, RTF distributions, fleet sizing)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)


def run(args: argparse.Namespace) -> int:
    from planner.tui.app import PlannerApp

    PlannerApp(url=args.data, cache=args.cache).run()
    return 0
