"""`mjplan`: the analysis-side command. With no arguments it opens the TUI on the embedded data.

Each subcommand lives in its own module under `planner.commands`, exposing `HELP` (one line),
`add_arguments(parser)` and `run(args) -> int` (the exit code). Modules keep heavy imports inside
`run`, so `mjplan --help` stays instant. A `PlannerError` (planner.errors) raised by a command
prints one line and exits 2; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from planner.errors import PlannerError

SUBCOMMANDS = {
    "tui": "planner.commands.tui",
    "summary": "planner.commands.summary",
    "size": "planner.commands.size",
    "report": "planner.commands.report",
    "compact": "planner.commands.compact",
    "purge": "planner.commands.purge",
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(prog="mjplan", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, object] = {}
    for name, module_name in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        modules[name] = module
    return parser, modules


def main(argv: Sequence[str] | None = None) -> int:
    parser, modules = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv and "tui" in modules:
        argv = ["tui"]
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="mjplan: %(levelname)s %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 2
    module = modules[args.command]
    try:
        return int(module.run(args))  # type: ignore[attr-defined]
    except PlannerError as exc:
        print(f"mjplan {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
