"""One subcommand dispatcher for both commands, `mjcollect` and `mjplan`.

A subcommand is a module exposing `HELP` (one line), `add_arguments(parser)` and
`run(args) -> int` (the exit code), and optionally `LOG_LEVEL` (its default logging level,
e.g. WARNING for a wrapper whose stderr is someone else's) and `CONFIGURES_LOGGING = True`
(then it calls `args.configure_logging()` itself before its first log line: `mjcollect run`
starts the job before logging is even imported). Modules keep heavy imports inside
`run`, so `--help` stays instant. This lives in `collectors` because `planner` may import
`collectors`, not the reverse.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType

TYPE_CHECKING = False  # typing is not imported at run time (see collectors.commands.run)
if TYPE_CHECKING:
    from typing import NoReturn

#: The distribution both commands come from (pyproject.toml), for `--version`.
DISTRIBUTION = "mediajobs-capacity"

#: What argparse's `type=` names mean, in the words of a one-line error.
_TYPE_WORDS = {"float": "a number", "int": "a whole number"}


def usage_error(message: str) -> str:
    """argparse's error message in a user's words: `argument --utilisation: invalid float
    value: 'x'` -> `--utilisation: expected a number, got 'x'`."""
    m = re.fullmatch(r"argument (\S+?)(?:/\S+)?: invalid (\w+) value: (.*)", message)
    if m:
        return f"{m[1]}: expected {_TYPE_WORDS.get(m[2], 'a ' + m[2])}, got {m[3]}"
    m = re.fullmatch(r"argument (\S+?)(?:/\S+)?: invalid choice: (.*?) \(choose from (.*)\)",
                     message)
    if m and m[1].isupper():  # a positional named by its metavar: COMMAND
        return f"{m[2]} is not a {m[1].lower()} (one of {m[3]})"
    if m:
        return f"{m[1]}: {m[2]} is not one of {m[3]}"
    return message.removeprefix("argument ")


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and a hint, not the usage block:
    `mjplan size: --utilisation: expected a number, got 'x' (mjplan size --help)`."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {usage_error(message)} (see {self.prog} --help)\n")


class _VersionAction(argparse.Action):
    """`--version`: looked up only when asked (importlib.metadata costs milliseconds that
    `mjcollect run` would add to every job)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"{parser.prog} {version()}")
        parser.exit()


def version() -> str:
    """The installed version of the distribution, or "unknown" (run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    try:
        return _version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def configure_logging(prog: str, level: int, *, verbose: bool) -> None:
    """Log lines as `prog: LEVEL message` on stderr, from `level` up (DEBUG when `verbose`)."""
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose else level,
                        format=f"{prog}: %(levelname)s %(message)s")
    if not verbose:
        # botocore says at INFO where it found credentials and endpoints, on every run.
        logging.getLogger("botocore").setLevel(logging.WARNING)


def build_parser(
    prog: str, description: str, subcommands: Mapping[str, str]
) -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """The parser with one subparser a subcommand, and the subcommand modules by name."""
    parser = OneLineParser(prog=prog, description=description)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, ModuleType] = {}
    for name, module_name in subcommands.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        modules[name] = module
    parser.set_defaults(_subparsers=sub.choices)
    return parser, modules


def main(
    prog: str,
    description: str,
    subcommands: Mapping[str, str],
    argv: Sequence[str] | None = None,
    *,
    default_command: str | None = None,
    log_level: int = 20,  # logging.INFO (logging is imported when logging is set up)
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
    args, unknown = parser.parse_known_args(args_list)
    if unknown:
        # Named by the subcommand they were given to, with its --help as the hint.
        sub = args._subparsers.get(args.command, parser) if args.command else parser
        sub.error(f"unrecognized arguments: {' '.join(unknown)}")
    module = modules.get(args.command) if args.command else None
    level = getattr(module, "LOG_LEVEL", log_level)
    args.configure_logging = lambda: configure_logging(prog, level, verbose=args.verbose)
    if not getattr(module, "CONFIGURES_LOGGING", False):
        args.configure_logging()
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
