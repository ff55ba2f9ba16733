"""`mjplan compact URL`: rewrite each partition's small files into a few large ones."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

    from planner.compact import CompactionPlan
    from planner.lease import Lease

PlanT = TypeVar("PlanT")

HELP = "rewrite each partition's small Parquet files into few large ones (no row lost)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="dataset: a folder or s3://bucket/prefix")
    parser.add_argument("--target-size", default="128MB",
                        help="size of the files to make, binary units (default 128MB)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    add_lease_arguments(parser)


def add_lease_arguments(parser: argparse.ArgumentParser) -> None:
    """--lease and --break-lease, shared with purge (one lease per dataset for both)."""
    parser.add_argument("--lease", default="6h", metavar="DURATION",
                        help="how long this run's lock (<dataset>/_compaction.lock) holds off "
                             "other compact/purge runs, e.g. 30m, 6h (default 6h); an expired "
                             "lock is taken over")
    parser.add_argument("--break-lease", action="store_true",
                        help="take over a live lock whose run is known to be gone")


def run_under_lease(
    args: argparse.Namespace,
    command: str,
    make_plan: Callable[[], PlanT],
    body: Callable[[argparse.Namespace, Console, PlanT, Lease | None], int],
) -> int:
    """How compact and purge run: a dry run lists the plan, takes no lease and says when one is
    held (the real run would be refused); a real run takes the lease first, so the plan is
    listed by the one run that may change the dataset, then runs `body` under it."""
    from rich.console import Console

    from planner.compact import parse_duration_s
    from planner.lease import acquire_lease, describe_lease

    lease_s = parse_duration_s(args.lease)
    console = Console(soft_wrap=True)
    if args.dry_run:
        code = body(args, console, make_plan(), None)
        note = describe_lease(args.url)
        if note is not None:
            console.print(note, markup=False, highlight=False)
        return code
    with acquire_lease(args.url, command, duration_s=lease_s,
                       break_lease=args.break_lease) as lease:
        return body(args, console, make_plan(), lease)


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.1f} MiB" if n >= 1024**2 else f"{n / 1024:,.1f} KiB"


def run(args: argparse.Namespace) -> int:
    from planner.compact import parse_size, plan_compaction

    target = parse_size(args.target_size)
    return run_under_lease(args, "compact", lambda: plan_compaction(args.url, target), _compact)


def _compact(args: argparse.Namespace, console: Console, plan: CompactionPlan,
             lease: Lease | None) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from planner.compact import GroupResult, run_compaction

    console.print(f"{args.url}: {plan.files:,} files in {plan.partitions:,} partitions, "
                  f"{_mb(plan.bytes)}; target {_mb(plan.target_bytes)} per file")
    if plan.legacy:
        console.print(f"{plan.legacy:,} files hold job_type as a column too (the layout before "
                      "the Hive convention): rewritten with it in the path only")
    if not plan.groups:
        console.print("nothing to compact")
        return 0
    table = Table(title="plan")
    table.add_column("partition", overflow="fold")
    for name in ("files in", "files out", "size in"):
        table.add_column(name, justify="right")
    per_part: dict[str, list[int]] = {}
    for g in plan.groups:
        agg = per_part.setdefault(g.partition, [0, 0, 0])
        agg[0] += len(g.inputs)
        agg[1] += 1
        agg[2] += g.bytes
    shown = sorted(per_part.items())
    for part, (n_in, n_out, size) in shown[:20]:
        table.add_row(part, f"{n_in:,}", f"{n_out:,}", _mb(size))
    if len(shown) > 20:
        table.add_row(f"... {len(shown) - 20} more partitions", "", "", "")
    console.print(table)
    console.print(f"{plan.files_in:,} files -> {len(plan.groups):,} files")
    if args.dry_run:
        console.print("dry run: nothing changed")
        return 0
    with Progress(TextColumn("compacting"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=console,
                  transient=not console.is_terminal) as progress:
        task = progress.add_task("", total=len(plan.groups))

        def step(gr: GroupResult) -> None:
            progress.update(task, advance=1, description=gr.group.partition)

        result = run_compaction(plan, step, lease)
    console.print(f"done: {result.files_written:,} files written, {result.files_deleted:,} "
                  f"deleted; {result.rows_in:,} rows in, {result.rows_out:,} rows out "
                  f"({result.rows_in - result.rows_out:,} duplicate attempt_ids merged)")
    for path, reason in result.skipped:
        console.print(f"left alone: {path} ({reason})")
    return 1 if result.skipped else 0
