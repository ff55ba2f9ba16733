"""The real sink: rows go to the local spool at once, a background thread uploads them.

    job thread:  append(row) -> validate -> Spool.write (fsync + rename)   [ms; never raises]
    uploader:    claim rows -> one Parquet object per partition -> put (no overwrite) -> delete

Batches are cut by row count (MEDIAJOB_METRICS_BATCH_ROWS), by age of the oldest waiting row
(MEDIAJOB_METRICS_BATCH_AGE), on `flush()`, and at process exit (`close()` with a deadline,
MEDIAJOB_METRICS_EXIT_TIMEOUT). Failed uploads are retried with capped exponential backoff and
full jitter; the rows stay in the spool meanwhile, and a later process or `mjcollect flush`
uploads whatever a crashed or stopped process left.

No overwrite, ever: objects go to a destination (`collectors.destinations`: S3 with
`If-None-Match: *`, or a local folder by hard link), which never replaces an existing object. A
batch keeps its id across retries and processes, so a retry writes the same key; when that key
exists already the destination compares the SHA-256 of our Parquet body with the object's.
Equal means "uploaded before the crash": done, no duplicate. Different means another writer's
object: ours goes to `<batch>-<sha12>.parquet`. Our Parquet bytes are deterministic for the same
rows (sorted by attempt_id, no write time in the file), which is what makes the comparison work
after a crash.

Delivery is at least once: a row can be uploaded twice (e.g. its batch was quarantined partly
between two attempts); every reader keeps one row per attempt_id.

pyarrow is imported inside the uploader only, boto3 only when an S3 destination is opened;
neither at `import collectors`.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import logging
import os
import random
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors import config
from collectors.destinations import (
    Destination,
    ErrorKind,
    classify_error,
    describe_error,
    open_destination,
)
from collectors.layout import object_name, parse_url, partition_path, row_day
from collectors.layout import safe_name as _safe_name
from collectors.redact import redact_urls
from collectors.schema import validate_row
from collectors.spool import Batch, Spool, SpoolFullError, spool_dir_for, spool_time_ns

log = logging.getLogger("collectors.upload")

#: Seconds between looks at the spool for rows of other processes and for aged rows.
POLL_S = 2.0


# --- rows -> Parquet objects --------------------------------------------------------------


@dataclass(frozen=True)
class ParquetObject:
    """One object of a batch: its path under the root, its bytes and their SHA-256, and the
    indices (into the rows given to `batch_objects`) of the rows it holds."""

    relative: str
    body: bytes
    sha256: str
    members: tuple[int, ...]

    @property
    def rows(self) -> int:
        return len(self.members)


def batch_objects(batch_id: str, rows: list[dict[str, Any]]) -> list[ParquetObject]:
    """One Parquet object per (job_type, dt) partition of `rows`, rows sorted by attempt_id;
    `job_type` is in the object's path, not in its columns, when the path holds it whole.

    Deterministic: the same rows and batch id give the same bytes and keys.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from collectors.hive import partition_values, without_path_columns
    from collectors.schema import arrow_schema

    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        part = partition_path(row["job_type"], row_day(row))
        groups.setdefault(part, []).append(i)
    out = []
    for part, members in sorted(groups.items()):
        members.sort(key=lambda i: (str(rows[i]["attempt_id"]), str(rows[i].get("finished_at"))))
        # The Hive layout: job_type in the path only (collectors.hive).
        table = without_path_columns(
            pa.Table.from_pylist([rows[i] for i in members], schema=arrow_schema()),
            partition_values(part))
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="snappy")
        body = buf.getvalue()
        out.append(ParquetObject(f"{part}/{object_name(batch_id)}", body,
                                 hashlib.sha256(body).hexdigest(), tuple(members)))
    return out


# --- the uploader (no thread of its own; the sink's thread or `mjcollect flush` drives it) -


def backoff_s(failures: int, base: float, cap: float) -> float:
    """Seconds to wait after `failures` failures in a row: "full jitter", uniform in
    [0, min(cap, base * 2**(failures-1))] (spreads many workers' retries after an outage)."""
    exponent = min(max(failures - 1, 0), 40)  # 2**40 * base exceeds any sane cap; no overflow
    return random.uniform(0, min(cap, base * 2.0**exponent))


def new_writer_id() -> str:
    """`<host>-<pid>-<random>`: unique per process, safe as a file name."""
    return f"{_safe_name(socket.gethostname(), 40)}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class DrainResult:
    batches: int = 0
    rows: int = 0
    error: str | None = None
    #: classify_error of `error`: "destination" means no retry helps until it is fixed.
    kind: ErrorKind | None = None
    #: Rows set aside in the dead-letter folder by this drain.
    dead: int = 0


class Uploader:
    """Claims spooled rows in batches and uploads them; retried batches keep their ids.

    `timeout` bounds each S3 request, seconds (None: the client's defaults, see
    destinations.S3Destination)."""

    def __init__(self, url: str, spool: Spool, writer_id: str | None = None,
                 batch_rows: int = config.DEFAULT_BATCH_ROWS,
                 timeout: float | None = None) -> None:
        self.url = url
        self.loc = parse_url(url)
        self.spool = spool
        self.writer_id = writer_id or new_writer_id()
        self.batch_rows = batch_rows
        self.timeout = timeout
        self._seq = 0
        self._dest: Destination | None = None
        self.held: list[Batch] = []  # claimed by us, not yet uploaded (kept across retries)
        self.rows_uploaded = 0
        self.rows_dead = 0
        self.objects_uploaded = 0
        self.objects_already_there = 0

    def _destination(self) -> Destination:
        if self._dest is None:
            self._dest = open_destination(self.loc, self.timeout)
        return self._dest

    def upload(self, batch: Batch) -> int:
        """Upload one batch and remove it from the spool; returns its row count (rows set
        aside as dead letters not counted). Raises on failure (the batch stays held for the
        next try)."""
        rows = batch.rows or self.spool.load(batch)
        try:
            objects = batch_objects(batch.id, rows)
        except (ValueError, TypeError, OverflowError) as exc:  # pa.ArrowInvalid is a ValueError
            # A row the schema accepted but Arrow cannot store (an int32 out of range...):
            # set it aside, or it would block every upload after it.
            log.debug("batch %s does not convert (%s); checking row by row", batch.id, exc)
            rows = self._drop_unconvertible(batch)
            objects = batch_objects(batch.id, rows)
        dest = self._destination()
        dead: list[tuple[int, str]] = []
        for obj in objects:
            try:
                self._put(dest, obj)
            except Exception as exc:
                if classify_error(exc) != "object":
                    raise
                # This object is refused whatever the retry: find its rows that cause it.
                log.debug("object %s refused (%s); splitting", obj.relative, describe_error(exc))
                dead.extend(self._split(dest, batch.id, rows, list(obj.members), exc))
        for i, reason in dead:
            self.spool.set_aside(batch.paths[i], f"{batch.id}-{batch.paths[i].name}",
                                 f"refused by the dataset: {reason}")
        self.spool.finish(batch)
        self.rows_dead += len(dead)
        self.rows_uploaded += len(rows) - len(dead)
        return len(rows) - len(dead)

    def _put(self, dest: Destination, obj: ParquetObject) -> None:
        outcome = dest.put(obj.relative, obj.body, obj.sha256)
        if outcome == "other":
            # Someone else's object at our key (or our batch lost a dead-letter row since the
            # first try): write ours next to it under a content-derived name.
            alt = obj.relative.removesuffix(".parquet") + f"-{obj.sha256[:12]}.parquet"
            log.warning("%s exists with other content; writing %s", obj.relative, alt)
            outcome = dest.put(alt, obj.body, obj.sha256)
        if outcome == "same":
            self.objects_already_there += 1
        else:
            self.objects_uploaded += 1

    def _split(self, dest: Destination, batch_id: str, rows: list[dict[str, Any]],
               members: list[int], exc: BaseException, path: str = ""
               ) -> list[tuple[int, str]]:
        """Upload `members` in halves (object names `<batch>-s<a|b...>`: the same on a retry);
        returns the rows refused alone, whatever the retry, with the reason. Other errors are
        raised."""
        if len(members) == 1:
            return [(members[0], describe_error(exc))]
        half = len(members) // 2
        dead: list[tuple[int, str]] = []
        for tag, part in (("a", members[:half]), ("b", members[half:])):
            sub = f"{path}{tag}"
            [obj] = batch_objects(f"{batch_id}-s{sub}", [rows[i] for i in part])
            try:
                self._put(dest, obj)
            except Exception as sub_exc:
                if classify_error(sub_exc) != "object":
                    raise
                dead.extend(self._split(dest, batch_id, rows, part, sub_exc, sub))
        return dead

    def _drop_unconvertible(self, batch: Batch) -> list[dict[str, Any]]:
        import pyarrow as pa

        from collectors.schema import arrow_schema

        keep_rows, keep_paths = [], []
        for row, path in zip(batch.rows, batch.paths, strict=True):
            try:
                pa.Table.from_pylist([row], schema=arrow_schema())
            except (ValueError, TypeError, OverflowError) as exc:
                self.spool.set_aside(path, f"{batch.id}-{path.name}",
                                     f"Arrow cannot store it: {exc}")
                self.rows_dead += 1
                continue
            keep_rows.append(row)
            keep_paths.append(path)
        batch.rows, batch.paths = keep_rows, keep_paths
        return keep_rows

    def next_batch_id(self) -> str:
        self._seq += 1
        return f"{self.writer_id}-{self._seq:06d}"

    def drain(self, *, everything: bool = True, stop: threading.Event | None = None,
              deadline: float | None = None) -> DrainResult:
        """Upload held and orphaned batches, then claim and upload waiting rows: all of them
        (`everything`) or only full batches. Stops at the first error (returned, not raised),
        at `stop`, or at `deadline` (time.monotonic())."""
        result = DrainResult()

        def out_of_time() -> bool:
            return (stop is not None and stop.is_set() and deadline is None) or (
                deadline is not None and time.monotonic() > deadline)

        self.spool.remove_stale_tmp()
        self.held.extend(self.spool.adopt_orphans())
        while True:
            if out_of_time():
                return result
            if not self.held:
                waiting = len(self.spool.pending_names())
                if waiting == 0 or (not everything and waiting < self.batch_rows):
                    self.spool.empty_trash(deadline)  # idle: now delete what was uploaded
                    return result
                batch = self.spool.claim(self.next_batch_id(), self.batch_rows)
                if batch is None:
                    continue
                self.held.append(batch)
            batch = self.held[0]
            dead_before = self.rows_dead
            try:
                n = self.upload(batch)
            except Exception as exc:  # noqa: BLE001 - any failure: keep the rows, report
                result.error = describe_error(exc)
                result.kind = classify_error(exc)
                log.debug("upload of %s failed", batch.id, exc_info=True)
                return result
            finally:
                result.dead += self.rows_dead - dead_before
            self.held.pop(0)
            result.batches += 1
            result.rows += n

    def release(self) -> None:
        """Give up held claims so another process may adopt them at once."""
        for batch in self.held:
            batch.release()
        self.held.clear()


# --- the sink -----------------------------------------------------------------------------


class SpoolingSink:
    """A `Sink` writing to a spool folder and uploading from a daemon thread.

    `append` never raises and never waits for the network. Counters (`rows_spooled`,
    `rows_dropped`, `rows_invalid`, `rows_uploaded`) and the last error are written to the
    spool's state folder for `mjcollect status`.

    Each option left None comes from its environment variable (collectors.config): batch_rows
    (rows per object), batch_age (seconds a row may wait), max_bytes (spool bound, bytes),
    retry_max (longest wait between upload retries, seconds), budget (the most `close` at
    process exit spends, seconds; also the bound of each S3 request).

    What a job pays: `close(timeout)` returns within `timeout` whatever S3 does (the request in
    flight is abandoned with the daemon thread, its rows stay in the spool); an error no retry
    can fix (no such bucket, bad credentials, access denied) ends the wait at once; with an
    agent alive (collectors.agent) the sink leaves every upload to it and `close` waits for
    nothing.
    """

    def __init__(
        self,
        url: str,
        *,
        spool_dir: str | Path | None = None,
        batch_rows: int | None = None,
        batch_age: float | None = None,
        max_bytes: int | None = None,
        retry_max: float | None = None,
        budget: float | None = None,
        fsync: bool = True,
    ) -> None:
        loc = parse_url(url)  # raises ValueError for a bad URL
        self.url = loc.url
        # The uploader thread's first imports may happen in the at-exit flush: boto3 (S3), and
        # pandas, which pyarrow imports on its first list-to-Arrow conversion when it is
        # installed. Both import concurrent.futures.thread, which registers a threading exit
        # hook, and Python refuses that once shutdown has begun (the upload failed with
        # "can't register atexit after shutdown"). Importing that (stdlib, light) module now
        # makes the late imports safe.
        import concurrent.futures.thread  # noqa: F401

        self.batch_rows = int(batch_rows or config.batch_rows())
        if self.batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, got {batch_rows!r}")
        self.batch_age = config.positive_arg(
            "batch_age", batch_age, config.MEDIAJOB_METRICS_BATCH_AGE, config.DEFAULT_BATCH_AGE_S)
        self.retry_max = config.positive_arg(
            "retry_max", retry_max, config.MEDIAJOB_METRICS_RETRY_MAX, config.DEFAULT_RETRY_MAX_S)
        self.budget = config.positive_arg(
            "budget", budget, config.MEDIAJOB_METRICS_EXIT_TIMEOUT, config.DEFAULT_EXIT_TIMEOUT_S)
        max_b = int(max_bytes) if max_bytes is not None else config.spool_max_bytes()
        self.spool = Spool(spool_dir if spool_dir is not None else spool_dir_for(url),
                           max_b, fsync=fsync)
        self.spool.write_url(self.url)
        self.spool.prune_states()
        self.rows_spooled = 0
        self.rows_dropped = 0
        self.rows_invalid = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.last_upload_at: float | None = None
        self._state_error_logged = False
        #: Rows of ours still in the spool when `close` returned.
        self.left_behind = False
        self._init_process_state()
        _SINKS.add(self)

    def _init_process_state(self) -> None:
        """Everything that must be fresh in a new process (called again after fork)."""
        self._lock = threading.Lock()
        self._cycle_done = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mine: set[str] = set()  # our spooled rows not yet seen uploaded
        self._since_wake = 0
        self._failures = 0
        self._retry_at = 0.0
        self._flush_wanted = False
        self._cycles = 0
        self._closed = False
        self._logged_errors: set[str] = set()
        #: The last upload error when no retry can fix it (bucket, credentials...), else None.
        self.permanent_error: str | None = None
        self.uploader = Uploader(self.url, self.spool, batch_rows=self.batch_rows,
                                 timeout=self.budget)

    # --- Sink protocol --------------------------------------------------------------------

    def append(self, row: Mapping[str, Any]) -> None:
        """Spool one row (validated with the schema). Never raises; failures are counted and
        logged (first time and every 1000th)."""
        try:
            clean = validate_row(row)
        except (TypeError, ValueError) as exc:
            self.rows_invalid += 1
            self._log_drop("invalid row refused", exc, self.rows_invalid)
            return
        try:
            name = self.spool.write(clean)
        except SpoolFullError as exc:
            self.rows_dropped += 1
            self._log_drop("spool full, row dropped", exc, self.rows_dropped)
            return
        except FileNotFoundError:
            # The spool folder was removed under us (a cleaner of ~/.cache): make it again.
            try:
                self.spool.make_dirs()
                name = self.spool.write(clean)
            except Exception as exc:  # noqa: BLE001 - append never raises; counted and logged
                self.rows_dropped += 1
                self._log_drop("could not spool row, dropped", exc, self.rows_dropped)
                return
        except Exception as exc:  # noqa: BLE001 - disk full, read-only, permissions... never raise
            self.rows_dropped += 1
            self._log_drop("could not spool row, dropped", exc, self.rows_dropped)
            return
        with self._lock:
            self._mine.add(name)
            self.rows_spooled += 1
            self._since_wake += 1
            wake = self._since_wake >= self.batch_rows
            if wake:
                self._since_wake = 0
        self._ensure_thread()
        if wake:
            self._wake.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Upload every row this sink spooled; True when all of them are in the dataset.
        Waits at most `timeout` seconds (None: until done)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._remaining():
            return True
        if self.permanent_error is not None:
            # Known not to work until someone fixes it: retrying now only costs the caller.
            with self._lock:
                if time.monotonic() < self._retry_at:
                    return False
        self._ensure_thread()
        with self._lock:
            self._retry_at = 0.0  # an explicit flush retries at once, then backs off as usual
            self._flush_wanted = True
            target = self._cycles + 1
        self._wake.set()
        while True:
            with self._lock:
                left = None if deadline is None else deadline - time.monotonic()
                timed_out = left is not None and left <= 0
                if not timed_out and self._cycles < target:
                    self._cycle_done.wait(timeout=left)
                    continue
                target = self._cycles + 1
                self._flush_wanted = True
            if not self._remaining():
                return True
            if timed_out or self.permanent_error is not None:
                return False

    def close(self, timeout: float | None = None) -> None:
        """Flush (at most `timeout` seconds, the whole of what close may take), stop the
        thread, give up claims. Rows not uploaded stay in the spool for the agent, the next
        process or `mjcollect flush`. With an agent alive nothing is flushed here."""
        if self._closed:
            return
        start = time.monotonic()
        ok = True if self._agent_alive() else self.flush(timeout)
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - start))
            self._thread.join(left)
        if self._thread is None or not self._thread.is_alive():
            self.uploader.release()
        self.left_behind = not ok and bool(self._remaining())
        if self.left_behind:
            log.warning("%d rows not uploaded to %s yet; they stay in %s for the agent, the next "
                        "process or `mjcollect flush`", len(self._remaining()),
                        self.uploader.loc.display(), self.spool.root)
        self._write_state()

    def _agent_alive(self) -> bool:
        from collectors.hostlock import agent_alive

        return agent_alive(self.spool.root.parent)

    # --- internals ------------------------------------------------------------------------

    def _remaining(self) -> set[str]:
        with self._lock:
            mine = set(self._mine)
        if not mine:
            return mine
        left = mine & self.spool.all_row_names()
        with self._lock:
            self._mine -= mine - left
        return left

    def _log_drop(self, what: str, exc: BaseException, count: int) -> None:
        if count == 1 or count % 1000 == 0:
            log.error("metrics %s (%d so far; job unaffected): %s", what, count, exc)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        if self._closed:
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="mediajobs-metrics-upload",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                until_retry = self._retry_at - time.monotonic()
            wait = min(POLL_S, self.batch_age)
            if until_retry > 0:
                wait = min(wait, until_retry)
            self._wake.wait(timeout=wait)
            self._wake.clear()
            stopping = self._stop.is_set()
            try:
                self._cycle(stopping)
            except Exception:  # noqa: BLE001 - the thread must survive anything
                log.exception("metrics uploader cycle failed")
            with self._lock:
                self._cycles += 1
                self._cycle_done.notify_all()
            if stopping:
                return

    def _cycle(self, stopping: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._retry_at:
                return
            flushing = self._flush_wanted
            self._flush_wanted = False
        if self._agent_alive():
            return  # the host's agent uploads; two uploaders would only compete
        oldest = self.spool.oldest_ns()
        aged = oldest is not None and (time.time_ns() - oldest) / 1e9 >= self.batch_age
        everything = stopping or aged or flushing
        result = self.uploader.drain(everything=everything)
        self.spool.scan_bytes()
        if result.rows:
            self.last_upload_at = time.time()
        self.permanent_error = result.error if result.kind == "destination" else None
        if result.error is None:
            if self._failures:
                log.info("metrics upload to %s works again", self.uploader.loc.display())
            self._failures = 0
            self._logged_errors.clear()
        else:
            self._failures += 1
            wait = backoff_s(self._failures, config.RETRY_BASE_S, self.retry_max)
            if self.permanent_error is not None:
                wait = self.retry_max  # it needs fixing first: look again seldom
            with self._lock:
                self._retry_at = time.monotonic() + wait
                self._flush_wanted = self._flush_wanted or flushing
            self.last_error = result.error
            self.last_error_at = time.time()
            if result.error not in self._logged_errors:
                self._logged_errors.add(result.error)
                log.error("metrics upload to %s failed: %s; rows stay in spool %s, retrying",
                          self.uploader.loc.display(), result.error, self.spool.root)
            else:
                log.debug("upload retry %d failed: %s", self._failures, result.error)
        self._write_state()

    def _write_state(self) -> None:
        state = {
            "writer_id": self.uploader.writer_id,
            "pid": os.getpid(),
            "url": self.uploader.loc.display(),
            "rows_spooled": self.rows_spooled,
            "rows_dropped": self.rows_dropped,
            "rows_invalid": self.rows_invalid,
            "rows_uploaded": self.uploader.rows_uploaded,
            "rows_dead_letter": self.uploader.rows_dead,
            "objects_uploaded": self.uploader.objects_uploaded,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "last_upload_at": self.last_upload_at,
            "updated_at": time.time(),
        }
        try:
            self.spool.write_state(self.uploader.writer_id, state)
        except OSError as exc:
            # A full disk: `mjcollect status` cannot see these counters, so the log says them
            # (once at ERROR, then at DEBUG); they go on counting in memory.
            level = logging.DEBUG if self._state_error_logged else logging.ERROR
            self._state_error_logged = True
            log.log(level, "metrics state file not written (%s); counters so far: %d rows "
                    "spooled, %d dropped, %d invalid, %d uploaded, %d set aside", exc,
                    self.rows_spooled, self.rows_dropped, self.rows_invalid,
                    self.uploader.rows_uploaded, self.uploader.rows_dead)

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist here; its batch claims are the parent's (closing
        # our copies of the lock fds does not release the parent's flock).
        for batch in self.uploader.held:
            if batch.lock_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(batch.lock_fd)
                batch.lock_fd = None
        self.rows_spooled = self.rows_dropped = self.rows_invalid = 0
        self._init_process_state()


_SINKS: weakref.WeakSet[SpoolingSink] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for sink in list(_SINKS):
        sink._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)


# --- the process-wide default -------------------------------------------------------------

_default: SpoolingSink | None = None
_default_lock = threading.Lock()
_atexit_registered = False


def default_sink() -> SpoolingSink | None:
    """The process's sink from the environment, or None when metrics are off
    (MEDIAJOB_METRICS=0) or MEDIAJOB_METRICS_URL is unset or unusable (logged once per URL;
    asked again on the next call, so a spool folder that becomes writable is picked up)."""
    global _default, _atexit_registered
    if not config.metrics_enabled():
        return None
    url = config.metrics_url()
    if url is None:
        return None
    with _default_lock:
        try:
            same = _default is not None and _default.url == parse_url(url).url
        except ValueError:
            same = False  # refused (and logged) by SpoolingSink below
        if same and _default is not None and not _default._closed:
            return _default
        old, _default = _default, None
        if old is not None and not old._closed:
            old.close(timeout=0)
        try:
            _default = SpoolingSink(url)
        except (ValueError, OSError) as exc:
            # Asked again on the next attempt (a spool folder may become writable).
            log_refused_url(url, exc, config.MEDIAJOB_METRICS_URL)
            return None
        if not _atexit_registered:
            atexit.register(_close_default_at_exit)
            _atexit_registered = True
        return _default


def log_refused_url(url: str, exc: BaseException, setting: str = "the dataset URL") -> None:
    """Say once per URL (ERROR, then DEBUG) that rows cannot go to `url`, credentials removed."""
    config.log_once(log, f"dataset-url:{url}", logging.ERROR,
                    "metrics rows not written: cannot use %s=%r: %s",
                    setting, redact_urls(url), redact_urls(str(exc)))


def _close_default_at_exit() -> None:
    sink = _default
    if sink is not None:
        sink.close(timeout=sink.budget)
        if sink.left_behind:
            # Nobody else may come along soon (the last job of a host): hand them over.
            from collectors.hostlock import start_flusher

            start_flusher(sink.spool.root.parent)


def spool_status(spool: Spool) -> dict[str, Any]:
    """What `mjcollect status` shows for one spool folder."""
    waiting = spool.pending_names()
    all_names = spool.all_row_names()
    oldest = [t for t in map(spool_time_ns, all_names) if t is not None]
    return {
        "spool": str(spool.root),
        "url": spool.read_url(),
        "rows_waiting": len(waiting),
        "rows_claimed": len(all_names) - len(waiting),
        "oldest_row_age_s": round((time.time_ns() - min(oldest)) / 1e9, 1) if oldest else None,
        "spool_bytes": spool.scan_bytes(),
        "spool_max_bytes": spool.max_bytes,
        "dead_letter_rows": len(spool.dead_letters()),
        "dead_letter_reasons": sorted(set(spool.dead_letter_reasons().values())),
        "writers": spool.read_states(),
    }
