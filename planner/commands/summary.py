"""`mjplan summary`: RTF statistics per job type x instance type or input class (tables, JSON),
and, where attempts named phases or io was counted, where their wall time goes and which job
types are I/O-bound (planner.io_hints; JSON key "phases").

    mjplan summary                                   # the embedded data, all job types
    mjplan summary --data s3://metrics/attempts --job-type create_video_export_v1 --by class
    mjplan summary --since 2026-11-01 --until 2026-11-15 --json | jq '.groups[0]'

Bad arguments, an empty selection and an unreachable dataset print one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from typing import TYPE_CHECKING, Any

from planner.commands.common import add_data_argument

if TYPE_CHECKING:
    import polars as pl

    from planner.dataset import Dataset

HELP = "RTF statistics per job type x instance type or input class (tables, or --json)"

BY_CHOICES = ("instance", "class", "codec", "job_type")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)
    parser.add_argument(
        "--job-type",
        action="append",
        metavar="TYPE",
        help="only this job type (repeat for several)",
    )
    parser.add_argument(
        "--instance-type",
        action="append",
        metavar="TYPE",
        help="only this EC2 instance type (repeat for several)",
    )
    parser.add_argument(
        "--since", metavar="WHEN", help="attempts started at or after (ISO date/time, UTC)"
    )
    parser.add_argument(
        "--until", metavar="WHEN", help="attempts started before (ISO date/time, UTC)"
    )
    parser.add_argument(
        "--by",
        choices=BY_CHOICES,
        default="instance",
        help="group by instance type (default), input class (resolution band) or codec, "
        "or job type alone",
    )
    parser.add_argument(
        "--only",
        choices=("measured", "synthetic"),
        help="only measured rows or only synthetic ones (default: both)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def run(args: argparse.Namespace) -> int:
    from planner.dataset import open_dataset
    from planner.io_hints import phase_summary
    from planner.queries import to_timestamp
    from planner.stats import rtf_summary

    # Check the cheap arguments before opening anything (S3 may take seconds).
    since = to_timestamp(args.since, "--since")
    until = to_timestamp(args.until, "--until")
    synthetic = None if args.only is None else args.only == "synthetic"
    ds = open_dataset(args.data, cache=args.cache)
    try:
        df = rtf_summary(
            ds,
            by=args.by,
            job_type=args.job_type,
            instance_type=args.instance_type,
            since=since,
            until=until,
            synthetic=synthetic,
        )
        phases = phase_summary(
            ds,
            by="job_type" if args.by == "job_type" else "instance",
            job_type=args.job_type,
            instance_type=args.instance_type,
            since=since,
            until=until,
            synthetic=synthetic,
        ) if int(df["succeeded"].sum()) else None
        if args.json:
            doc = _json_doc(ds, df, args)
            doc["phases"] = [] if phases is None else [
                {k: _clean(v) for k, v in row.items()} for row in phases.to_dicts()]
            print(json.dumps(doc, indent=2, default=str))
        else:
            _print_tables(ds, df, args)
            if phases is not None:
                _print_phases(phases)
    finally:
        ds.close()
    return 0


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_doc(ds: Dataset, df: pl.DataFrame, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "dataset": ds.url,
        "files": len(ds.files),
        "skipped_files": [{"path": s.path, "reason": s.reason} for s in ds.skipped],
        "by": args.by,
        "filters": {
            "job_type": args.job_type,
            "instance_type": args.instance_type,
            "since": args.since,
            "until": args.until,
            "only": args.only,
        },
        "groups": [{k: _clean(v) for k, v in row.items()} for row in df.to_dicts()],
    }


def _print_tables(ds: Dataset, df: pl.DataFrame, args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    from collectors import schema
    from planner import formats
    from planner.stats import LOW_SAMPLE

    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((160, 24)).columns, 160)
    console = Console(width=width, highlight=False)
    total = int(df["attempts"].sum())
    skipped = f", {len(ds.skipped)} skipped" if ds.skipped else ""
    console.print(f"{ds.url}: {total} attempts, {len(ds.files)} files{skipped}")
    has_class = "input_class" in df.columns
    has_instance = "instance_type" in df.columns
    for job_type in df["job_type"].unique(maintain_order=True).to_list():
        part = df.filter(df["job_type"] == job_type)
        jobs = schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type) == schema.THROUGHPUT_JOBS
        title = f"{job_type} ({'jobs per hour per busy slot' if jobs else 'RTF: media s / wall s'})"
        table = Table(title=title, title_justify="left")
        if has_instance:
            table.add_column("instance")
        if has_class:
            table.add_column(args.by)
        table.add_column("attempts", justify="right")
        table.add_column("ok %", justify="right")
        if jobs:
            for name in ("jobs/h", "95% CI", "s/job p50", "s/job p90"):
                table.add_column(name, justify="right")
        else:
            for name in ("RTF", "95% CI", "mean RTF", "p10", "p50", "p90", "p99"):
                table.add_column(name, justify="right")
        table.add_column("CPU %", justify="right")
        table.add_column("RSS MB p90", justify="right")
        table.add_column("")
        for row in part.iter_rows(named=True):
            cells: list[str] = []
            if has_instance:
                cells.append(str(row["instance_type"]))
            if has_class:
                cells.append(str(row["input_class"]))
            cells += [str(row["attempts"]), formats.number(100 * row["success_rate"], 1)]
            if jobs:
                cells += [
                    formats.number(row["jobs_per_hour"], 0),
                    formats.interval(row["jobs_per_hour_ci_low"], row["jobs_per_hour_ci_high"], 0),
                    formats.number(row["seconds_per_job_p50"]),
                    formats.number(row["seconds_per_job_p90"]),
                ]
            else:
                cells += [
                    formats.number(row["rtf"]),
                    formats.interval(row["rtf_ci_low"], row["rtf_ci_high"]),
                    formats.number(row["rtf_mean"]),
                    *(formats.number(row[f"rtf_p{p}"]) for p in (10, 50, 90, 99)),
                ]
            cells += [
                formats.number(row["cpu_pct_avg"], 0),
                formats.number(row["mem_rss_mb_p90"], 0),
                "few" if row["low_sample"] else "",
            ]
            table.add_row(*cells)
        console.print(table)
    console.print(
        "RTF = total input seconds / total wall seconds of succeeded attempts (95% CI: delta "
        "method); mean RTF = mean of per-attempt ratios, for contrast; few = under "
        f"{LOW_SAMPLE} attempts."
    )


def _print_phases(phases: pl.DataFrame) -> None:
    """Where the wall time goes per group, and the I/O-bound ones (nothing when no attempt
    named phases nor counted io)."""
    from rich.console import Console
    from rich.table import Table

    from planner.formats import number as _fmt
    from planner.io_hints import IO_SHARE_LIMIT, has_io_hints, io_bound_sentences

    if not has_io_hints(phases):
        return
    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((160, 24)).columns, 160)
    console = Console(width=width, highlight=False)
    table = Table(title="Where the wall time goes (succeeded attempts; % of wall time)",
                  title_justify="left")
    keys = [k for k in ("job_type", "instance_type") if k in phases.columns]
    for key in keys:
        table.add_column(key.replace("_type", ""))
    for name in ("phased", "download", "probe", "transcode", "upload", "other",
                 "transcode RTF", "down MB/s", "up MB/s", "I/O MB/s", "CPU %", "I/O-bound"):
        table.add_column(name, justify="right")
    for row in phases.iter_rows(named=True):
        shares = [row[f"share_{p}"] for p in ("download", "probe", "transcode", "upload", "other")]
        table.add_row(
            *(str(row[k]) for k in keys),
            f"{row['phased']}/{row['attempts']}",
            *(_fmt(100 * v, 0) if v is not None else "-" for v in shares),
            _fmt(row["transcode_rtf"]),
            _fmt(row["download_mb_per_s"], 1),
            _fmt(row["upload_mb_per_s"], 1),
            _fmt(row["io_mb_per_s"], 1),
            _fmt(row["cpu_pct_avg"], 0),
            "yes" if row["io_bound"] else "",
        )
    console.print(table)
    for sentence in io_bound_sentences(phases):
        console.print(sentence)
    console.print(
        f"I/O-bound: over {100 * IO_SHARE_LIMIT:.0f}% of wall time in download/upload phases, "
        "or CPU under half a core while 1 MB/s or more is read or written "
        "(planner/io_hints.py); sizing still uses whole-attempt times."
    )
