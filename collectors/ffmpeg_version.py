"""The ffmpeg a worker runs: the first line of `ffmpeg -version`, asked once per process.

`ffmpeg_version(run=True)` runs `ffmpeg -version` (the one on PATH, an argument list, stdin
closed, a timeout) the first time it is called with `run=True` and remembers the answer, a
failure included, so a worker without ffmpeg pays for the look-up once. The attempt API calls it
at the end of a successful attempt only, after the clock and the sampler stopped (the look-up is
a child process the sampler would otherwise count): a failed job's row takes the version if it
is already known and never waits for one (`run=False`).

Across processes the answer is kept in `<spool base>/.ffmpeg-version.json`
(collectors.hostcache), keyed by the ffmpeg binary's real path, size and mtime: `mjcollect run`
is a new process per job, and `ffmpeg -version` was a quarter of what it added to a short job
(benchmarks/run_overhead.py).
A new ffmpeg (another path, size or mtime) is asked again.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading

from collectors import config, hostcache

log = logging.getLogger("collectors.ffmpeg_version")

#: Seconds `ffmpeg -version` may take (it answers in about 0.05 s).
TIMEOUT_S = 2.0
#: The longest version line kept, characters.
MAX_CHARS = 200
#: Its name in collectors.hostcache.
CACHE_NAME = "ffmpeg-version"

_lock = threading.Lock()
_asked = False
_version: str | None = None


def parse_version_output(text: str) -> str | None:
    """The first non-blank line of `ffmpeg -version` output, blanks collapsed, bounded length
    ("ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers")."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line[:MAX_CHARS]
    return None


def _ask() -> str | None:
    try:
        done = subprocess.run(
            ["ffmpeg", "-version"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, timeout=TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        config.log_once(log, "ffmpeg-version", logging.WARNING,
                        "ffmpeg version unknown (ffmpeg_version stays null): %s: %s",
                        type(exc).__name__, exc)
        return None
    if done.returncode != 0:
        config.log_once(log, "ffmpeg-version", logging.WARNING,
                        "ffmpeg version unknown: `ffmpeg -version` exited with %d",
                        done.returncode)
        return None
    return parse_version_output(done.stdout.decode("utf-8", "replace"))


def _binary_key() -> str | None:
    """`<real path>:<size>:<mtime ns>` of the ffmpeg on PATH, or None."""
    found = shutil.which("ffmpeg")
    if found is None:
        return None
    real = os.path.realpath(found)
    st = os.stat(real)
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"


def _look_up() -> str | None:
    try:
        key = _binary_key()
    except OSError:
        key = None
    if key is not None and (cached := hostcache.read(CACHE_NAME, key)) is not None:
        return cached[:MAX_CHARS]
    version = _ask()
    if key is not None and version is not None:
        hostcache.remember(CACHE_NAME, key, version)
    return version


def ffmpeg_version(*, run: bool = True) -> str | None:
    """The first line of `ffmpeg -version`, or None. With `run=False` never starts ffmpeg:
    the answer of an earlier look-up, or None. Never raises."""
    global _asked, _version
    if _asked or not run:
        return _version
    with _lock:
        if not _asked:
            _version = _look_up()
            _asked = True
    return _version


def reset_ffmpeg_version() -> None:
    """Forget the answer (tests; a worker never needs it)."""
    global _asked, _version
    with _lock:
        _asked, _version = False, None


def _new_lock_after_fork() -> None:
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)
