"""`mjcollect demo`: make varied source media with ffmpeg's lavfi sources, run the four job types
on them through the attempt API, and write the measured rows to a dataset.

This is how the measured part of `data/` is produced and refreshed:

    mjcollect demo --out data/attempts --scale full      # about 5-10 min on 2 cores
    mjcollect demo --out s3://bucket/prefix --scale small  # under a minute (tests)

Sources: H.264, HEVC and VP9 video (AAC or Opus audio) at several resolutions, a portrait clip
(rotation metadata, as phones write it), audio-only AAC and MP3, durations from seconds to
minutes, and one truncated file, whose jobs fail (and are retried on the intact file as attempt
2), so the dataset holds failures as real workers see them. Job and attempt ids are derived
from `--seed`, so a rerun writes the same ids (readers keep one row per attempt id).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collectors.sink import Sink

HELP = "make sample media with ffmpeg, run the four job types on it, write the measured dataset"

log = logging.getLogger("collectors.demo")

#: The demo samples every 0.5 s (not 2 s): its jobs are short, and a job that ends before the
#: first sample has no CPU/memory figures in the Python attempt API.
DEMO_SAMPLE_INTERVAL_S = 0.5

_FF = ("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y")


@dataclass(frozen=True)
class Source:
    """One source file to make: video `size` (WxH, None for audio-only), codecs, seconds."""

    name: str
    size: str | None
    vcodec: str | None  # "h264" | "hevc" | "vp9" | None
    acodec: str | None  # "aac" | "opus" | "mp3" | None
    seconds: float
    portrait: bool = False  # stored landscape with rotate=90, displayed portrait
    truncated: bool = False  # the first half of the file only: jobs on it fail

    @property
    def suffix(self) -> str:
        if self.vcodec == "vp9":
            return ".webm"
        if self.vcodec is None:
            return ".mp3" if self.acodec == "mp3" else ".m4a"
        return ".mp4"

    @property
    def has_video(self) -> bool:
        return self.vcodec is not None

    @property
    def has_audio(self) -> bool:
        return self.acodec is not None


SMALL: tuple[Source, ...] = (
    Source("h264_320x240_2s", "320x240", "h264", "aac", 2.0),
    Source("h264_portrait_240x426_2s", "426x240", "h264", "aac", 2.0, portrait=True),
    Source("hevc_320x180_3s", "320x180", "hevc", "aac", 3.0),
    Source("vp9_320x240_2s", "320x240", "vp9", "opus", 2.0),
    Source("aac_audio_6s", None, None, "aac", 6.0),
    Source("h264_320x240_2s_truncated", "320x240", "h264", "aac", 2.0, truncated=True),
)

FULL: tuple[Source, ...] = (
    Source("h264_1920x1080_30s", "1920x1080", "h264", "aac", 30.0),
    Source("h264_1280x720_60s", "1280x720", "h264", "aac", 60.0),
    Source("h264_portrait_1080x1920_20s", "1920x1080", "h264", "aac", 20.0, portrait=True),
    Source("hevc_1280x720_20s", "1280x720", "hevc", "aac", 20.0),
    Source("vp9_854x480_30s", "854x480", "vp9", "opus", 30.0),
    Source("h264_640x360_180s", "640x360", "h264", "aac", 180.0),
    Source("h264_320x240_5s", "320x240", "h264", "aac", 5.0),
    Source("aac_audio_240s", None, None, "aac", 240.0),
    Source("mp3_audio_60s", None, None, "mp3", 60.0),
    Source("h264_1280x720_10s_truncated", "1280x720", "h264", "aac", 10.0, truncated=True),
)

SCALES = {"small": SMALL, "full": FULL}
#: Times each job runs per source (separate jobs), for a spread of measurements.
REPEATS = {"small": 1, "full": 2}

_VCODEC_ARGS = {
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
             "-tag:v", "hvc1", "-pix_fmt", "yuv420p"],
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M",
            "-pix_fmt", "yuv420p"],
}
_ACODEC_ARGS = {
    "aac": ["-c:a", "aac", "-b:a", "128k"],
    "opus": ["-c:a", "libopus", "-b:a", "96k"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
}


def source_argv(src: Source, dst: Path) -> list[str]:
    """The ffmpeg command that makes `src` at `dst` from lavfi's testsrc2 and sine (pure)."""
    argv = list(_FF)
    if src.size:
        argv += ["-f", "lavfi", "-i", f"testsrc2=size={src.size}:rate=25:duration={src.seconds}"]
    if src.acodec:
        # Two tones an octave apart, with a slow tremolo so the envelope is not flat.
        argv += ["-f", "lavfi", "-i",
                 f"aevalsrc='0.4*sin(2*PI*440*t)*(0.6+0.4*sin(2*PI*0.5*t))"
                 f"+0.2*sin(2*PI*880*t)':s=48000:d={src.seconds}"]
    if src.vcodec:
        argv += _VCODEC_ARGS[src.vcodec]
    if src.acodec:
        argv += _ACODEC_ARGS[src.acodec]
        argv += ["-ac", "2"]
    return [*argv, str(dst)]


#: Suffix of the media key of a truncated source's intact file (used by its retries).
INTACT = "#intact"


def make_source(src: Source, folder: Path) -> dict[str, Path]:
    """Encode `src` into `folder`: {name: path} (and {name#intact: path} for a truncated one).

    Portrait: a stream copy with rotate=90 (ffmpeg drops rotate metadata when encoding, keeps
    it on a copy). Truncated: the first half of the file (the MP4 index is at the end, so
    ffmpeg cannot read it at all), next to the intact file.
    """
    dst = folder / f"{src.name}{src.suffix}"
    if src.portrait:
        raw = folder / f"{src.name}.raw{src.suffix}"
        subprocess.run(source_argv(src, raw), check=True)
        subprocess.run([*_FF, "-i", str(raw), "-c", "copy", "-metadata:s:v:0", "rotate=90",
                        str(dst)], check=True)
        raw.unlink()
        return {src.name: dst}
    if src.truncated:
        intact = folder / f"{src.name}.intact{src.suffix}"
        subprocess.run(source_argv(src, intact), check=True)
        data = intact.read_bytes()
        dst.write_bytes(data[: len(data) // 2])
        return {src.name: dst, src.name + INTACT: intact}
    subprocess.run(source_argv(src, dst), check=True)
    return {src.name: dst}


def job_types_for(src: Source) -> tuple[str, ...]:
    """The job types that make sense for a source: video jobs need video, envelope audio."""
    out: list[str] = []
    if src.has_video:
        out += ["create_video_export_v1", "upload_edit_proxy_v1", "upload_thumb_v1"]
    if src.has_audio:
        out.append("upload_audio_envelope_v1")
    return tuple(out)


@dataclass(frozen=True)
class PlannedAttempt:
    """One attempt the demo runs."""

    job_type: str
    job_id: str
    attempt_number: int
    attempt_id: str
    source: Source
    input_name: str  # the source whose file is used (the intact one for a retry)


def plan(sources: tuple[Source, ...], repeats: int, seed: int) -> list[PlannedAttempt]:
    """Every attempt of the demo, in order, with ids derived from `seed` (pure)."""
    ns = uuid.uuid5(uuid.NAMESPACE_URL, f"mediajobs-demo/{seed}")
    out: list[PlannedAttempt] = []
    for rep in range(1, repeats + 1):
        for src in sources:
            for jt in job_types_for(src):
                job_id = f"demo-{seed}-{src.name}-{jt}-{rep}"
                aid = str(uuid.uuid5(ns, f"{job_id}/1"))
                out.append(PlannedAttempt(jt, job_id, 1, aid, src, src.name))
                if src.truncated:  # the worker retries; the input is intact by then
                    out.append(PlannedAttempt(jt, job_id, 2, str(uuid.uuid5(ns, f"{job_id}/2")),
                                              src, src.name + INTACT))
    return out


# --- progress (rich when installed, else plain lines) ------------------------------------------

Advance = Callable[[str], None]


@contextmanager
def progress(total: int, title: str) -> Iterator[Advance]:
    """A progress bar with rich (a planner extra, imported here only), else one line a step."""
    try:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
    except ImportError:
        rich_progress = None
    else:
        rich_progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn())
    if rich_progress is None or not sys.stderr.isatty():
        done = 0

        def plain(label: str) -> None:
            nonlocal done
            done += 1
            print(f"[{done}/{total}] {title}: {label}", file=sys.stderr, flush=True)

        yield plain
        return
    with rich_progress:
        task = rich_progress.add_task(title, total=total)

        def step(label: str) -> None:
            rich_progress.update(task, advance=1, description=f"{title}: {label}")

        yield step


# --- command ---------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="URL",
                        help="dataset URL, s3://bucket/prefix or a folder "
                        "(default: MEDIAJOB_METRICS_URL)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small",
                        help="small: tiny clips, under a minute; full: seconds to minutes of "
                        "up to 1080p, several minutes")
    parser.add_argument("--repeats", type=int, help="runs of each job per source "
                        "(default: 1 small, 2 full)")
    parser.add_argument("--seed", type=int, default=87, help="seed of the job/attempt ids")
    parser.add_argument("--workdir", type=Path,
                        help="folder for the media (kept); default a temporary folder, removed")
    parser.add_argument("--instance-type", help="record this instance type (sets "
                        "AWS_INSTANCE_TYPE for the run)")
    parser.add_argument("--sample-interval", type=float, metavar="S",
                        help=f"seconds between CPU/memory samples "
                        f"(default {DEMO_SAMPLE_INTERVAL_S})")


def run(args: argparse.Namespace) -> int:
    from collectors import config
    from collectors.commands.run import close_sink, open_sink

    if args.instance_type:
        from collectors.host import reset_host_metrics

        os.environ[config.AWS_INSTANCE_TYPE] = args.instance_type
        reset_host_metrics()  # host facts are cached per process
    sink = open_sink(args.out, 120.0)
    if sink is None:
        print("mjcollect demo: no dataset: pass --out URL or set MEDIAJOB_METRICS_URL",
              file=sys.stderr)
        return 2
    sources = SCALES[args.scale]
    repeats = args.repeats or REPEATS[args.scale]
    attempts = plan(sources, repeats, args.seed)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mjdemo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    failed = 0
    try:
        media: dict[str, Path] = {}
        with progress(len(sources), "sources") as step:
            for src in sources:
                media.update(make_source(src, workdir))
                step(src.name)
        outdir = workdir / "out"
        outdir.mkdir(exist_ok=True)
        with progress(len(attempts), "jobs") as step:
            for pa in attempts:
                ok = run_planned(pa, media[pa.input_name], outdir, sink, args.sample_interval)
                failed += 0 if ok else 1
                step(f"{pa.job_type} {pa.source.name} #{pa.attempt_number}")
    finally:
        uploaded = close_sink(sink, 120.0)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"demo: {len(attempts)} attempts ({failed} failed, as planned for truncated inputs) "
          f"in {time.monotonic() - t0:.0f} s"
          + ("" if uploaded else "; rows not uploaded yet (mjcollect flush)"))
    return 0 if uploaded else 1


def run_planned(pa: PlannedAttempt, src: Path, outdir: Path, sink: Sink,
                sample_interval: float | None) -> bool:
    """Run one planned attempt through the attempt API; True when the job succeeded."""
    from collectors import jobtypes
    from collectors.attempt import attempt
    from collectors.sampler import children_sampler

    dst = outdir / f"{pa.job_id}-{pa.attempt_number}{jobtypes.OUTPUT_SUFFIX[pa.job_type]}"
    try:
        with attempt(pa.job_type, pa.job_id, attempt_number=pa.attempt_number,
                     attempt_id=pa.attempt_id, inputs=[src], sink=sink,
                     sampler=children_sampler(sample_interval or DEMO_SAMPLE_INTERVAL_S)) as a:
            info = a.input_info
            with a.phase("transcode"):  # the whole job is local: its time is the transcode's
                jobtypes.run_job(pa.job_type, src, dst,
                                 duration_s=info.duration_seconds if info else None,
                                 on_command=a.add_ffmpeg_command)
            a.set_output(dst)
    except (jobtypes.PipelineError, OSError, ValueError) as exc:
        log.debug("demo attempt %s failed: %s", pa.attempt_id, exc)
        return False
    finally:
        dst.unlink(missing_ok=True)  # outputs are not kept: only their sizes matter here
    return True
