"""`mjcollect flush`: upload what is waiting in the spool (leftovers of stopped or crashed
processes included), now, in this process."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

HELP = "upload every row waiting in the local spool now; exit 0 when the spool is empty"

log = logging.getLogger("collectors.flush")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="dataset URL (default: MEDIAJOB_METRICS_URL, else every "
                        "spool under the spool base, each to the URL it recorded)")
    parser.add_argument("--spool", type=Path, help="spool folder (default: the URL's folder "
                        "under MEDIAJOB_METRICS_SPOOL or ~/.cache/mediajobs/spool)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="give up after this many seconds (default 300)")
    parser.add_argument("--dead-letter", action="store_true",
                        help="first put the rows set aside (dead letters) back, to retry them "
                        "once their cause is fixed")


def spools_to_flush(url: str | None, spool: Path | None) -> list[tuple[Path, str | None]]:
    """(spool folder, dataset URL) pairs: the one asked for, or every spool under the base."""
    from collectors import config
    from collectors.spool import Spool, spool_dir_for, spool_dirs

    if spool is not None:
        return [(spool, url)]
    url = url or config.metrics_url()
    if url is not None:
        return [(spool_dir_for(url), url)]
    return [(d, Spool(d, config.DEFAULT_SPOOL_MAX_BYTES).read_url())
            for d in spool_dirs(config.spool_base())]


def run(args: argparse.Namespace) -> int:
    from collectors import config
    from collectors.spool import Spool
    from collectors.upload import Uploader

    targets = spools_to_flush(args.url, args.spool)
    if not targets:
        print("nothing to flush: no spool found (set MEDIAJOB_METRICS_URL or pass --url)")
        return 0
    deadline = time.monotonic() + args.timeout
    status = 0
    for folder, url in targets:
        spool = Spool(folder, config.spool_max_bytes())
        url = url or spool.read_url()
        if url is None:
            print(f"{folder}: no dataset URL recorded; pass --url")
            status = 2
            continue
        if args.dead_letter:
            print(f"{folder}: {spool.retry_dead_letters()} dead-letter rows put back")
        uploader = Uploader(url, spool, batch_rows=config.batch_rows())
        try:
            result = uploader.drain(everything=True, deadline=deadline)
        finally:
            uploader.release()
        left = len(spool.all_row_names())
        print(f"{folder}: uploaded {result.rows} rows in {result.batches} batches to "
              f"{uploader.loc.display()}; {left} rows left")
        if result.dead:
            print(f"  {result.dead} rows refused by the dataset, set aside as dead letters "
                  "(see `mjcollect status`)")
        if result.error:
            print(f"  error: {result.error}")
        if left or result.dead:
            status = max(status, 1)
    return status
