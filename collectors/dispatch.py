"""One subcommand dispatcher for both commands, `mjcollect` and `mjplan`.

A subcommand is a module exposing `HELP` (one line), `add_arguments(parser)` and
`run(args) -> int` (the exit code), and optionally `LOG_LEVEL` (its default logging level,
e.g. WARNING for a wrapper whose stderr is someone else's). Modules keep heavy imports inside
`run`, so `--help` stays instant. This lives in `collectors` because `planner` may import
`collectors`, not the reverse.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType


def build_parser(
    prog: str, description: str, subcommands: Mapping[str, str]
) -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """The parser with one subparser a subcommand, and the subcommand modules by name."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, ModuleType] = {}
    for name, module_name in subcommands.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        modules[name] = module
    return parser, modules


def main(
    prog: str,
    description: str,
    subcommands: Mapping[str, str],
    argv: Sequence[str] | None = None,
    *,
    default_command: str | None = None,
    log_level: int = logging.INFO,
    user_errors: tuple[type[Exception], ...] = (),
    lazy: bool = False,
) -> int:
    """Parse `argv` (default: the process arguments), run the chosen subcommand, return its code.

    `default_command` runs when there are no arguments at all. `lazy`: a named subcommand
    imports only its own module (the overview imports them all). An exception of
    a `user_errors` type is the user's mistake, not a bug: one line on stderr and exit code 2,
    no traceback.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list and default_command is not None:
        args_list = [default_command]
    # `lazy`: the named subcommand's module only (`mjcollect run` wraps every job, and
    # importing the other commands' modules was a good part of what it added to a short one).
    chosen = {args_list[0]: subcommands[args_list[0]]} if (
        lazy and args_list and args_list[0] in subcommands) else subcommands
    parser, modules = build_parser(prog, description, chosen)
    args = parser.parse_args(args_list)
    module = modules.get(args.command) if args.command else None
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else getattr(module, "LOG_LEVEL", log_level),
        format=f"{prog}: %(levelname)s %(message)s",
    )
    if not args.verbose:
        # botocore says at INFO where it found credentials and endpoints, on every run.
        logging.getLogger("botocore").setLevel(logging.WARNING)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(modules[args.command].run(args))
    except user_errors as exc:
        print(f"{prog} {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
