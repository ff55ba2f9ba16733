"""`mjcollect run ... -- ffmpeg ...`: run a worker's own command(s) as one measured attempt.

    mjcollect run --job-type T --job-id J --attempt N --input PATH [--input PATH ...]
                  [--output PATH|s3://bucket/key] [--manifest FILE] [--sample-interval S]
                  [--data URL] [--commands-file FILE.json] [--detach-upload]
                  [--worker-slots N]
                  [--phase NAME] -- ffmpeg -i in.mov ... pass1 [--then [--phase NAME] --
                  ffmpeg ... pass2 ...]

Several commands per attempt (a two-pass export, a decode then an upload): after the first
`--`, the token `--then` starts the next command (an optional `--` may follow it), or
`--commands-file` names a JSON list of argument lists, run before any command given after `--`.
Phases: `--phase NAME` before the first `--`, and after any `--then`, times that command as
phase NAME of the attempt (download, probe, transcode, upload; other names count as other;
see collectors.phases), e.g. `--phase download -- aws s3 cp s3://b/in.mov in.mov --then
--phase transcode -- ffmpeg ... --then --phase upload -- aws s3 cp out.mp4 s3://b/out.mp4`.
A download phase's bytes (net_bytes_in) are how much the `--input` files grew during it; an
upload phase's (net_bytes_out) the size of `--output` at its end (a local file, or the object
by HEAD). The commands file may give `{"phase": NAME, "argv": [...]}` objects for its commands.
Commands run in order, each as an argument list (no shell), with stdin, stdout and stderr
inherited, so their output passes through untouched. The first failing command ends the
attempt: the attempt is recorded as failed and mjcollect exits with that command's exit code
(128+N when it was killed by signal N, as a shell reports it; 127 when it cannot be started).
SIGTERM, SIGHUP and SIGINT sent to mjcollect are passed on to the running command.

Around the commands the attempt API does what it does for Python workers: probe the primary
input (chosen among the `--input`s by the job type's rule, `attempt.PRIMARY_INPUT_RULES`),
host facts, timing, RTF, status, CPU/memory sampling of every process the commands start
(each command is sampled once more after it exits and before it is reaped, so its last
seconds count), and the size of `--output`. The row goes to the dataset (`--data URL`, else
MEDIAJOB_METRICS_URL); `--manifest` merges the `metrics` object and the `ffmpegCommands` into
that JSON file, keeping every other key. A metrics problem is logged and never changes the
exit code.

Upload: mjcollect writes the row to the local spool (JSON, fsync'd) and exits; it imports
neither pyarrow nor boto3. The host's `mjcollect agent` uploads it when one runs; otherwise a
detached flusher (`mjcollect agent --until-empty`) is started, which writes the Parquet object.
With `--upload-timeout S` (and no agent alive) mjcollect uploads in this process instead and
waits at most S seconds in all for it (a container whose disk goes with it): each S3 request
is bounded by S, the one in flight at the deadline is abandoned, and an error no retry can fix
(no such bucket, bad credentials, access denied) ends the wait at once; the row stays in the
spool.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

# Before the job starts this module has only the standard library modules above loaded (no
# typing, no pathlib: a few ms each of every job's start); the rest is imported while it runs.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from typing import Any, Protocol

    class _Sampler(Protocol):
        def sample_now(self, at: float | None = None) -> None: ...

    from collectors.attempt import Attempt
    from collectors.sampler import TreeSampler
    from collectors.sink import Sink

HELP = "run a command (e.g. ffmpeg) as one measured attempt; its exit code is passed through"
#: Warnings only: the wrapped command's stderr is the worker's log, and off EC2 every run would
#: otherwise add a line about IMDS not answering (`-v` shows it).
LOG_LEVEL = 30  # logging.WARNING
#: Logging is set up (and imported) once the first command has started (collectors.dispatch).
CONFIGURES_LOGGING = True



def _log() -> logging.Logger:
    import logging

    return logging.getLogger("collectors.run")

THEN = "--then"
PHASE = "--phase"
#: Exit code when a command cannot be started (as a shell says "command not found").
NOT_STARTED = 127
_FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--job-type", required=True, help="one of the MediaJobs job types")
    parser.add_argument("--job-id", required=True, help="the MediaJob's id")
    parser.add_argument("--attempt", type=int, default=1, metavar="N",
                        help="attempt number (1 for the first try; default 1)")
    parser.add_argument("--attempt-id", help="unique attempt id (default: generated)")
    parser.add_argument("--input", action="append", default=[], metavar="PATH",
                        help="input file; repeat for several (the job type's rule picks the "
                        "primary one to probe)")
    parser.add_argument("--output", metavar="PATH|s3://bucket/key",
                        help="the produced file, for its size")
    parser.add_argument("--manifest", metavar="FILE",
                        help="attempt manifest JSON to merge `metrics` and `ffmpegCommands` into")
    parser.add_argument("--sample-interval", type=float, metavar="S",
                        help="seconds between CPU/memory samples "
                        "(default: MEDIAJOB_SAMPLE_INTERVAL or 2)")
    parser.add_argument("--data", metavar="URL",
                        help="dataset URL (default: MEDIAJOB_METRICS_URL)")
    parser.add_argument("--worker-slots", type=int, metavar="N",
                        help="attempts this worker runs at once, recorded as worker_slots "
                        "(default: MEDIAJOB_WORKER_SLOTS)")
    parser.add_argument("--commands-file", metavar="FILE",
                        help="JSON list of argument lists, run in order before the `--` command")
    parser.add_argument(PHASE, dest="phase", metavar="NAME",
                        help="time the first command as this phase of the attempt (download, "
                        "probe, transcode, upload; others count as other); after --then, "
                        "--phase NAME names the next command's")
    parser.add_argument("--upload-timeout", type=float, metavar="S",
                        help="upload the row in this process, waiting at most S seconds in all "
                        "(default: do not wait; the agent or a detached flusher uploads it; "
                        "ignored while an agent runs)")
    parser.add_argument("--detach-upload", action="store_true",
                        help="do not wait for the upload (the default; kept for old scripts)")
    # dest "argv": "command" is the dispatcher's subcommand name.
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND",
                        help="-- COMMAND [ARGS...] [--then -- COMMAND [ARGS...]]...")


# --- commands (pure) ------------------------------------------------------------------------

#: A command and the phase it is timed as (None: no phase of its own).
Phased = tuple[str | None, list[str]]


def split_phased_commands(remainder: Sequence[str], first_phase: str | None = None,
                          ) -> list[Phased]:
    """The commands after `--`, split on `--then`, each with its phase: `first_phase` for the
    first, and for the others `--phase NAME` right after `--then` (an optional `--` may follow
    either). ValueError for an empty command or a `--phase` without a name.
    """
    parts = list(remainder)
    if parts and parts[0] == "--":
        parts = parts[1:]
    if not parts:
        return []
    commands: list[Phased] = [(first_phase, [])]
    tokens = iter(parts)
    for token in tokens:
        argv = commands[-1][1]
        fresh = not argv and len(commands) > 1  # right after --then
        if token == THEN:
            commands.append((None, []))
        elif fresh and token == PHASE and commands[-1][0] is None:
            name = next(tokens, "")
            if not name or name in (THEN, "--"):
                raise ValueError(f"{PHASE} needs a name after {THEN}")
            commands[-1] = (name, argv)
        elif fresh and token == "--":
            continue
        else:
            argv.append(token)
    if any(not argv for _, argv in commands):
        raise ValueError(f"empty command around {THEN}")
    return commands


def split_commands(remainder: Sequence[str]) -> list[list[str]]:
    """The commands after `--` without their phases (see `split_phased_commands`)."""
    return [argv for _, argv in split_phased_commands(remainder)]


def parse_phased_commands_file(text: str) -> list[Phased]:
    """A JSON list whose items are non-empty lists of strings or {"phase": NAME, "argv":
    [...]} objects; ValueError otherwise."""
    import json

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    if not isinstance(doc, list) or not doc:
        raise ValueError("expected a non-empty JSON list of argument lists")
    out: list[Phased] = []
    for i, cmd in enumerate(doc):
        phase = None
        if isinstance(cmd, dict):
            phase = cmd.get("phase")
            if not isinstance(phase, str) or not phase or set(cmd) - {"phase", "argv"}:
                raise ValueError(f'command {i}: expected {{"phase": NAME, "argv": [...]}}')
            cmd = cmd.get("argv")
        if not isinstance(cmd, list) or not cmd or not all(isinstance(a, str) for a in cmd):
            raise ValueError(f"command {i}: expected a non-empty list of strings")
        out.append((phase, list(cmd)))
    return out


def parse_commands_file(text: str) -> list[list[str]]:
    """The commands of a commands file without their phases (`parse_phased_commands_file`)."""
    return [argv for _, argv in parse_phased_commands_file(text)]


def exit_code_of(returncode: int) -> int:
    """The exit status a shell would report: the code, or 128+N for death by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def describe_failure(argv: Sequence[str], returncode: int) -> str:
    """The attempt's error text for a failed command (program name only, no arguments:
    arguments may hold signed URLs)."""
    prog = os.path.basename(argv[0])
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"CommandFailed: {prog} killed by {name}"
    return f"CommandFailed: {prog} exited with {returncode}"


# --- running --------------------------------------------------------------------------------

class Launched:
    """A command started at once, as an argument list with inherited stdio: the clock is read
    just before it starts, SIGTERM/SIGHUP/SIGINT that reach us are passed on to it, and a thread
    notes the moment it exits (the caller may be busy then: `mjcollect run` sets up its
    metrics while the first command runs). Needs nothing beyond what Python starts with and
    subprocess.

    `error`: the OSError that kept it from starting (then `proc` is None).
    """

    def __init__(self, argv: Sequence[str]) -> None:
        self.t0 = time.perf_counter()
        self.wall0 = time.time()
        self.ended: float | None = None
        self.error: OSError | None = None
        self._previous: dict[int, Any] = {}
        self._watch: threading.Thread | None = None
        self._lock = threading.Lock()
        self._on_exit: list[Callable[[float], None]] = []
        try:
            self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(list(argv))
        except OSError as exc:
            self.proc, self.error, self.ended = None, exc, time.perf_counter()
            return
        self._previous = _forward_signals(self.proc)
        self._watch = threading.Thread(target=self._note_exit, name="mjcollect-exit",
                                       daemon=True)
        self._watch.start()

    def _note_exit(self) -> None:
        assert self.proc is not None
        _wait_unreaped(self.proc.pid)
        with self._lock:
            self.ended = ended = time.perf_counter()
            calls, self._on_exit = self._on_exit, []
        for call in calls:
            call(ended)

    def when_ended(self, call: Callable[[float], None]) -> None:
        """Call `call(exit time)` once it has exited (at once if it has; from the thread that
        notes it otherwise)."""
        with self._lock:
            ended = self.ended
            if ended is None:
                self._on_exit.append(call)
        if ended is not None:
            call(ended)

    def wait(self, sampler: _Sampler | None = None) -> int:
        """Wait for the command and return its returncode (negative: killed by signal N);
        raise `error` if it did not start. Once it has exited, `sampler.sample_now(at=its
        exit)` runs before it is reaped (a zombie keeps its CPU counters)."""
        if self.proc is None:
            assert self.error is not None
            raise self.error
        try:
            _wait_unreaped(self.proc.pid)
            if self._watch is not None:
                self._watch.join()
            if sampler is not None:
                sampler.sample_now(self.ended)
            return self.proc.wait()
        finally:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
            self._previous = {}


def run_command(argv: Sequence[str], sampler: _Sampler | None = None) -> int:
    """Run `argv` with inherited stdio; return its returncode (negative: killed by signal).

    Raises OSError when it cannot be started. Signals in _FORWARDED that reach us meanwhile are
    passed on. Once it exits, `sampler.sample_now()` runs before the process is reaped (a zombie
    keeps its CPU counters), then it is reaped.
    """
    return Launched(argv).wait(sampler)


def _forward_signals(proc: subprocess.Popen[bytes]) -> dict[int, Any]:
    """Pass _FORWARDED signals on to `proc` (main thread only); the previous handlers."""
    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):  # already gone
            proc.send_signal(signum)

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, forward) for sig in _FORWARDED}


def _wait_unreaped(pid: int) -> None:
    while True:
        try:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
            return
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue
        except ChildProcessError:
            return


# --- sink -----------------------------------------------------------------------------------

def open_sink(url: str | None, budget: float) -> Sink | None:
    """A sink uploading in this process to `url`, else to MEDIAJOB_METRICS_URL, with `budget`
    seconds for its requests; None when metrics are off or no URL is set. A bad URL is logged
    and gives None."""
    from collectors import config, upload

    url = url or config.metrics_url()
    if url is None or not config.metrics_enabled():
        return None
    try:
        return upload.SpoolingSink(url, budget=budget)
    except (ValueError, OSError) as exc:
        upload.log_refused_url(url, exc, "--data")
        return None


class SpoolOnlySink:
    """Writes rows to the dataset URL's local spool and nothing else (the default).

    The rows wait there, durably, for the host's agent, the flusher `start_flusher` starts, or
    any later process using the same URL and spool. `append` never raises. Light: JSON and
    the file system only, no pyarrow, no boto3.
    """

    def __init__(self, url: str) -> None:
        from collectors import config
        from collectors.layout import parse_url
        from collectors.spool import Spool, spool_dir_for

        self.url = parse_url(url).url  # ValueError for a bad URL
        self.spool = Spool(spool_dir_for(self.url), config.spool_max_bytes())
        self.spool.write_url(self.url)
        self.rows = 0

    def append(self, row: Mapping[str, Any]) -> None:
        from collectors.schema import validate_row

        try:
            self.spool.write(validate_row(row))
            self.rows += 1
        except Exception as exc:  # the job's exit code must stand whatever happens here
            _log().error("metrics row not spooled: %s", exc)

    def flush(self, timeout: float | None = None) -> bool:
        return False  # uploading is the detached flush's work

    def close(self, timeout: float | None = None) -> None:
        return None


def close_sink(sink: Sink, timeout: float) -> bool:
    """Flush and close, in at most `timeout` seconds together; True when every row reached the
    dataset (else they wait in the spool)."""
    import time

    deadline = time.monotonic() + timeout
    try:
        done = sink.flush(timeout)
    except Exception:  # the sink promises not to raise; if it does, say so and go on
        _log().exception("flushing the metrics sink failed")
        done = False
    sink.close(timeout=max(0.0, deadline - time.monotonic()))
    if not done:
        _log().warning("rows not uploaded yet; they stay in the spool (see `mjcollect status`, "
                    "`mjcollect flush`)")
    return done


def run(args: argparse.Namespace) -> int:
    try:
        commands = parse_phased_commands_file(_read_text(args.commands_file)) \
            if args.commands_file else []
        after = split_phased_commands(args.argv, getattr(args, "phase", None))
        if getattr(args, "phase", None) and not after:
            raise ValueError(f"{PHASE} names the command after --, and none is given")
        commands += after
    except (ValueError, OSError) as exc:
        print(f"mjcollect run: {exc}", file=sys.stderr)
        return 2
    if not commands:
        print("mjcollect run: no command given (after --)", file=sys.stderr)
        return 2
    return run_attempt(args, commands)


def phase_files(phase: str, inputs: Sequence[str], output: str | None) -> list[str]:
    """What a phase of `mjcollect run` moves over the network: a download phase the
    `--input`s (their growth), an upload phase the `--output` (its size)."""
    from collectors.schema import PHASE_DOWNLOAD, PHASE_UPLOAD

    if phase == PHASE_DOWNLOAD:
        return list(inputs)
    if phase == PHASE_UPLOAD and output:
        return [output]
    return []


def run_attempt(args: argparse.Namespace, commands: Sequence[Phased | list[str]]) -> int:
    """Run `commands` (each an argv, or a (phase, argv) pair) as one attempt of the attempt
    API; return the exit code to pass on.

    The first command starts before anything of the attempt machinery is imported (psutil,
    the probe, the schema, the spool: tenths of a second of a short job's wall time) and that
    set-up, the probe of the input included, runs while it runs; the attempt's clock starts
    just before it. A first command timed as the download phase is the exception: it fetches
    the input the probe reads (and its files are sized before it), so it starts after the
    set-up, as the later commands do; so does one whose `--input`s are not all there yet
    (something fetches or makes them: probed once there, not half-written).
    """
    if args.sample_interval is not None and not args.sample_interval > 0:
        print(f"mjcollect run: --sample-interval: must be > 0, got {args.sample_interval!r}",
              file=sys.stderr)
        return 2
    if args.attempt < 1 or not args.job_type or not args.job_id:
        print("mjcollect run: --job-type and --job-id must not be empty, --attempt >= 1",
              file=sys.stderr)
        return 2
    if args.worker_slots is not None and args.worker_slots < 1:
        print("mjcollect run: --worker-slots must be >= 1", file=sys.stderr)
        return 2
    phased = [c if isinstance(c, tuple) else (None, c) for c in commands]
    early = phased[0][0] != DOWNLOAD and all(map(_there, args.input))
    first = Launched(phased[0][1]) if early else None
    # Only now: logging and the configuration (a bad MEDIAJOB_* value is logged).
    configure = getattr(args, "configure_logging", None)
    if configure is not None:
        configure()
    from collectors import config

    measuring = config.metrics_enabled()
    measured: _Measured | None = None
    if measuring:
        # The thread noting the first command's exit needs the GIL to read the clock: asked
        # for it more often while the set-up holds it, a short job's end is noted within ~1 ms
        # (5 ms by default, more while imports run C code).
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SET_UP_SWITCH_INTERVAL_S)
        try:
            measured = _set_up(args, first)
        except Exception as exc:  # the job runs on without its row; say why
            _log().error("metrics not recorded: set-up failed: %s: %s", type(exc).__name__, exc)
        finally:
            sys.setswitchinterval(switch)
    set_up_done = time.perf_counter()
    attempt = measured.attempt if measured else None
    sampler = measured.sampler if measured else None
    error: BaseException | str | None = None
    code = 0
    ended: float | None = None
    for i, (phase, argv) in enumerate(phased):
        launched = first if i == 0 and first is not None else None
        if i == 1 and first is not None and first.ended is not None and attempt is not None:
            # A first command shorter than the set-up: the wait for the set-up before this
            # one is the collector's time, not the job's.
            attempt.leave_out(first.ended, set_up_done)
        if launched is None and sampler is not None:
            sampler.resume(time.perf_counter())
        if attempt is not None:
            attempt.add_ffmpeg_command(argv)
            if phase is not None:
                attempt.phase_start(phase, files=phase_files(phase, args.input, args.output),
                                    at=launched.t0 if launched else None)
        if launched is None:
            launched = Launched(argv)
        try:
            returncode = launched.wait(sampler)
        except OSError as exc:
            # As a shell: 127 when the program is not there, 126 when it cannot be run.
            code = NOT_STARTED if isinstance(exc, FileNotFoundError) else NOT_STARTED - 1
            error = exc
            print(f"mjcollect run: cannot run {argv[0]!r}: {exc.strerror or exc}",
                  file=sys.stderr)
            break
        finally:
            ended = launched.ended
            if attempt is not None and phase is not None:
                attempt.phase_end(phase, at=ended)
        if returncode != 0:
            code = exit_code_of(returncode)
            error = describe_failure(argv, returncode)
            break
    if measured is not None:
        measured.record(args, error, ended)
    return code


def _there(path: str) -> bool:
    """A local input that exists, or a URL (what the job does cannot change its probe)."""
    return "://" in path or os.path.exists(path)


#: sys.setswitchinterval while the set-up overlaps the first command, seconds.
SET_UP_SWITCH_INTERVAL_S = 0.0005

#: schema.PHASE_DOWNLOAD, named here so that deciding when to start the first command imports
#: nothing (tests/collectors/test_run.py checks they agree).
DOWNLOAD = "download"


class _Measured:
    """The attempt `mjcollect run` records, with its sampler and sink."""

    def __init__(self, attempt: Attempt, sampler: TreeSampler,
                 sink: Sink | SpoolOnlySink | None) -> None:
        self.attempt, self.sampler, self.sink = attempt, sampler, sink

    def record(self, args: argparse.Namespace, error: BaseException | str | None,
               ended: float | None) -> None:
        """Finish the attempt (its clock stopped at `ended`), write the manifest, hand the
        row on (spool; the flusher, or the bounded upload here)."""
        attempt, sink = self.attempt, self.sink
        row = attempt.finish(error, at=ended)
        if args.manifest is not None and attempt.metrics is not None and row is not None:
            _write_manifest(args.manifest, attempt.metrics, row)
        if isinstance(sink, SpoolOnlySink):
            if sink.rows:
                from collectors.hostlock import start_flusher

                start_flusher(sink.spool.root.parent)
        elif sink is not None:
            close_sink(sink, args.upload_timeout)


def _set_up(args: argparse.Namespace, first: Launched | None) -> _Measured:
    """Import the attempt machinery and start the attempt: since `first` started when it
    did (its process sampled from its birth), else now."""
    from collectors.attempt import Attempt
    from collectors.sampler import children_sampler

    sampler = children_sampler(args.sample_interval)
    since = None
    if first is not None:
        since = (first.t0, first.wall0)
        if first.proc is not None:
            sampler.adopt(first.proc.pid, first.t0)
            # Sampled up to its exit, not on into the set-up if it ends first.
            first.when_ended(sampler.hold)
    sink: Sink | SpoolOnlySink | None = (
        open_sink(args.data, args.upload_timeout) if _upload_here(args)
        else _spool_only_sink(args.data))
    attempt = Attempt(
        args.job_type, args.job_id, attempt_number=args.attempt, attempt_id=args.attempt_id,
        inputs=args.input, output=args.output, sink=sink, sampler=sampler,
        worker_slots=args.worker_slots,
    ).start(since=since)
    return _Measured(attempt, sampler, sink)


def _upload_here(args: argparse.Namespace) -> bool:
    """Whether this process uploads its row: only when asked (`--upload-timeout`) and no agent
    runs on the host."""
    if args.upload_timeout is None or args.detach_upload:
        return False
    if args.upload_timeout <= 0:
        return False
    from collectors.hostlock import agent_alive

    return not agent_alive()


def _spool_only_sink(url: str | None) -> SpoolOnlySink | None:
    from collectors import config

    url = url or config.metrics_url()
    if url is None or not config.metrics_enabled():
        return None
    try:
        return SpoolOnlySink(url)
    except (ValueError, OSError) as exc:
        from collectors.upload import log_refused_url  # the uploader's module: not on the way

        log_refused_url(url, exc)
        return None


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _write_manifest(path: str, metrics: dict[str, Any], row: dict[str, Any]) -> None:
    from pathlib import Path

    from collectors.manifest import update_manifest

    job = {"attemptId": row["attempt_id"], "jobId": row["job_id"], "jobType": row["job_type"],
           "attemptNumber": row["attempt_number"]}
    try:
        update_manifest(Path(path), metrics, row["ffmpeg_commands"] or [], job)
    except (ValueError, OSError) as exc:  # the job's exit code stands; say what went wrong
        _log().error("manifest %s not updated: %s", path, exc)
