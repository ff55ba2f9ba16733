"""Facts of this host kept across processes, in `<spool base>/.<name>.json` as
{"key": KEY, "value": VALUE}.

`mjcollect run` is a new process for every job: a fact that cannot change while its key holds
(the ffmpeg binary's version for its path, size and mtime; the instance type for the boot) is
asked once and read back here after. A missing or unreadable file, or one of another key, is a
miss; a write that fails (read-only or full disk) means asking again next time, nothing else.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from collectors import config

log = logging.getLogger("collectors.hostcache")

#: The longest value kept, characters.
MAX_CHARS = 200


def _file(name: str) -> Path:
    return Path(config.spool_base()) / f".{name}.json"


def read(name: str, key: str) -> str | None:
    """The value kept under `name` for `key`, or None."""
    try:
        doc = json.loads(_file(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(doc, dict) and doc.get("key") == key and isinstance(doc.get("value"), str):
        return str(doc["value"])[:MAX_CHARS]
    return None


def remember(name: str, key: str, value: str) -> None:
    """Keep `value` under `name` for `key` (atomically: a reader sees the old or the new)."""
    path = _file(name)
    tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"key": key, "value": value[:MAX_CHARS]}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("%s not kept for the next process: %s", name, exc)
        tmp.unlink(missing_ok=True)
