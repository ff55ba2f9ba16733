"""Size of a job's output: a local file by stat, an S3 object by HEAD.

boto3 is imported only when an `s3://` output is asked about, so `import collectors` stays light;
the client uses the standard AWS chain (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL included). The HEAD
runs on the job's path (at the attempt's finish), so it gets short timeouts and no retry: an
unreachable S3 costs the job about HEAD_CONNECT_TIMEOUT_S + HEAD_READ_TIMEOUT_S, not botocore's
default of minutes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Seconds to open the connection and to wait for the answer of the S3 HEAD.
HEAD_CONNECT_TIMEOUT_S = 2.0
HEAD_READ_TIMEOUT_S = 5.0

_client: Any = None


def split_s3_url(url: str) -> tuple[str, str]:
    """('bucket', 'key') of `s3://bucket/key`; ValueError when either is missing."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, key = url[len("s3://") :].partition("/")
    if not bucket or not key:
        raise ValueError(f"S3 URL needs s3://bucket/key, got {url!r}")
    return bucket, key


def _s3() -> Any:
    global _client
    if _client is None:
        # boto3 lazily: only workers whose outputs live in S3 pay for it. The first try, no
        # retry, short timeouts (see the module doc).
        from collectors.destinations import s3_client

        _client = s3_client(total_attempts=1, connect_timeout=HEAD_CONNECT_TIMEOUT_S,
                            read_timeout=HEAD_READ_TIMEOUT_S)
    return _client


def reset_client() -> None:
    """Forget the cached S3 client (tests point the environment at another server)."""
    global _client
    _client = None


def output_size(target: str | os.PathLike[str]) -> int:
    """Bytes of the local file or `s3://bucket/key` object `target`.

    Raises OSError for a missing local file, ValueError for a malformed S3 URL and botocore's
    ClientError (e.g. 404) or connection errors for S3.
    """
    text = os.fspath(target)
    if text.startswith("s3://"):
        bucket, key = split_s3_url(text)
        head = _s3().head_object(Bucket=bucket, Key=key)
        return int(head["ContentLength"])
    return Path(text).stat().st_size
