"""The local cache of a dataset: its deduplicated rows in a DuckDB file, brought up to date on open.

Opening a dataset lists the objects, reads every footer and deduplicates every time (10M
attempts: seconds, more from S3). With the cache, that work is done once: a DuckDB database
file per dataset URL keeps the rows of every file read, which file each row came from, and the
attempt ids delivered more than once with the row the reader keeps for each. On open the
objects are listed (the listing is the only cost when nothing changed); files not seen before,
or whose size or modification time changed, are read and loaded; rows of files that are gone
are dropped; only the attempt ids those rows carry are deduplicated again.

Where: `$MJPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/mediajobs/planner`, else
`~/.cache/mediajobs/planner`; one `<readable url>-<hash>.duckdb` per dataset URL.

Never trusted: a file that DuckDB cannot open, of another cache format, another dataset URL or
another reading schema (a planner with new columns), or whose row count disagrees with its
file list, is deleted and built again. Updates run in one transaction, so a crash leaves the
previous state.

Two processes: an update holds an exclusive flock on `<cache>.lock` (one builder at a time;
the others wait, then find the cache fresh). Readers open the file read-only, which DuckDB
allows to several processes at once, but not beside a writer: when the cache needs an update
while another process has it open (a TUI left running), this open reads the files instead,
as `--no-cache` does, and says so in the log.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from collectors.layout import safe_name
from planner import dataset as dsmod
from planner.errors import DatasetError, one_line

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.fs as pafs

log = logging.getLogger("planner.cache")

#: Bumped when the tables below change meaning; a cache of another format is rebuilt.
CACHE_FORMAT = "1"
#: Environment variable naming the cache folder (tests point it at a temporary folder).
MJPLAN_CACHE_DIR = "MJPLAN_CACHE_DIR"
#: Seconds an open waits for another process's update of the same cache.
LOCK_TIMEOUT_S = 300.0
#: Files read at once when loading S3 objects into the cache.
LOAD_THREADS = 8


class CacheBusyError(Exception):
    """Another process has the cache file open; it cannot be updated now."""


def cache_dir() -> Path:
    """The folder of the cache files (see the module docstring)."""
    explicit = os.environ.get(MJPLAN_CACHE_DIR, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "mediajobs" / "planner"


def cache_file(url: str) -> Path:
    """The cache file of a dataset's cache key (planner.dataset.cache_key)."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return cache_dir() / f"{safe_name(url.strip('/').replace('/', '_'), 60)}-{digest}.duckdb"


def schema_fingerprint() -> str:
    """What the cache's columns depend on: the reading schema of this planner, i.e. the
    columns of collectors.schema and their types (dataset.dataset_schema makes each type's
    Arrow type from them). Read from collectors.schema, not from the Arrow schema: a warm
    open then never imports pyarrow."""
    from collectors import schema

    text = ",".join(f"{c.name}:{c.type}" for c in schema.COLUMNS)
    return hashlib.sha256(f"{CACHE_FORMAT}|{text}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CacheEntry:
    """One cache file, for `mjplan cache ls`."""

    path: Path
    url: str | None  # None when the file cannot be read (it is rebuilt on next open)
    bytes: int
    files: int = 0
    rows: int = 0
    updated: str | None = None


def list_caches() -> list[CacheEntry]:
    """Every cache file in cache_dir(), with what it holds when it can be read."""
    import duckdb

    out = []
    folder = cache_dir()
    for path in sorted(folder.glob("*.duckdb")) if folder.is_dir() else []:
        size = path.stat().st_size + sum(
            p.stat().st_size for p in [path.with_name(path.name + ".wal")] if p.exists())
        try:
            with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
                meta = dict(con.execute("SELECT key, value FROM _meta").fetchall())
                files, rows = con.execute(
                    "SELECT count(*), coalesce(sum(rows), 0) FROM _files WHERE reason IS NULL"
                ).fetchall()[0]
            out.append(CacheEntry(path, meta.get("url"), size, int(files), int(rows),
                                  meta.get("updated")))
        except duckdb.Error:
            out.append(CacheEntry(path, None, size))
    return out


def clear_caches(url: str | None = None) -> list[Path]:
    """Delete the cache of `url` (as given to --data, resolved like open_dataset), or every
    cache file when None; returns the files deleted."""
    if url is None:
        folder = cache_dir()
        paths = sorted(folder.glob("*.duckdb")) if folder.is_dir() else []
    else:
        paths = [cache_file(dsmod.cache_key(url))]
    gone = []
    for path in paths:
        with _update_lock(path):
            for p in (path, path.with_name(path.name + ".wal")):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    if p == path:
                        gone.append(path)
    return gone


# --- opening --------------------------------------------------------------------------------


def open_cached(display: str, key: str, fs: pafs.FileSystem | None,
                listed: Sequence[dsmod.ListedFile], *, refresh: bool = False,
                threads: int | None = None) -> dsmod.Dataset:
    """The dataset `display` (already listed: `listed`) through the cache file of `key`
    (dataset.cache_key), brought up to date first. `refresh` rebuilds the file from scratch.
    `fs` None: a local dataset (pyarrow's LocalFileSystem, made only if files must be read)."""
    path = cache_file(key)
    listing = {i.path: (i.size, i.mtime_ns) for i in listed}
    if not refresh:
        ds = _open_fresh(path, display, key, listing, threads)
        if ds is not None:
            return ds
    if fs is None:
        import pyarrow.fs as pafs

        fs = pafs.LocalFileSystem()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _update_lock(path):
            if not refresh:  # another process may have brought it up to date meanwhile
                ds = _open_fresh(path, display, key, listing, threads)
                if ds is not None:
                    return ds
            try:
                _update(path, key, fs, listing, rebuild=refresh)
            except CacheBusyError:
                raise
            except Exception as exc:  # noqa: BLE001 - a cache is never trusted: rebuild it
                log.warning("cache %s unusable (%s); building it again", path, one_line(exc))
                _update(path, key, fs, listing, rebuild=True)
    except CacheBusyError as exc:
        log.warning("cache %s is open elsewhere (%s): reading the files this time",
                    path, one_line(exc))
        return dsmod.open_dataset(display, threads=threads, cache="off")
    ds = _open_fresh(path, display, key, listing, threads)
    if ds is None:  # changed again since, or taken by a writer: read the files this time
        log.warning("cache %s changed while opening: reading the files this time", path)
        return dsmod.open_dataset(display, threads=threads, cache="off")
    return ds


@contextlib.contextmanager
def _update_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on `<cache>.lock`, waited for at most LOCK_TIMEOUT_S seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DatasetError(f"cache {path} is being updated by another process "
                                       f"for over {LOCK_TIMEOUT_S:.0f} s; try --no-cache") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the flock


def _valid(con: duckdb.DuckDBPyConnection, display: str) -> bool:
    """Whether the open cache file is a complete cache of `display` for this planner."""
    meta = dict(con.execute("SELECT key, value FROM _meta").fetchall())
    if (meta.get("format"), meta.get("url"), meta.get("schema")) != (
            CACHE_FORMAT, display, schema_fingerprint()):
        return False
    want = con.execute("SELECT coalesce(sum(rows), 0) FROM _files WHERE reason IS NULL"
                       ).fetchall()[0][0]
    have = con.execute("SELECT count(*) FROM _raw").fetchall()[0][0]
    return bool(want == have)


def _open_fresh(path: Path, display: str, key: str, listing: dict[str, tuple[int, int]],
                threads: int | None) -> dsmod.Dataset | None:
    """The cached dataset, read-only, when the cache is valid and its files are exactly the
    listing; None otherwise (missing, stale, corrupt, or being written by another process)."""
    import duckdb

    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        if not _valid(con, key):
            con.close()
            return None
        cached = {str(p): (int(s), int(m)) for p, s, m in
                  con.execute("SELECT path, size, mtime_ns FROM _files").fetchall()}
        if cached != listing:
            con.close()
            return None
        return _dataset(con, display, path, threads)
    except duckdb.Error:
        con.close()
        return None


def _dataset(con: duckdb.DuckDBPyConnection, display: str, path: Path,
             threads: int | None) -> dsmod.Dataset:
    from collectors import schema

    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    prefix = "s3://" if display.startswith("s3://") else ""
    files_rows = con.execute(
        "SELECT path, rows, schema_version, reason FROM _files ORDER BY path").fetchall()
    files = [prefix + str(p) for p, _, _, reason in files_rows if reason is None]
    skipped = [dsmod.SkippedFile(prefix + str(p), str(reason))
               for p, _, _, reason in files_rows if reason is not None]
    columns = [str(r[0]) for r in con.execute("DESCRIBE SELECT * FROM attempts_raw").fetchall()]
    dups = con.execute("SELECT count(*) FROM _dups").fetchall()[0][0]
    return dsmod.Dataset(
        url=display, connection=con, files=files, skipped=skipped,
        schema_versions=sorted({int(v) for _, _, v, r in files_rows
                                if v is not None and r is None}),
        extra_columns=[c for c in columns if c not in schema.COLUMNS_BY_NAME],
        duplicate_ids=int(dups), rows=sum(int(n) for _, n, _, r in files_rows if r is None),
        materialized=False, cache=path,
    )


# --- updating -------------------------------------------------------------------------------


def _update(path: Path, display: str, fs: pafs.FileSystem,
            listing: dict[str, tuple[int, int]], *, rebuild: bool) -> None:
    """Bring the cache file up to date with `listing` (under the update lock)."""
    if rebuild:
        _remove(path)
    con = _connect_rw(path)
    try:
        con.execute("SET enable_progress_bar = false")  # loading may be long; stdout is not ours
        has_tables = bool(con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_meta'").fetchall()[0][0])
        if has_tables and not _valid(con, display):
            con.close()
            _remove(path)
            con = _connect_rw(path)
            has_tables = False
        cached: dict[str, tuple[int, int]] = {}
        if has_tables:
            cached = {str(p): (int(s), int(m)) for p, s, m in
                      con.execute("SELECT path, size, mtime_ns FROM _files").fetchall()}
        gone = [p for p, stamp in cached.items() if listing.get(p) != stamp]
        new = [p for p, stamp in listing.items() if cached.get(p) != stamp]
        facts, target = dsmod.check_files(fs, new)
        if has_tables:
            columns = [str(r[0]) for r in con.execute("DESCRIBE _raw").fetchall()]
            if any(n not in columns for n in target.names):
                # A newer writer's column the cache has no place for: start again with it.
                con.close()
                _remove(path)
                con = _connect_rw(path)
                has_tables, gone, new = False, [], list(listing)
                facts, target = dsmod.check_files(fs, new)
            else:
                target = _table_schema(con, target, columns)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("BEGIN TRANSACTION")
        if not has_tables:
            _create_tables(con, target)
        _apply(con, fs, display, target, gone, facts, listing, cold=not has_tables)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    dsmod.report_skipped([f for f in facts if f.reason],
                         "s3://" if display.startswith("s3://") else "")


def _connect_rw(path: Path) -> duckdb.DuckDBPyConnection:
    """The cache file opened for writing; CacheBusyError when another process has it open."""
    import duckdb

    try:
        return duckdb.connect(str(path))
    except duckdb.ConnectionException as exc:  # open read-only in this very process
        raise CacheBusyError(str(exc)) from exc
    except duckdb.IOException as exc:  # open in another process
        if "lock" in str(exc).lower():
            raise CacheBusyError(str(exc)) from exc
        raise


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _table_schema(con: duckdb.DuckDBPyConnection, target: pa.Schema,
                  columns: list[str]) -> pa.Schema:
    """The reading schema in the order of the cache's columns (extra columns of files read
    before included)."""
    import pyarrow as pa

    base = dsmod.dataset_schema()
    fields = [base.field(n) if base.get_field_index(n) >= 0 else (
        target.field(n) if target.get_field_index(n) >= 0 else pa.field(n, pa.null()))
              for n in columns if n != "_file"]
    return pa.schema(fields)


def _create_tables(con: duckdb.DuckDBPyConnection, target: pa.Schema) -> None:
    import pyarrow as pa

    con.execute("CREATE TABLE _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("CREATE TABLE _files (path VARCHAR PRIMARY KEY, size BIGINT, mtime_ns BIGINT, "
                "rows BIGINT, schema_version INTEGER, reason VARCHAR)")
    # The raw table's columns from an empty Arrow table of the reading schema, so extra
    # columns of newer writers keep their types.
    empty = pa.Table.from_batches([], schema=target)
    con.register("_empty", empty)
    con.execute("CREATE TABLE _raw AS SELECT *, CAST(NULL AS VARCHAR) AS _file FROM _empty "
                "LIMIT 0")
    con.unregister("_empty")
    cols = ", ".join(dsmod.quote(n) for n in target.names)
    con.execute("CREATE TABLE _dups (attempt_id VARCHAR PRIMARY KEY)")
    con.execute(f"CREATE TABLE _dup_rows AS SELECT {cols} FROM _raw LIMIT 0")


def _apply(con: duckdb.DuckDBPyConnection, fs: pafs.FileSystem, display: str,
           target: pa.Schema, gone: list[str], facts: list[dsmod.FileFacts],
           listing: dict[str, tuple[int, int]], *, cold: bool) -> None:
    """Drop the rows of `gone` files, load the readable files of `facts`, deduplicate the ids
    they touch, record the files, recreate the views."""
    import datetime as dt

    con.execute("CREATE TEMP TABLE _affected (attempt_id VARCHAR)")
    if gone:
        con.execute("CREATE TEMP TABLE _gone (path VARCHAR)")
        con.executemany("INSERT INTO _gone VALUES (?)", [[p] for p in gone])
        con.execute("INSERT INTO _affected SELECT attempt_id FROM _raw "
                    "WHERE _file IN (SELECT path FROM _gone)")
        con.execute("DELETE FROM _raw WHERE _file IN (SELECT path FROM _gone)")
        con.execute("DELETE FROM _files WHERE path IN (SELECT path FROM _gone)")
    good = [f.path for f in facts if f.reason is None]
    if good:
        _load(con, fs, target, good, s3=display.startswith("s3://"))
    if facts:
        con.executemany("INSERT INTO _files VALUES (?, ?, ?, ?, ?, ?)", [
            [f.path, *listing[f.path], f.rows, f.schema_version, f.reason] for f in facts])
    cols = ", ".join(dsmod.quote(n) for n in target.names)
    if cold:
        _cold_candidates(con)
    elif good:
        con.execute("CREATE TEMP TABLE _new (path VARCHAR)")
        con.executemany("INSERT INTO _new VALUES (?)", [[p] for p in good])
        con.execute("INSERT INTO _affected SELECT attempt_id FROM _raw "
                    "WHERE _file IN (SELECT path FROM _new)")
    affected = "(SELECT attempt_id FROM _affected)"
    con.execute(f"DELETE FROM _dups WHERE attempt_id IN {affected}")
    con.execute(f"DELETE FROM _dup_rows WHERE attempt_id IN {affected}")
    con.execute(f"INSERT INTO _dups SELECT attempt_id FROM _raw WHERE attempt_id IN {affected} "
                "GROUP BY attempt_id HAVING count(*) > 1")
    con.execute(
        f"INSERT INTO _dup_rows SELECT {cols} FROM (SELECT {cols}, row_number() OVER ("
        f"PARTITION BY attempt_id ORDER BY {dsmod.KEEP_ORDER}) AS _rn FROM _raw "
        f"WHERE attempt_id IN (SELECT attempt_id FROM _dups WHERE attempt_id IN {affected})) "
        "WHERE _rn = 1")
    ndups = con.execute("SELECT count(*) FROM _dups").fetchall()[0][0]
    con.execute(f"CREATE OR REPLACE VIEW {dsmod.RAW_VIEW} AS SELECT {cols} FROM _raw")
    if ndups:
        con.execute(f"CREATE OR REPLACE VIEW {dsmod.VIEW} AS SELECT {cols} FROM _raw "
                    "WHERE attempt_id NOT IN (SELECT attempt_id FROM _dups) "
                    f"UNION ALL SELECT {cols} FROM _dup_rows")
    else:
        con.execute(f"CREATE OR REPLACE VIEW {dsmod.VIEW} AS SELECT {cols} FROM _raw")
    meta = {"format": CACHE_FORMAT, "url": display, "schema": schema_fingerprint(),
            "updated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    con.execute("DELETE FROM _meta")
    con.executemany("INSERT INTO _meta VALUES (?, ?)", [[k, v] for k, v in meta.items()])
    con.execute("DROP TABLE _affected")


def _cold_candidates(con: duckdb.DuckDBPyConnection) -> None:
    """Fill _affected with the ids that may occur twice, found from sorted 64-bit hashes (as
    planner.dataset does: a GROUP BY over every id costs far more); a hash collision only adds
    an id that the exact GROUP BY afterwards finds single."""
    import numpy as np
    import pyarrow as pa

    hashes = np.sort(np.asarray(con.execute("SELECT hash(attempt_id) AS h FROM _raw")
                                .fetchnumpy()["h"]))
    dup_hashes = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    if dup_hashes.size == 0:
        return
    con.register("_dup_hashes", pa.table({"h": pa.array(dup_hashes, pa.uint64())}))
    con.execute("INSERT INTO _affected SELECT DISTINCT attempt_id FROM _raw "
                "WHERE hash(attempt_id) IN (SELECT h FROM _dup_hashes)")
    con.unregister("_dup_hashes")


def _load(con: duckdb.DuckDBPyConnection, fs: pafs.FileSystem, target: pa.Schema,
          paths: list[str], *, s3: bool) -> None:
    """Insert every row of `paths` into _raw with its file's path in `_file`, through DuckDB's
    Parquet reader: local files one statement per group of files, S3 objects downloaded a few
    at a time into a scratch folder beside the caches, each inserted then deleted."""
    import tempfile

    groups = dsmod.group_by_path_job_type(paths)
    if not s3:
        for path_job_type, group in groups.items():
            _insert(con, [dsmod.sql_string(f) for f in group], target, path_job_type,
                    "filename AS _file")
        return
    # Not pyarrow tables handed to DuckDB: their memory stayed allocated until the cache was
    # committed (10M attempts from SeaweedFS: arrow held 3.6 GB, 6.5 GB peak RSS against
    # 1.3 GB for the same files on disk); a downloaded file is read as a local one.
    job_type_of = {p: jt for jt, group in groups.items() for p in group}
    scratch_root = cache_dir()
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=scratch_root) as scratch:
        for path, local in _downloads(fs, paths, Path(scratch)):
            try:
                _insert(con, [dsmod.sql_string(str(local))], target, job_type_of[path],
                        f"{dsmod.sql_string(path)} AS _file")
            finally:
                local.unlink(missing_ok=True)


def _insert(con: duckdb.DuckDBPyConnection, files: list[str], target: pa.Schema,
            path_job_type: str | None, file_column: str) -> None:
    """INSERT INTO _raw the rows of `files` (SQL string literals) as the reading schema."""
    source = (f"read_parquet([{', '.join(files)}], union_by_name = true, "
              "hive_partitioning = false, filename = true)")
    present = {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    select = dsmod.group_select(source, present - {"filename"}, target, path_job_type,
                                extra=file_column)
    con.execute(f"INSERT INTO _raw {select}")


def _downloads(fs: pafs.FileSystem, paths: list[str], scratch: Path) -> Iterator[tuple[str, Path]]:
    """(object path, local copy) in `paths`' order, LOAD_THREADS downloads running and at most
    2 x LOAD_THREADS files on disk ahead of the caller (which deletes each when done)."""
    import itertools
    import shutil
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    def download(i: int, path: str) -> Path:
        local = scratch / f"{i}.parquet"
        with fs.open_input_stream(path) as src, open(local, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return local

    todo = iter(enumerate(paths))
    ahead: deque[tuple[str, Future[Path]]] = deque()
    with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
        for i, path in itertools.islice(todo, 2 * LOAD_THREADS):
            ahead.append((path, pool.submit(download, i, path)))
        while ahead:
            path, pending = ahead.popleft()
            local = pending.result()
            for i, more in itertools.islice(todo, 1):
                ahead.append((more, pool.submit(download, i, more)))
            yield path, local


def describe(entries: Sequence[CacheEntry]) -> str:
    """JSON of `mjplan cache ls --json`."""
    return json.dumps([{"path": str(e.path), "url": e.url, "bytes": e.bytes, "files": e.files,
                        "rows": e.rows, "updated": e.updated} for e in entries], indent=2)
