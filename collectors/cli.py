"""`mjcollect`: the worker-side command.

Each subcommand lives in its own module under `collectors.commands`, exposing `HELP` (one line),
`add_arguments(parser)` and `run(args) -> int` (the exit code). Modules keep heavy imports inside
`run`, so `mjcollect --help` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

#: Subcommand name -> module. A module that is not there yet is simply not offered.
SUBCOMMANDS = {
    "run": "collectors.commands.run",
    "demo": "collectors.commands.demo",
    "ingest": "collectors.commands.ingest",
    "flush": "collectors.commands.flush",
    "status": "collectors.commands.status",
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(prog="mjcollect", description=__doc__.splitlines()[0])
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
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="mjcollect: %(levelname)s %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 2
    module = modules[args.command]
    try:
        return int(module.run(args))  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
