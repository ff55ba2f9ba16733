"""`mjcollect`: the worker-side command.

Each subcommand lives in its own module under `collectors.commands` (see `collectors.dispatch`
for what a module exposes). Modules keep heavy imports inside `run`, so `mjcollect --help` stays
instant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from collectors import dispatch

#: Subcommand name -> module (each must exist: the overview, `mjcollect --help`, imports them
#: all; a named subcommand imports only its own).
SUBCOMMANDS = {
    "run": "collectors.commands.run",
    "demo": "collectors.commands.demo",
    "bench": "collectors.commands.bench",
    "ingest": "collectors.commands.ingest",
    "flush": "collectors.commands.flush",
    "status": "collectors.commands.status",
    "agent": "collectors.commands.agent",
}

#: Subcommands whose process ends the quick way (`exit_now`): `run` wraps every job.
QUICK_EXIT = frozenset({"run"})


def main(argv: Sequence[str] | None = None) -> int:
    code = dispatch.main("mjcollect", __doc__.splitlines()[0], SUBCOMMANDS, argv, lazy=True)
    if argv is None and sys.argv[1:2] and sys.argv[1] in QUICK_EXIT:
        exit_now(code)  # the process's own entry point only: a caller in Python gets the code
    return code


def exit_now(code: int) -> None:
    """End the process with `code` without the interpreter's teardown (freeing every module and
    object: ~5-20 ms of a short job's wall time), once everything registered to run at exit
    has run (logging's flush, weakref finalizers, the uploader's at-exit close) and stdio is
    flushed. Returns (for the usual exit) while a non-daemon thread is still running: that
    exit waits for it."""
    import atexit
    import contextlib
    import threading

    if any(t.is_alive() and not t.daemon and t is not threading.main_thread()
           for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # Closed or gone (a closed pipe): nothing left to keep.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
