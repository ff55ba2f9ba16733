"""The local spool: attempt rows on disk, durable before anything is uploaded.

Layout of a spool folder (one per dataset URL; several processes may share it):

    url                     the dataset URL these rows are for (read by `mjcollect flush`)
    tmp/<pid>-<n>.tmp       a row being written; never read; removed when its writer is gone
    rows/<ns>-<pid>-<n>.json   one durable row (JSON), named by spool time in ns (oldest first)
    batches/<batch-id>/     rows claimed by one uploader; `.lock` is flock()ed while it works
    dead-letter/            rows set aside with a warning: unreadable files, and rows the
                            dataset refuses whatever the retry (`<name>.reason` says why); kept
                            until `mjcollect flush --dead-letter` puts them back
    trash/<batch-id>/       uploaded batches, deleted when the uploader has nothing else to do
    state/<writer-id>.json  each writer's counters and last error (for `mjcollect status`)

A row is acknowledged to the job only after write + fsync + rename into `rows/` + fsync of the
folder, so a crash (even SIGKILL) at any point loses no acknowledged row and leaves no partial
row where readers look. Claims are renames (atomic: of two uploaders racing for a file exactly
one wins) into a batch folder whose lock is held by the claiming process; a batch whose lock is
free belongs to a dead process and is adopted, keeping its id, so the retried upload writes the
same object key.

Size bound (`max_bytes`, rows + batches, dead letters excluded): when reached, `write` raises
`SpoolFullError` and the new row is refused; the sink counts it as `rows_dropped` and logs it.
Rows already spooled are never evicted: the oldest data is the most likely to be complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import itertools
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors import config
from collectors.layout import safe_name
from collectors.schema import validate_row

log = logging.getLogger("collectors.spool")

#: A temp file older than this is removed even when its writer's pid looks alive (pid reuse).
STALE_TMP_S = 3600.0

#: Writers' state files (counters, last error) are kept this long after their last update, s.
STATE_KEEP_S = 7 * 86400.0

_counter = itertools.count()


class SpoolFullError(OSError):
    """The spool reached its size bound; the row was not written."""


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def encode_row(row: Mapping[str, Any]) -> bytes:
    """A row as compact JSON bytes (timestamps as ISO 8601 UTC)."""
    return json.dumps(row, default=_json_default, separators=(",", ":")).encode("utf-8")


def decode_row(data: bytes) -> dict[str, Any]:
    """A validated row from `encode_row` bytes. Raises ValueError when the data is not a row."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    return validate_row(obj)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def spool_dir_for(url: str, base: str | Path | None = None) -> Path:
    """The spool folder of a dataset URL: `<base>/<readable url>-<hash>` (base: the configured
    MEDIAJOB_METRICS_SPOOL)."""
    root = Path(base) if base is not None else Path(config.spool_base())
    digest = hashlib.sha256(url.strip().encode()).hexdigest()[:10]
    return root / f"{safe_name(url.strip(), 60)}-{digest}"


def spool_dirs(base: str | Path) -> list[Path]:
    """The spool folders under a spool base (one per dataset URL)."""
    root = Path(base)
    if not root.is_dir():
        return []
    return [d for d in sorted(root.iterdir()) if (d / "rows").is_dir()]


def spool_time_ns(name: str) -> int | None:
    """The spool time (ns since the epoch) encoded in a row file name, or None."""
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


@dataclass
class Batch:
    """Rows claimed by this process. Holds the flock on `dir/.lock` until `Spool.finish(batch)`
    or `release()`."""

    id: str
    dir: Path
    lock_fd: int | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # the file of each row in `rows`

    def files(self) -> list[Path]:
        return sorted(p for p in self.dir.iterdir() if p.name.endswith(".json"))

    def release(self) -> None:
        """Give up the claim (the files stay; this or another process retries later)."""
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


class Spool:
    """One spool folder. Thread-safe for `write`; claims are process-safe (rename + flock)."""

    def __init__(self, root: Path | str, max_bytes: int, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self.fsync = fsync
        self.tmp = self.root / "tmp"
        self.rows = self.root / "rows"
        self.batches = self.root / "batches"
        #: Rows set aside: unreadable files and rows the dataset refuses whatever the retry
        #: (kept, counted by `mjcollect status`, put back by `mjcollect flush --dead-letter`).
        self.dead_letter = self.root / "dead-letter"
        self.state = self.root / "state"
        self.trash = self.root / "trash"
        self.make_dirs()
        self._approx_bytes = self.scan_bytes()

    def make_dirs(self) -> None:
        for d in (self.tmp, self.rows, self.batches, self.dead_letter, self.state, self.trash):
            d.mkdir(parents=True, exist_ok=True)

    # --- the job's path -------------------------------------------------------------------

    def write(self, row: Mapping[str, Any]) -> str:
        """Write one (validated) row durably; returns its file name.

        Raises SpoolFullError at the size bound, OSError when the disk refuses.
        """
        data = encode_row(row)
        if self._approx_bytes + len(data) > self.max_bytes:
            raise SpoolFullError(
                errno.ENOSPC, f"spool {self.root} is at its bound of {self.max_bytes} bytes"
            )
        pid = os.getpid()
        n = next(_counter)
        name = f"{time.time_ns():020d}-{pid}-{n}.json"
        tmp = self.tmp / f"{pid}-{n}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        os.close(fd)
        os.rename(tmp, self.rows / name)
        if self.fsync:
            _fsync_dir(self.rows)
        self._approx_bytes += len(data)
        return name

    # --- inspection -----------------------------------------------------------------------

    def scan_bytes(self) -> int:
        """Bytes of rows waiting or claimed (dead letters excluded); refreshes the estimate."""
        total = 0
        for d in self._row_dirs():
            with os.scandir(d) as it:
                for entry in it:
                    if entry.name.endswith(".json"):
                        with contextlib.suppress(FileNotFoundError):
                            total += entry.stat().st_size
        self._approx_bytes = total
        return total

    def _row_dirs(self) -> list[Path]:
        dirs = [self.rows]
        with contextlib.suppress(FileNotFoundError), os.scandir(self.batches) as it:
            dirs.extend(Path(e.path) for e in it if e.is_dir() and not e.name.startswith("."))
        return dirs

    def pending_names(self) -> list[str]:
        """Names of rows not yet claimed, oldest first."""
        with os.scandir(self.rows) as it:
            return sorted(e.name for e in it if e.name.endswith(".json"))

    def all_row_names(self) -> set[str]:
        """Names of every row still in the spool (waiting or claimed)."""
        names: set[str] = set()
        for d in self._row_dirs():
            with contextlib.suppress(FileNotFoundError), os.scandir(d) as it:
                names.update(e.name for e in it if e.name.endswith(".json"))
        return names

    def oldest_ns(self) -> int | None:
        """Spool time of the oldest row still in the spool (ns since the epoch), or None."""
        times = [t for t in map(spool_time_ns, self.all_row_names()) if t is not None]
        return min(times) if times else None

    # --- claims ---------------------------------------------------------------------------

    def claim(self, batch_id: str, max_rows: int) -> Batch | None:
        """Move up to `max_rows` waiting rows (oldest first) into a new batch held by this
        process. None when there was nothing to claim."""
        names = self.pending_names()[:max_rows]
        if not names:
            return None
        # Built under a hidden name with its lock held, then renamed: an orphan scan never sees
        # a batch folder whose lock is not yet taken.
        staging = self.batches / f".new-{batch_id}"
        staging.mkdir()
        fd = os.open(staging / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        final = self.batches / batch_id
        os.rename(staging, final)
        batch = Batch(batch_id, final, fd)
        moved = 0
        for name in names:
            try:
                os.rename(self.rows / name, final / name)
                moved += 1
            except FileNotFoundError:
                continue  # another uploader claimed it first
        if moved == 0:
            self.finish(batch)
            return None
        if self.fsync:
            _fsync_dir(final)
        return batch

    def adopt_orphans(self) -> Iterator[Batch]:
        """Batches whose claiming process is gone (their lock is free), now held by us."""
        with os.scandir(self.batches) as it:
            entries = sorted(e.name for e in it if e.is_dir())
        for name in entries:
            path = self.batches / name
            try:
                fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:
                continue  # finished meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a live uploader holds it
            if not path.exists():
                os.close(fd)
                continue
            if name.startswith(".new-"):
                # A claim that died before moving rows in: nothing to upload.
                log.info("removing unfinished claim %s", name)
                shutil.rmtree(path, ignore_errors=True)
                os.close(fd)
                continue
            yield Batch(name, path, fd)

    def load(self, batch: Batch) -> list[dict[str, Any]]:
        """The batch's rows, validated. Unreadable files are set aside as dead letters."""
        rows: list[dict[str, Any]] = []
        paths: list[Path] = []
        for path in batch.files():
            try:
                rows.append(decode_row(path.read_bytes()))
                paths.append(path)
            except (ValueError, OSError) as exc:
                self.set_aside(path, f"{batch.id}-{path.name}", f"unreadable: {exc}")
        batch.rows, batch.paths = rows, paths
        return rows

    def set_aside(self, path: Path, name: str, reason: str) -> None:
        """Move a row file to the dead-letter folder, with its reason in `<name>.reason`."""
        target = self.dead_letter / name
        try:
            os.rename(path, target)
        except OSError as exc:
            log.error("spool row %s cannot be uploaded (%s) and could not be set aside: %s",
                      path, reason, exc)
            return
        log.warning("spool row %s cannot be uploaded (%s); set aside in %s", path.name, reason,
                    target)
        with contextlib.suppress(OSError):
            (self.dead_letter / f"{name}.reason").write_text(reason + "\n", encoding="utf-8")

    def dead_letters(self) -> list[str]:
        """Names of the rows set aside, oldest first."""
        with contextlib.suppress(FileNotFoundError), os.scandir(self.dead_letter) as it:
            return sorted(e.name for e in it if e.name.endswith(".json"))
        return []

    def dead_letter_reasons(self) -> dict[str, str]:
        """Why each row was set aside (name -> reason), where a reason was recorded."""
        out: dict[str, str] = {}
        for name in self.dead_letters():
            with contextlib.suppress(OSError):
                out[name] = (self.dead_letter / f"{name}.reason").read_text(
                    encoding="utf-8").strip()
        return out

    def retry_dead_letters(self) -> int:
        """Put every row set aside back into the waiting rows (after the cause is fixed);
        returns how many."""
        moved = 0
        for name in self.dead_letters():
            # A new spool-time name: the row keeps its place among rows waiting from now on.
            with contextlib.suppress(FileNotFoundError):
                os.rename(self.dead_letter / name,
                          self.rows / f"{time.time_ns():020d}-{os.getpid()}-{next(_counter)}.json")
                moved += 1
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.dead_letter / f"{name}.reason")
        if moved:
            self.scan_bytes()
        return moved

    def finish(self, batch: Batch) -> None:
        """The batch is in the dataset: move its folder to the trash (one rename; deleting
        fsynced files costs a disk round trip each, more under load, so `empty_trash` does it
        later)."""
        try:
            os.rename(batch.dir, self.trash / f"{batch.id}-{time.time_ns()}")
        except OSError as exc:
            log.debug("could not move %s to the trash (%s); deleting in place", batch.dir, exc)
            self._delete_batch(batch)
        batch.release()

    def empty_trash(self, deadline: float | None = None) -> int:
        """Delete trashed batches until `deadline` (time.monotonic()); returns files deleted."""
        deleted = 0
        with os.scandir(self.trash) as it:
            dirs = [e.path for e in it if e.is_dir()]
        for d in dirs:
            with contextlib.suppress(FileNotFoundError), os.scandir(d) as it:
                for entry in it:
                    if deadline is not None and time.monotonic() > deadline:
                        return deleted
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        deleted += 1
            with contextlib.suppress(OSError):
                os.rmdir(d)
        return deleted

    def _delete_batch(self, batch: Batch) -> None:
        for path in batch.dir.iterdir():
            if path.name != ".lock":
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        with contextlib.suppress(FileNotFoundError):
            (batch.dir / ".lock").unlink()
        with contextlib.suppress(OSError):
            batch.dir.rmdir()

    # --- housekeeping ---------------------------------------------------------------------

    def remove_stale_tmp(self) -> int:
        """Remove temp files left by writers that died mid-write (never acknowledged rows)."""
        removed = 0
        now = time.time()
        with os.scandir(self.tmp) as it:
            for entry in it:
                pid_text = entry.name.split("-", 1)[0]
                try:
                    age = now - entry.stat().st_mtime
                except FileNotFoundError:
                    continue
                dead = pid_text.isdigit() and not _pid_alive(int(pid_text))
                if dead or age > STALE_TMP_S:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def write_url(self, url: str) -> None:
        """Record the dataset URL of this spool (for `mjcollect flush` without --url)."""
        path = self.root / "url"
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8").strip() == url:
                return
        tmp = self.root / f".url-{os.getpid()}.tmp"
        tmp.write_text(url + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def read_url(self) -> str | None:
        try:
            return (self.root / "url").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def write_state(self, writer_id: str, state: Mapping[str, Any]) -> None:
        """Atomically replace this writer's state file."""
        tmp = self.state / f".{writer_id}.tmp"
        try:
            tmp.write_text(json.dumps(state, default=_json_default), encoding="utf-8")
            os.replace(tmp, self.state / f"{writer_id}.json")
        except BaseException:
            with contextlib.suppress(OSError):  # a full disk leaves no half-written temp file
                tmp.unlink()
            raise

    def prune_states(self, max_age_s: float = STATE_KEEP_S) -> int:
        """Remove writers' state files not updated for `max_age_s` (one file per process would
        otherwise pile up on hosts that start a process per job)."""
        removed = 0
        cutoff = time.time() - max_age_s
        tmp_cutoff = time.time() - STALE_TMP_S  # temp files of writers that died mid-write
        with os.scandir(self.state) as it:
            for entry in it:
                with contextlib.suppress(FileNotFoundError):
                    limit = tmp_cutoff if entry.name.endswith(".tmp") else cutoff
                    if entry.stat().st_mtime < limit:
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def read_states(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for path in sorted(self.state.glob("*.json")):
            try:
                obj = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("unreadable state file %s: %s", path, exc)
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out
