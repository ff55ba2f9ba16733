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
from typing import TYPE_CHECKING, Any

from planner.commands.common import add_data_argument
from planner.commands.tables import (
    add_format_arguments,
    csv_text,
    fit_columns,
    markdown_table,
    output_format,
    table_text,
    terminal_width,
    wrap,
)
from planner.table_rows import Column, job_type_title, summary_columns, summary_row

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
    add_format_arguments(parser)


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
        args.job_type = _job_types(ds, args.job_type)
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
        if output_format(args) == "json":
            doc = _json_doc(ds, df, args)
            doc["phases"] = [] if phases is None else [
                {k: _clean(v) for k, v in row.items()} for row in phases.to_dicts()]
            print(json.dumps(doc, indent=2, default=str))
        else:
            _print_tables(ds, df, args)
            if phases is not None and output_format(args) == "table":
                _print_phases(phases, args)
    finally:
        ds.close()
    return 0


def _job_types(ds: Dataset, names: list[str] | None) -> list[str] | None:
    """--job-type values by their full or short names (`export`), each one in the data;
    PlannerError naming the known ones for any other."""
    from planner.errors import PlannerError
    from planner.formats import full_job_type, known_job_types
    from planner.queries import distinct_values

    if not names:
        return names
    known = distinct_values(ds, "job_type")
    wanted = [full_job_type(n) for n in names]
    for name, full in zip(names, wanted, strict=True):
        if full not in known:
            raise PlannerError(f"--job-type {name!r}: no such job type in the data; known: "
                               f"{known_job_types(known)}")
    return wanted


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


def _lead(df: pl.DataFrame) -> str:
    """The answer of a summary: the fastest instance type of each job type (enough attempts,
    by aggregate RTF, or jobs per hour for thumbnails)."""
    import polars as pl

    from collectors import schema
    from planner import formats

    if "instance_type" not in df.columns or "input_class" in df.columns:
        return ""
    parts = []
    for job_type in formats.ordered_job_types(df["job_type"].to_list()):
        jobs = schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type) == schema.THROUGHPUT_JOBS
        key = "jobs_per_hour" if jobs else "rtf"
        part = df.filter((pl.col("job_type") == job_type) & ~pl.col("low_sample")
                         & pl.col(key).is_not_null()).sort(key, descending=True)
        if part.height:
            best = part.row(0, named=True)
            speed = (f"{best[key]:,.0f} jobs/h" if jobs
                     else formats.rtf(best[key]))
            parts.append(f"{formats.short_job_type(job_type)} {best['instance_type']} {speed}")
    return "Fastest: " + ", ".join(parts) + "." if parts else ""


def _print_tables(ds: Dataset, df: pl.DataFrame, args: argparse.Namespace) -> None:
    """The fastest type per job type first, then one table per job type in the columns that
    fit the terminal (`--wide`: all; `--format markdown`/`csv`)."""
    from collectors import schema
    from planner import formats
    from planner.stats import LOW_SAMPLE

    fmt = output_format(args)
    width = terminal_width()
    total = int(df["attempts"].sum())
    skipped = f", {len(ds.skipped)} skipped" if ds.skipped else ""
    out: list[str] = []
    if fmt != "csv":
        out.append(wrap(f"{ds.url}: {total:,} attempts, {len(ds.files)} files{skipped}", width))
        lead = _lead(df)
        if lead:
            out.append(wrap(lead, width, "  "))
    has_class = "input_class" in df.columns
    has_instance = "instance_type" in df.columns
    # CSV: one table of every job type (thumbnails fill the jobs/h columns, the others RTF).
    csv_rows: list[dict[str, str]] = []
    for job_type in formats.ordered_job_types(df["job_type"].to_list()):
        part = df.filter(df["job_type"] == job_type)
        jobs = schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type) == schema.THROUGHPUT_JOBS
        title = job_type_title(job_type)
        columns = summary_columns(args.by, jobs, has_instance, has_class)
        rows = [summary_row(r, jobs) for r in part.iter_rows(named=True)]
        if fmt == "csv":
            csv_rows += [{"job_type": job_type, **r} for r in rows]
            continue
        if fmt == "markdown":
            out += ["", f"**{title}**", "",
                    markdown_table(fit_columns(columns, rows, 10_000, args.wide), rows)]
        else:
            out += ["", wrap(title, width), table_text(columns, rows, width=width, wide=args.wide)]
    if fmt == "csv":
        rtf_cols = summary_columns(args.by, False, has_instance, has_class)
        jobs_only = [c for c in summary_columns(args.by, True, has_instance, has_class)
                     if c.key in ("jobs_h", "s_p50", "s_p90")]
        every = [Column("job_type", "job type", right=False), *rtf_cols[:-1], *jobs_only,
                 Column("few", "few", right=False)]
        print(csv_text(every, csv_rows))
        return
    if fmt != "csv":
        out += ["", wrap(
            "RTF = total input seconds / total wall seconds of succeeded attempts (95% CI: delta "
            "method); mean RTF = mean of per-attempt ratios, for contrast; few = under "
            f"{LOW_SAMPLE} attempts.", width)]
    print("\n".join(out))


def _print_phases(phases: pl.DataFrame, args: argparse.Namespace) -> None:
    """Where the wall time goes per group, and the I/O-bound ones (nothing when no attempt
    named phases nor counted io), in the columns that fit the terminal."""
    from planner.formats import number as _fmt
    from planner.formats import short_job_type
    from planner.io_hints import IO_SHARE_LIMIT, has_io_hints, io_bound_sentences

    if not has_io_hints(phases):
        return
    width = terminal_width()
    keys = [k for k in ("job_type", "instance_type") if k in phases.columns]
    columns = [Column(k, k.replace("_type", ""), right=False) for k in keys] + [
        Column("phased", "phased", tier=1),
        *(Column(p, p) for p in ("download", "probe", "transcode", "upload", "other")),
        Column("transcode_rtf", "transcode RTF", tier=1),
        Column("down", "down MB/s", tier=1), Column("up", "up MB/s", tier=1),
        Column("io", "I/O MB/s", tier=2), Column("cpu", "CPU %", tier=2),
        Column("io_bound", "I/O-bound", right=False),
    ]
    rows = []
    for row in phases.iter_rows(named=True):
        cells: dict[str, str] = {
            k: short_job_type(row[k]) if k == "job_type" else str(row[k]) for k in keys}
        for p in ("download", "probe", "transcode", "upload", "other"):
            v = row[f"share_{p}"]
            cells[p] = _fmt(100 * v, 0) if v is not None else "-"
        cells |= {
            "phased": f"{row['phased']}/{row['attempts']}",
            "transcode_rtf": _fmt(row["transcode_rtf"]),
            "down": _fmt(row["download_mb_per_s"], 1),
            "up": _fmt(row["upload_mb_per_s"], 1),
            "io": _fmt(row["io_mb_per_s"], 1),
            "cpu": _fmt(row["cpu_pct_avg"], 0),
            "io_bound": "yes" if row["io_bound"] else "",
        }
        rows.append(cells)
    print()
    print(wrap("Where the wall time goes (succeeded attempts; % of wall time)", width))
    print(table_text(columns, rows, width=width, wide=args.wide))
    for sentence in io_bound_sentences(phases):
        print(wrap(sentence, width, "  "))
    print(wrap(
        f"I/O-bound: over {100 * IO_SHARE_LIMIT:.0f}% of wall time in download/upload phases, "
        "or CPU under half a core while 1 MB/s or more is read or written "
        "(planner/io_hints.py); sizing still uses whole-attempt times.", width))
