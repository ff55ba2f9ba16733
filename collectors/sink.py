"""Where finished attempt rows go.

A sink takes validated rows (dicts keyed by `schema.COLUMN_NAMES`). `append` must be cheap and
must never raise: it is called on the job's path. The real sink (spool on disk + background S3
uploader) lives in `collectors.upload`; `InMemorySink` is for tests and notebooks.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol


class Sink(Protocol):
    def append(self, row: Mapping[str, Any]) -> None:
        """Accept one attempt row. Never raises."""

    def flush(self, timeout: float | None = None) -> bool:
        """Push out everything accepted so far, waiting at most `timeout` seconds (None: no
        limit); True when all of it reached the dataset."""

    def close(self, timeout: float | None = None) -> None:
        """Flush (at most `timeout` seconds) and release threads and files."""


class InMemorySink:
    """Keeps rows in a list; for tests."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def append(self, row: Mapping[str, Any]) -> None:
        with self._lock:
            self.rows.append(dict(row))

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        return None
