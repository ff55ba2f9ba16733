"""`mjcollect bench`: measure this machine: the four job pipelines at each concurrency.

    mjcollect bench --out s3://bucket/prefix                 # ~10 min on a new instance type
    mjcollect bench --out DIR --concurrency 1,2 --job-types upload_edit_proxy_v1 --seconds 20

Reference inputs are made with ffmpeg's lavfi sources (testsrc2 and a tone) in a small set of
classes (INPUT_CLASSES: 1080p and 2160p, H.264 and HEVC, portrait, audio-only), `--input-seconds`
long, and cached (`--cache`, default ~/.cache/mediajobs/bench-inputs), so a second run starts
at once. Then, for each job type and each level of `--concurrency` (default 1 up to the CPUs this
process may use), that many worker threads run the job type's real pipeline
(collectors.jobtypes) on the inputs in turn, for `--seconds`, each run one attempt of the attempt
API with `source = 'bench'` and `worker_slots` = the level, so every run is an ordinary dataset
row; `host_running_at_start` comes from the host-local registry like any worker's. `mjplan
density` and `mjplan size` then read them.

How a level is held: each worker starts a new attempt as soon as its previous one ends, and no
new attempt starts after the step's `--seconds`; running attempts finish (a step may last a
job longer). At levels above 1 the first attempt of each worker is a warm-up and not recorded:
workers starting together register one after another and would record 1, 2, ... instead of the
level they run at. CPU/memory sampling is on at level 1 only (the attempt API's children
sampler cannot tell concurrent attempts of one process apart; those columns stay null).

Ctrl-C stops the run with whole rows only: an attempt is handed to the dataset once it ended on
its own, and the ones cut short by the interrupt are dropped; the rows kept are uploaded (or
left in the spool) before exit (code 130). Progress: rich when installed (the planner extra),
else one plain line a step.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collectors.commands.demo import Source

if TYPE_CHECKING:
    from collectors.sink import Sink

HELP = "measure this machine: the four job pipelines at each concurrency, rows marked bench"

log = logging.getLogger("collectors.bench")

VIDEO_JOB_TYPES = ("create_video_export_v1", "upload_edit_proxy_v1", "upload_thumb_v1")
AUDIO_JOB_TYPE = "upload_audio_envelope_v1"
DEFAULT_INPUT_SECONDS = 10.0
DEFAULT_STEP_SECONDS = 60.0
#: CPU/memory samples at level 1, seconds apart (jobs of a few seconds need more than every 2 s).
SAMPLE_INTERVAL_S = 0.5


def input_classes(seconds: float) -> dict[str, Source]:
    """The reference input classes, `seconds` long: name -> what to make (collectors.demo)."""
    s = f"{seconds:g}s"
    return {
        "h264_1080p": Source(f"bench_h264_1920x1080_{s}", "1920x1080", "h264", "aac", seconds),
        "hevc_1080p": Source(f"bench_hevc_1920x1080_{s}", "1920x1080", "hevc", "aac", seconds),
        "h264_2160p": Source(f"bench_h264_3840x2160_{s}", "3840x2160", "h264", "aac", seconds),
        "h264_portrait": Source(f"bench_h264_portrait_1080x1920_{s}", "1920x1080", "h264", "aac",
                                seconds, portrait=True),
        "aac_audio": Source(f"bench_aac_audio_{s}", None, None, "aac", seconds),
    }


INPUT_CLASSES = tuple(input_classes(DEFAULT_INPUT_SECONDS))


def classes_for(job_type: str, classes: Sequence[str]) -> list[str]:
    """The input classes a job type runs on: video jobs need video, the envelope needs audio."""
    out = []
    for name in classes:
        src = input_classes(1.0)[name]
        if (src.has_video and job_type != AUDIO_JOB_TYPE) or (src.has_audio
                                                                and job_type == AUDIO_JOB_TYPE):
            out.append(name)
    return out


def parse_levels(text: str) -> list[int]:
    """"1,2,4" -> [1, 2, 4] (sorted, unique); ValueError for anything but integers >= 1."""
    try:
        levels = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ValueError(f"expected integers like 1,2,4, got {text!r}") from None
    if not levels or levels[0] < 1:
        raise ValueError(f"levels must be integers >= 1, got {text!r}")
    return levels


def parse_names(text: str, known: Sequence[str], what: str) -> list[str]:
    """A comma-separated list of names out of `known` (order kept); ValueError otherwise."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        named = ", ".join(unknown) if unknown else repr(text)
        raise ValueError(f"unknown {what} {named}; known: {', '.join(known)}")
    return list(dict.fromkeys(names))


def default_levels() -> list[int]:
    """1 up to the CPUs this process may use (affinity and cgroup quota), at least [1]."""
    from collectors.host import get_host_metrics

    usable = get_host_metrics().cpu_cores_usable or os.cpu_count() or 1
    return list(range(1, max(1, int(usable)) + 1))


def default_cache() -> Path:
    return Path(os.path.expanduser("~/.cache/mediajobs/bench-inputs"))


def make_inputs(classes: Sequence[str], seconds: float, cache: Path) -> dict[str, Path]:
    """Each class's reference file in `cache`, made with lavfi when missing (kept for the next
    run). A file is made under a temporary name and renamed, so a cut run leaves no half file."""
    from collectors.commands.demo import make_source

    cache.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    specs = input_classes(seconds)
    for name in classes:
        src = specs[name]
        final = cache / f"{src.name}{src.suffix}"
        if not final.exists():
            tmpdir = cache / f".tmp-{os.getpid()}-{name}"
            tmpdir.mkdir(exist_ok=True)
            try:
                os.replace(make_source(src, tmpdir)[src.name], final)
            finally:
                for leftover in tmpdir.iterdir():
                    leftover.unlink()
                tmpdir.rmdir()
        made[name] = final
    return made


@dataclass
class StepResult:
    """What one step (job type x level) recorded."""

    job_type: str
    level: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    dropped: int = 0  # warm-ups and attempts cut short by Ctrl-C

    @property
    def rtf(self) -> float | None:
        """Input seconds / wall seconds over the recorded succeeded rows (planner's rule)."""
        ok = [r for r in self.rows if r["status"] == "succeeded" and r["input_duration_seconds"]
              and r["duration_ms"]]
        wall = sum(r["duration_ms"] for r in ok) / 1000.0
        return sum(r["input_duration_seconds"] for r in ok) / wall if wall > 0 else None


class _Collect:
    """A sink holding one attempt's row until the bench decides to keep it."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def append(self, row: Mapping[str, Any]) -> None:
        self.rows.append(dict(row))

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        return None


def run_step(job_type: str, level: int, inputs: Sequence[Path], seconds: float, outdir: Path,
             sink: Sink, stop: threading.Event) -> StepResult:
    """`level` worker threads run `job_type` on `inputs` in turn for `seconds`; rows to `sink`.

    Returns when every worker's last attempt ended (or `stop` was set and they were cut short).
    """
    result = StepResult(job_type, level)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    step_id = uuid.uuid4().hex[:8]

    def worker(index: int) -> None:
        n = 0
        while not stop.is_set() and (time.monotonic() < deadline or n == 0
                                     or (level > 1 and n == 1)):
            src = inputs[(index + n) % len(inputs)]
            warm_up = level > 1 and n == 0
            kept, ok = _one_attempt(job_type, src, outdir, level, f"bench-{step_id}-{index}-{n}")
            n += 1
            if not ok:
                # A job killed by the terminal's Ctrl-C fails at once; give the main thread the
                # moment it needs to set `stop`, so that failure is not recorded as the job's.
                stop.wait(0.5)
            with lock:
                if warm_up or stop.is_set() or kept is None:
                    result.dropped += 1
                    continue
                sink.append(kept)
                result.rows.append(kept)
                result.failed += 0 if ok else 1

    threads = [threading.Thread(target=worker, args=(i,), name=f"bench-{i}", daemon=True)
               for i in range(level)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result


def _one_attempt(job_type: str, src: Path, outdir: Path, level: int, job_id: str
                 ) -> tuple[dict[str, Any] | None, bool]:
    """One attempt through the attempt API; (its row, whether the job succeeded)."""
    from collectors import jobtypes, schema
    from collectors.attempt import attempt
    from collectors.sampler import children_sampler

    collect = _Collect()
    dst = outdir / f"{job_id}{jobtypes.OUTPUT_SUFFIX[job_type]}"
    ok = True
    try:
        with attempt(job_type, job_id, inputs=[src], sink=collect, worker_slots=level,
                     source=schema.SOURCE_BENCH,
                     sampler=children_sampler(SAMPLE_INTERVAL_S) if level == 1 else None) as a:
            info = a.input_info
            jobtypes.run_job(job_type, src, dst,
                             duration_s=info.duration_seconds if info else None,
                             on_command=a.add_ffmpeg_command)
            a.set_output(dst)
    except (jobtypes.PipelineError, OSError, ValueError) as exc:
        log.warning("bench attempt %s failed: %s", job_id, exc)
        ok = False
    finally:
        dst.unlink(missing_ok=True)
    return (collect.rows[0] if collect.rows else None), ok


# --- command ---------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    from collectors.schema import JOB_TYPES

    parser.add_argument("--out", metavar="URL",
                        help="dataset URL, s3://bucket/prefix or a folder "
                        "(default: MEDIAJOB_METRICS_URL)")
    parser.add_argument("--concurrency", metavar="N,N,...",
                        help="attempts at once, each a step (default: 1 up to the usable CPUs)")
    parser.add_argument("--job-types", metavar="T,T,...", default=",".join(JOB_TYPES),
                        help="job types to run (default: all four)")
    parser.add_argument("--seconds", type=float, default=DEFAULT_STEP_SECONDS, metavar="S",
                        help=f"seconds per step (job type x level; default "
                        f"{DEFAULT_STEP_SECONDS:g}); running attempts finish")
    parser.add_argument("--classes", metavar="C,C,...", default=",".join(INPUT_CLASSES),
                        help=f"reference input classes (default: all: {', '.join(INPUT_CLASSES)})")
    parser.add_argument("--input-seconds", type=float, default=DEFAULT_INPUT_SECONDS,
                        metavar="S", help="length of each reference input "
                        f"(default {DEFAULT_INPUT_SECONDS:g})")
    parser.add_argument("--cache", type=Path, metavar="DIR",
                        help="where reference inputs are kept (default "
                        "~/.cache/mediajobs/bench-inputs)")
    parser.add_argument("--instance-type",
                        help="record this instance type (default: AWS_INSTANCE_TYPE, else IMDS)")


def run(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from collectors import config, schema
    from collectors.commands.demo import progress
    from collectors.commands.run import close_sink, open_sink

    try:
        job_types = parse_names(args.job_types, schema.JOB_TYPES, "job type")
        classes = parse_names(args.classes, INPUT_CLASSES, "input class")
        if args.instance_type:
            from collectors.host import reset_host_metrics

            os.environ[config.AWS_INSTANCE_TYPE] = args.instance_type
            reset_host_metrics()
        levels = parse_levels(args.concurrency) if args.concurrency else default_levels()
        if not args.seconds > 0 or not args.input_seconds > 0:
            raise ValueError("--seconds and --input-seconds must be > 0")
        missing = [j for j in job_types if not classes_for(j, classes)]
        if missing:
            raise ValueError(f"no input class among {', '.join(classes)} suits {missing[0]}")
    except ValueError as exc:
        print(f"mjcollect bench: {exc}", file=sys.stderr)
        return 2
    sink = open_sink(args.out, 120.0)
    if sink is None:
        print("mjcollect bench: no dataset: pass --out URL or set MEDIAJOB_METRICS_URL",
              file=sys.stderr)
        return 2
    stop = threading.Event()
    results: list[StepResult] = []
    interrupted = False
    workdir = Path(tempfile.mkdtemp(prefix="mjbench-"))
    try:
        with progress(len(classes), "reference inputs") as advance:
            inputs: dict[str, Path] = {}
            for name in classes:
                inputs.update(make_inputs([name], args.input_seconds,
                                          args.cache or default_cache()))
                advance(name)
        steps = [(j, n) for j in job_types for n in levels]
        with progress(len(steps), "bench") as advance:
            for job_type, level in steps:
                files = [inputs[c] for c in classes_for(job_type, classes)]
                results.append(_step_interruptibly(job_type, level, files, args.seconds,
                                                   workdir, sink, stop))
                rtf = results[-1].rtf
                advance(f"{job_type} x{level}: {len(results[-1].rows)} rows, RTF/attempt "
                        f"{rtf:.2f}" if rtf is not None else f"{job_type} x{level}: no RTF")
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        print("mjcollect bench: interrupted; keeping the attempts that ended on their own",
              file=sys.stderr)
    finally:
        uploaded = close_sink(sink, 120.0)
        shutil.rmtree(workdir, ignore_errors=True)
    for r in results:
        shown = f"{r.rtf:.3f}" if r.rtf is not None else "-"
        print(f"{r.job_type} x{r.level}: {len(r.rows)} rows ({r.failed} failed, {r.dropped} not "
              f"recorded), RTF per attempt {shown}")
    if interrupted:
        return 130
    return 0 if uploaded else 1


def _step_interruptibly(job_type: str, level: int, files: Sequence[Path], seconds: float,
                        workdir: Path, sink: Sink, stop: threading.Event) -> StepResult:
    """run_step in a thread, so Ctrl-C reaches the main thread while the workers run."""
    box: list[StepResult] = []
    t = threading.Thread(target=lambda: box.append(
        run_step(job_type, level, files, seconds, workdir, sink, stop)), daemon=True)
    t.start()
    try:
        while t.is_alive():
            t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        t.join()  # the jobs got the same SIGINT from the terminal and end now
        raise
    return box[0]
