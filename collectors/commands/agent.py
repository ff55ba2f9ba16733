"""`mjcollect agent`: the host's long-lived uploader (a systemd service, a sidecar container).

It drains every spool under the spool base (MEDIAJOB_METRICS_SPOOL), each to the dataset URL its
writers recorded, so `mjcollect run` only spools and exits, and Python workers do not upload at
exit while it is alive. It runs in the foreground until SIGTERM or SIGINT, then uploads what is
left (at most `--exit-timeout` seconds) and exits 0. See collectors.agent for how writers know
it is alive and why no row is stranded. `--until-empty` is the short-lived flusher `mjcollect
run` starts when no agent runs.

Uploading is background work on a host whose cores belong to the jobs: the flusher lowers its
CPU priority to nice 19 before it starts a thread (a new thread inherits its creator's), so it
takes only what the jobs leave over (under contention about 1.5 % of a core against a nice-0
job, by the kernel's weights, and all of an idle one). `--nice` sets it for the agent as well
(or say `Nice=` in its systemd unit).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

HELP = "upload every spool of this host continuously (foreground; for systemd or a sidecar)"

log = logging.getLogger("collectors.agent")

#: How much the flusher lowers its CPU priority (the most nice allows).
FLUSHER_NICE = 19


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spool-base", type=Path, metavar="DIR",
                        help="spool base folder (default: MEDIAJOB_METRICS_SPOOL or "
                        "~/.cache/mediajobs/spool)")
    parser.add_argument("--batch-age", type=float, metavar="S",
                        help="seconds a row may wait for more rows before its batch is cut "
                        "(default: MEDIAJOB_METRICS_BATCH_AGE or 60)")
    parser.add_argument("--exit-timeout", type=float, default=10.0, metavar="S",
                        help="seconds spent uploading what is left once stopped (default 10)")
    parser.add_argument("--until-empty", action="store_true",
                        help="upload what waits and exit when the spools are empty or an upload "
                        "fails (what `mjcollect run` starts when no agent runs)")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="S",
                        help="with --until-empty: give up after this many seconds (default 300)")
    parser.add_argument("--nice", type=int, metavar="N",
                        help=f"lower the CPU priority by N (0-19; default {FLUSHER_NICE} with "
                        "--until-empty, else 0): uploads take what the jobs leave over")


def lower_priority(increment: int) -> None:
    """Lower this process's CPU priority by `increment` (nice). On Linux a nice value is a
    thread's, inherited by the threads it starts later: call it before any. Lowering needs no
    privilege; should it be refused all the same (a seccomp policy), that is logged, nothing
    else."""
    if increment <= 0:
        return
    try:
        os.nice(increment)
    except OSError as exc:
        log.info("CPU priority left as is: %s", exc)


def run(args: argparse.Namespace) -> int:
    nice = args.nice if args.nice is not None else FLUSHER_NICE if args.until_empty else 0
    if not 0 <= nice <= FLUSHER_NICE:
        print(f"mjcollect agent: --nice: expected 0 to {FLUSHER_NICE}, got {nice}",
              file=sys.stderr)
        return 2
    # First: importing the uploader (pyarrow, boto3) is most of a flusher's CPU time.
    lower_priority(nice)
    from collectors import config
    from collectors.agent import Agent

    base = args.spool_base or Path(config.spool_base())
    try:
        batch_age = config.positive_arg("--batch-age", args.batch_age,
                                        config.MEDIAJOB_METRICS_BATCH_AGE,
                                        config.DEFAULT_BATCH_AGE_S)
    except ValueError as exc:
        print(f"mjcollect agent: {exc}", file=sys.stderr)
        return 2
    agent = Agent(base, until_empty=args.until_empty, batch_age=batch_age,
                  retry_max=config.env_float(config.MEDIAJOB_METRICS_RETRY_MAX,
                                             config.DEFAULT_RETRY_MAX_S))
    if args.until_empty:
        return agent.run(deadline=time.monotonic() + args.timeout)

    def stop(signum: int, _frame: object) -> None:
        log.info("agent stopping (%s)", signal.Signals(signum).name)
        agent.stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    return agent.run(exit_timeout=args.exit_timeout)
