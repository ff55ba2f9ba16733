"""The host's uploader lock, `<spool base>/.agent.lock`: held by `mjcollect agent` or by the
flusher that `mjcollect run` (and a Python worker leaving rows at exit) starts
(collectors.agent). An flock, so it is free again the moment its
holder dies, SIGKILL included. Plain Python: `agent_alive` runs on the job's path."""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
from pathlib import Path

from collectors import config

log = logging.getLogger("collectors.agent")

LOCK_NAME = ".agent.lock"


def lock_path(base: str | Path) -> Path:
    return Path(base) / LOCK_NAME


def try_lock(base: str | Path) -> int | None:
    """The fd holding the lock, or None when another process holds it. OSError when the base
    cannot be made or opened."""
    Path(base).mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(base), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def agent_alive(base: str | Path | None = None) -> bool:
    """Whether a process holds the uploader lock of the spool base (default: the configured
    one). False when the base cannot be used."""
    try:
        fd = try_lock(base if base is not None else config.spool_base())
    except OSError:
        return False
    if fd is None:
        return True
    os.close(fd)
    return False


def start_flusher(base: str | Path) -> None:
    """Start the flusher (`mjcollect agent --until-empty`) detached in its own session, unless
    an agent or flusher holds the lock already (it will see our rows: collectors.agent)."""
    if agent_alive(base):
        return
    try:
        subprocess.Popen(
            [sys.executable, "-m", "collectors.cli", "agent", "--until-empty",
             "--spool-base", str(base)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )
    except OSError as exc:
        log.error("could not start the detached upload (rows stay in the spool; run "
                  "`mjcollect flush`): %s", exc)
