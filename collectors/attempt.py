"""One measured job attempt: what a worker wraps around each MediaJob attempt.

    from collectors import attempt

    with attempt("upload_edit_proxy_v1", job.id, attempt_number=n, inputs=[src]) as a:
        a.add_ffmpeg_command(argv)          # recorded as one shell-quoted line, no credentials
        run_ffmpeg(argv)
        a.set_output(dst)                    # output_size_bytes at finish
    if a.row is not None:                    # None with MEDIAJOB_METRICS=0
        manifest["metrics"] = a.metrics      # the manifest's camelCase object
        manifest["ffmpegCommands"] = a.row["ffmpeg_commands"]

or, where a `with` block does not fit: `a = start_attempt(...)`, then `a.finish()` or
`a.finish(error=exc)`.

Phases and network bytes (I/O hints): name the parts of the attempt, and say what went over
the network where the worker knows it:

    with attempt("create_video_export_v1", job.id, inputs=[local_src]) as a:
        with a.phase("download", files=[local_src]):   # the file's growth: net_bytes_in
            s3.download_file(bucket, key, local_src)
        with a.phase("transcode"):
            run_ffmpeg(argv)
        with a.phase("upload", files=[dst]):           # the file's size: net_bytes_out
            s3.upload_file(dst, bucket, out_key)
        # or a.phase_start("upload") ... a.phase_end("upload"); a.add_bytes_uploaded(n)

Each well-known phase (schema.PHASES) gets a phase_<name>_ms column; see collectors.phases for
unknown names, time under no phase and overlapping phases. transcode_rtf is the input's seconds
over the transcode phase's; rtf stays whole-attempt. When the primary input is a local file not
there yet at start (a download phase fetches it), it is probed when the first download phase
ends (else at finish); that probe's time is left out of the job's time and its phases, and its
I/O and CPU out of the figures.

What happens, in order:
1. start: the primary input is chosen (an explicit `primary_input`, else the job type's rule in
   PRIMARY_INPUT_RULES) and probed with ffprobe (probe_ms, apart from the job's time); the host
   is measured (once per process); the sampler, if any, starts; the attempt enters the
   host-local registry (collectors.registry: host_running_at_start); the clock starts.
   `mjcollect run` starts its first command before all this (`start(since=...)`: the clock
   started then, ffprobe runs while psutil is imported, the sampler adopts the running command).
2. the job runs. `probe_media_info` calls inside the block reuse the attempt's probe cache
   (a context variable; threads the job starts, which begin without it, use it too while it is
   the only attempt open in the process; with several open, pass `cache=a.probe_cache`).
3. finish: the clock stops, the sampler stops (CPU, memory, bytes read and written), the
   ffmpeg version is looked up (once per process, and only after a successful job:
   collectors.ffmpeg_version), the output is sized, rtf = input seconds / job seconds is
   computed, the row is validated against collectors.schema and handed to the sink.

Nothing here fails the job. Every metrics step is guarded: a failure is logged (once per step
and process at WARNING, then at DEBUG), its values stay null and a note goes to
`metrics_error`. The job's own exception leaves the `with` block unchanged. With
MEDIAJOB_METRICS=0 (or false/off/no) the attempt does nothing at all: no probe, no host look-up,
no sampler thread, no row (`row` and `metrics` stay None); the block still runs.

The sampler hook. `sampler=` takes any object with `start()` and `stop() -> summary`, where the
summary has `cpu_pct_avg`, `cpu_pct_max` (% of one core), `mem_rss_mb_max` (MB, 1e6 bytes), each
a float or None, and `sample_count` (int), such as `collectors.sampler.TreeSampler`. The
default, DEFAULT_SAMPLER, is `collectors.sampler.children_sampler()`: the children this process
starts during the attempt (so a process running several attempts at once should pass its own
samplers or None).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import Token
from pathlib import PurePath
from typing import Any, Final, Protocol, TypedDict, Unpack

from collectors import config, schema
from collectors.ffmpeg_version import ffmpeg_version
from collectors.phases import PhaseClock
from collectors.probe import (
    MediaInfo,
    PendingProbe,
    ProbeCache,
    ProbeError,
    enter_cache_scope,
    exit_cache_scope,
    start_probe,
)
from collectors.redact import command_line, redact_urls
from collectors.registry import register
from collectors.sink import Sink

log = logging.getLogger("collectors.attempt")

PathLike = str | os.PathLike[str]

#: The longest `error` / `metrics_error` text kept, characters (tracebacks do not belong here).
MAX_ERROR_CHARS = 2000


# --- primary input --------------------------------------------------------------------------

VIDEO_SUFFIXES = frozenset({
    ".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".mxf", ".flv",
    ".3gp", ".wmv", ".mpg", ".mpeg", ".h264", ".264", ".hevc", ".265", ".ivf", ".y4m",
})
AUDIO_SUFFIXES = frozenset({
    ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff",
    ".caf", ".wma", ".amr", ".w64",
})


def _suffix(path: PathLike) -> str:
    # Query strings of URLs are not part of the name.
    text = os.fspath(path).split("?", 1)[0]
    return PurePath(text).suffix.lower()


def _local_size(path: PathLike) -> int | None:
    """Bytes of a local file; None when it is not there (or is an s3:// URL)."""
    if os.fspath(path).startswith("s3://"):
        return None
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return None


def _size_or_minus_one(path: PathLike) -> int:
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return -1


def first_input(inputs: Sequence[PathLike]) -> PathLike | None:
    """The first input."""
    return inputs[0] if inputs else None


def largest_input(inputs: Sequence[PathLike]) -> PathLike | None:
    """The largest local file (the earliest on a tie; unreadable ones count as empty)."""
    if not inputs:
        return None
    sizes = [_size_or_minus_one(p) for p in inputs]
    return inputs[sizes.index(max(sizes))]


def first_video_input(inputs: Sequence[PathLike]) -> PathLike | None:
    """The first input with a video file suffix, else the first input."""
    return next((p for p in inputs if _suffix(p) in VIDEO_SUFFIXES), first_input(inputs))


def first_audio_input(inputs: Sequence[PathLike]) -> PathLike | None:
    """The first input with an audio file suffix, else the first video one, else the first."""
    return next((p for p in inputs if _suffix(p) in AUDIO_SUFFIXES), first_video_input(inputs))


Rule = Callable[[Sequence[PathLike]], "PathLike | None"]

#: The input whose length defines the job's work, per job type. Chosen from
#: names and sizes only: probing every input to choose would cost more than the probe we keep.
PRIMARY_INPUT_RULES: Final[Mapping[str, Rule]] = {
    # The timeline's main footage; overlays, logos and music beds are smaller files.
    "create_video_export_v1": largest_input,
    # The uploaded video the proxy is made from (a sidecar, e.g. subtitles, is not it).
    "upload_edit_proxy_v1": first_video_input,
    # The video the frame is taken from.
    "upload_thumb_v1": first_video_input,
    # The audio track if uploaded apart, else the video whose audio is drawn.
    "upload_audio_envelope_v1": first_audio_input,
}


def primary_input_for(job_type: str, inputs: Sequence[PathLike]) -> PathLike | None:
    """The job type's primary input among `inputs` (the first input for unknown job types)."""
    return PRIMARY_INPUT_RULES.get(job_type, first_input)(list(inputs))


# --- maths (pure) ---------------------------------------------------------------------------

def real_time_factor(input_seconds: float | None, job_ms: int | None) -> float | None:
    """Input media seconds per wall second of the job (2.0: twice as fast as real time).

    None when either is unknown or not positive: an RTF of a zero-length input or of a job
    that took no measurable time means nothing.
    """
    if input_seconds is None or job_ms is None or input_seconds <= 0 or job_ms <= 0:
        return None
    return round(input_seconds / (job_ms / 1000.0), 4)


def rate_mb_per_s(n_bytes: int | None, ms: int | None) -> float | None:
    """MB (1e6 bytes) per second of `n_bytes` moved in `ms`; None when either is unknown or
    not positive."""
    if n_bytes is None or ms is None or n_bytes <= 0 or ms <= 0:
        return None
    return round(n_bytes / 1e6 / (ms / 1000.0), 4)


def error_text(error: BaseException | str | None) -> str | None:
    """The `error` column: "Type: message" for an exception, URLs redacted, bounded length."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        message = _subprocess_message(error) or str(error)
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    else:
        text = str(error)
    text = redact_urls(text)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _subprocess_message(error: BaseException) -> str | None:
    """The message of a subprocess error without its arguments, else None.

    `str()` of CalledProcessError and TimeoutExpired repeats the whole argv, and with it
    `-headers` values, signed URLs and other secrets; the program name and outcome say enough.
    """
    if not isinstance(error, subprocess.CalledProcessError | subprocess.TimeoutExpired):
        return None
    cmd = error.cmd
    first = cmd[0] if isinstance(cmd, list | tuple) and cmd else cmd
    words = os.fsdecode(first).split() if isinstance(first, str | bytes | os.PathLike) else []
    program = os.path.basename(words[0]) if words else "command"
    if isinstance(error, subprocess.TimeoutExpired):
        return f"{program} timed out after {error.timeout:g} s"
    return f"{program} returned non-zero exit status {error.returncode}"


def input_columns(info: MediaInfo | None) -> dict[str, Any]:
    """The row's input_* columns from a probe result (all None without one)."""
    return {
        "input_duration_seconds": info.duration_seconds if info else None,
        "input_video_codec": info.video_codec if info else None,
        "input_audio_codec": info.audio_codec if info else None,
        "input_width": info.width if info else None,
        "input_height": info.height if info else None,
        "input_bitrate_kbps": info.bitrate_kbps if info else None,
        "input_fps": info.fps if info else None,
        "input_size_bytes": info.size_bytes if info else None,
        "input_format": info.format_name if info else None,
    }


# --- the hooks ------------------------------------------------------------------------------

class SamplerSummary(Protocol):
    """What `Sampler.stop()` returns (collectors.sampler.SampleSummary fits)."""

    @property
    def cpu_pct_avg(self) -> float | None: ...
    @property
    def cpu_pct_max(self) -> float | None: ...
    @property
    def mem_rss_mb_max(self) -> float | None: ...
    @property
    def sample_count(self) -> int: ...
    # Optional (read with getattr, None when absent): bytes_read, bytes_written.


class Sampler(Protocol):
    """Anything that samples CPU/memory while the job runs."""

    def start(self) -> None: ...
    def stop(self) -> SamplerSummary: ...


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: `sampler=DEFAULT_SAMPLER`: collectors.sampler.children_sampler(); `sink=DEFAULT_SINK`:
#: collectors.upload.default_sink() (MEDIAJOB_METRICS_URL), or no sink when none is set up.
DEFAULT_SAMPLER: Final = _Default()
DEFAULT_SINK: Final = _Default()


class AttemptOptions(TypedDict, total=False):
    """The keyword options of `start_attempt` and `attempt`, passed on to `Attempt` unchanged.

    Listed once here so the two entry points cannot drift from `Attempt.__init__`, which holds
    the defaults (mypy checks the forwarding against it).
    """

    attempt_number: int
    attempt_id: str | None
    inputs: Sequence[PathLike]
    primary_input: PathLike | None
    output: PathLike | None
    sink: Sink | _Default | None
    sampler: Sampler | _Default | None
    allow_protocols: bool
    probe_timeout: float | None
    worker_slots: int | None
    source: str


def _note_failure(step: str, message: str, error: BaseException | None = None) -> None:
    """Log a metrics failure: WARNING the first time per step and process, then DEBUG.

    `error`, when given, adds its traceback to the WARNING (for bugs, not for expected gaps).
    """
    config.log_once(log, f"attempt:{step}", logging.WARNING,
                    "metrics %s: %s (the job is not affected; further %s failures are logged "
                    "at DEBUG)", step, message, step, error=error)


def _default_sink() -> Sink | None:
    from collectors.upload import default_sink

    sink = default_sink()
    if sink is None:
        config.log_once(log, "attempt:no-sink", logging.INFO,
                        "no metrics sink configured (%s unset): rows are not written",
                        config.MEDIAJOB_METRICS_URL)
    return sink


def _default_sampler() -> Sampler | None:
    from collectors.sampler import children_sampler

    return children_sampler()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- the attempt ----------------------------------------------------------------------------

class Attempt:
    """One job attempt being measured. Made by `start_attempt` / `attempt`; see module doc.

    Attributes a worker reads: `row` (the dataset row, schema-valid) and `metrics` (the
    manifest's camelCase object), both None until `finish()` and when metrics are off;
    `input_info` (the primary input's MediaInfo, or None); `enabled`.
    """

    def __init__(
        self,
        job_type: str,
        job_id: str,
        *,
        attempt_number: int = 1,
        attempt_id: str | None = None,
        inputs: Sequence[PathLike] = (),
        primary_input: PathLike | None = None,
        output: PathLike | None = None,
        sink: Sink | _Default | None = DEFAULT_SINK,
        sampler: Sampler | _Default | None = DEFAULT_SAMPLER,
        allow_protocols: bool = False,
        probe_timeout: float | None = None,
        worker_slots: int | None = None,
        source: str = schema.SOURCE_PRODUCTION,
    ) -> None:
        self.enabled = config.metrics_enabled()
        try:  # "2" from a job's JSON is 2; a TypeError here would have failed the job
            number = int(attempt_number)
        except (TypeError, ValueError):
            number = 0
        # Metrics off: nothing is recorded, so nothing to refuse either.
        if self.enabled and (not job_type or not job_id):
            raise ValueError("job_type and job_id are required")
        if self.enabled and number < 1:
            raise ValueError(f"attempt_number must be an integer >= 1, got {attempt_number!r}")
        if self.enabled and source not in schema.SOURCES:
            raise ValueError(f"source must be one of {', '.join(schema.SOURCES)}, got {source!r}")
        self.worker_slots = config.worker_slots(worker_slots) if self.enabled else None
        self.source = source
        self.job_type = job_type
        self.job_id = str(job_id)
        self.attempt_number = number
        self.attempt_id = attempt_id or uuid.uuid4().hex
        # One path given as `inputs="in.mp4"` is one input, not one per character.
        self.inputs: tuple[PathLike, ...] = (
            (inputs,) if isinstance(inputs, str | os.PathLike) else tuple(inputs))
        self.primary_input = primary_input
        self._explicit_primary = primary_input
        self.output = output
        self.input_info: MediaInfo | None = None
        self.row: dict[str, Any] | None = None
        self.metrics: dict[str, Any] | None = None
        self.probe_cache = ProbeCache()
        self._sink_arg = sink
        self._sampler_arg = sampler
        self._sampler: Sampler | None = None
        self._allow_protocols = allow_protocols
        self._probe_timeout = probe_timeout
        self._commands: list[str] = []
        self._notes: list[str] = []
        self._values: dict[str, Any] = {}
        self._t0: float | None = None
        self._started_at: dt.datetime | None = None
        self._cache_token: Token[ProbeCache | None] | None = None
        # Releases this attempt's registry entry once: at finish(), or when an attempt that was
        # never finished is garbage-collected (a worker that drops one on an error path would
        # otherwise count it as running on the host for as long as the process lives).
        self._release_entry: weakref.finalize[[], Attempt] | None = None
        self._finished = False
        self._phases: PhaseClock | None = None
        self._phase_used = False
        #: Per phase name, a stack of the files given to its open spans and their sizes then.
        self._phase_files: dict[str, list[list[tuple[PathLike, int | None]]]] = {}
        self._net: dict[str, int | None] = {"in": None, "out": None}
        self._net_lock = threading.Lock()  # the job's threads may add bytes at once
        self._probe_deferred = False
        self._ended: float | None = None  # finish(at=...)

    # -- during the job --

    def add_ffmpeg_command(self, argv: Sequence[str]) -> None:
        """Record a command the job runs (one shell-quoted line; URL credentials removed)."""
        if not self.enabled:
            return
        try:
            self._commands.append(command_line(argv))
        except Exception as exc:  # a weird argv is a metrics gap, not a job failure
            self._fail("ffmpeg_commands", f"cannot record command: {exc}")

    def set_output(self, path: PathLike) -> None:
        """The job's output (local path or s3:// URL); its size is read at finish."""
        self.output = path

    def phase(self, name: str, *, files: Sequence[PathLike] = ()) -> AbstractContextManager[None]:
        """A block timed as phase `name` (schema.PHASES; other names count as "other").

        `files`: for a download phase, the local files it fetches (their growth during the
        phase adds to net_bytes_in; an s3:// URL counts its size); for an upload phase, what
        it stores (their size at its end adds to net_bytes_out). The block's exception passes
        through; the phase ends either way.
        """
        return self._phase_block(name, files)

    @contextmanager
    def _phase_block(self, name: str, files: Sequence[PathLike]) -> Iterator[None]:
        self.phase_start(name, files=files)
        try:
            yield
        finally:
            self.phase_end(name)

    def phase_start(self, name: str, *, files: Sequence[PathLike] = (),
                    at: float | None = None) -> None:
        """Open phase `name` (see `phase`); close it with `phase_end(name)`. `at`: when it
        began (time.perf_counter() seconds; default now)."""
        if not self.enabled or self._finished:
            return
        try:
            if not isinstance(name, str) or not name:
                raise ValueError(f"a phase needs a name, got {name!r}")
            if self._phases is None:
                raise ValueError(f"phase {name!r} started before the attempt")
            paths = (files,) if isinstance(files, str | os.PathLike) else tuple(files)
            sized = [(f, _local_size(f)) for f in paths]  # S3 objects: at the end
            self._phase_files.setdefault(name, []).append(sized)
            self._phases.start(name, time.perf_counter() if at is None else at)
            self._phase_used = True
        except Exception as exc:  # a bad phase is a metrics gap, not a job failure
            self._fail("phases", str(exc))

    def phase_end(self, name: str, *, at: float | None = None) -> None:
        """Close the latest open span of phase `name`; `at` as in `phase_start`."""
        if not self.enabled or self._finished or self._phases is None:
            return
        try:
            self._phases.end(name, time.perf_counter() if at is None else at)
        except Exception as exc:
            self._fail("phases", str(exc))
            return
        stack = self._phase_files.get(name)
        sized = stack.pop() if stack else []
        if sized or (name == schema.PHASE_DOWNLOAD and self._probe_deferred):
            # The collector's own work (sizes, a deferred probe) is not the job's time.
            t0 = time.perf_counter()
            if sized:
                self._guard("phases", lambda: self._count_phase_files(name, sized))
            if name == schema.PHASE_DOWNLOAD and self._probe_deferred:
                self._deferred_probe()
            self._phases.skip(t0, time.perf_counter())

    def leave_out(self, start: float, end: float) -> None:
        """Leave the span from `start` to `end` (time.perf_counter() seconds) out of the job's
        time and its phases: the collector's own work between two of the job's steps."""
        if self.enabled and not self._finished and self._phases is not None and end > start:
            self._phases.skip(start, end)

    def add_bytes_downloaded(self, n: int) -> None:
        """Add `n` bytes the attempt fetched over the network (net_bytes_in)."""
        self._add_net("in", n)

    def add_bytes_uploaded(self, n: int) -> None:
        """Add `n` bytes the attempt stored over the network (net_bytes_out)."""
        self._add_net("out", n)

    # -- lifecycle --

    def start(self, *, since: tuple[float, float] | None = None) -> Attempt:
        """Probe the primary input, read the host, start the sampler and the clock.

        `since`: the job began earlier, at (time.perf_counter(), time.time()) seconds, and the
        clock starts there; the set-up then runs while the job runs (`mjcollect run` starts
        its first command before importing any of this). Its probe and host look-up are left
        out of the sampler's figures as usual; a sampler given `adopt()` counts the job's
        process from its birth.
        """
        if self._t0 is not None:
            raise RuntimeError("attempt already started")
        if since is not None:
            self._started_at = dt.datetime.fromtimestamp(since[1], dt.UTC)
            self._t0 = since[0]
            self._phases = PhaseClock(self._t0)
        if self.enabled and since is None:
            self._guard("probe", self._probe)
            self._guard("host", self._host)
            self._guard("sampler", self._start_sampler)
            self._cache_token = enter_cache_scope(self.probe_cache)
            self._register()
        elif self.enabled:
            # The job runs already. ffprobe starts first and runs while psutil is imported;
            # the sampler starts next, so it sees the job alive; the rest is the collector's
            # own work, out of its figures (the probe is reaped inside that block).
            begun: tuple[PendingProbe, float] | None = None
            try:
                begun = self._begin_probe()
            except Exception as exc:  # a bad timeout: noted like any probe failure
                self._fail("probe", f"{type(exc).__name__}: {exc}")
            self._guard("sampler", self._start_sampler)
            with self._excluding():
                self._guard("host", self._host)
                if begun is not None:
                    self._guard("probe", lambda: self._probe(begun))
                self._cache_token = enter_cache_scope(self.probe_cache)
                self._register()
        if since is None:
            self._started_at = _now()
            self._t0 = time.perf_counter()
            self._phases = PhaseClock(self._t0)
        return self

    def finish(self, error: BaseException | str | None = None, *,
               at: float | None = None) -> dict[str, Any] | None:
        """Stop the clock and record the attempt: failed when `error` is given.

        `at`: when the job ended (time.perf_counter() seconds; default now), e.g. a command's
        exit noted while the caller was busy. Returns the row (None when metrics are off).
        Never raises; a second call returns the first call's row.
        """
        if self._finished:
            return self.row
        self._finished = True
        now = time.perf_counter()
        t1 = now if at is None else min(at, now)
        if self._phases is not None:
            # Not before what the clock was last given: work left out after the job's last
            # command (sizing an upload's files) is then not subtracted from time it never had.
            t1 = max(t1, self._phases.last)
        finished_at = _now() - dt.timedelta(seconds=now - t1)
        self._ended = at
        if not self.enabled:
            return None
        if self._release_entry is not None:
            self._release_entry()
        self._reset_cache_scope()
        skipped = self._phases.skipped_s if self._phases is not None else 0.0
        duration_ms = (round((t1 - self._t0 - skipped) * 1000) if self._t0 is not None
                       else None)
        if self._phases is not None and self._phase_used:
            self._values.update(self._phase_columns(self._phases.totals(t1)))
        self._guard("sampler", self._stop_sampler)
        # After the sampler (a child it would count), and only once the job succeeded: a
        # failed job is never held up by the look-up (it takes the version if already known).
        self._values["ffmpeg_version"] = ffmpeg_version(run=error is None)
        if self._probe_deferred:  # the clock has stopped: this probe costs the job nothing
            self._probe_deferred = False
            self._guard("probe", self._probe)
        if self.output is not None:
            self._guard("output", self._output_size)
        try:
            self.row = self._build_row(error, self._started_at or finished_at, finished_at,
                                       duration_ms)
            self.metrics = schema.metrics_of_row(self.row)
        except Exception as exc:  # a bug in the row; keep the job, say what broke
            self.row = self.metrics = None
            _note_failure("row", redact_urls(
                f"attempt {self.attempt_id}: no row: {type(exc).__name__}: {exc}"), exc)
            return None
        self._guard("sink", self._append)
        return self.row

    # -- steps (each run under _guard) --

    def _begin_probe(self) -> tuple[PendingProbe, float] | None:
        """ffprobe of the primary input started (not waited for), with the time it was."""
        primary = self.primary_input
        if primary is None:
            primary = primary_input_for(self.job_type, self.inputs)
            self.primary_input = primary
        if primary is None:
            return None
        t0 = time.perf_counter()
        return start_probe(primary, timeout=self._probe_timeout,
                           allow_protocols=self._allow_protocols, cache=self.probe_cache), t0

    def _probe(self, begun: tuple[PendingProbe, float] | None = None) -> None:
        begun = begun or self._begin_probe()
        if begun is None:
            return
        pending, t0 = begun
        try:
            self.input_info = pending.result()
        except ProbeError as exc:
            if exc.kind == "missing" and not self._finished:
                # Not there yet: a download phase may fetch it (probed then, or at finish).
                self._probe_deferred = True
                if self._explicit_primary is None:
                    self.primary_input = None  # chosen again among the files then present
            else:
                self._fail("probe", f"probe {exc.kind}: {exc}")
        finally:
            self._values["probe_ms"] = (self._values.get("probe_ms") or 0) + round(
                (time.perf_counter() - t0) * 1000)

    def _deferred_probe(self) -> None:
        """The probe put off at start, once a download phase has ended (kept off the figures:
        its time by the caller, its I/O and CPU here)."""
        self._probe_deferred = False
        with self._excluding():
            self._guard("probe", self._probe)

    def _excluding(self) -> AbstractContextManager[None]:
        """The sampler's `excluding()` block (optional in the hook), else nothing."""
        excluding = getattr(self._sampler, "excluding", None)
        return excluding() if callable(excluding) else nullcontext()

    def _host(self) -> None:
        from collectors.host import get_host_metrics

        self._values.update(get_host_metrics().as_row())

    def _register(self) -> None:
        # Last before the clock: the registry counts attempts whose job is under way. A failure
        # is a gap in host_running_at_start only, logged once, not a metrics_error per row.
        try:
            entry = register(self.attempt_id)
        except Exception as exc:  # read-only or full disk, no flock, a busy registry
            _note_failure("registry", f"host_running_at_start unknown: {type(exc).__name__}: "
                          f"{exc}")
            return
        self._release_entry = weakref.finalize(self, entry.release)
        self._values["host_running_at_start"] = entry.running_at_start

    def _start_sampler(self) -> None:
        arg = self._sampler_arg
        sampler = _default_sampler() if isinstance(arg, _Default) else arg
        if sampler is not None:
            sampler.start()
            self._sampler = sampler  # stopped at finish only when it did start

    def _stop_sampler(self) -> None:
        if self._sampler is None:
            return
        # Optional in the hook (TreeSampler has it): stop at the job's end, so the time after
        # it (finish(at=...) in the past) does not dilute the figures.
        stop_at = getattr(self._sampler, "stop_at", None)
        summary = (stop_at(self._ended) if self._ended is not None and callable(stop_at)
                   else self._sampler.stop())
        self._values["cpu_sample_count"] = summary.sample_count
        # Optional in the hook: a sampler without io figures leaves them null.
        self._values["bytes_read"] = getattr(summary, "bytes_read", None)
        self._values["bytes_written"] = getattr(summary, "bytes_written", None)
        if not summary.mem_rss_mb_max and not summary.cpu_pct_max:
            # No process was seen (e.g. a job shorter than the sampling interval, its children
            # reaped before the last sample): 0 % CPU would be a false figure, null is honest.
            return
        # A process was seen, so its CPU figures are true even at 0 % (an idle child); memory
        # may still be missing on its own (unreadable), and stays null then.
        self._values.update({
            "cpu_pct_avg": summary.cpu_pct_avg,
            "cpu_pct_max": summary.cpu_pct_max,
            "mem_rss_mb_max": summary.mem_rss_mb_max or None,
        })

    def _output_size(self) -> None:
        from collectors.outputs import output_size

        assert self.output is not None
        try:
            self._values["output_size_bytes"] = output_size(self.output)
        except Exception as exc:
            # An OSError's str() repeats the path as pathlib normalised it ("https:/u:pw@h"),
            # which redact_urls no longer recognises: name the path once, redacted, ourselves.
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            target = redact_urls(os.fspath(self.output))
            self._fail("output", f"size of {target}: {type(exc).__name__}: {detail}")

    def _append(self) -> None:
        sink = _default_sink() if isinstance(self._sink_arg, _Default) else self._sink_arg
        if sink is not None and self.row is not None:
            sink.append(self.row)

    def _count_phase_files(self, name: str,
                           sized: list[tuple[PathLike, int | None]]) -> None:
        if name == schema.PHASE_DOWNLOAD:
            grown = [(self._size_at_end(f) or 0) - (before or 0) for f, before in sized]
            self._add_net("in", sum(max(g, 0) for g in grown))
        elif name == schema.PHASE_UPLOAD:
            sizes = [self._size_at_end(f) for f, _ in sized]
            self._add_net("out", sum(s for s in sizes if s is not None))
        else:
            self._fail("phases", f"files given to phase {name!r} (only download and upload "
                       "phases count bytes)")

    @staticmethod
    def _size_at_end(path: PathLike) -> int | None:
        """Bytes of a local file (None when not there) or of an s3:// object (HEAD)."""
        text = os.fspath(path)
        if text.startswith("s3://"):
            from collectors.outputs import output_size

            return output_size(text)
        return _local_size(text)

    def _add_net(self, direction: str, n: int) -> None:
        if not self.enabled:
            return
        try:
            value = int(n)
            if isinstance(n, bool) or value < 0:
                raise ValueError
        except (TypeError, ValueError):
            self._fail("network bytes", f"expected a count of bytes >= 0, got {n!r}")
            return
        with self._net_lock:
            self._net[direction] = (self._net[direction] or 0) + value

    def _io_columns(self, failed: bool, info: MediaInfo | None) -> dict[str, Any]:
        """transcode_rtf, network bytes and rates (phases and sampler figures are in _values)."""
        values = self._values
        net_in, net_out = self._net["in"], self._net["out"]
        return {
            # As rtf: a failed job did not transcode its whole input.
            "transcode_rtf": None if failed else real_time_factor(
                info.duration_seconds if info else None, values.get("phase_transcode_ms")),
            "net_bytes_in": net_in,
            "net_bytes_out": net_out,
            "download_mb_per_s": rate_mb_per_s(net_in, values.get("phase_download_ms")),
            "upload_mb_per_s": rate_mb_per_s(net_out, values.get("phase_upload_ms")),
        }

    @staticmethod
    def _phase_columns(seconds: Mapping[str, float]) -> dict[str, Any]:
        return {f"phase_{name}_ms": round(seconds[name] * 1000) for name in schema.PHASES}

    # -- helpers --

    def _guard(self, step: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # metrics never fail the job: note it and go on
            self._fail(step, f"{type(exc).__name__}: {exc}")

    def _fail(self, step: str, message: str) -> None:
        message = redact_urls(message)
        self._notes.append(f"{step}: {message}" if not message.startswith(step) else message)
        _note_failure(step, f"attempt {self.attempt_id}: {message}")

    def _reset_cache_scope(self) -> None:
        # Closed first: if finish() runs in another thread than start(), the starting
        # context still holds the cache, but a closed cache is never "current" again.
        self.probe_cache.close()
        token, self._cache_token = self._cache_token, None
        if token is None:
            return
        try:
            exit_cache_scope(token)
        except ValueError:  # another context than start()'s: nothing to reset here
            log.debug("attempt %s finished outside the context that started it",
                      self.attempt_id)

    def _build_row(self, error: BaseException | str | None, started_at: dt.datetime,
                   finished_at: dt.datetime, duration_ms: int | None) -> dict[str, Any]:
        info = self.input_info
        failed = error is not None
        row: dict[str, Any] = {
            "attempt_id": self.attempt_id,
            "job_id": self.job_id,
            "job_type": self.job_type,
            "attempt_number": self.attempt_number,
            "status": schema.STATUS_FAILED if failed else schema.STATUS_SUCCEEDED,
            "error": error_text(error) if failed else None,
            "started_at": started_at,
            "finished_at": finished_at,
            "duration_ms": duration_ms,
            # A failed job did not process its whole input: its RTF would mislead.
            "rtf": None if failed else real_time_factor(
                info.duration_seconds if info else None, duration_ms),
            "throughput_unit": schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(
                self.job_type, schema.THROUGHPUT_MEDIA_SECONDS),
            **input_columns(info),
            **self._values,
            "worker_slots": self.worker_slots,
            **self._io_columns(failed, info),
            "ffmpeg_commands": list(self._commands),
            "synthetic": False,
            "source": self.source,
            "collector_version": _version(),
            "schema_version": schema.SCHEMA_VERSION,
        }
        if self._notes:
            text = "; ".join(self._notes)
            row["metrics_error"] = (text if len(text) <= MAX_ERROR_CHARS
                                    else text[: MAX_ERROR_CHARS - 1] + "…")
        return schema.validate_row(row)


def _version() -> str | None:
    try:
        from collectors.version import collector_version

        return collector_version()
    except Exception as exc:  # never worth a failed row
        _note_failure("version", repr(exc))
        return None


def start_attempt(job_type: str, job_id: str, **options: Unpack[AttemptOptions]) -> Attempt:
    """Start measuring one attempt (probe first, then the clock); call `finish()` at the end.

    job_type: one of schema.JOB_TYPES (others are recorded, with the first input as primary).
    inputs: the job's input files; the primary one is chosen by PRIMARY_INPUT_RULES unless
    `primary_input` names it. output: the produced file, if known now (else `set_output`).
    sink: where the row goes (DEFAULT_SINK: MEDIAJOB_METRICS_URL's; None: nowhere).
    sampler: CPU/memory sampler (DEFAULT_SAMPLER: the process's new children; None: none).
    allow_protocols / probe_timeout (seconds): passed to probe_media_info.
    worker_slots: attempts this worker runs at once (else MEDIAJOB_WORKER_SLOTS, else null).
    source: the row's `source`, one of schema.SOURCES ('production'; `mjcollect bench` says
    'bench').
    options (AttemptOptions) default as in `Attempt.__init__`: attempt_number 1, the default sink
    and sampler, the rest None/False/empty.
    Raises ValueError only for bad arguments (empty job_type/job_id, attempt_number or
    worker_slots not an integer >= 1, an unknown source), and not at all when metrics are off.
    """
    return Attempt(job_type, job_id, **options).start()


@contextmanager
def attempt(job_type: str, job_id: str, **options: Unpack[AttemptOptions]) -> Iterator[Attempt]:
    """`start_attempt(...)` around a block: the block's exception marks the attempt failed and
    propagates unchanged; `.row` and `.metrics` are set when the block is left."""
    a = start_attempt(job_type, job_id, **options)
    try:
        yield a
    except BaseException as exc:  # KeyboardInterrupt too: the attempt did fail
        a.finish(error=exc)
        raise
    a.finish()
