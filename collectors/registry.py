"""The host-local registry of running attempts: how many attempts of this host are in progress.

`host_running_at_start` counts the attempts of the host running when one starts, itself
included, across processes and across containers that share the registry folder
(MEDIAJOB_HOST_REGISTRY, default /dev/shm/mediajobs-running-<uid>; containers, whose /dev/shm
is their own, mount one host folder and point the variable at it). Each live attempt holds
one entry file, `<attempt id>-<pid>.lock`, with an exclusive `flock` on it for as long as it
runs, and its pid inside for people reading the folder.

Why flock and not the pid: pids of other containers mean nothing here (another pid namespace)
and a pid is reused after its process dies, but the kernel drops a process's locks when it
dies, however it dies (SIGKILL, OOM). An entry whose lock can be taken is dead: it is not
counted, and removed.

The steps, under a short exclusive lock on `<folder>/.registry.lock` so two attempts starting at
the same moment count 1 and 2, never 2 and 2:
1. the entry is created under a temporary name, locked, then renamed to `<id>.lock` (a counter
   never sees an entry that is not locked yet);
2. the folder is listed and each other entry tested with a non-blocking flock;
3. at the end of the attempt the entry is removed and its descriptor closed.

It never blocks the job: the folder lock is tried without blocking for at most LOCK_WAIT_S,
and any failure (a read-only or full disk, no flock on the file system, another OS) leaves the
count unknown (null), logged once per process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from collectors import config

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no registry, the column stays null
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("collectors.registry")

#: Seconds an attempt may wait for the folder lock (held for well under a millisecond by each
#: starting attempt) before it gives up counting.
LOCK_WAIT_S = 0.05
#: Temporary entries (a process that died between create and rename) older than this are
#: removed, seconds.
STALE_TMP_S = 3600.0
_SUFFIX = ".lock"
_FOLDER_LOCK = ".registry.lock"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class RegistryUnavailable(OSError):
    """The registry cannot count now (folder lock busy, no flock); the count stays unknown."""


@dataclass
class Entry:
    """One attempt's entry in the registry, held (locked) until `release()`."""

    path: Path
    fd: int
    running_at_start: int  #: live entries when it was registered, itself included

    def release(self) -> None:
        """Remove the entry and drop its lock. Never raises."""
        try:
            self.path.unlink()
        except OSError as exc:  # gone already, or the disk went read-only: the lock still drops
            log.debug("registry entry %s not removed: %s", self.path, exc)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def registry_dir() -> Path:
    """MEDIAJOB_HOST_REGISTRY, else /dev/shm/mediajobs-running-<uid> (memory: creating a file
    there costs microseconds where a busy disk took milliseconds, benchmarks/registry.py, and a
    reboot, which ends every attempt, empties it), else ~/.cache/mediajobs/running."""
    raw = os.environ.get(config.MEDIAJOB_HOST_REGISTRY, "").strip()
    if raw:
        return Path(os.path.expanduser(raw))
    shm = Path("/dev/shm")
    if shm.is_dir() and hasattr(os, "getuid"):
        return shm / f"mediajobs-running-{os.getuid()}"
    return Path(os.path.expanduser("~/.cache/mediajobs/running"))


def _is_held(path: Path) -> bool:
    """True when another open file description holds the entry's lock (a live attempt)."""
    assert fcntl is not None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return False  # removed meanwhile: finished
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _lock_folder(folder: Path) -> int:
    assert fcntl is not None
    fd = os.open(folder / _FOLDER_LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                 0o666)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise RegistryUnavailable("registry busy") from None
            time.sleep(0.001)
        except OSError:
            os.close(fd)
            raise


def register(attempt_id: str, folder: Path | None = None) -> Entry:
    """Enter a starting attempt and count the live ones, itself included.

    Raises OSError (RegistryUnavailable among them) when it cannot; the caller records null.
    """
    if fcntl is None:
        raise RegistryUnavailable("no flock on this platform")
    folder = registry_dir() if folder is None else folder
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = _SAFE.sub("_", attempt_id)[:120] or "attempt"
    final = folder / f"{name}-{os.getpid()}{_SUFFIX}"
    tmp = folder / f".{final.name}.tmp"
    lock_fd = _lock_folder(folder)
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            os.rename(tmp, final)
        except BaseException:
            os.close(fd)
            _unlink_quietly(tmp)
            raise
        try:
            running = 1 + _count_others(folder, final)
        except BaseException:
            Entry(final, fd, 0).release()
            raise
        return Entry(final, fd, running)
    finally:
        os.close(lock_fd)  # closing drops the folder lock


def _count_others(folder: Path, own: Path) -> int:
    live = 0
    now = time.time()
    with os.scandir(folder) as it:
        for item in it:
            path = Path(item.path)
            if item.name.endswith(_SUFFIX) and item.name != _FOLDER_LOCK:
                if path == own:
                    continue
                if _is_held(path):
                    live += 1
                else:  # its process is gone (the kernel dropped the lock): clean it up
                    _unlink_quietly(path)
            elif item.name.endswith(".tmp") and item.name.startswith("."):
                try:
                    if now - item.stat().st_mtime > STALE_TMP_S:
                        _unlink_quietly(path)
                except OSError:
                    pass
    return live


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
