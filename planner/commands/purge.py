"""`mjplan purge URL --older-than 180d`: delete partitions older than a cutoff."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from planner.commands.compact import add_lease_arguments, run_under_lease

if TYPE_CHECKING:
    from rich.console import Console

    from planner.compact import PurgePlan
    from planner.lease import Lease

HELP = "delete dt= partitions older than a cutoff (prints the plan; --yes to delete)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="dataset: a folder or s3://bucket/prefix")
    parser.add_argument("--older-than", required=True,
                        help="age of the partitions to delete, e.g. 180d or 26w (dt < today - age)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--yes", action="store_true", help="delete without asking")
    mode.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    add_lease_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from planner.compact import parse_age_days, plan_purge

    days = parse_age_days(args.older_than)
    # The same lease as compact: a compaction must not write into a partition being deleted.
    return run_under_lease(args, "purge", lambda: plan_purge(args.url, days), _purge)


def _purge(args: argparse.Namespace, console: Console, plan: PurgePlan,
           lease: Lease | None) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from planner.compact import run_purge
    from planner.errors import PlannerError

    console.print(f"{args.url}: partitions with dt before {plan.cutoff.isoformat()} go; "
                  f"{len(plan.delete)} to delete, {plan.keep} kept")
    for path in plan.unparsed:
        console.print(f"left alone (dt is not a date): {path}")
    if not plan.delete:
        console.print("nothing to purge")
        return 0
    table = Table(title="to delete")
    table.add_column("partition", overflow="fold")
    table.add_column("files", justify="right")
    table.add_column("bytes", justify="right")
    for part in plan.delete[:30]:
        table.add_row(part.path[len(plan.root):].strip("/"), f"{part.files:,}", f"{part.bytes:,}")
    if len(plan.delete) > 30:
        table.add_row(f"... {len(plan.delete) - 30} more", "", "")
    console.print(table)
    if args.dry_run:
        console.print("dry run: nothing deleted")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise PlannerError("not deleting without --yes (or --dry-run to only see the plan)")
        answer = console.input(f"delete {len(plan.delete)} partitions? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            console.print("nothing deleted")
            return 1
    with Progress(TextColumn("purging"), BarColumn(), MofNCompleteColumn(), console=console,
                  transient=not console.is_terminal) as progress:
        task = progress.add_task("", total=len(plan.delete))
        files = run_purge(plan, lambda _p: progress.update(task, advance=1), lease)
    console.print(f"done: {len(plan.delete)} partitions, {files:,} files deleted")
    return 0
