"""`mjplan cache ls|clear`: the local caches of datasets (planner.cache).

    mjplan cache ls [--json]                 # every cache file: dataset URL, size, files, rows
    mjplan cache clear [--data URL]          # delete one dataset's cache, or all of them
"""

from __future__ import annotations

import argparse

HELP = "list or delete the local caches of datasets (ls, clear)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ls|clear")
    ls = sub.add_parser("ls", help="list the cache files")
    ls.add_argument("--json", action="store_true", help="JSON for scripts")
    clear = sub.add_parser("clear", help="delete cache files")
    clear.add_argument("--data", metavar="URL", default=None,
                       help="only this dataset's cache (default: every cache)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from planner.cache import cache_dir, clear_caches, describe, list_caches

    console = Console()
    if args.action == "clear":
        gone = clear_caches(args.data)
        console.print(f"deleted {len(gone)} cache file{'s' if len(gone) != 1 else ''}"
                      f" in {cache_dir()}", highlight=False)
        return 0
    entries = list_caches()
    if args.json:
        print(describe(entries))
        return 0
    if not entries:
        console.print(f"no cache files in {cache_dir()}", highlight=False)
        return 0
    table = Table(title=str(cache_dir()))
    for name in ("dataset", "MB", "files", "rows", "updated"):
        table.add_column(name, justify="left" if name in ("dataset", "updated") else "right",
                         overflow="fold")
    for e in entries:
        table.add_row(e.url or f"(unreadable: {e.path.name}, rebuilt on next open)",
                      f"{e.bytes / 1e6:.1f}", f"{e.files:,}", f"{e.rows:,}", e.updated or "")
    console.print(table)
    return 0
