"""`mjplan tui [--data URL]`: the interactive planner (jobs, attempt detail, RTF, fleet sizing)."""

from __future__ import annotations

import argparse
import sys

from planner.commands.common import add_data_argument

HELP = "open the interactive planner (jobs, attempts, RTF distributions, fleet sizing)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)


def has_terminal() -> bool:
    """Whether stdin and stdout are a terminal, which the TUI reads keys from and draws on
    (without one Textual spun at 100 % CPU until killed)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def run(args: argparse.Namespace) -> int:
    if not has_terminal():
        print("mjplan: the TUI needs a terminal (stdin and stdout); without one use "
              "`mjplan summary`, `mjplan size` or `mjplan report`", file=sys.stderr)
        return 2
    # The dataset opens and the first page is read in a thread while Textual loads: started
    # before importing the app (planner.tui.data imports no Textual).
    from planner.tui.data import Opening

    opening = Opening(args.data, args.cache)
    from planner.tui.app import PlannerApp

    PlannerApp(url=args.data, cache=args.cache, opening=opening).run()
    return 0
