"""Where the uploader's objects go, and how their errors are described.

    open_destination(loc) -> LocalDestination (a folder) | S3Destination (s3://bucket/prefix)
    dest.put(relative, body, sha256) -> "written" | "same" | "other"

No overwrite, ever: S3 objects are written with `If-None-Match: *`; a local file is written to a
temp name and hard-linked to its final name (link fails when the name exists). When the key
exists already, `put` compares the SHA-256 of our body with the `mj-sha256` user metadata stored
with the object (for local files: with the file's bytes): equal is "same" (our object, uploaded
before a crash or a lost reply), different is "other" (someone else's; the uploader then writes
ours under another name). We compare our own hash rather than the ETag because an ETag is an MD5
only for plain single-part uploads (not with SSE-KMS); the ETag is the fallback when the
metadata is absent.

boto3 is imported when an S3 destination is opened, never at `import collectors`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Literal, Protocol

from collectors.layout import DatasetLocation
from collectors.redact import redact_urls


class Destination(Protocol):
    def put(self, relative: str, body: bytes, sha256: str) -> str:
        """Write `body` at `relative` under the root unless it exists. Returns "written",
        "same" (already there with our content) or "other" (someone else's object)."""


class LocalDestination:
    """A local folder: temp file + fsync + hard link (never replaces an existing file)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, relative: str, body: bytes, sha256: str) -> str:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves no temp file behind
            raise
        try:
            os.link(tmp, path)
        except FileExistsError:
            same = hashlib.sha256(path.read_bytes()).hexdigest() == sha256
            return "same" if same else "other"
        finally:
            tmp.unlink()
        return "written"


class S3Destination:
    """S3 through boto3 (standard credential chain, AWS_ENDPOINT_URL(_S3) honoured).

    `timeout`: seconds a request may wait to connect and for each read (None: 5 and 30 s). A
    process that must be done within a budget passes it, so no request outlives the budget by
    much (the uploader thread is abandoned at the deadline anyway)."""

    def __init__(self, loc: DatasetLocation, timeout: float | None = None) -> None:
        self.loc = loc
        if timeout is None:
            # Our own backoff does the retrying; botocore's would multiply the waits.
            self.client = s3_client(total_attempts=3)
        else:
            self.client = s3_client(total_attempts=1, connect_timeout=min(5.0, timeout / 2),
                                    read_timeout=min(30.0, timeout))

    def put(self, relative: str, body: bytes, sha256: str) -> str:
        from botocore.exceptions import ClientError

        key = self.loc.key(relative)
        md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
        try:
            self.client.put_object(
                Bucket=self.loc.bucket,
                Key=key,
                Body=body,
                IfNoneMatch="*",
                ContentType="application/vnd.apache.parquet",
                Metadata={"mj-sha256": sha256},
            )
            return "written"
        except ClientError as exc:
            if s3_error_code(exc) not in ("PreconditionFailed", "412"):
                raise
        head = self.client.head_object(Bucket=self.loc.bucket, Key=key)
        theirs = head.get("Metadata", {}).get("mj-sha256")
        if theirs is not None:
            return "same" if theirs == sha256 else "other"
        return "same" if head.get("ETag", "").strip('"') == md5 else "other"


def s3_client(*, total_attempts: int, connect_timeout: float = 5.0,
              read_timeout: float = 30.0) -> Any:
    """A boto3 S3 client (standard credential chain, AWS_ENDPOINT_URL(_S3) honoured) of a session
    of our own: boto3's default session caches the credentials it resolved first and belongs to
    the worker; ours follows the environment of the moment it is made. `total_attempts` counts
    the first try (1: no retry). boto3 is imported here, never at `import collectors`."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client("s3", config=Config(
        retries={"total_max_attempts": total_attempts, "mode": "standard"},
        connect_timeout=connect_timeout, read_timeout=read_timeout,
    ))


def s3_error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ClientError ("NoSuchKey", "412"...), "" for others."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def describe_error(exc: BaseException) -> str:
    """One line for the log and the state file: the S3 error code and message, or the
    exception. botocore messages name the operation, bucket and endpoint, never the keys; URLs
    are redacted all the same (an endpoint URL may carry user:password)."""
    code = s3_error_code(exc)
    if code:
        msg = exc.response.get("Error", {}).get("Message", "")  # type: ignore[attr-defined]
        hint = {
            "NoSuchBucket": " (the bucket does not exist)",
            "InvalidAccessKeyId": " (check AWS credentials)",
            "SignatureDoesNotMatch": " (check AWS credentials)",
            "AccessDenied": " (credentials lack s3:PutObject on this prefix)",
        }.get(code, "")
        return redact_urls(f"{code}: {msg}{hint}".strip())
    return redact_urls(f"{type(exc).__name__}: {exc}")


#: S3 error codes no retry can fix, as far as the whole destination goes: the bucket, the
#: credentials or the permissions are wrong. Rows stay in the spool until that is fixed.
DESTINATION_ERRORS = frozenset({
    "NoSuchBucket", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied",
    "InvalidBucketName", "AllAccessDisabled", "AccountProblem", "InvalidToken",
    "ExpiredToken", "PermanentRedirect", "AuthorizationHeaderMalformed", "NotSignedUp",
})
#: S3 error codes of one object no retry can fix: its key or its body is refused. The rows
#: behind it are looked for (the batch is split) and set aside in the dead-letter folder.
OBJECT_ERRORS = frozenset({
    "KeyTooLongError", "InvalidObjectName", "EntityTooLarge", "InvalidArgument", "InvalidDigest",
    "BadDigest", "InvalidRequest",
})
#: Local errors of one object (a name too long for the file system, a file where a partition
#: folder belongs) and of the whole folder (no permission, read-only).
_OBJECT_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EEXIST,
                            errno.EILSEQ, errno.EINVAL})
_DESTINATION_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})

ErrorKind = Literal["transient", "destination", "object"]


def classify_error(exc: BaseException) -> ErrorKind:
    """"transient" (retry later: network, throttling, disk full, server errors), "destination"
    (no retry helps any object: bucket, credentials, permissions) or "object" (this object is
    refused whatever the retry: its key or its rows)."""
    code = s3_error_code(exc)
    if code in DESTINATION_ERRORS:
        return "destination"
    if code in OBJECT_ERRORS:
        return "object"
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "NoRegionError",
                "InvalidRegionError", "ParamValidationError", "UnknownSignatureVersionError"):
        return "destination"
    if isinstance(exc, OSError) and not code:
        if exc.errno in _OBJECT_ERRNOS:
            return "object"
        if exc.errno in _DESTINATION_ERRNOS:
            return "destination"
    return "transient"


def open_destination(loc: DatasetLocation, timeout: float | None = None) -> Destination:
    """The destination of `loc`; `timeout` bounds each S3 request (see S3Destination)."""
    if loc.is_s3:
        return S3Destination(loc, timeout)
    assert loc.path is not None
    return LocalDestination(loc.path)
