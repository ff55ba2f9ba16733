"""Where rows go in the dataset: URL parsing, Hive partition paths and object names.

The dataset is `<root>/job_type=<t>/dt=<YYYY-MM-DD>/<name>.parquet`, where `<root>` is a local
folder or `s3://bucket/prefix`. Partition values are escaped the way Hive escapes them (`%XX`
for each byte outside `[A-Za-z0-9_.-]`), so readers that take values from paths (pyarrow's
"hive" partitioning decodes `%XX`) still see the original value, and a job type such as `../x`
or `a/b` cannot name a folder outside its own partition. Files hold every column but the
partition columns the path gives back whole (the Hive convention: collectors.hive). A value
longer than MAX_PARTITION_VALUE_BYTES after escaping is shortened with a hash suffix
(`partition_value`): a 300-character job type would exceed a file name's 255 bytes or S3's
1,024-byte key and fail its upload on every try. The path does not give such a value back
whole, so the file keeps its `job_type` column with the full value.

Plain Python, no third-party import: this runs on the worker. URLs in error messages are
redacted (collectors.redact): a mistyped setting may hold credentials.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.redact import redact_urls

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")

#: What Hive writes for a null or empty partition value.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class DatasetLocation:
    """A parsed dataset URL. For S3, `bucket` and `prefix` (no leading/trailing '/');
    for a local folder, `path` (absolute)."""

    url: str
    scheme: str  # "s3" or "file"
    bucket: str = ""
    prefix: str = ""
    path: Path | None = None

    @property
    def is_s3(self) -> bool:
        return self.scheme == "s3"

    def key(self, relative: str) -> str:
        """The S3 key (or local path string) of `relative` under the root."""
        if self.is_s3:
            return f"{self.prefix}/{relative}" if self.prefix else relative
        assert self.path is not None
        return str(self.path / relative)

    def display(self) -> str:
        """The URL for logs (an S3 URL never carries credentials)."""
        if self.is_s3:
            return f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return str(self.path)


def parse_url(url: str) -> DatasetLocation:
    """Parse `s3://bucket/prefix`, `file:///folder` or a plain folder path.

    Raises ValueError for an empty URL, an S3 URL without a bucket, a prefix holding `..`
    segments, or a scheme other than s3/file.
    """
    text = url.strip()
    if not text:
        raise ValueError("empty dataset URL")
    if text.startswith("s3://"):
        rest = text[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if not bucket or "@" in bucket or ":" in bucket:
            raise ValueError(f"S3 URL needs s3://bucket/prefix, got {redact_urls(url)!r}")
        parts = [p for p in prefix.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise ValueError(
                f"S3 prefix may not contain '.' or '..' segments: {redact_urls(url)!r}")
        return DatasetLocation(url=text, scheme="s3", bucket=bucket, prefix="/".join(parts))
    if text.startswith("file://"):
        text = text[len("file://") :]
    elif "://" in text:
        raise ValueError(f"unsupported dataset URL scheme: {redact_urls(url)!r} "
                         "(use s3:// or a folder)")
    # The URL of a folder is its absolute path: the spool records it, and a relative one would
    # send the rows to whatever folder a later process (`mjcollect flush`) runs in.
    path = Path(text).expanduser().resolve()
    return DatasetLocation(url=str(path), scheme="file", path=path)


def escape_partition_value(value: object) -> str:
    """A partition value safe as one path segment: Hive-style `%XX` escaping of every UTF-8 byte
    outside `[A-Za-z0-9_.-]`, dots escaped too when the value would be `.`/`..`-like.

    None or "" gives Hive's default partition name.
    """
    if value is None:
        return NULL_PARTITION
    text = str(value)
    if text == "":
        return NULL_PARTITION
    out = []
    for ch in text:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    escaped = "".join(out)
    if ".." in escaped or escaped.startswith("."):
        # Never a `..` segment, never a hidden name that readers skip.
        escaped = escaped.replace(".", "%2E")
    return escaped


#: Longest partition value in a path, bytes after escaping: a path segment `job_type=<value>`
#: stays far under a file name's 255 bytes, and a whole key under S3's 1,024 bytes.
MAX_PARTITION_VALUE_BYTES = 120
_HASH_CHARS = 16


def partition_value(value: object) -> str:
    """`escape_partition_value(value)`, shortened when longer than MAX_PARTITION_VALUE_BYTES:
    whole escaped characters up to the bound, then `-` and 16 hex of the value's SHA-256
    (distinct long values stay in distinct partitions). The full value stays in the row."""
    escaped = escape_partition_value(value)
    if len(escaped) <= MAX_PARTITION_VALUE_BYTES:
        return escaped
    text = str(value)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    room = MAX_PARTITION_VALUE_BYTES - _HASH_CHARS - 1
    # Cut between characters, never inside one's %XX bytes: a reader decodes the value.
    n = room
    head = escape_partition_value(text[:n])
    while len(head) > room:  # a character takes 1 to 12 bytes escaped
        n -= max(1, (len(head) - room) // 12)
        head = escape_partition_value(text[:n])
    if n == 0:
        head = ""
    return f"{head}-{digest}"


def row_day(row: Mapping[str, Any], fallback: dt.datetime | None = None) -> dt.date:
    """The `dt` partition of a row: UTC date of started_at, else of finished_at, else of
    `fallback` (the time the row was spooled), else today (UTC)."""
    for key in ("started_at", "finished_at"):
        value = row.get(key)
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return value.astimezone(dt.UTC).date()
    when = fallback or dt.datetime.now(dt.UTC)
    return when.astimezone(dt.UTC).date()


def partition_path(job_type: object, day: dt.date) -> str:
    """`job_type=<escaped, shortened>/dt=<YYYY-MM-DD>` (relative, '/'-separated)."""
    return f"job_type={partition_value(job_type)}/dt={day.isoformat()}"


def safe_name(text: str, max_len: int = 80) -> str:
    """A file-name fragment of `[A-Za-z0-9_.-]` only (others become '_'), never empty or dotted."""
    cleaned = "".join(ch if ch in _SAFE else "_" for ch in text)[:max_len].strip(".")
    return cleaned or "x"


def object_name(batch_id: str) -> str:
    """The object name of a batch: `<batch_id>.parquet`. `batch_id` is `<writer-id>-<seq>`,
    unique per writer and batch and chosen before the first upload attempt, so a retry (even by
    another process after a crash) writes the same key."""
    if not _NAME_RE.match(batch_id) or batch_id.startswith("."):
        raise ValueError(f"unsafe batch id {batch_id!r}")
    return f"{batch_id}.parquet"


def parse_partition_dir(name: str) -> tuple[str, str] | None:
    """`("job_type", "x")` for a path segment `job_type=x`; None for anything else."""
    key, sep, value = name.partition("=")
    if not sep or not key or not value:
        return None
    return key, value


def parse_day(value: str) -> dt.date | None:
    """The date of a `dt=` partition value, or None when it is not YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None
