"""`mjplan size`: instances per type for the demand, ranked by cost, and a recommended fleet.

    mjplan size                                          # embedded data, p95 hour of 14 days
    mjplan size --data s3://metrics/attempts --window 28d --percentile 99 --wait p95=30s
    mjplan size --forecast export=120 --forecast thumb=900/h --growth 1.2 --on-demand --json
    mjplan size --wide                  # every column (80 columns: the essential ones)
    mjplan size --format markdown       # or csv (every column) / json
    mjplan size --prices my-prices.csv --fleet-json fleet.json   # then: aws ec2 create-fleet \
                                                                 #   --cli-input-json file://...

It leads with the answer (planner.answer): what to buy, $/h and $/month on spot and on-demand,
the wait and the cost of a media hour, the demand sized for. Formulas: docs/sizing.md (and
planner.sizing). Impossible inputs print one line and exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from planner.commands.common import add_data_argument, json_safe
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
from planner.table_rows import ranked_columns, ranked_rows

if TYPE_CHECKING:
    from planner.dataset import SkippedFile
    from planner.prices import PriceTable
    from planner.sizing import SizingOptions, SizingResult

HELP = "fleet size per instance type for the demand, ranked by cost, and a spot fleet request"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser)
    parser.add_argument(
        "--inputs",
        metavar="FILE|FOLDER",
        default=None,
        help="size from a sizing inputs file, or from a folder of the results of the sizing "
             "views of `mjplan ddl`, instead of a dataset (docs/sizing-inputs.md)",
    )
    parser.add_argument(
        "--save-inputs",
        metavar="FILE",
        default=None,
        help="write the aggregates sizing read to FILE (JSON; .gz compresses), for --inputs",
    )
    parser.add_argument(
        "--window",
        default="14d",
        metavar="DURATION",
        help="how far back from the last attempt to look: 14d, 36h, 2w (default 14d)",
    )
    parser.add_argument(
        "--percentile",
        type=float,
        default=95.0,
        metavar="P",
        help="size for the P-th percentile hour of the window (default 95)",
    )
    parser.add_argument(
        "--forecast",
        action="append",
        default=[],
        metavar="JOB_TYPE=VALUE",
        help="size for this volume instead of the data: media hours per day "
        "(VALUE or VALUEh/d), or jobs per hour (VALUE/h; thumbnails default "
        "to it); repeat per job type",
    )
    parser.add_argument(
        "--growth",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply the demand (default 1.0)",
    )
    parser.add_argument(
        "--utilisation",
        type=float,
        default=0.7,
        metavar="U",
        help="target busy share of job slots, 0 < U <= 1 (default 0.7)",
    )
    parser.add_argument(
        "--wait",
        default="p95=60s",
        metavar="pNN=DURATION",
        help="queue-wait target (default p95=60s); add +service to bound wait "
        "plus service; 'none' for no wait target",
    )
    parser.add_argument(
        "--prices", metavar="FILE", default=None, help="price table CSV (default: data/prices.csv)"
    )
    parser.add_argument(
        "--interruption",
        action="append",
        default=[],
        metavar="TYPE=RATE",
        help="override the spot interruption rate of a type (fraction, 0.1)",
    )
    cap = parser.add_mutually_exclusive_group()
    cap.add_argument(
        "--spot",
        dest="capacity",
        action="store_const",
        const="spot",
        help="rank and recommend spot capacity (default)",
    )
    cap.add_argument(
        "--on-demand",
        dest="capacity",
        action="store_const",
        const="on-demand",
        help="rank and recommend on-demand capacity",
    )
    parser.set_defaults(capacity="spot")
    parser.add_argument(
        "--slots",
        default="auto",
        metavar="auto|mean|max|best|N",
        help="job slots per instance: auto (default) = the workers' worker_slots where the data "
        "has them, else inferred from the measured concurrency (p99, overlaps under 1 s "
        "ignored); mean = the mean concurrency; max = the most seen at once; best = the "
        "packing density with the most throughput within --max-slowdown (mjplan density), "
        "with the service times measured at it; or a number",
    )
    parser.add_argument(
        "--max-slowdown",
        default="1.5",
        metavar="X",
        help="with --slots best: a job may take at most X times its duration alone (default 1.5)",
    )
    parser.add_argument(
        "--lanes",
        choices=("none", "thumbs"),
        default="none",
        help="thumbs: thumbnails get their own pool of slots, sized in the replay",
    )
    parser.add_argument(
        "--no-replay",
        action="store_true",
        help="analytic sizing only (no replay of the window to confirm it)",
    )
    parser.add_argument(
        "--no-estimated",
        action="store_true",
        help="leave out instance types that were not measured",
    )
    parser.add_argument(
        "--fleet-types",
        type=int,
        default=3,
        metavar="N",
        help="instance types in the recommended fleet (default 3)",
    )
    parser.add_argument(
        "--top",
        type=int,
        default=15,
        metavar="N",
        help="rows of the ranked table to print (default 15)",
    )
    add_format_arguments(parser)
    parser.add_argument(
        "--fleet-json",
        metavar="FILE",
        help="write the recommended fleet as an EC2 Fleet request fragment",
    )
    parser.add_argument(
        "--launch-template",
        default="mediajobs-worker",
        metavar="NAME|x86_64=NAME,arm64=NAME",
        help="launch template of the fleet request: one NAME (the fleet then keeps to one CPU "
        "architecture, its AMI's), or one per architecture",
    )


def build_options(args: argparse.Namespace) -> SizingOptions:
    """SizingOptions from the arguments (`planner.sizing_options`, checked before any data is
    read); also checks the options only this command has."""
    from planner.errors import PlannerError
    from planner.sizing_options import build_sizing_options

    # A slice bound: --top -1 would silently drop the last (dearest) row.
    if getattr(args, "top", 1) < 1:
        raise PlannerError("--top must be at least 1")
    templates = launch_templates(args.launch_template)
    return build_sizing_options(
        architectures=tuple(a for a in templates if a != "*"),
        replay=not getattr(args, "no_replay", False),
        lanes=getattr(args, "lanes", "none"),
        percentile=args.percentile,
        forecasts=args.forecast,
        growth=args.growth,
        utilisation=args.utilisation,
        wait=args.wait,
        capacity=args.capacity,
        interruption=args.interruption,
        include_estimated=not args.no_estimated,
        fleet_types=args.fleet_types,
        slots=args.slots,
        max_slowdown=getattr(args, "max_slowdown", "1.5"),
    )


def launch_templates(text: str) -> dict[str, str]:
    """`NAME` -> {"*": NAME}; `x86_64=A,arm64=B` -> {"x86_64": "A", "arm64": "B"}."""
    from planner.errors import PlannerError

    if not text.strip():
        raise PlannerError("--launch-template: the name is empty")
    pairs = [("*", text)] if "=" not in text else [
        (a.strip(), n) for a, _, n in (p.partition("=") for p in text.split(","))]
    out: dict[str, str] = {}
    for arch, name in pairs:
        name = name.strip()
        if arch not in ("*", "x86_64", "arm64") or not name:
            raise PlannerError(
                f"--launch-template {text!r}: expected NAME or x86_64=NAME,arm64=NAME")
        # EC2's rule for a launch template name (botocore's CreateFleet model).
        if not re.fullmatch(r"[A-Za-z0-9().\-/_]{3,128}", name):
            raise PlannerError(f"--launch-template {name!r}: a launch template name has 3 to "
                               "128 letters, digits or ( ) . - / _")
        out[arch] = name
    return out


def parse_window(args: argparse.Namespace) -> dt.timedelta:
    """`--window` as a timedelta (SizingError naming it)."""
    from planner.sizing_options import parse_window as _parse

    return _parse(args.window, "--window")


def load_checked_prices(path: str | None, options: SizingOptions) -> PriceTable:
    """The price table at `path` (None: the bundled one); PlannerError when an --interruption
    override names a type it does not price (checked before any data is read)."""
    from planner.errors import PlannerError
    from planner.prices import load_prices

    prices = load_prices(path)
    unknown = sorted(set(options.interruption_overrides) - set(prices))
    if unknown:
        raise PlannerError(f"--interruption: {', '.join(unknown)} not in {prices.source}")
    return prices


def run(args: argparse.Namespace) -> int:
    from planner import sizing_inputs
    from planner.dataset import open_dataset
    from planner.errors import PlannerError
    from planner.fleet import fleet_request, write_fleet_json
    from planner.sizing import load_sizing_inputs, size_fleet
    from planner.throughput import throughput_frame

    options = build_options(args)
    window = parse_window(args)
    skipped: list[SkippedFile] = []  # unreadable files of the dataset, left out
    prices = load_checked_prices(args.prices, options)
    if args.inputs:
        if args.data:
            raise PlannerError("--inputs and --data: size from one or the other")
        inputs = sizing_inputs.load(args.inputs, prices)
        window = inputs.window  # the window the aggregates were taken over
        source = f"sizing inputs {args.inputs} ({inputs.source})"
    else:
        ds = open_dataset(args.data, cache=args.cache)
        try:
            inputs = load_sizing_inputs(ds, window=window, prices=prices)
        finally:
            ds.close()
        source = ds.url
        skipped = list(ds.skipped)
    if args.save_inputs:
        sizing_inputs.save(inputs, args.save_inputs)
    result = size_fleet(inputs, options)
    kwargs: dict[str, Any] = {"launch_templates": launch_templates(args.launch_template)}
    if args.fleet_json and result.recommendation is not None:
        write_fleet_json(args.fleet_json, result.recommendation, **kwargs)
    if output_format(args) == "json":
        from planner.answer import answer_json

        doc = {
            "dataset": source,
            "skipped_files": [{"path": f.path, "reason": f.reason} for f in skipped],
            "window_hours": window.total_seconds() / 3600,
            "prices": prices.source,
            **result.to_dict(),
            "answer": answer_json(result),
        }
        # What each measured type does (slots, service time, RTF, media s/s, jobs/h).
        doc["throughput"] = throughput_frame(inputs.measurements).to_dicts()
        doc["fleet_request"] = (
            fleet_request(result.recommendation, **kwargs) if result.recommendation else None
        )
        print(json.dumps(json_safe(doc), indent=2, default=str))
    else:
        _print(result, source, prices.source, args, skipped)
    return 0




def _notes(result: SizingResult, top: int) -> list[str]:
    """What the reader needs to trust the table: hidden rows, estimates, assumptions."""
    from planner.formats import short_job_type

    notes = []
    if len(result.types) > top:
        notes.append(f"{len(result.types) - top} more types; --top N to see them.")
    estimated = sorted(
        {f"{t.instance_type} from {t.estimated_from}" for t in result.types if t.estimated_from}
    )
    if estimated:
        notes.append(
            "* estimated, not measured: throughput of one instance scaled by vCPUs from the "
            "measured type of the same family (" + ", ".join(estimated[:6])
            + (", ..." if len(estimated) > 6 else "") + ").")
    assumed = [t.instance_type for t in result.types if not t.concurrency_measured]
    if assumed:
        notes.append(
            f"No host names for {', '.join(assumed[:6])}{', ...' if len(assumed) > 6 else ''}: "
            "concurrency not measured, 1 job slot per instance assumed (--slots N to set it).")
    failed = [f"{short_job_type(w.job_type)} {w.retry_share:.1%} (+{w.waste_ratio:.1%} slot "
              "time)" for w in result.waste.values()
              if w.job_type in result.demand and w.failed_attempts]
    if failed:
        notes.append("Failed attempts, counted in the load: " + ", ".join(failed) + ".")
    if result.skipped:
        notes.append(
            f"Left out: {len(result.skipped)} type(s) not measured, not priced or unable to "
            "meet the target (see --json 'skipped').")
    return notes


def _print(result: SizingResult, url: str, prices: str, args: argparse.Namespace,
           skipped: Sequence[SkippedFile] = ()) -> None:
    """The answer first (what to buy, $/h and $/month on spot and on-demand, wait, $ per media
    hour, the demand), then the ranked table in the columns that fit, then the notes (and the
    dataset's unreadable files, which the sizing left out)."""
    from planner.answer import answer_of

    fmt = output_format(args)
    columns = ranked_columns(result.options.capacity)
    rows = ranked_rows(result, args.top)
    if fmt == "csv":
        print(csv_text(columns, ranked_rows(result, len(result.types))))
        return
    width = terminal_width()
    answer = answer_of(result)
    o = result.options
    wait = o.wait.label() if o.wait else "no wait target"
    head = answer.lines() if answer else [
        "No fleet recommended: no instance type carries the demand."]
    context = (f"Data {url}, window {args.window}, prices {prices}. Targets: utilisation <= "
               f"{o.utilisation:g}, {wait}. Ranked by {o.capacity} $/h, each type carrying "
               "all the demand alone (* estimated, not measured).")
    notes = _notes(result, args.top) + _check_lines(result)
    if skipped:
        notes.append(f"{len(skipped)} unreadable file(s) of the dataset left out, e.g. "
                     f"{skipped[0].path}: {skipped[0].reason} (mjplan summary lists them).")
    if fmt == "markdown":
        lines = [f"**{head[0]}**", "", *(f"{line}  " for line in head[1:]), "", context, "",
                 markdown_table(fit_columns(columns, rows, 10_000, args.wide), rows), "",
                 *(f"- {n}" for n in notes)]
        print("\n".join(lines).rstrip())
        return
    out = [wrap(line, width, "  ") for line in head]
    out += ["", wrap(context, width), "", table_text(columns, rows, width=width, wide=args.wide)]
    out += [wrap(n, width, "  ") for n in notes]
    if args.fleet_json and result.recommendation is not None:
        out.append(wrap(f"EC2 Fleet request written to {args.fleet_json} (1 unit of capacity = "
                        f"{result.recommendation.unit}).", width, "  "))
    print("\n".join(out))


def _check_lines(result: SizingResult) -> list[str]:
    """How the cheapest type's count was decided, and how its fleet would have run the window
    (nothing without a wait target)."""
    from planner.formats import short_job_type

    if not result.types or result.options.wait is None:
        return []
    t = result.types[0]
    o = result.options
    wait = o.wait
    assert wait is not None
    how = (f"analytic {t.instances_analytic} (Allen-Cunneen factor {t.wait_factor:.2f}: "
           f"service SCV {t.service_scv:.2f}, arrival burstiness {t.arrival_scv:.2f})")
    if t.decided_by == "replay" and t.instances == t.instances_analytic:
        how += f", confirmed by a replay of {t.replay_source}"
    elif t.decided_by == "replay":
        how += f"; a replay of {t.replay_source} needs {t.instances}: the replay decided"
    lines = [f"How {t.instance_type}'s count was reached: {how}; slots {t.slots} "
             f"({t.slots_source})."]
    if t.hours_met is not None and t.share_over_target is not None:
        lines.append(
            f"With {t.instances}: {wait.label()} met in {t.hours_met} of {t.hours} hours; "
            f"{t.share_over_target:.1%} of jobs over the target"
            + (f"; thumbnail lane {t.thumb_slots} slots" if t.thumb_slots else "") + ".")
    if t.waits_by_job_type:
        pct = f"p{wait.percentile:g}"
        per = ", ".join(f"{short_job_type(jt)} {pct} {w:.1f}s ({over:.1%} over)"
                        for jt, (_, w, over) in sorted(t.waits_by_job_type.items()))
        lines.append(f"Per job type: {per}.")
    return lines
