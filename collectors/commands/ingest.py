"""`mjcollect ingest manifests/*.json`: attempt manifests carrying a `metrics` object -> rows.

Workers that keep their own manifests (the TypeScript services) write the `metrics`
object there; this turns those files into dataset rows (`schema.manifest_to_row`). A file that is
not JSON, has no `metrics` object or lacks a required field is reported by name and skipped; the
others are ingested. Exit code: 0 when every file was ingested and uploaded, 1 when some file was
bad or the rows could not be uploaded yet (they wait in the spool for `mjcollect flush`),
2 when no dataset is configured.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HELP = "turn attempt manifests (JSON with a `metrics` object) into dataset rows"

log = logging.getLogger("collectors.ingest")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifests", nargs="+", type=Path,
                        help="manifest files (a folder means every *.json in it)")
    parser.add_argument("--data", metavar="URL",
                        help="dataset URL, s3://bucket/prefix or a folder "
                        "(default: MEDIAJOB_METRICS_URL)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for the upload (default 120)")


def manifest_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, folders expanded to their *.json files (sorted)."""
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    return out


def row_of_manifest_file(path: Path) -> dict[str, Any]:
    """A validated dataset row from one manifest file; ValueError/OSError say what is wrong."""
    import json

    from collectors import schema

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    if not isinstance(doc.get("metrics"), dict):
        raise ValueError("no `metrics` object")
    return schema.validate_row(schema.manifest_to_row(doc))


def run(args: argparse.Namespace) -> int:
    from collectors.commands.run import close_sink, open_sink

    sink = open_sink(args.data, args.timeout)
    if sink is None:
        print("mjcollect ingest: no dataset: pass --data URL or set MEDIAJOB_METRICS_URL "
              "(and MEDIAJOB_METRICS not off)")
        return 2
    files = manifest_files(args.manifests)
    good = 0
    bad: list[str] = []
    for path in files:
        try:
            row = row_of_manifest_file(path)
        except (ValueError, OSError) as exc:
            bad.append(str(path))
            print(f"skipped {path}: {exc}")
            continue
        sink.append(row)
        good += 1
    uploaded = close_sink(sink, args.timeout)
    print(f"ingested {good} of {len(files)} manifests"
          + (f"; {len(bad)} skipped" if bad else "")
          + ("" if uploaded else "; upload not finished: rows wait in the spool "
             "(mjcollect flush)"))
    return 0 if not bad and uploaded else 1
