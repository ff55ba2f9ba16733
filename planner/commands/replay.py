"""`mjplan replay`: what the window would have looked like with a given fleet.

    mjplan replay --instance-type c7i.large --instances 6            # last 14 days, 6 instances
    mjplan replay --instance-type c7g.xlarge --instances 3 --slots 4 --window 7d --json

Runs the window's real arrivals (or, with --forecast/--growth, arrivals drawn per hour with the
measured burstiness) through that many instances x slots, first come first served, with service
times drawn from those measured per job type on that type (planner.replay; docs/sizing.md), and
prints the wait per job type and per hour. Bad input prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from planner.commands.common import add_data_argument, json_safe

HELP = "wait per job type and per hour had a given fleet run the window (a replay)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)
    parser.add_argument("--instance-type", required=True, metavar="TYPE")
    parser.add_argument("--instances", required=True, type=int, metavar="N")
    parser.add_argument("--slots", default="auto", metavar="auto|mean|max|N",
                        help="job slots per instance (default auto, as mjplan size)")
    parser.add_argument("--window", default="14d", metavar="DURATION",
                        help="how far back from the last attempt: 14d, 36h, 2w (default 14d)")
    parser.add_argument("--wait", default="p95=60s", metavar="pNN=DURATION",
                        help="the wait target the hours are judged by (default p95=60s)")
    parser.add_argument("--forecast", action="append", default=[], metavar="JOB_TYPE=VALUE",
                        help="replay a forecast instead of the data's arrivals (as mjplan size)")
    parser.add_argument("--growth", type=float, default=1.0, metavar="FACTOR")
    parser.add_argument("--prices", metavar="FILE", default=None,
                        help="price table CSV (for estimated types; default data/prices.csv)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def run(args: argparse.Namespace) -> int:
    from planner.dataset import open_dataset
    from planner.prices import load_prices
    from planner.sizing import load_sizing_inputs, replay_fleet
    from planner.sizing_options import build_sizing_options, parse_window

    options = build_sizing_options(slots=args.slots, wait=args.wait or "p95=60s",
                                   forecasts=args.forecast, growth=args.growth)
    window = parse_window(args.window, "--window")
    prices = load_prices(args.prices)
    ds = open_dataset(args.data)
    try:
        inputs = load_sizing_inputs(ds, window=window, prices=prices)
    finally:
        ds.close()
    got = replay_fleet(inputs, options, args.instance_type, args.instances)
    doc = got.to_dict()
    if args.json:
        print(json.dumps(json_safe(doc), indent=2))
        return 0
    _print(doc)
    return 0


def _print(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(
        f"[bold]{doc['instances']} x {doc['instance_type']}[/] ({doc['slots']} slots: "
        f"{doc['slots_source']}), {doc['arrivals']}: {doc['target']} met in "
        f"{doc['hours_met']} of {doc['hours']} hours; {doc['share_over_target']:.1%} of jobs "
        f"over the target")
    table = Table(title="Wait per job type")
    for col in ("job type", "jobs", "wait at target pct", "over target"):
        table.add_column(col, justify="left" if col == "job type" else "right")
    for r in doc["job_types"]:
        table.add_row(r["job_type"], f"{r['jobs']:,}", f"{r['wait_at_percentile_s']:.1f}s",
                      f"{r['share_over_target']:.1%}")
    console.print(table)
    worst = sorted((h for h in doc["by_hour"] if h["jobs"]),
                   key=lambda h: -(h["wait_at_percentile_s"] or 0))[:10]
    hours = Table(title="Worst hours (--json for every hour)")
    for col in ("hour", "jobs", "wait at target pct"):
        hours.add_column(col, justify="left" if col == "hour" else "right")
    for h in worst:
        hours.add_row(str(h["hour"])[:16], str(h["jobs"]), f"{h['wait_at_percentile_s']:.1f}s")
    console.print(hours)
