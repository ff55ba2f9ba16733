"""Dataset housekeeping: compact small files per partition, purge old partitions.

Many workers make many small objects (one per batch and partition). `plan_compaction` groups
each partition's small files (under half the target size) into groups of about the target size;
`run_compaction` rewrites each group as one file and only then deletes the group's inputs. At
every moment each attempt is in at least one readable file, so a reader that keeps one row per
attempt_id sees every attempt, once, before, during and after (a concurrent reader may see an
attempt twice for a moment, which its dedupe removes).

Inside a group, duplicate attempt_ids are reduced to one row chosen by the reader's rule
(planner.dataset: latest finished_at, nulls last, then highest schema_version, then latest
started_at), so compaction never changes which row a reader keeps.

Schema evolution: files of older collectors (fewer columns) and newer ones (extra columns) are
unified: the output has every column of `collectors.schema`, then the extra columns seen in
the group; a value missing from a file is null. A file that cannot be read, or whose column
types conflict, is left alone and reported.

Output names are `compact-<hash of the input names>.parquet`. After a crash between writing and
deleting, the output is one more file of its partition: the next run merges it with the inputs
still there, and the dedupe keeps one row per attempt_id.

Purge deletes whole `dt=` partitions older than a cutoff (nothing expires data otherwise).

Each run holds the dataset's lease (`planner.lease`), so two compactions (or a compaction and
a purge) never change one dataset at once; `run_compaction` and `run_purge` check it before
each group or partition.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from collectors.hive import partition_values, without_path_columns
from collectors.layout import parse_day, parse_partition_dir
from planner.dataset import resolve
from planner.errors import PlannerError, describe, one_line

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.fs as pafs

    from planner.lease import Lease

log = logging.getLogger("planner.compact")

DEFAULT_TARGET_BYTES = 128 * 1024 * 1024
#: A file is "small" (worth rewriting) below this fraction of the target size.
SMALL_FRACTION = 0.5
#: Files of a group read at once.
READ_THREADS = 8
#: Footers read at once when planning (S3 round trips dominate).
FOOTER_THREADS = 16


# --- argument parsing (pure) --------------------------------------------------------------

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from "128MB", "512k", "1GiB" or "1048576". Units are binary (MB = MiB = 2**20
    bytes), as object stores and Parquet tools usually mean them. Raises PlannerError."""
    m = _SIZE_RE.match(text)
    if not m:
        raise PlannerError(f"bad size {text!r}: use e.g. 128MB, 512KB, 1GB")
    unit = (m.group(2) or "").lower().rstrip("b").rstrip("i")
    value = int(float(m.group(1)) * _UNITS[unit])
    if value < 1:
        raise PlannerError(f"size must be at least 1 byte, got {text!r}")
    return value


def parse_duration_s(text: str, what: str = "--lease") -> int:
    """Whole seconds (rounded up) from "90s", "30m", "6h", "1d" or "3600" (seconds), through
    the planner's one duration parser (`sizing_options.parse_duration`); at least 1 s.
    Raises PlannerError."""
    from planner.sizing_options import parse_duration

    seconds = parse_duration(text.lower(), what, bare="s").total_seconds()
    if seconds < 1:
        raise PlannerError(f"{what} {text!r}: must be at least 1s")
    return math.ceil(seconds)


def parse_age_days(text: str, what: str = "--older-than") -> int:
    """Whole days from "180d", "26w" or "180" (days), through the planner's one duration parser
    (`sizing_options.parse_duration`). Raises PlannerError."""
    from planner.sizing_options import parse_duration

    days = parse_duration(text.lower(), what, bare="d") / dt.timedelta(days=1)
    if days != int(days):
        raise PlannerError(f"{what} {text!r}: must be whole days (e.g. 180d or 26w)")
    return int(days)


# --- the file system ----------------------------------------------------------------------


@dataclass(frozen=True)
class DataFile:
    """A Parquet file of the dataset: path in its filesystem, bytes, partition (relative dir)."""

    path: str
    size: int
    partition: str


def list_files(fs: pafs.FileSystem, root: str) -> list[DataFile]:
    """Every visible Parquet file under root (hidden/temporary names skipped), sorted."""
    import pyarrow.fs as pafs

    try:
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    except OSError as exc:
        raise PlannerError(f"cannot list {root}: {one_line(exc)}") from exc
    out = []
    for info in infos:
        if info.type != pafs.FileType.File or not info.path.endswith(".parquet"):
            continue
        rel = info.path[len(root) :].strip("/")
        parts = rel.split("/")
        if any(p.startswith((".", "_")) for p in parts):
            continue
        out.append(DataFile(info.path, int(info.size or 0), "/".join(parts[:-1])))
    return sorted(out, key=lambda f: f.path)


# --- compaction ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Small files of one partition to rewrite as the single file `output`."""

    partition: str
    inputs: tuple[DataFile, ...]
    output: str

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.inputs)


@dataclass(frozen=True)
class CompactionPlan:
    url: str
    root: str
    target_bytes: int
    files: int
    partitions: int
    bytes: int
    groups: tuple[Group, ...]
    #: Files that still hold a partition column (rewritten to the Hive layout).
    legacy: int = 0

    @property
    def files_in(self) -> int:
        return sum(len(g.inputs) for g in self.groups)


def group_small_files(files: list[DataFile], root: str, target_bytes: int,
                      legacy: frozenset[str] = frozenset()) -> list[Group]:
    """Pack each partition's small files, in name order, into groups of at most about
    `target_bytes` (a group closes once it reaches the target). Single-file groups are
    dropped, rewriting one file gains nothing, unless the file is in `legacy` (paths of files
    that still hold a partition column, whatever their size: the rewrite moves them to the
    Hive layout, collectors.hive)."""
    by_part: dict[str, list[DataFile]] = {}
    for f in files:
        if f.size < target_bytes * SMALL_FRACTION or f.path in legacy:
            by_part.setdefault(f.partition, []).append(f)
    groups: list[Group] = []
    for part, small in sorted(by_part.items()):
        current: list[DataFile] = []
        size = 0
        packs: list[list[DataFile]] = []
        for f in small:
            current.append(f)
            size += f.size
            if size >= target_bytes:
                packs.append(current)
                current, size = [], 0
        if current:
            packs.append(current)
        for pack in packs:
            if len(pack) < 2 and pack[0].path not in legacy:
                continue
            digest = hashlib.sha256("\n".join(f.path for f in pack).encode()).hexdigest()[:16]
            output = f"{root}/{part}/compact-{digest}.parquet" if part else (
                f"{root}/compact-{digest}.parquet")
            groups.append(Group(part, tuple(pack), output))
    return groups


def legacy_files(fs: pafs.FileSystem, files: list[DataFile]) -> frozenset[str]:
    """Paths of the files that hold a partition column their path gives (the layout written
    before the Hive convention), judged from each footer (collectors.hive.path_columns_of).
    An unreadable footer is not listed (compaction reports such files when it reads them)."""
    import pyarrow.parquet as pq

    from collectors.hive import partition_values, path_columns_of

    def holds(f: DataFile) -> bool:
        try:
            with fs.open_input_file(f.path) as fh:
                meta = pq.ParquetFile(fh).metadata
        except Exception:  # noqa: BLE001 - left to the group read, which reports it
            return False
        return bool(path_columns_of(meta, partition_values(f.partition)))

    with ThreadPoolExecutor(max_workers=FOOTER_THREADS) as pool:
        flags = list(pool.map(holds, files))
    return frozenset(f.path for f, old in zip(files, flags, strict=True) if old)


def plan_compaction(url: str, target_bytes: int = DEFAULT_TARGET_BYTES) -> CompactionPlan:
    """What `run_compaction` would do; reads the listing and the footers (to find files of the
    layout before the Hive convention, which are rewritten whatever their size)."""
    if target_bytes < 1:
        raise PlannerError("target size must be positive")
    fs, root, _ = resolve(url, folder=True)
    files = list_files(fs, root)
    legacy = legacy_files(fs, files)
    return CompactionPlan(
        url=url, root=root, target_bytes=target_bytes, files=len(files),
        partitions=len({f.partition for f in files}), bytes=sum(f.size for f in files),
        groups=tuple(group_small_files(files, root, target_bytes, legacy)), legacy=len(legacy),
    )


@dataclass
class GroupResult:
    group: Group
    rows_in: int = 0
    rows_out: int = 0
    files_deleted: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def unify(tables: list[pa.Table]) -> pa.Table:
    """One table from tables of differing column sets: schema columns first (nullable), then
    extra columns in first-seen order; missing values are null. Raises pa.ArrowInvalid (or
    similar) when a column's types conflict."""
    import pyarrow as pa

    from planner.dataset import dataset_schema

    base = dataset_schema()
    extra: dict[str, pa.Field] = {}
    for t in tables:
        for f in t.schema:
            if base.get_field_index(f.name) < 0 and f.name not in extra:
                extra[f.name] = f.with_nullable(True)
    target = dataset_schema(extra.values())
    return pa.concat_tables([conform(t, target) for t in tables])


def conform(table: pa.Table, target: pa.Schema) -> pa.Table:
    """`table` with exactly `target`'s columns (missing ones null, types cast)."""
    import pyarrow as pa

    if table.schema.equals(target, check_metadata=False):
        return table.replace_schema_metadata(target.metadata)
    cols = []
    for f in target:
        if f.name not in table.column_names:
            cols.append(pa.chunked_array([pa.nulls(table.num_rows, f.type)], f.type))
            continue
        col = table.column(f.name)
        cols.append(col if col.type == f.type else col.cast(f.type))
    return pa.Table.from_arrays(cols, schema=target)


def dedupe(table: pa.Table) -> pa.Table:
    """One row per attempt_id, chosen like the reader does (latest finished_at, nulls last,
    then highest schema_version, then latest started_at); sorted by attempt_id."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return table
    order = pc.sort_indices(table, sort_keys=[
        ("attempt_id", "ascending", "at_end"), ("finished_at", "descending", "at_end"),
        ("schema_version", "descending", "at_end"), ("started_at", "descending", "at_end"),
    ])
    table = table.take(order)
    ids = table.column("attempt_id").combine_chunks()
    first = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1)).fill_null(True)
    mask = pa.concat_arrays([pa.array([True]), first])
    return table.filter(mask)


def compact_group(fs: pafs.FileSystem, group: Group) -> GroupResult:
    """Rewrite one group: read, unify, dedupe, write the output, check it, delete the inputs."""
    import pyarrow.parquet as pq

    result = GroupResult(group)

    def read(f: DataFile) -> pa.Table | str:
        try:
            # ParquetFile.read: half the CPU of pq.read_table (no dataset discovery per file).
            with fs.open_input_file(f.path) as fh:
                return pq.ParquetFile(fh).read()
        except Exception as exc:  # noqa: BLE001 - an unreadable file is left alone, reported
            return describe(exc)

    # Reads overlap: on S3 each file is a round trip or two.
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        loaded = list(pool.map(read, group.inputs))
    tables, used = [], []
    for f, t in zip(group.inputs, loaded, strict=True):
        if isinstance(t, str):
            log.warning("compact: leaving unreadable %s alone (%s)", f.path, t)
            result.skipped.append((f.path, t))
            continue
        tables.append(t)
        used.append(f)
    if not used or (len(used) < 2 and len(group.inputs) > 1):
        # Nothing, or one file of a group meant to merge several, is left to rewrite (a
        # one-file group is a file moved to the Hive layout: group_small_files).
        return result
    try:
        merged = unify(tables)
    except (ValueError, TypeError, NotImplementedError) as exc:  # pa.ArrowInvalid is ValueError
        log.warning("compact: %s left as is, column types conflict: %s", group.partition, exc)
        result.skipped.extend((f.path, f"type conflict: {exc}") for f in used)
        return result
    result.rows_in = merged.num_rows
    # The Hive layout: partition columns in the path only (collectors.hive).
    out = without_path_columns(dedupe(merged), partition_values(group.partition))
    _write(fs, group.output, out)
    written = pq.read_metadata(group.output, filesystem=fs).num_rows
    if written != out.num_rows:
        raise PlannerError(f"{group.output}: wrote {out.num_rows} rows, read back {written}; "
                           "inputs kept")
    result.rows_out = written
    for f in used:
        if f.path == group.output:
            continue
        try:
            fs.delete_file(f.path)
        except FileNotFoundError:
            continue  # a concurrent compaction removed it already; its rows are in our output
        result.files_deleted += 1
    return result


def _write(fs: pafs.FileSystem, path: str, table: pa.Table) -> None:
    """Write so no reader sees a partial file: temp + rename locally; on S3 the object
    appears whole when its upload completes."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    if isinstance(fs, pafs.LocalFileSystem):
        parent, name = path.rsplit("/", 1)
        tmp = f"{parent}/.{name}.tmp"
        pq.write_table(table, tmp, filesystem=fs, compression="zstd")
        fs.move(tmp, path)
    else:
        pq.write_table(table, path, filesystem=fs, compression="zstd")


@dataclass
class CompactionResult:
    groups: list[GroupResult] = field(default_factory=list)

    @property
    def files_deleted(self) -> int:
        return sum(g.files_deleted for g in self.groups)

    @property
    def files_written(self) -> int:
        return sum(1 for g in self.groups if g.rows_out)

    @property
    def rows_in(self) -> int:
        return sum(g.rows_in for g in self.groups)

    @property
    def rows_out(self) -> int:
        return sum(g.rows_out for g in self.groups)

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return [s for g in self.groups for s in g.skipped]


def run_compaction(
    plan: CompactionPlan, progress: Callable[[GroupResult], None] | None = None,
    lease: Lease | None = None,
) -> CompactionResult:
    """Carry out a plan, group by group; `progress` is called after each group. With a
    `lease`, it is checked before each group (LeaseLostError when another run took over)."""
    fs, _, _ = resolve(plan.url, folder=True)
    result = CompactionResult()
    for group in plan.groups:
        if lease is not None:
            lease.check()
        gr = compact_group(fs, group)
        result.groups.append(gr)
        if progress is not None:
            progress(gr)
    return result


# --- purge --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """One `.../dt=<day>` folder: its path, day, file count and bytes."""

    path: str
    day: dt.date
    files: int
    bytes: int


@dataclass(frozen=True)
class PurgePlan:
    url: str
    root: str
    cutoff: dt.date  # partitions with day < cutoff are deleted
    delete: tuple[Partition, ...]
    keep: int
    unparsed: tuple[str, ...]  # dt= folders whose value is not a date (left alone)


def plan_purge(url: str, older_than_days: int, today: dt.date | None = None) -> PurgePlan:
    """Partitions whose `dt` is more than `older_than_days` days before `today` (UTC)."""
    if older_than_days < 0:
        raise PlannerError("--older-than must not be negative")
    fs, root, _ = resolve(url, folder=True)
    today = today or dt.datetime.now(dt.UTC).date()
    cutoff = today - dt.timedelta(days=older_than_days)
    parts: dict[str, list[DataFile]] = {}
    days: dict[str, dt.date] = {}
    unparsed: set[str] = set()
    for f in list_files(fs, root):
        segments = f.partition.split("/") if f.partition else []
        for i, seg in enumerate(segments):
            kv = parse_partition_dir(seg)
            if kv is None or kv[0] != "dt":
                continue
            path = "/".join([root, *segments[: i + 1]])
            day = parse_day(kv[1])
            if day is None:
                unparsed.add(path)
            else:
                parts.setdefault(path, []).append(f)
                days[path] = day
            break
    delete = tuple(
        Partition(p, days[p], len(fs_), sum(f.size for f in fs_))
        for p, fs_ in sorted(parts.items()) if days[p] < cutoff
    )
    return PurgePlan(url, root, cutoff, delete, len(parts) - len(delete), tuple(sorted(unparsed)))


def run_purge(plan: PurgePlan, progress: Callable[[Partition], None] | None = None,
              lease: Lease | None = None) -> int:
    """Delete the planned partitions; returns the number of files deleted. With a `lease`,
    it is checked before each partition."""
    import pyarrow.fs as pafs

    fs, _, _ = resolve(plan.url, folder=True)
    deleted = 0
    for part in plan.delete:
        if lease is not None:
            lease.check()
        fs.delete_dir(part.path)
        deleted += part.files
        if isinstance(fs, pafs.LocalFileSystem):
            parent = Path(part.path).parent
            if parent != Path(plan.root) and not any(parent.iterdir()):
                parent.rmdir()  # an emptied job_type= folder
        if progress is not None:
            progress(part)
    return deleted
