"""One uploader per host: `mjcollect agent` and the short-lived flusher `mjcollect run` starts.

Processes that only spool (`mjcollect run`, and Python workers at exit while an agent is alive)
leave the upload to whichever process holds the host's uploader lock, `<spool base>/.agent.lock`
(an flock, so it is free again the moment its holder dies, SIGKILL included):

- `mjcollect agent`: long-lived (systemd, a sidecar container); takes the lock, waiting for it
  if a flusher has it, and drains every spool under the base (each to the URL it recorded):
  full batches at once, the rest once its oldest row is MEDIAJOB_METRICS_BATCH_AGE old, all of
  it when stopped (SIGTERM/SIGINT, within `exit_timeout`). Upload errors back off per spool.
- the flusher (`mjcollect agent --until-empty`): started detached by `mjcollect run` when no
  process holds the lock; uploads everything waiting and exits when the spools are empty or an
  upload fails (the rows then wait for the next flusher or the agent).

No row is stranded: a spooling process writes its row (fsync) *before* it looks at the lock, and
a holder looks for waiting rows *after* it lets the lock go (and takes it again if there are
some). So either the writer sees the lock held, and the holder's last look sees the row, or it
sees the lock free and starts a flusher. Claims of a killed holder are adopted by the next one
(collectors.spool).

Plain Python and the spool: `agent_alive` runs on the job's path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from collectors import config
from collectors.hostlock import try_lock
from collectors.spool import Spool, spool_dirs
from collectors.upload import Uploader, backoff_s

log = logging.getLogger("collectors.agent")

#: Seconds between looks at the spools (the agent).
POLL_S = 1.0


def rows_waiting(base: str | Path) -> bool:
    """Whether any spool under the base has rows not yet uploaded: waiting, or claimed by a
    batch (a process that is exiting may still hold one; once it is gone the batch is
    adopted)."""
    for d in spool_dirs(base):
        with contextlib.suppress(OSError), os.scandir(d / "rows") as it:
            if any(e.name.endswith(".json") for e in it):
                return True
        with contextlib.suppress(OSError), os.scandir(d / "batches") as it:
            if any(e.is_dir() for e in it):
                return True
    return False


@dataclass
class _SpoolState:
    uploader: Uploader | None = None
    failures: int = 0
    retry_at: float = 0.0
    last_error: str | None = None


@dataclass
class Agent:
    """Drains every spool under `base`. `until_empty`: the flusher (see the module doc)."""

    base: Path
    until_empty: bool = False
    batch_age: float = config.DEFAULT_BATCH_AGE_S
    retry_max: float = config.DEFAULT_RETRY_MAX_S
    stop: threading.Event = field(default_factory=threading.Event)
    rows_uploaded: int = 0
    _fd: int | None = None
    _spools: dict[Path, _SpoolState] = field(default_factory=dict)

    def run(self, exit_timeout: float = 10.0, deadline: float | None = None) -> int:
        """Hold the lock and drain until stopped (the agent) or empty (the flusher); returns
        the exit code (0; 1 for a flusher that left rows after an upload error)."""
        if self.until_empty:
            return self._flush_until_empty(deadline)
        while not self.stop.is_set():
            self._fd = try_lock(self.base)
            if self._fd is not None:
                break
            self.stop.wait(0.2)  # a flusher holds it for now
        if self._fd is None:
            return 0
        log.info("agent uploading from %s", self.base)
        try:
            while not self.stop.is_set():
                self.drain_all(everything=False)
                self.stop.wait(POLL_S)
            self.drain_all(everything=True, deadline=time.monotonic() + exit_timeout)
        finally:
            os.close(self._fd)
            self._fd = None
        return 0

    def _flush_until_empty(self, deadline: float | None) -> int:
        while True:
            fd = try_lock(self.base)
            if fd is None:
                return 0  # another holder; it looks for rows after it lets go
            try:
                ok = self.drain_all(everything=True, deadline=deadline, give_up_on_error=True)
            finally:
                os.close(fd)
            if not ok or not rows_waiting(self.base):
                return 0 if ok else 1
            if deadline is not None and time.monotonic() > deadline:
                return 1
            # Rows came in meanwhile, or a batch is still held by a process on its way out
            # (the Python worker that started us): look again shortly.
            time.sleep(0.2)

    def drain_all(self, *, everything: bool, deadline: float | None = None,
                  give_up_on_error: bool = False) -> bool:
        """One pass over the spools; False when some upload failed."""
        ok = True
        for folder in spool_dirs(self.base):
            state = self._spools.setdefault(folder, _SpoolState())
            if not everything and time.monotonic() < state.retry_at:
                continue
            try:
                uploader = state.uploader or self._uploader(folder)
                if uploader is None:
                    continue
                state.uploader = uploader
                aged = everything or self._aged(uploader.spool)
                try:
                    result = uploader.drain(everything=aged, deadline=deadline)
                finally:
                    uploader.release()
            except Exception as exc:  # noqa: BLE001 - a bad spool must not stop the others
                log.error("spool %s: %s", folder, exc)
                ok = False
                continue
            self.rows_uploaded += result.rows
            if result.error is None:
                if state.failures:
                    log.info("uploads from %s work again", folder)
                state.failures, state.retry_at, state.last_error = 0, 0.0, None
                continue
            ok = False
            state.failures += 1
            state.retry_at = time.monotonic() + backoff_s(
                state.failures, config.RETRY_BASE_S, self.retry_max)
            if result.error != state.last_error:
                log.error("upload from %s to %s failed: %s; rows stay in the spool, retrying",
                          folder, uploader.loc.display(), result.error)
            state.last_error = result.error
            if give_up_on_error:
                return False
        return ok

    @staticmethod
    def _uploader(folder: Path) -> Uploader | None:
        """An uploader for the spool (its client is kept across passes), or None when the
        spool has no dataset URL recorded."""
        spool = Spool(folder, config.spool_max_bytes())
        url = spool.read_url()
        if url is None:
            log.warning("spool %s has no dataset URL recorded; skipped", folder)
            return None
        return Uploader(url, spool, batch_rows=config.batch_rows())

    def _aged(self, spool: Spool) -> bool:
        oldest = spool.oldest_ns()
        return oldest is not None and (time.time_ns() - oldest) / 1e9 >= self.batch_age
