"""What a file of the dataset holds and what its path holds: the Hive convention.

Spark's `partitionBy`, Hive, Athena, Trino, pandas/pyarrow (`partitioning="hive"`), polars and
DuckDB (`hive_partitioning=true`) all take a partition column from the path
(`job_type=<t>/dt=<day>/`) and expect the file not to hold it: pandas refuses a file that holds
it ("Unable to merge: Field job_type has incompatible types: string vs dictionary"), and every
other engine shows the path's value over the file's. So files are written without the
partition columns whose value the path gives back exactly (`without_path_columns`), and the
planner reads `job_type` from the file when a file has it (files written before, or a value
the path could not hold whole) and from the path otherwise.

Path values are escaped as Hive escapes them, long ones shortened
(collectors.layout.partition_value); `unescape_partition_value` decodes them as pyarrow, DuckDB
and polars do.

Plain Python but for `without_path_columns` and `path_columns_of` (pyarrow, imported there):
this module is imported on the worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from collectors.layout import NULL_PARTITION, parse_partition_dir, partition_value
from collectors.schema import COLUMN_NAMES, PARTITION_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

#: Partition keys that are also columns of the schema (`dt` is not: it is the day of
#: started_at, and only the path holds it).
PATH_COLUMNS = tuple(c for c in PARTITION_COLUMNS if c in COLUMN_NAMES)


def unescape_partition_value(text: str) -> str | None:
    """The value of a path segment's `key=<text>`: `%XX` decoded (UTF-8), Hive's default
    partition name as None."""
    if text == NULL_PARTITION:
        return None
    return unquote(text, errors="strict")


def partition_values(relative: str) -> dict[str, str | None]:
    """`{"job_type": "x", "dt": "2026-11-02"}` from a path relative to the dataset root
    (folders only or ending in a file name; '/'-separated). Segments that are not `key=value`
    are ignored; a key seen twice keeps its innermost value, as Hive readers do."""
    out: dict[str, str | None] = {}
    for segment in relative.strip("/").split("/"):
        kv = parse_partition_dir(segment)
        if kv is None:
            continue
        try:
            out[kv[0]] = unescape_partition_value(kv[1])
        except UnicodeDecodeError:
            continue  # not something we wrote; the file's own column (if any) stands
    return out


def path_holds(key: str, value: object) -> bool:
    """Whether the path segment `key=<escaped value>` gives `value` back whole to a Hive reader
    (a value shortened to fit a path, or a null, does not)."""
    if value is None or value == "":
        return False
    try:
        return unescape_partition_value(partition_value(value)) == str(value)
    except UnicodeDecodeError:
        return False


def without_path_columns(table: pa.Table, values: dict[str, str | None]) -> pa.Table:
    """`table` without the partition columns whose every value equals the path's `values`
    (the Hive layout); a column the path does not give back whole stays, its nulls filled with
    the path's value (so the planner's rule, file first then path, reads it the same)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for key in PATH_COLUMNS:
        value = values.get(key)
        if key not in table.column_names or value is None:
            continue
        col = table.column(key)
        same = pc.all(pc.equal(col.fill_null(value), pa.scalar(value, col.type))).as_py()
        if same is not False and path_holds(key, value):
            table = table.drop_columns([key])
        elif col.null_count:
            idx = table.column_names.index(key)
            table = table.set_column(idx, table.schema.field(idx), col.fill_null(value))
    return table


def path_columns_of(meta: pq.FileMetaData, values: dict[str, str | None]) -> list[str]:
    """The partition columns a file holds that its path gives back whole, judged from the
    footer's statistics (every row group's min and max equal to the path's value): what
    `mjplan compact` removes by rewriting the file. A column whose values differ from the path
    (or without statistics) is not listed: rewriting would keep it."""
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    out = []
    for key in PATH_COLUMNS:
        value = values.get(key)
        if key not in names or value is None or not path_holds(key, value):
            continue
        idx = names.index(key)
        ok = meta.num_row_groups > 0
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(idx).statistics
            if stats is None or not stats.has_min_max or stats.min != value or (
                    stats.max != value):
                ok = False
                break
        if ok:
            out.append(key)
    return out
