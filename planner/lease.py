"""The compaction lease: one `mjplan compact` or `mjplan purge` run per dataset at a time.

Why. Two compactions (or a compaction and a purge) of one dataset at once would read, rewrite
and delete the same files. So each run first takes the dataset's lease, checks it before each
group or partition (`Lease.check()`), and gives it back at the end, on success or error.

The lock object. `<dataset>/_compaction.lock` (`LOCK_NAME`; readers skip names starting with
"_"), JSON: holder, host, pid, command, token, started_at, expires_at, renewed_at. The token
says which run it belongs to.

Conditional create, renew, delete. The lock is made with a create that fails when the object
exists: `If-None-Match: *` on S3, O_EXCL in a folder. Every change after the create is a
compare-and-swap on what was read: on S3 `If-Match: <ETag>` on the PUT (renew) and the DELETE
(release, takeover), which SeaweedFS 4.48 and AWS honour; in a folder an flock on the dataset
folder around compare-and-change (a local file system; NFS flock semantics vary). So a run never
overwrites or deletes a lock another run made, and two runs taking over one expired lock cannot
both win.

Expiry. A live lease refuses the run with one line naming its holder; an expired one (or an
unreadable lock) is taken over, so a crashed run does not block forever, and `break_lease=True`
takes over a live one whose run is known to be gone. Before each group or partition the run
checks the lock is still its own and renews it (expires_at = now + the lease's duration), so a
run longer than its lease keeps it as long as each step is shorter; it stops when the lock is
no longer its own (another run took over).

The window that remains: one group (or partition) that alone takes longer than the lease;
another run may take over meanwhile, and the first stops only at its next check. Choose
`--lease` above the longest single step.

Time. Every "now" (started_at, renewals, whether a lock has expired) comes from a clock,
`utc_now` unless `acquire_lease`/`describe_lease` are given one, so tests move time on instead of
sleeping through a lease.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from collectors.destinations import s3_client, s3_error_code
from collectors.layout import parse_url
from planner.dataset import resolve
from planner.errors import PlannerError, one_line

log = logging.getLogger("planner.lease")

#: The lease object, at the dataset's root (readers skip names starting with "_").
LOCK_NAME = "_compaction.lock"
#: How long a lease lasts unless renewed by a new run: long enough for a big compaction.
DEFAULT_LEASE_S = 6 * 3600


class LeaseHeldError(PlannerError):
    """Another run holds a live lease on the dataset."""


class LeaseLostError(PlannerError):
    """Our lease was taken over (it expired, or was broken) while we worked."""


class _LockStore(Protocol):
    """The lock object. Every change but the first create is a compare-and-swap on the
    version `read` returned, so a run never overwrites or deletes a lock that changed since."""

    where: str

    def create(self, body: bytes) -> bool:
        """Write the lock unless it exists; False when it exists."""

    def read(self) -> tuple[bytes, str] | None:
        """(the lock's bytes, its version), None when there is none."""

    def replace(self, body: bytes, version: str) -> bool:
        """Overwrite the lock if it is still at `version`; False when it changed or went."""

    def delete(self, version: str) -> bool:
        """Remove the lock if it is still at `version`; False when it changed or went."""


class _LocalLock:
    """The lock file. Replace and delete hold an flock on the dataset folder between their
    compare and their change, so neither can interleave with another run's."""

    def __init__(self, root: str) -> None:
        self.path = Path(root) / LOCK_NAME
        self.where = str(self.path)

    def create(self, body: bytes) -> bool:
        # Under the folder lock too: no run's compare sees the file half written.
        with self._folder_locked():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            try:
                os.write(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
            return True

    def read(self) -> tuple[bytes, str] | None:
        try:
            body = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return body, hashlib.sha256(body).hexdigest()

    @contextmanager
    def _folder_locked(self) -> Iterator[None]:
        import fcntl

        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock

    def _still(self, version: str) -> bool:
        current = self.read()
        return current is not None and current[1] == version

    def replace(self, body: bytes, version: str) -> bool:
        with self._folder_locked():
            if not self._still(version):
                return False
            tmp = self.path.with_name(f".{LOCK_NAME}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(body)
            os.replace(tmp, self.path)
            return True

    def delete(self, version: str) -> bool:
        with self._folder_locked():
            if not self._still(version):
                return False
            self.path.unlink(missing_ok=True)
            return True


#: S3 error codes of a failed precondition: the object changed (412), a concurrent conditional
#: write won (409), or the object is gone (404 on an If-Match).
_LOST = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409", "NoSuchKey", "404")


class _S3Lock:
    """The lock through boto3 (pyarrow's S3 filesystem has no conditional requests): create
    with `If-None-Match: *`, replace and delete with `If-Match: <ETag>`. SeaweedFS 4.48 honours
    both (a stale ETag is refused with 412; of 8 PUTs racing on one ETag exactly one wins), as
    does AWS S3 (conditional deletes since 2025)."""

    def __init__(self, url: str) -> None:
        loc = parse_url(url)
        self.bucket, self.key = loc.bucket, loc.key(LOCK_NAME)
        self.where = f"s3://{self.bucket}/{self.key}"
        self.client = s3_client(total_attempts=4)

    def create(self, body: bytes) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=body,
                                   IfNoneMatch="*", ContentType="application/json")
        except ClientError as exc:
            if s3_error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def read(self) -> tuple[bytes, str] | None:
        from botocore.exceptions import ClientError

        try:
            got = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as exc:
            if s3_error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        body: bytes = got["Body"].read()
        return body, str(got["ETag"])

    def replace(self, body: bytes, version: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=body,
                                   IfMatch=version, ContentType="application/json")
        except ClientError as exc:
            if s3_error_code(exc) in _LOST:
                return False
            raise
        return True

    def delete(self, version: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=version)
        except ClientError as exc:
            if s3_error_code(exc) in _LOST:
                return False
            raise
        return True


def _lock_store(url: str) -> _LockStore:
    if url.startswith("s3://"):
        return _S3Lock(url)
    _, root, _ = resolve(url, folder=True)
    return _LocalLock(root)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _expiry(start: dt.datetime, duration_s: int) -> str:
    """`start + duration_s` in whole seconds, rounded up: a lease never lasts less than asked
    (truncating made a 2 s lease as short as 1 s)."""
    end = start + dt.timedelta(seconds=duration_s)
    if end.microsecond:
        end += dt.timedelta(microseconds=1_000_000 - end.microsecond)
    return _iso(end)


#: A source of the current time (timezone-aware, UTC).
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The lease's clock when none is given: now, in UTC."""
    return dt.datetime.now(dt.UTC)


def _parse_lock(body: bytes) -> dict[str, Any]:
    """The lock's fields; an unreadable lock counts as expired (nothing can renew it)."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        expires = dt.datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
        if expires.tzinfo is None:
            raise ValueError("no timezone")
    except (ValueError, KeyError, TypeError):
        return {"holder": "unreadable lock", "expires": dt.datetime.min.replace(tzinfo=dt.UTC)}
    data["expires"] = expires
    return data


class Lease:
    """A held lease on a dataset: `check()` before each change, `release()` at the end.

    Use `with acquire_lease(url, "compact") as lease: ...`; see the module doc.
    """

    def __init__(self, store: _LockStore, token: str, holder: str, duration_s: int,
                 clock: Clock | None = None) -> None:
        self.store, self.token, self.holder = store, token, holder
        self.duration_s = duration_s
        self.clock = clock or utc_now
        self.released = False

    def _ours(self) -> tuple[dict[str, Any], str] | None:
        """(the lock's fields, its version) when the lock is ours, else None."""
        current = self.store.read()
        if current is None:
            return None
        info = _parse_lock(current[0])
        return (info, current[1]) if info.get("token") == self.token else None

    def is_ours(self) -> bool:
        return self._ours() is not None

    def _lost(self) -> LeaseLostError:
        current = self.store.read()
        now = "no lock" if current is None else f"held by {_parse_lock(current[0])['holder']}"
        return LeaseLostError(f"lease on the dataset lost ({now}): stopped; what is done "
                              "is consistent, run again to finish")

    def check(self) -> None:
        """Renew the lease (expires_at = now + its duration) if the lock is still ours; raise
        LeaseLostError when it is not. The rewrite is conditional on the lock being unchanged
        since it was read (If-Match on S3, a folder flock locally), so a run never overwrites
        the lock of a run that took over."""
        ours = self._ours()
        if ours is None:
            raise self._lost()
        info, version = ours
        now = self.clock()
        fields = {k: v for k, v in info.items() if k != "expires"}
        fields.update(renewed_at=_iso(now), expires_at=_expiry(now, self.duration_s))
        if not self.store.replace(json.dumps(fields, indent=1).encode(), version):
            raise self._lost()

    def release(self) -> None:
        """Remove the lock if it is still ours (never another run's)."""
        if self.released:
            return
        self.released = True
        try:
            ours = self._ours()
            if ours is not None:
                self.store.delete(ours[1])
        except Exception as exc:  # noqa: BLE001 - the run's own outcome matters more
            log.warning("could not remove the lease %s: %s (it expires by itself)",
                        self.store.where, one_line(exc))

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def acquire_lease(url: str, command: str, *, duration_s: int = DEFAULT_LEASE_S,
                  break_lease: bool = False, clock: Clock | None = None) -> Lease:
    """Take the dataset's lease for `command` ("compact" or "purge") for `duration_s` seconds;
    each `Lease.check()` extends it to `duration_s` seconds from then.

    An expired lease (or an unreadable lock) is taken over, a live one only with `break_lease`.
    Raises LeaseHeldError naming the holder and its expiry, or PlannerError when the lock
    cannot be written (S3 unreachable, no permission), each as one line. `clock` gives the
    times of the lease and of its renewals (`utc_now` by default).
    """
    clock = clock or utc_now
    store = _lock_store(url)
    start = clock()
    host, pid, token = socket.gethostname(), os.getpid(), uuid.uuid4().hex
    holder = f"mjplan {command} on {host} (pid {pid})"
    body = json.dumps({
        "holder": holder, "host": host, "pid": pid, "command": command, "token": token,
        "started_at": _iso(start), "expires_at": _expiry(start, duration_s),
    }, indent=1).encode()
    try:
        for _ in range(3):  # a lock removed between our create and our read: try again
            if store.create(body):
                lease = Lease(store, token, holder, duration_s, clock)
                # Deletes are conditional, so two runs taking over one expired lock cannot
                # both succeed; this check is a second guard before anything changes.
                if not lease.is_ours():
                    raise lease._lost()
                return lease
            current = store.read()
            if current is None:
                continue
            info = _parse_lock(current[0])
            expired = info["expires"] <= start
            if not expired and not break_lease:
                raise LeaseHeldError(
                    f"{url} is being changed by {info['holder']} since "
                    f"{info.get('started_at', '?')}; its lease expires {_iso(info['expires'])} "
                    f"(lock {store.where}; --break-lease if that run is gone)")
            log.warning("taking over the %s lease of %s (%s)",
                        "expired" if expired else "live", info["holder"], store.where)
            # Only the lock we judged: one renewed or remade since stays (and we loop).
            store.delete(current[1])
    except PlannerError:
        raise
    except Exception as exc:
        raise PlannerError(f"cannot take the lease {store.where}: {one_line(exc)}") from exc
    raise LeaseHeldError(f"{url}: the lease {store.where} keeps changing hands; try again")


def describe_lease(url: str, clock: Clock | None = None) -> str | None:
    """One line on the dataset's lease for a dry run (which takes none), None when there is
    no lock: a live lease means the real run would be refused now."""
    try:
        store = _lock_store(url)
        current = store.read()
    except Exception as exc:  # noqa: BLE001 - a dry run still shows its plan
        return f"lease: cannot read the lock ({one_line(exc)})"
    if current is None:
        return None
    info = _parse_lock(current[0])
    if info["expires"] <= (clock or utc_now)():
        return (f"lease: the expired lease of {info['holder']} would be taken over "
                f"(lock {store.where})")
    return (f"lease: held by {info['holder']} since {info.get('started_at', '?')}, expires "
            f"{_iso(info['expires'])}: a real run now would be refused (lock {store.where}; "
            "--break-lease if that run is gone)")
