"""`mjplan density`: throughput of one instance by attempts running at once (packing density).

    mjplan density                                   # the embedded data
    mjplan density --data s3://metrics/attempts --max-slowdown 1.5 --json
    mjplan density --source bench --job-type upload_edit_proxy_v1

Per instance type x job type: for each number of attempts running at once (the measured
`host_running_at_start`), the RTF per attempt, one instance's throughput (media seconds per
second, or jobs per hour for thumbnails), the sample size, the slowdown against one attempt
alone, and throughput per dollar; `best` marks the most throughput per dollar, `bounded` the
most within `--max-slowdown`. Maths in planner.density. Bad arguments, an empty selection and an
unreachable dataset print one line and exit 2.
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

HELP = "throughput of one instance by attempts running at once, best density per dollar"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from planner.density import DEFAULT_MAX_SLOWDOWN, DEFAULT_MIN_ATTEMPTS

    add_data_argument(parser)
    parser.add_argument("--job-type", action="append", metavar="TYPE",
                        help="only this job type (repeat for several)")
    parser.add_argument("--instance-type", action="append", metavar="TYPE",
                        help="only this instance type (repeat; 'unknown' for rows without one)")
    parser.add_argument("--source", action="append", choices=("production", "bench", "synthetic"),
                        help="only rows of this source (repeat for several; default: all)")
    parser.add_argument("--since", metavar="WHEN",
                        help="attempts started at or after (ISO date/time, UTC)")
    parser.add_argument("--max-slowdown", type=float, default=DEFAULT_MAX_SLOWDOWN, metavar="X",
                        help="a job may take at most X times its duration alone "
                        f"(default {DEFAULT_MAX_SLOWDOWN})")
    parser.add_argument("--min-attempts", type=int, default=DEFAULT_MIN_ATTEMPTS, metavar="N",
                        help="levels with fewer succeeded attempts are never chosen "
                        f"(default {DEFAULT_MIN_ATTEMPTS})")
    parser.add_argument("--prices", metavar="FILE",
                        help="price table CSV (default: the shipped data/prices.csv)")
    parser.add_argument("--on-demand", action="store_true",
                        help="per dollar at on-demand prices (default: spot)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def run(args: argparse.Namespace) -> int:
    from planner.dataset import open_dataset
    from planner.density import DensityError, best_densities, check_options, density_curve
    from planner.prices import load_prices
    from planner.queries import to_timestamp

    # The cheap checks first: opening S3 may take seconds.
    check_options(args.max_slowdown, args.min_attempts)
    since = to_timestamp(args.since, "--since")
    prices = load_prices(args.prices)
    ds = open_dataset(args.data, cache=args.cache)
    try:
        curve = density_curve(
            ds, prices, on_demand=args.on_demand, max_slowdown=args.max_slowdown,
            min_attempts=args.min_attempts, job_types=args.job_type,
            instance_types=args.instance_type, since=since, sources=args.source,
        )
        if curve.is_empty():
            raise DensityError(
                f"{ds.url}: no succeeded attempt with host_running_at_start in the selection "
                "(it is recorded from schema version 2 on; `mjcollect bench` measures a machine)")
        best = best_densities(curve)
        if args.json:
            print(json.dumps({
                "dataset": ds.url,
                "max_slowdown": args.max_slowdown,
                "min_attempts": args.min_attempts,
                "price": "on-demand" if args.on_demand else "spot",
                "curve": _records(curve),
                "best": _records(best),
            }, indent=2, default=str))
        else:
            _print_tables(ds.url, curve, args)
    finally:
        ds.close()
    return 0


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(df: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in df.to_dicts()]


def _print_tables(url: str, curve: pl.DataFrame, args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    from collectors import schema
    from planner import formats

    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((120, 24)).columns, 120)
    console = Console(width=width, highlight=False)
    console.print(f"{url}: {int(curve['attempts'].sum())} succeeded attempts with a measured "
                  f"level; prices {'on-demand' if args.on_demand else 'spot'}")
    for job_type in curve["job_type"].unique(maintain_order=True).to_list():
        part = curve.filter(curve["job_type"] == job_type)
        jobs = schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(job_type) == schema.THROUGHPUT_JOBS
        unit = "jobs/h" if jobs else "media s/s"
        table = Table(title=f"{job_type} (throughput of one instance: {unit})",
                      title_justify="left")
        for name in ("instance", "running", "attempts", "RTF/attempt", "s/job", unit,
                     "slowdown", f"{'jobs' if jobs else 'media s'}/USD", "source", ""):
            table.add_column(name, justify="left" if name in ("instance", "source", "") else
                             "right")
        for row in part.iter_rows(named=True):
            mark = " ".join(m for m, on in (("best", row["best"]),
                                            (f"≤{args.max_slowdown:g}x", row["bounded"]),
                                            ("few", not row["eligible"])) if on)
            table.add_row(
                row["instance_type"], str(row["running"]), str(row["attempts"]),
                formats.number(row["rtf"]), formats.number(row["service_s"]),
                formats.number(row["throughput"], 0 if jobs else 2),
                formats.number(row["slowdown"]),
                formats.number(row["per_usd"], 0), row["source"], mark,
            )
        console.print(table)
    console.print(
        "running = attempts of the host in progress when one started (host_running_at_start); "
        "RTF per attempt = input s / wall s; slowdown = duration against running alone; best = "
        f"most throughput per dollar; ≤{args.max_slowdown:g}x = most within --max-slowdown; "
        f"few = under {args.min_attempts} attempts.")
