"""Open an attempts dataset (local folder or `s3://bucket/prefix`) as DuckDB relation `attempts`.

A single Parquet file (a local path or an S3 key ending in `.parquet`) is a dataset of that file.

`attempts` is an in-memory table for datasets up to MATERIALIZE_MAX_ROWS rows (read once, every
later query is fast) and a lazy view over the files above that (memory stays bounded).

How it reads: pyarrow lists the Parquet files (local, or
`pyarrow.fs.S3FileSystem` configured from the standard AWS environment) and reads each file's
footer, so a corrupt file is found and left out before any query. Then, over the files that
passed: on S3, one `pyarrow.dataset` with the unified schema, which DuckDB scans (projection
and filter pushdown) as a registered Python object; locally, DuckDB's own `read_parquet` over
the same file list (faster than the pyarrow scan: benchmarks/local_scan.py, figures in
benchmarks/results/local_scan.json), cast to the same schema. Both give the same rows (tests
compare a summary from a folder and from S3).

Why not DuckDB's httpfs: it cannot be downloaded here, and the PyPI package that ships
it pins duckdb to an old version (1.5.5). It opens faster (benchmarks/duckdb_s3_routes.py,
figures in benchmarks/results/duckdb_s3_routes.json), but one corrupt object fails the whole
query ("Footer length error"), whereas here a corrupt or unreadable file is skipped with a
warning naming it, and files of older and newer schema versions are unified per file.

Schema unification: the dataset schema is `collectors.schema.arrow_schema()` with every field
nullable (an older file lacking a column reads as null there), followed by columns found in
newer files that this reader does not know (kept, so nothing a newer writer added is lost).
Column values come from the files, but for `job_type` in files of the Hive layout, which
keep it in the path only (`job_type=<t>/`; collectors.hive): a file's own job_type column wins
when it has one (files written before, or a value too long for a path), else the path's
value. The files are grouped by that path value, one scan per group (a handful: one per job
type), so the value is a constant of its scan, not a per-row lookup. `dt=` is not read.

Dedupe: writers deliver at least once, so an attempt_id may occur in several files. The view
`attempts` keeps one row per attempt_id: the one with the latest finished_at (nulls last), then
the highest schema_version, then the latest started_at (rows equal on all three are copies
of one delivery in practice, so which one is kept does not change any answer). Because
duplicates are rare, they are found once at open time: the 64-bit hashes of all ids are sorted
(numpy) and only rows whose hash occurs twice are deduplicated (window partitioned by the id
itself) into a small table; the view passes every other row straight through (a small
anti-join on the hashes), so later queries never run a window over millions of rows.
With no duplicates at all the view is the plain scan.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from collectors import schema
from planner.errors import DatasetError, describe, one_line

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

log = logging.getLogger("planner.dataset")

#: How open_dataset uses the local cache (planner.cache): "off", "on" or "refresh".
CacheMode = Literal["off", "on", "refresh"]

#: Seconds to wait for a TCP connection to S3; an unreachable endpoint fails fast, not hang.
S3_CONNECT_TIMEOUT_S = 3.0
#: Seconds a single S3 request may take.
S3_REQUEST_TIMEOUT_S = 20.0
#: Attempts per S3 request (the first plus retries).
S3_MAX_ATTEMPTS = 2
#: Threads reading footers in parallel (S3 round trips dominate, not CPU).
FOOTER_THREADS = 16

#: Datasets up to this many rows are copied into memory at open time (peak about 380 bytes a
#: row while copying: 3.8 GB for 10M rows, benchmarks/summary_10m.py); larger ones are scanned
#: from the files by each query.
MATERIALIZE_MAX_ROWS = 1_000_000

#: Which row of an attempt_id delivered more than once is kept (module docstring).
KEEP_ORDER = ("finished_at DESC NULLS LAST, schema_version DESC NULLS LAST, "
              "started_at DESC NULLS LAST")

#: Name of the deduplicated view every analysis uses.
VIEW = "attempts"
#: Name of the raw scan (every row of every readable file, duplicates included).
RAW_VIEW = "attempts_raw"


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of the dataset, and why."""

    path: str
    reason: str


@dataclass
class Dataset:
    """An opened dataset: a DuckDB connection with the views `attempts` and `attempts_raw`.

    The connection belongs to the thread that opened it; other threads (TUI workers) should use
    `cursor()`, which shares the registered views.
    """

    url: str
    connection: duckdb.DuckDBPyConnection
    #: The files read, as paths or s3:// URLs.
    files: list[str]
    skipped: list[SkippedFile] = field(default_factory=list)
    schema_versions: list[int] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    duplicate_ids: int = 0
    #: Rows in the files read, duplicates included.
    rows: int = 0
    #: True when `attempts` is an in-memory table (see open_dataset), False for a lazy view.
    materialized: bool = False
    #: S3 route: the pyarrow dataset of each group of files (registered under its name).
    arrow_datasets: dict[str, pads.Dataset] = field(default_factory=dict)
    #: The cache file the rows come from (planner.cache), None when read from the files.
    cache: Path | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the same database, for use in another thread.

        DuckDB keeps registered Python objects per connection, so the raw scan is registered
        again on the cursor; the views and tables are shared.
        """
        cur = self.connection.cursor()
        for name, arrow_ds in self.arrow_datasets.items():
            cur.register(name, arrow_ds)
        return cur

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    def close(self) -> None:
        self.connection.close()


def default_data_url() -> str:
    """The embedded default dataset: `data/attempts` beside the `planner` package."""
    return str(Path(__file__).resolve().parent.parent / "data" / "attempts")


def s3_filesystem(*, connect_timeout: float = S3_CONNECT_TIMEOUT_S) -> pafs.S3FileSystem:
    """An S3FileSystem from the standard AWS environment.

    Endpoint: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL ("http://host:port" or "https://...");
    unset means AWS itself. Region: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
    Credentials follow pyarrow's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
    profile, instance role).
    """
    import pyarrow.fs as pafs

    kwargs: dict[str, Any] = {
        "region": os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
        "connect_timeout": connect_timeout,
        "request_timeout": S3_REQUEST_TIMEOUT_S,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=S3_MAX_ATTEMPTS),
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise DatasetError(f"bad S3 endpoint {endpoint!r}: expected http(s)://host:port")
        kwargs["scheme"] = parsed.scheme
        kwargs["endpoint_override"] = parsed.netloc
    return pafs.S3FileSystem(**kwargs)


def dataset_schema(extra: Iterable[pa.Field] = ()) -> pa.Schema:
    """The reading schema: every known column, nullable, then unknown extra columns."""
    import pyarrow as pa

    base = schema.arrow_schema()
    fields = [f.with_nullable(True) for f in base]
    fields.extend(extra)
    return pa.schema(fields, metadata=base.metadata)


def cache_key(url: str | None) -> str:
    """The dataset's URL as its cache (planner.cache) is keyed: `s3://bucket/prefix`, or the
    folder's (or file's) absolute path; None is the embedded data."""
    _, base, display = resolve(url or default_data_url())
    return display if display.startswith("s3://") else base


def resolve(url: str, *, folder: bool = False) -> tuple[pafs.FileSystem, str, str]:
    """(filesystem, base path for that filesystem, display url) of a dataset URL: a folder, a
    `.parquet` file or s3://bucket/prefix. The base is a folder (a prefix on S3) or one
    `.parquet` file; with `folder` (compaction, purge, the lease) a folder or a prefix only.

    The one resolver of dataset URLs: DatasetError (a PlannerError) for a bad one.
    """
    import pyarrow.fs as pafs

    base, display = locate(url, folder=folder)
    if display.startswith("s3://"):
        return s3_filesystem(), base, display
    return pafs.LocalFileSystem(), base, display


def locate(url: str, *, folder: bool = False) -> tuple[str, str]:
    """`resolve` without the filesystem: (base path, display url). No pyarrow: a warm cache
    open of a local dataset (`open_dataset(cache="on")`, the TUI's start) lists the folder
    with the standard library and never needs pyarrow (with numpy, about 0.2 s to import)."""
    if url.startswith("s3://"):
        base = url[len("s3://") :].strip("/")
        if not base:
            raise DatasetError(f"bad S3 URL {url!r}: expected s3://bucket/prefix")
        return base, url
    if "://" in url and not url.startswith("file://"):
        what = "a folder" if folder else "a folder, a .parquet file"
        raise DatasetError(f"unsupported dataset URL {url!r}: use {what} or s3://bucket/prefix")
    path = Path(url[len("file://") :] if url.startswith("file://") else url).expanduser()
    if not folder and path.is_file() and path.name.endswith(".parquet"):
        return str(path.resolve()), str(path)
    if not folder and path.is_file():
        raise DatasetError(f"{path} is not a dataset: use a folder, a .parquet file or s3://...")
    if not path.is_dir():
        what = "Parquet file" if path.name.endswith(".parquet") and not folder else "dataset folder"
        raise DatasetError(f"no {what} at {path}")
    return str(path.resolve()), str(path)


@dataclass(frozen=True)
class ListedFile:
    """A Parquet file of a listing: what the cache compares to decide what to read again."""

    path: str
    size: int
    mtime_ns: int


def _visible(base: str, path: str) -> bool:
    """A `.parquet` file under `base` that no writer hides: temporary and hidden files
    (".part-x.parquet.tmp", "_SUCCESS") are writers' business."""
    return path.endswith(".parquet") and not any(
        p.startswith((".", "_")) for p in path[len(base) :].split("/"))


def _list_parquet(fs: pafs.FileSystem | None, base: str, url: str) -> list[ListedFile]:
    """The dataset's Parquet files (path, size, mtime): `base` itself when it is one `.parquet`
    file (local or an S3 key), else every visible `.parquet` file under it, sorted by path.
    `fs` None: a local `base`, listed with os (as pyarrow's LocalFileSystem lists it)."""
    if fs is None:
        return _list_local(base, url)
    import pyarrow.fs as pafs

    try:
        if base.endswith(".parquet"):
            info = fs.get_file_info(base)
            if info.type == pafs.FileType.File:
                return [ListedFile(info.path, int(info.size or 0), int(info.mtime_ns or 0))]
            if info.type == pafs.FileType.NotFound:
                raise DatasetError(f"no Parquet file at {url}")
            # A folder (prefix) whose name ends in .parquet: read what is under it.
        infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    except OSError as exc:
        raise DatasetError(f"cannot list {url}: {one_line(exc)}") from exc
    return sorted(
        (ListedFile(i.path, int(i.size or 0), int(i.mtime_ns or 0)) for i in infos
         if i.type == pafs.FileType.File and _visible(base, i.path)),
        key=lambda i: i.path,
    )


def _list_local(base: str, url: str) -> list[ListedFile]:
    """`_list_parquet` of a local file or folder (symbolic links followed, as pyarrow does)."""
    try:
        if os.path.isfile(base):
            st = os.stat(base)
            return [ListedFile(base, st.st_size, st.st_mtime_ns)] if base.endswith(
                ".parquet") else []
        out = []
        for folder, _, names in os.walk(base, followlinks=True, onerror=_raise):
            for name in names:
                path = f"{folder}/{name}"
                if _visible(base, path):
                    st = os.stat(path)
                    out.append(ListedFile(path, st.st_size, st.st_mtime_ns))
    except OSError as exc:
        raise DatasetError(f"cannot list {url}: {one_line(exc)}") from exc
    return sorted(out, key=lambda i: i.path)


def _raise(exc: OSError) -> None:
    raise exc


def _read_footer(fs: pafs.FileSystem, path: str) -> tuple[pa.Schema, int] | SkippedFile:
    """(Arrow schema, row count) of a Parquet file, or why it cannot be read or is not ours."""
    import pyarrow.parquet as pq

    try:
        with fs.open_input_file(path) as f:
            pf = pq.ParquetFile(f)
            why = _foreign(path, pf)
            if why:
                return SkippedFile(path, why)
            return pf.schema_arrow, pf.metadata.num_rows
    except Exception as exc:  # noqa: BLE001 - any unreadable file is skipped and reported
        return SkippedFile(path, describe(exc))


#: Columns without which a file holds no attempts (a partition column may be in the path alone).
REQUIRED_COLUMNS = ("attempt_id", "job_type", "status", "started_at")


def _foreign(path: str, pf: pq.ParquetFile) -> str | None:
    """Why a readable Parquet file is not one of attempt rows (a required column missing, or
    null attempt ids, which would collapse into one phantom attempt), or None."""
    names = set(pf.schema_arrow.names)
    in_path = {seg.split("=", 1)[0] for seg in path.split("/") if "=" in seg}
    missing = [c for c in REQUIRED_COLUMNS
               if c not in names and not (c in schema.PARTITION_COLUMNS and c in in_path)]
    if missing:
        return f"not an attempts file: no column {', '.join(missing)}"
    meta = pf.metadata
    idx = next(i for i in range(meta.num_columns) if meta.schema.column(i).path == "attempt_id")
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(idx).statistics
        if stats is not None and stats.has_null_count:
            if stats.null_count:
                return f"not an attempts file: {stats.null_count} rows without attempt_id"
            continue
        # No statistics (another writer): read that one column.
        nulls = pf.read_row_group(g, columns=["attempt_id"]).column(0).null_count
        if nulls:
            return f"not an attempts file: {nulls} rows without attempt_id"
    return None


def _same_family(have: pa.DataType, want: pa.DataType) -> bool:
    """Whether values of `have` cast to `want` without parsing text (int32 -> int64 yes,
    string -> int64 no: that cast would fail on the first value, at query time)."""
    import pyarrow.types as pt

    def family(t: pa.DataType) -> str:
        if pt.is_integer(t) or pt.is_floating(t) or pt.is_decimal(t):
            return "number"
        if pt.is_string(t) or pt.is_large_string(t):
            return "string"
        if pt.is_timestamp(t) or pt.is_date(t):
            return "time"
        if pt.is_list(t) or pt.is_large_list(t):
            return "list"
        return str(t)

    return family(have) == family(want) or pt.is_null(have)


def _incompatible(file_schema: pa.Schema, target: pa.Schema) -> str | None:
    """Why a file's columns cannot be cast to the reading schema, or None when they can."""
    for f in file_schema:
        idx = target.get_field_index(f.name)
        if idx < 0:
            continue
        want = target.field(idx).type
        if f.type != want and not _same_family(f.type, want):
            return f"column {f.name} is {f.type}, expected {want}"
    return None


@dataclass(frozen=True)
class FileFacts:
    """What a file's footer says: rows and schema version, or why it is left out (`reason`)."""

    path: str
    rows: int = 0
    schema_version: int | None = None
    reason: str | None = None


def check_files(fs: pafs.FileSystem, paths: Sequence[str]) -> tuple[list[FileFacts], pa.Schema]:
    """Read the footers (in parallel): the facts of each file, in order, and the reading schema
    (dataset_schema plus the unknown columns of the readable files). Files that cannot be read,
    are not attempt files or whose column types conflict have a `reason`."""
    if not paths:
        return [], dataset_schema()
    with ThreadPoolExecutor(max_workers=min(FOOTER_THREADS, len(paths))) as pool:
        footers = list(pool.map(lambda p: _read_footer(fs, p), paths))
    known = set(schema.COLUMN_NAMES)
    extra: dict[str, pa.Field] = {}
    for footer in footers:
        if isinstance(footer, SkippedFile):
            continue
        for f in footer[0]:
            if f.name not in known and f.name not in extra:
                extra[f.name] = f.with_nullable(True)
    target = dataset_schema(extra.values())
    facts = []
    for path, footer in zip(paths, footers, strict=True):
        if isinstance(footer, SkippedFile):
            facts.append(FileFacts(path, reason=footer.reason))
            continue
        file_schema, n_rows = footer
        why = _incompatible(file_schema, target)
        if why:
            facts.append(FileFacts(path, reason=why))
            continue
        raw_version = (file_schema.metadata or {}).get(b"mediajobs.schema_version")
        version = int(raw_version) if raw_version and raw_version.isdigit() else None
        facts.append(FileFacts(path, n_rows, version))
    return facts, target


def report_skipped(facts: Iterable[FileFacts], prefix: str = "") -> list[SkippedFile]:
    """The files left out, sorted, each logged once as a warning naming it."""
    skipped = sorted((SkippedFile(prefix + f.path, f.reason) for f in facts if f.reason),
                     key=lambda s: s.path)
    for s in skipped:
        # logging, not warnings.warn: the CLI and the TUI show log lines as one readable line
        # each, and warnings.warn would show the same file once only per call site.
        log.warning("skipped %s: %s", s.path, s.reason)
    return skipped


def open_dataset(
    url: str | None = None, *, threads: int | None = None, materialize: bool | None = None,
    cache: CacheMode = "off",
) -> Dataset:
    """Open the dataset at `url` (a folder, `file://...` or `s3://bucket/prefix`), or the one
    Parquet file at a path or S3 key ending in `.parquet` as a dataset of that file.

    `url` None opens the embedded default data (`default_data_url()`). Files that cannot be read
    are skipped with a logged warning naming them (also listed in `Dataset.skipped`).
    `threads` caps DuckDB's threads (default: DuckDB's choice).

    `materialize`: copy the deduplicated rows into DuckDB's in-memory columnar storage at open
    time, so every later query (TUI paging, summaries) reads memory instead of re-reading and
    re-deduplicating the files. None (default) materialises datasets of up to
    MATERIALIZE_MAX_ROWS rows (counted from the footers, free) and scans larger ones lazily,
    which keeps memory bounded whatever the dataset's size.

    `cache`: "on" keeps the deduplicated rows in a DuckDB file of the user's cache folder and
    loads only the files added since (planner.cache; `materialize` does not apply), "refresh"
    builds that file anew, "off" (default) reads the files.

    Raises DatasetError for a missing folder or file, a file that is not `.parquet`, an
    unreachable or refused S3 endpoint, or a dataset without a single readable Parquet file.
    """
    import duckdb  # first: a worker install (no planner extra) is told so before anything else

    if not url:
        url = default_data_url()
        if not Path(url).is_dir():  # an installed package: the data stays in the checkout
            raise DatasetError(f"no embedded data at {url} (it comes with a checkout of the "
                               "repository, not with an installed package): pass --data URL")
    base, display = locate(url)
    prefix = "s3://" if display.startswith("s3://") else ""
    # A local folder is listed without pyarrow: a warm cache needs nothing more (see locate).
    fs = s3_filesystem() if prefix else None
    listed = _list_parquet(fs, base, display)
    if not listed:
        raise DatasetError(f"no Parquet files under {display}")
    paths = [i.path for i in listed]

    if cache != "off":
        from planner.cache import open_cached

        return open_cached(display, display if prefix else base, fs, listed,
                           refresh=cache == "refresh", threads=threads)
    # Imported here: pyarrow.dataset loads pandas (about 0.4 s), which a cached open never needs.
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs

    if fs is None:
        fs = pafs.LocalFileSystem()

    facts, target = check_files(fs, paths)
    files = [f.path for f in facts if f.reason is None]
    rows = sum(f.rows for f in facts if f.reason is None)
    versions = {f.schema_version for f in facts
                if f.reason is None and f.schema_version is not None}
    skipped = report_skipped(facts, prefix)
    if not files:
        raise DatasetError(f"no readable Parquet files under {display} ({len(skipped)} skipped)")
    extra = [n for n in target.names if n not in schema.COLUMNS_BY_NAME]

    con = duckdb.connect()
    # Timestamps without a zone (older writers) are UTC; results come back in UTC.
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    groups = group_by_path_job_type(files)
    arrow_dss: dict[str, pads.Dataset] = {}
    if prefix:
        for i, group in enumerate(groups.values()):
            arrow_dss[f"_raw_{i}"] = pads.dataset(group, schema=target, format="parquet",
                                                  filesystem=fs)
            con.register(f"_raw_{i}", arrow_dss[f"_raw_{i}"])
    _create_raw_view(con, groups, target, arrow_dss)
    files = [prefix + f for f in files]
    dup_count = _create_views(con, list(target.names), groups, arrow_dss)
    if materialize is None:
        materialize = rows <= MATERIALIZE_MAX_ROWS
    if materialize:
        con.execute(f"CREATE TABLE _attempts_mem AS SELECT * FROM {VIEW}")
        con.execute(f"DROP VIEW {VIEW}")
        con.execute(f"ALTER TABLE _attempts_mem RENAME TO {VIEW}")
    return Dataset(
        url=display,
        connection=con,
        files=files,
        skipped=skipped,
        schema_versions=sorted(versions),
        extra_columns=extra,
        duplicate_ids=dup_count,
        arrow_datasets=arrow_dss,
        rows=rows,
        materialized=materialize,
    )


def quote(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


#: DuckDB type of each schema column type (collectors.schema.ColumnType).
_DUCK_TYPES = {
    "string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "list<string>": "VARCHAR[]",
}


def sql_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def group_by_path_job_type(files: Sequence[str]) -> dict[str | None, list[str]]:
    """The files grouped by the job_type their path gives (`job_type=<t>` segment, innermost;
    None for files outside such a folder), in first-seen order."""
    from collectors.hive import partition_values

    groups: dict[str | None, list[str]] = {}
    for f in files:
        groups.setdefault(partition_values(f.rsplit("/", 1)[0]).get("job_type"), []).append(f)
    return groups


def group_select(source: str, present: set[str], target: pa.Schema,
                 path_job_type: str | None, extra: str = "") -> str:
    """SELECT of every reading-schema column from one group's scan: schema columns typed as
    the schema says (NULL where the group's files lack them), job_type from the file, else
    from the path (collectors.hive); `extra`: one more select item."""
    select = []
    for name in target.names:
        col = schema.COLUMNS_BY_NAME.get(name)
        if col is None:  # an extra column of a newer writer: as read
            select.append(quote(name) if name in present else f"NULL AS {quote(name)}")
            continue
        duck = _DUCK_TYPES[col.type]
        expr = f"CAST({quote(name)} AS {duck})" if name in present else f"CAST(NULL AS {duck})"
        if name == "job_type" and path_job_type is not None:
            expr = f"COALESCE({expr}, {sql_string(path_job_type)})"
        select.append(f"{expr} AS {quote(name)}")
    if extra:
        select.append(extra)
    return f"SELECT {', '.join(select)} FROM {source}"


def _group_sources(
    con: duckdb.DuckDBPyConnection, groups: dict[str | None, list[str]], target: pa.Schema,
    arrow_dss: dict[str, pads.Dataset],
) -> list[str]:
    """One SELECT per group of files: DuckDB's own Parquet reader on local files (faster than
    scanning a pyarrow dataset: benchmarks/results/local_scan.json), the registered pyarrow
    datasets (`arrow_dss`, same order as `groups`) on S3."""
    selects = []
    names = list(arrow_dss)
    for i, (path_job_type, group) in enumerate(groups.items()):
        if names:
            source, present = names[i], set(target.names)
        else:
            # hive_partitioning off: DuckDB would otherwise put the path's job_type over the
            # file's (the path's value comes in through _group_select instead).
            source = (f"read_parquet([{', '.join(sql_string(f) for f in group)}], "
                      "union_by_name = true, hive_partitioning = false)")
            present = {str(r[0]) for r in
                       con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        selects.append(group_select(source, present, target, path_job_type))
    return selects


def _create_raw_view(
    con: duckdb.DuckDBPyConnection, groups: dict[str | None, list[str]], target: pa.Schema,
    arrow_dss: dict[str, pads.Dataset],
) -> None:
    """The raw view: every row of every file, every schema column present and typed."""
    union = " UNION ALL ".join(_group_sources(con, groups, target, arrow_dss))
    con.execute(f"CREATE VIEW {RAW_VIEW} AS {union}")


def _create_views(
    con: duckdb.DuckDBPyConnection, columns: Sequence[str],
    groups: dict[str | None, list[str]], arrow_dss: dict[str, pads.Dataset],
) -> int:
    """Create the deduplicated view; returns how many attempt_ids occur more than once.

    Finding duplicates exactly with GROUP BY attempt_id builds a hash table of every id (6.5 s
    and 840 MB for 10M ids here); instead the 64-bit hashes of the ids are fetched as one numpy
    array and sorted (2.8 s, 270 MB), and only rows whose hash occurs twice go through the
    window, partitioned by the id itself, so a hash collision merely costs a few extra rows
    in the window, never a wrong answer.

    With `arrow_dss` (the S3 route) the candidate rows are read by pyarrow with an `isin` filter
    on their ids: DuckDB cannot push a filter on hash(attempt_id) into a pyarrow scan and would
    pull every column of every row through it (4.9 GB peak for 10M rows).

    Not TEMP: temporary objects are per connection, and TUI workers use cursors.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    hashes = con.execute(f"SELECT hash(attempt_id) AS h FROM {RAW_VIEW}").fetchnumpy()["h"]
    hashes = np.sort(np.asarray(hashes))
    dup_hashes = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    cols = ", ".join(quote(c) for c in columns)
    if dup_hashes.size == 0:
        con.execute(f"CREATE VIEW {VIEW} AS SELECT {cols} FROM {RAW_VIEW}")
        return 0
    con.register("_dup_hashes_arrow", pa.table({"h": pa.array(dup_hashes, pa.uint64())}))
    con.execute("CREATE TABLE _dup_hashes AS SELECT h FROM _dup_hashes_arrow")
    con.unregister("_dup_hashes_arrow")
    source = f"{RAW_VIEW} WHERE hash(attempt_id) IN (SELECT h FROM _dup_hashes)"
    picked: dict[str, pa.Table] = {}
    if arrow_dss:
        ids = con.sql(f"SELECT DISTINCT attempt_id FROM {source}").to_arrow_table()
        ids_array = ids.column(0).combine_chunks() if ids.num_rows else pa.array([], pa.string())
        picked = {f"_dup_{name}": arrow_ds.to_table(filter=pc.field("attempt_id").isin(ids_array))
                  for name, arrow_ds in arrow_dss.items()}
        for name, table in picked.items():
            con.register(name, table)
        target = pa.schema([f for f in next(iter(arrow_dss.values())).schema])
        source = "(" + " UNION ALL ".join(
            group_select(name, set(target.names), target, path_job_type)
            for name, path_job_type in zip(picked, groups, strict=True)) + ")"
    # One pass over the candidate rows: the row to keep per id, and how often each id occurs
    # (a hash shared by two different ids is a collision, not a duplicate).
    con.execute(
        f"CREATE TEMP TABLE _dup_candidates AS SELECT {cols},"
        "  row_number() OVER w AS _rn, count(*) OVER (PARTITION BY attempt_id) AS _n"
        f"  FROM {source}"
        f"  WINDOW w AS (PARTITION BY attempt_id ORDER BY {KEEP_ORDER})"
    )
    dups = con.execute("SELECT count(*) FROM _dup_candidates WHERE _rn = 1 AND _n > 1").fetchall()
    con.execute(f"CREATE TABLE _dup_rows AS SELECT {cols} FROM _dup_candidates WHERE _rn = 1")
    con.execute("DROP TABLE _dup_candidates")
    for name in picked:
        con.unregister(name)
    con.execute(
        f"CREATE VIEW {VIEW} AS "
        f"SELECT {cols} FROM {RAW_VIEW} "
        "WHERE hash(attempt_id) NOT IN (SELECT h FROM _dup_hashes) "
        f"UNION ALL SELECT {cols} FROM _dup_rows"
    )
    return int(dups[0][0])
