"""`mjplan report --html FILE`: one self-contained HTML page with the summary tables and charts.

    mjplan report --html report.html                          # the embedded data
    mjplan report --html weekly.html --data s3://metrics/attempts --wait p95=30s --on-demand

Takes the sizing options of `mjplan size` (window, percentile, forecasts, growth, utilisation,
wait target, prices, capacity...). plotly.js is embedded in the file, so it opens offline.
Bad arguments, an empty selection and an unreachable dataset print one line and exit 2. When
the data cannot be sized (no host names to measure concurrency, no arrivals in the window) or
no fleet can meet the targets, the report is still written with the statistics and charts, says
why the sizing is left out, and the same line goes to stderr (exit 0): the RTF figures are worth
sharing on their own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "write one self-contained HTML report (summary tables and charts) for sharing"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from planner.commands import size

    parser.add_argument(
        "--html", metavar="FILE", required=True, help="the HTML file to write (replaced)"
    )
    parser.add_argument("--title", default="MediaJobs capacity report", help="the page's title")
    parser.add_argument(
        "--points",
        type=int,
        default=None,
        metavar="N",
        help="attempts drawn per job type x instance type in the charts (default 1500)",
    )
    # The options of `mjplan size`, so a report shows the sizing the terminal shows. Its
    # --json prints a line describing the written report here.
    size.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from planner.commands.size import (
        build_options,
        launch_templates,
        load_checked_prices,
        parse_window,
    )
    from planner.dataset import open_dataset
    from planner.errors import PlannerError
    from planner.fleet import write_fleet_json
    from planner.report import build_report, gather

    # Cheap checks first: a typo should not cost a dataset scan (S3 may take seconds).
    options = build_options(args)
    window = parse_window(args)
    if args.points is not None and args.points < 1:
        raise PlannerError("--points must be at least 1")
    out = Path(args.html)
    if not out.parent.is_dir():
        raise PlannerError(f"--html {args.html}: no folder {out.parent}")
    prices = load_checked_prices(args.prices, options)
    ds = open_dataset(args.data, cache=args.cache)
    try:
        data = gather(ds, options=options, window=window, prices=prices, per_group=args.points)
    finally:
        ds.close()
    templates = launch_templates(args.launch_template)
    page = build_report(data, title=args.title, top=args.top, launch_templates=templates)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # a reader never sees half a report
    if data.sizing_error:
        print(f"mjplan report: sizing left out: {data.sizing_error}", file=sys.stderr)
    elif args.fleet_json and data.result and data.result.recommendation is not None:
        write_fleet_json(
            args.fleet_json, data.result.recommendation, launch_templates=templates
        )
    size_mb = out.stat().st_size / 1e6
    if args.json:
        print(json.dumps({"html": str(out), "bytes": out.stat().st_size, "dataset": data.url}))
    else:
        print(f"wrote {out} ({size_mb:.1f} MB): {data.attempts} attempts from {data.url}")
    return 0
