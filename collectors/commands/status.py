"""`mjcollect status`: spool depth, oldest row age, drops and the last upload error."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

HELP = ("show the local spool: rows waiting, oldest row age, rows dropped, dead letters, last "
        "upload error")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="dataset URL (default: MEDIAJOB_METRICS_URL, else every "
                        "spool under the spool base)")
    parser.add_argument("--spool", type=Path, help="spool folder")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _when(ts: Any) -> str:
    if not isinstance(ts, int | float):
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def human_bytes(n: float | None) -> str:
    """`536870912` -> `512 MiB`, `1536` -> `1.5 KiB`, `12` -> `12 bytes` (binary units, as
    MEDIAJOB_METRICS_SPOOL_MAX_BYTES is set); "-" for None."""
    if n is None:
        return "-"
    value = float(n)
    if abs(value) < 1024:
        return f"{int(value)} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if abs(value) < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}".replace(".0 ", " ")


def format_status(st: dict[str, Any]) -> str:
    """Human-readable lines for one spool's status (see upload.spool_status)."""
    writers = st["writers"]
    dropped = sum(int(w.get("rows_dropped") or 0) for w in writers)
    invalid = sum(int(w.get("rows_invalid") or 0) for w in writers)
    errors = sorted((w for w in writers if w.get("last_error")),
                    key=lambda w: w.get("last_error_at") or 0)
    age = st["oldest_row_age_s"]
    lines = [
        f"spool            {st['spool']}",
        f"dataset          {st['url'] or '-'}",
        f"rows waiting     {st['rows_waiting']}",
        f"rows claimed     {st['rows_claimed']} (being uploaded, or left by a stopped process)",
        f"oldest row age   {'-' if age is None else f'{age:.1f} s'}",
        f"spool size       {human_bytes(st['spool_bytes'])} of "
        f"{human_bytes(st['spool_max_bytes'])}",
        f"rows dropped     {dropped} (spool full or disk error), invalid {invalid} "
        "(writers of the last 7 days)",
        f"dead letters     {st['dead_letter_rows']} rows set aside (`mjcollect flush "
        "--dead-letter` retries them)",
    ]
    lines.extend(f"  why            {reason}" for reason in st["dead_letter_reasons"][:5])
    if errors:
        last = errors[-1]
        lines.append(f"last error       {_when(last.get('last_error_at'))} {last['last_error']}")
    else:
        lines.append("last error       -")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from collectors import config
    from collectors.commands.flush import spools_to_flush
    from collectors.spool import Spool
    from collectors.upload import spool_status

    targets = spools_to_flush(args.url, args.spool)
    statuses = []
    for folder, _url in targets:
        if not (folder / "rows").is_dir():
            continue
        spool = Spool(folder, config.spool_max_bytes())
        statuses.append(spool_status(spool))
    if args.json:
        print(json.dumps(statuses, indent=2))
    elif not statuses:
        print("no spool found")
    else:
        print("\n\n".join(format_status(st) for st in statuses))
    return 0
