"""The host's uploader lock, `<spool base>/.agent.lock`: held by `mjcollect agent` or by the
flusher `mjcollect run` starts (collectors.agent). An flock, so it is free again the moment its
holder dies, SIGKILL included. Plain Python: `agent_alive` runs on the job's path."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from collectors import config

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
