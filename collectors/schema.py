"""The attempt record: one definition for the dataset row and the manifest's `metrics` object.

Every writer (the attempt API, `mjcollect`, the ingester, the synthetic generator) and every
reader (the planner) takes column names, Arrow types and camelCase manifest names from here.

The dataset row is flat and snake_case, so DuckDB, Athena, Trino and Spark read it unquoted.
The manifest's `metrics` object is nested and camelCase, as the MediaJobs manifests name it:

    metrics = {durationMs, rtf, probeMs, status, error, ...,
               input: {durationSeconds, videoCodec, audioCodec, width, height, bitrateKbps, ...},
               host:  {instanceType, cpuCores, memGb, hostname, ...}}

pyarrow is imported lazily (in `arrow_schema`) so that `import collectors` stays cheap on a
worker; the rest of this module is plain Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pyarrow as pa

#: Bumped whenever a column is added, renamed or changes meaning. Readers accept every version
#: up to their own; columns a file lacks read as null.
#: 2: worker_slots, host_running_at_start, arch, cpu_model, ffmpeg_version, source; the I/O
#:    hints: phase_<phase>_ms, transcode_rtf, bytes_read/written, net_bytes_in/out and rates.
SCHEMA_VERSION = 2

JOB_TYPES = (
    "create_video_export_v1",
    "upload_edit_proxy_v1",
    "upload_thumb_v1",
    "upload_audio_envelope_v1",
)

STATUS_SUCCEEDED = "succeeded"
STATUS_FAILED = "failed"
STATUSES = (STATUS_SUCCEEDED, STATUS_FAILED)

#: Where a row comes from (the `source` column). Version-1 files have no `source`: readers take
#: `synthetic` rows as 'synthetic' and the others as 'production' (`source_of`).
SOURCE_PRODUCTION = "production"
SOURCE_BENCH = "bench"
SOURCE_SYNTHETIC = "synthetic"
SOURCES = (SOURCE_PRODUCTION, SOURCE_BENCH, SOURCE_SYNTHETIC)

#: How the planner counts a job type's work. Media seconds for jobs whose cost grows with the
#: input's length; whole jobs for thumbnails, where one frame is decoded whatever the length.
THROUGHPUT_MEDIA_SECONDS = "media_seconds"
THROUGHPUT_JOBS = "jobs"
THROUGHPUT_UNIT_BY_JOB_TYPE = {
    "create_video_export_v1": THROUGHPUT_MEDIA_SECONDS,
    "upload_edit_proxy_v1": THROUGHPUT_MEDIA_SECONDS,
    "upload_thumb_v1": THROUGHPUT_JOBS,
    "upload_audio_envelope_v1": THROUGHPUT_MEDIA_SECONDS,
}

#: The well-known phases of an attempt, one `phase_<name>_ms` column each (collectors.phases):
#: fetching the inputs, the job's own probing, the ffmpeg work, storing the outputs, and the
#: rest (time under no phase or a phase of another name).
PHASE_DOWNLOAD = "download"
PHASE_PROBE = "probe"
PHASE_TRANSCODE = "transcode"
PHASE_UPLOAD = "upload"
PHASE_OTHER = "other"
PHASES = (PHASE_DOWNLOAD, PHASE_PROBE, PHASE_TRANSCODE, PHASE_UPLOAD, PHASE_OTHER)

ColumnType = Literal["string", "int32", "int64", "float64", "bool", "timestamp", "list<string>"]


@dataclass(frozen=True)
class Column:
    """One dataset column and where it lives in the manifest.

    `manifest` is the key path inside the manifest: ("metrics", "input", "width") for a value of
    the `metrics` object, ("jobId",) for a key at the manifest's top level, None for columns that
    exist only in the dataset (such as `synthetic`).
    """

    name: str
    type: ColumnType
    manifest: tuple[str, ...] | None
    doc: str
    nullable: bool = True


_M = "metrics"

COLUMNS: tuple[Column, ...] = (
    # Identity of the attempt.
    Column("attempt_id", "string", ("attemptId",), "Unique per attempt; readers dedupe on it.",
           nullable=False),
    Column("job_id", "string", ("jobId",), "The MediaJob this attempt belongs to.", nullable=False),
    Column("job_type", "string", ("jobType",), "One of JOB_TYPES (others are accepted).",
           nullable=False),
    Column("attempt_number", "int32", ("attemptNumber",), "1 for the first try, 2 for a retry..."),
    # Outcome and timing.
    Column("status", "string", (_M, "status"), "'succeeded' or 'failed'.", nullable=False),
    Column("error", "string", (_M, "error"), "The job's error (type: message) when it failed."),
    Column("metrics_error", "string", (_M, "metricsError"),
           "What the collector could not measure (probe failure...); the job is unaffected."),
    Column("started_at", "timestamp", (_M, "startedAt"), "Job start, UTC (after the probe)."),
    Column("finished_at", "timestamp", (_M, "finishedAt"), "Job end, UTC."),
    Column("duration_ms", "int64", (_M, "durationMs"),
           "Wall time of the job itself, ms (the collector's own probe left out)."),
    Column("probe_ms", "int64", (_M, "probeMs"), "Wall time of the ffprobe call, ms (apart)."),
    Column("rtf", "float64", (_M, "rtf"),
           "Input media seconds / job wall seconds; null when either is unknown or zero."),
    Column("throughput_unit", "string", (_M, "throughputUnit"),
           "'media_seconds' or 'jobs' (thumbnails): how the planner counts this work."),
    # The primary input, from ffprobe.
    Column("input_duration_seconds", "float64", (_M, "input", "durationSeconds"), "Seconds."),
    Column("input_video_codec", "string", (_M, "input", "videoCodec"), "ffprobe codec_name."),
    Column("input_audio_codec", "string", (_M, "input", "audioCodec"), "ffprobe codec_name."),
    Column("input_width", "int32", (_M, "input", "width"), "Pixels, as displayed (rotation)."),
    Column("input_height", "int32", (_M, "input", "height"), "Pixels, as displayed (rotation)."),
    Column("input_bitrate_kbps", "float64", (_M, "input", "bitrateKbps"), "Container bit rate."),
    Column("input_fps", "float64", (_M, "input", "fps"), "Frames per second of the video."),
    Column("input_size_bytes", "int64", (_M, "input", "sizeBytes"), "Bytes on disk."),
    Column("input_format", "string", (_M, "input", "format"), "ffprobe format_name."),
    # The host, once per worker.
    Column("instance_type", "string", (_M, "host", "instanceType"),
           "AWS_INSTANCE_TYPE, else IMDS, else null."),
    Column("cpu_cores", "int32", (_M, "host", "cpuCores"), "Logical CPUs of the machine."),
    Column("cpu_cores_usable", "float64", (_M, "host", "cpuCoresUsable"),
           "CPUs this worker may use: affinity and cgroup quota (containers)."),
    Column("mem_gb", "float64", (_M, "host", "memGb"), "Total RAM, GB (1e9), 0.1 precision."),
    Column("hostname", "string", (_M, "host", "hostname"), "The worker's host name."),
    Column("arch", "string", (_M, "host", "arch"), "CPU architecture: 'x86_64' or 'aarch64'."),
    Column("cpu_model", "string", (_M, "host", "cpuModel"),
           "CPU model name as the kernel reports it (/proc/cpuinfo)."),
    Column("ffmpeg_version", "string", (_M, "host", "ffmpegVersion"),
           "First line of `ffmpeg -version` on the worker's PATH, once per process."),
    # How busy the worker and its host were (schema version 2).
    Column("worker_slots", "int32", (_M, "workerSlots"),
           "Attempts this worker is configured to run at once (MEDIAJOB_WORKER_SLOTS)."),
    Column("host_running_at_start", "int32", (_M, "hostRunningAtStart"),
           "Attempts of this host in progress when this one started, itself included, counted "
           "across processes through the host-local registry; null when it could not count."),
    # The job's process tree (sampled while it runs) and its output.
    Column("cpu_pct_avg", "float64", (_M, "cpuPctAvg"),
           "Mean CPU of the job's process tree, % of one core (200 = two cores busy)."),
    Column("cpu_pct_max", "float64", (_M, "cpuPctMax"), "Max CPU sample, % of one core."),
    Column("mem_rss_mb_max", "float64", (_M, "memRssMbMax"), "Max RSS of the tree, MB (1e6)."),
    Column("cpu_sample_count", "int32", (_M, "cpuSampleCount"), "Samples behind the figures."),
    Column("output_size_bytes", "int64", (_M, "outputSizeBytes"), "Size of the produced file."),
    # Where the wall time went (collectors.phases): null for attempts that named no phase.
    *(Column(f"phase_{name}_ms", "int64", (_M, "phasesMs", name),
             f"Wall time under the {name} phase, ms" + (
                 " (time under no phase or an unknown one included)." if name == PHASE_OTHER
                 else "."))
      for name in PHASES),
    Column("transcode_rtf", "float64", (_M, "transcodeRtf"),
           "Input media seconds / transcode phase seconds; null without that phase."),
    # I/O of the job's process tree (collectors.sampler) and over the network (the worker's).
    Column("bytes_read", "int64", (_M, "io", "bytesRead"),
           "Bytes the process tree read through system calls (Linux rchar: files, pipes, "
           "sockets, page-cache hits included); null where the platform has no io counters."),
    Column("bytes_written", "int64", (_M, "io", "bytesWritten"),
           "Bytes the process tree wrote through system calls (Linux wchar)."),
    Column("net_bytes_in", "int64", (_M, "io", "netBytesIn"),
           "Bytes downloaded, as the worker says or a download phase's files grew."),
    Column("net_bytes_out", "int64", (_M, "io", "netBytesOut"),
           "Bytes uploaded, as the worker says or an upload phase's files measure."),
    Column("download_mb_per_s", "float64", (_M, "io", "downloadMBps"),
           "net_bytes_in / download phase seconds, MB/s (1e6)."),
    Column("upload_mb_per_s", "float64", (_M, "io", "uploadMBps"),
           "net_bytes_out / upload phase seconds, MB/s (1e6)."),
    # The commands run (credentials in URLs are stripped before they get here).
    Column("ffmpeg_commands", "list<string>", ("ffmpegCommands",),
           "Each ffmpeg command of the attempt, as one shell-quoted line."),
    # Provenance.
    Column("synthetic", "bool", None, "True for rows of the seeded generator, not measured.",
           nullable=False),
    Column("source", "string", (_M, "source"),
           "'production', 'bench' (mjcollect bench) or 'synthetic'; null in version-1 files "
           "(and rows that do not say): readers take `synthetic` then (source_of, SOURCE_SQL)."),
    Column("collector_version", "string", (_M, "collectorVersion"), "Version that wrote it."),
    Column("schema_version", "int32", (_M, "schemaVersion"), "SCHEMA_VERSION of the writer.",
           nullable=False),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}

#: Hive partition keys of the dataset: job_type=<t>/dt=<YYYY-MM-DD>/.
PARTITION_COLUMNS = ("job_type", "dt")


def _arrow_type(t: ColumnType) -> pa.DataType:
    import pyarrow as pa

    return {
        "string": pa.string(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "list<string>": pa.list_(pa.string()),
    }[t]


@cache
def arrow_schema() -> pa.Schema:
    """The Arrow schema of a dataset row (schema version in its metadata)."""
    import pyarrow as pa

    fields = [
        pa.field(c.name, _arrow_type(c.type), nullable=c.nullable, metadata={"doc": c.doc})
        for c in COLUMNS
    ]
    return pa.schema(fields, metadata={"mediajobs.schema_version": str(SCHEMA_VERSION)})


def empty_row() -> dict[str, Any]:
    """A row with every column present and null, but the non-null defaults."""
    row: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    row["synthetic"] = False
    row["schema_version"] = SCHEMA_VERSION
    return row


def source_of(source: str | None, synthetic: bool | None) -> str:
    """The row's source, also for version-1 rows (no `source`): synthetic, else production."""
    if source:
        return source
    return SOURCE_SYNTHETIC if synthetic else SOURCE_PRODUCTION


#: `source_of` as SQL over the dataset's columns (DuckDB), for readers of mixed versions.
SOURCE_SQL = (f"coalesce(source, CASE WHEN synthetic THEN '{SOURCE_SYNTHETIC}' "
              f"ELSE '{SOURCE_PRODUCTION}' END)")


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def _row_value(col: Column, value: Any) -> Any:
    if value is None:
        return None
    if col.type == "timestamp":
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not isinstance(value, dt.datetime):
            raise ValueError(f"{col.name}: expected a timestamp, got {value!r}")
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if col.type in ("int32", "int64"):
        if isinstance(value, bool):
            raise ValueError(f"{col.name}: expected an integer, got {value!r}")
        return int(value)
    if col.type == "float64":
        return float(value)
    if col.type == "bool":
        return bool(value)
    if col.type == "string":
        return str(value)
    if col.type == "list<string>":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ValueError(f"{col.name}: expected a list of strings, got {value!r}")
        return [str(v) for v in value]
    raise AssertionError(col.type)


def row_to_manifest(row: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest keys of a row: top-level job keys plus the nested camelCase `metrics`.

    Timestamps become ISO 8601 strings in UTC ("2026-11-25T19:44:06.123456Z").
    """
    out: dict[str, Any] = {}
    for col in COLUMNS:
        if col.manifest is None:
            continue
        node = out
        for key in col.manifest[:-1]:
            node = node.setdefault(key, {})
        node[col.manifest[-1]] = _json_value(row.get(col.name))
    return out


def metrics_of_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Just the manifest's `metrics` object of a row."""
    metrics: dict[str, Any] = row_to_manifest(row)[_M]
    return metrics


def manifest_to_row(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A dataset row from a manifest holding job keys and a `metrics` object.

    Unknown keys are ignored; missing keys read as null. Raises ValueError naming the field when
    a required value is missing or a value has the wrong type.
    """
    row = empty_row()
    for col in COLUMNS:
        if col.manifest is None:
            continue
        node: Any = manifest
        for key in col.manifest:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            try:
                row[col.name] = _row_value(col, node)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{'.'.join(col.manifest)}: {exc}") from exc
    missing = [c.name for c in COLUMNS if not c.nullable and row.get(c.name) is None]
    if missing:
        raise ValueError(f"missing required fields: {', '.join(missing)}")
    return row


def validate_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `row` with every column, values coerced to the column types.

    Raises ValueError for unknown columns, missing required values or uncoercible values.
    """
    unknown = set(row) - set(COLUMN_NAMES)
    if unknown:
        raise ValueError(f"unknown columns: {', '.join(sorted(unknown))}")
    out = empty_row()
    for col in COLUMNS:
        if col.name in row:
            out[col.name] = _row_value(col, row[col.name])
    missing = [c.name for c in COLUMNS if not c.nullable and out.get(c.name) is None]
    if missing:
        raise ValueError(f"missing required fields: {', '.join(missing)}")
    return out
