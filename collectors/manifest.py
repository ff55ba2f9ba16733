"""Write an attempt's `metrics` object and `ffmpegCommands` into its JSON manifest.

The manifest belongs to the worker that owns the attempt, so every key we do not write is kept as
it was, in its order. The merge rules (pure, `merge_manifest`):

- `metrics` is merged key by key, recursively (`input`, `host`): our values win, but a null of
  ours never erases a value already there (the worker may know what we could not measure);
- `ffmpegCommands`: the commands already listed stay first, ours are appended unless already
  listed;
- top-level job keys (`attemptId`, `jobId`, `jobType`, `attemptNumber`) are only filled in
  where the manifest lacks them.

The file is replaced atomically (temp file in the same folder, fsync, rename), so a reader never
sees half a manifest, and a crash leaves the old one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

METRICS = "metrics"
COMMANDS = "ffmpegCommands"
JOB_KEYS = ("attemptId", "jobId", "jobType", "attemptNumber")


def _merge_objects(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(old)
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge_objects(out[key], value)
        elif value is not None or key not in out:
            out[key] = value
    return out


def merge_manifest(manifest: Mapping[str, Any], metrics: Mapping[str, Any],
                   commands: Sequence[str] = (),
                   job: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`manifest` with `metrics` and `commands` merged in (see the module's rules). Pure."""
    out = dict(manifest)
    old_metrics = out.get(METRICS)
    out[METRICS] = _merge_objects(old_metrics if isinstance(old_metrics, Mapping) else {},
                                  metrics)
    old_commands = out.get(COMMANDS)
    listed = [str(c) for c in old_commands] if isinstance(old_commands, list) else []
    out[COMMANDS] = listed + [c for c in commands if c not in listed]
    for key, value in (job or {}).items():
        if out.get(key) is None and value is not None:
            out[key] = value
    return out


def read_manifest(path: Path) -> dict[str, Any]:
    """The JSON object in `path`; {} when the file does not exist.

    Raises ValueError when the file is not a JSON object (we never overwrite what we cannot
    read) and OSError when it cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: the manifest is not a JSON object")
    return doc


def write_json_atomic(path: Path, doc: Mapping[str, Any]) -> None:
    """Replace `path` with `doc` as indented JSON, atomically; keeps the file's permissions."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_manifest(path: Path, metrics: Mapping[str, Any], commands: Sequence[str] = (),
                    job: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge `metrics` and `commands` into the manifest file `path` (created when missing).

    Returns the document written. Raises ValueError/OSError as `read_manifest` does.
    """
    doc = merge_manifest(read_manifest(path), metrics, commands, job)
    write_json_atomic(path, doc)
    return doc
