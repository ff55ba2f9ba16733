"""The four MediaJobs pipelines (schema.JOB_TYPES), as real ffmpeg work.

Each job type has a pure function building its ffmpeg argument list(s) and a `run_*` function
that runs them and returns a `PipelineResult` (the output file and every command run, for the
manifest's `ffmpegCommands`). The demo, the benchmarks and the tests use these; a worker in
another language runs its own ffmpeg under `mjcollect run`.

- create_video_export_v1: H.264 (CRF 23, veryfast) + AAC 128 kb/s MP4 at the source's displayed
  resolution (rounded down to even sizes, which yuv420p needs).
- upload_edit_proxy_v1: H.264 ultrafast + fastdecode, short GOP (12 frames) so scrubbing is
  cheap, its short side scaled down to 360 px (never up), AAC 96 kb/s.
- upload_thumb_v1: one JPEG at a chosen time, fitted inside 640x640 (never scaled up).
- upload_audio_envelope_v1: ffmpeg decodes the audio to mono 16-bit PCM at 8 kHz on a pipe;
  Python computes the peak of each time bucket with the stdlib `array` module and writes JSON
  `{"sampleRate", "bucketSeconds", "durationSeconds", "peaks": [0..1, ...]}`.

Run as a program (`python -m collectors.jobtypes JOB_TYPE INPUT OUTPUT`) it runs one pipeline,
which is how the audio envelope (ffmpeg plus Python) runs under `mjcollect run`.
"""

from __future__ import annotations

import argparse
import array
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from collectors import schema
from collectors.probe import refusal

FFMPEG = "ffmpeg"
#: Options every command gets: quiet but for errors, never read stdin, overwrite the output.
COMMON = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")

PROXY_SHORT_SIDE = 360
PROXY_GOP = 12
THUMB_BOX = 640
ENVELOPE_SAMPLE_RATE = 8000
ENVELOPE_BUCKET_S = 0.1
_PCM_CHUNK = 64 * 1024

#: Called with each argv just before it runs (the attempt records it even when it then fails).
OnCommand = Callable[[Sequence[str]], None]


class PipelineError(RuntimeError):
    """An ffmpeg command failed or produced nothing; the message ends with ffmpeg's stderr."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode


@dataclass(frozen=True)
class PipelineResult:
    """What a pipeline produced: the output file and the argv of every command it ran."""

    job_type: str
    output: Path
    commands: tuple[tuple[str, ...], ...]


def checked_path(path: str | os.PathLike[str]) -> Path:
    """A path safe to hand to ffmpeg as a file, or ValueError.

    The probe module's check: ffmpeg reads a leading '-' as an option and 'proto:...' as a
    protocol (concat:, http:, subfile,...), so only plain local paths pass. Newlines are
    refused too (they would break the one-line command in the manifest).
    """
    text = os.fspath(path)
    reason = refusal(text) or ("path contains a newline" if "\n" in text else None)
    if reason:
        raise ValueError(reason)
    return Path(text)


def _arg(path: Path) -> str:
    # Path('./x') prints as 'x'; keep the './' so ffmpeg never sees 'proto:' or '-x'.
    s = str(path)
    return s if path.is_absolute() or s.startswith(("./", "../")) else f"./{s}"


# --- argv builders (pure) -------------------------------------------------------------------

def export_argv(src: Path, dst: Path) -> list[str]:
    """H.264/AAC MP4 export at the source's displayed resolution (even-rounded)."""
    return [
        FFMPEG, *COMMON, "-i", _arg(checked_path(src)),
        "-map", "0:v:0?", "-map", "0:a:0?",
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k",
        "-movflags", "+faststart", "-f", "mp4", _arg(checked_path(dst)),
    ]


def proxy_argv(src: Path, dst: Path, short_side: int = PROXY_SHORT_SIDE) -> list[str]:
    """Low-resolution, fast-decoding edit proxy: short side <= `short_side` px, short GOP."""
    s = int(short_side)
    # Landscape: height is the short side; portrait: width. -2 keeps the aspect, even-sized.
    scale = (
        f"scale=w='if(gte(iw,ih),-2,min({s},trunc(iw/2)*2))'"
        f":h='if(gte(iw,ih),min({s},trunc(ih/2)*2),-2)'"
    )
    return [
        FFMPEG, *COMMON, "-i", _arg(checked_path(src)),
        "-map", "0:v:0?", "-map", "0:a:0?",
        "-vf", scale,
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "fastdecode",
        "-g", str(PROXY_GOP), "-keyint_min", str(PROXY_GOP), "-crf", "28",
        "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4", _arg(checked_path(dst)),
    ]


def thumb_time(duration_s: float | None, at_s: float | None = None) -> float:
    """The time of the thumbnail, seconds: `at_s` (else 10 % in), kept inside the media.

    ffmpeg exits 0 and writes nothing when -ss is past the end, so the time is clamped.
    """
    if duration_s is None or not duration_s > 0:
        return max(at_s or 0.0, 0.0)
    t = duration_s * 0.1 if at_s is None else max(at_s, 0.0)
    return round(t if t < duration_s else duration_s / 2, 3)


def thumb_argv(src: Path, dst: Path, at_s: float) -> list[str]:
    """One JPEG at `at_s` seconds, fitted inside THUMB_BOX x THUMB_BOX (never scaled up)."""
    b = THUMB_BOX
    return [
        FFMPEG, *COMMON, "-ss", f"{at_s:.3f}", "-i", _arg(checked_path(src)),
        "-frames:v", "1",
        "-vf", f"scale=w='min({b},iw)':h='min({b},ih)':force_original_aspect_ratio=decrease",
        "-q:v", "3", "-update", "1", "-f", "image2", _arg(checked_path(dst)),
    ]


def envelope_decode_argv(src: Path, sample_rate: int = ENVELOPE_SAMPLE_RATE) -> list[str]:
    """Decode the first audio stream to mono signed 16-bit little-endian PCM on stdout."""
    return [
        FFMPEG, *COMMON, "-i", _arg(checked_path(src)),
        "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(int(sample_rate)),
        "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
    ]


# --- envelope maths (pure) ------------------------------------------------------------------

class PeakAccumulator:
    """Peaks (max |sample| / 32768, 0..1) per bucket of `bucket_samples` samples, streamed."""

    def __init__(self, bucket_samples: int) -> None:
        if bucket_samples < 1:
            raise ValueError("bucket_samples must be >= 1")
        self.bucket_samples = bucket_samples
        self.peaks: list[float] = []
        self.samples = 0
        self._carry = b""
        self._fill = 0  # samples already in the open bucket
        self._peak = 0  # its peak so far

    def feed(self, data: bytes) -> None:
        """Add raw s16le bytes (any length; an odd trailing byte waits for the next call)."""
        data = self._carry + data
        usable = len(data) - len(data) % 2
        self._carry = data[usable:]
        pcm = array.array("h")
        pcm.frombytes(data[:usable])
        if sys.byteorder == "big":
            pcm.byteswap()
        i = 0
        n = len(pcm)
        self.samples += n
        while i < n:
            take = min(self.bucket_samples - self._fill, n - i)
            part = pcm[i : i + take]
            # max(-min) instead of abs() per sample: two C-level passes, no Python loop.
            self._peak = max(self._peak, max(part), -min(part))
            self._fill += take
            i += take
            if self._fill == self.bucket_samples:
                self._close()

    def finish(self) -> list[float]:
        """Close the last, partial bucket and return the peaks."""
        if self._fill:
            self._close()
        return self.peaks

    def _close(self) -> None:
        self.peaks.append(round(min(self._peak / 32768.0, 1.0), 4))
        self._fill = 0
        self._peak = 0


def envelope_json(peaks: list[float], sample_rate: int, bucket_s: float, samples: int) -> str:
    """The envelope document (compact JSON)."""
    doc = {
        "sampleRate": sample_rate,
        "bucketSeconds": bucket_s,
        "durationSeconds": round(samples / sample_rate, 3),
        "peaks": peaks,
    }
    return json.dumps(doc, separators=(",", ":"))


# --- running --------------------------------------------------------------------------------

def _run(argv: Sequence[str], on_command: OnCommand | None) -> None:
    if on_command is not None:
        on_command(argv)
    proc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise PipelineError(
            f"ffmpeg exited with {proc.returncode}: {_tail(proc.stderr)}", proc.returncode)


def _tail(stderr: bytes, limit: int = 500) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    return text[-limit:] if text else "(no message)"


def _require_output(dst: Path) -> None:
    if not dst.is_file() or dst.stat().st_size == 0:
        raise PipelineError(f"ffmpeg produced no output file {dst}")


def run_export(src: Path, dst: Path, on_command: OnCommand | None = None) -> PipelineResult:
    """create_video_export_v1: `src` -> H.264/AAC MP4 `dst`."""
    argv = export_argv(src, dst)
    _run(argv, on_command)
    _require_output(dst)
    return PipelineResult("create_video_export_v1", dst, (tuple(argv),))


def run_proxy(src: Path, dst: Path, on_command: OnCommand | None = None) -> PipelineResult:
    """upload_edit_proxy_v1: `src` -> low-resolution fast-decoding MP4 `dst`."""
    argv = proxy_argv(src, dst)
    _run(argv, on_command)
    _require_output(dst)
    return PipelineResult("upload_edit_proxy_v1", dst, (tuple(argv),))


def run_thumb(src: Path, dst: Path, *, at_s: float | None = None,
              duration_s: float | None = None,
              on_command: OnCommand | None = None) -> PipelineResult:
    """upload_thumb_v1: one JPEG `dst` at `at_s` (default 10 % into `duration_s`)."""
    argv = thumb_argv(src, dst, thumb_time(duration_s, at_s))
    _run(argv, on_command)
    _require_output(dst)
    return PipelineResult("upload_thumb_v1", dst, (tuple(argv),))


def run_envelope(src: Path, dst: Path, *, sample_rate: int = ENVELOPE_SAMPLE_RATE,
                 bucket_s: float = ENVELOPE_BUCKET_S,
                 on_command: OnCommand | None = None) -> PipelineResult:
    """upload_audio_envelope_v1: peaks of `src`'s audio per `bucket_s` seconds -> JSON `dst`."""
    argv = envelope_decode_argv(src, sample_rate)
    if on_command is not None:
        on_command(argv)
    acc = PeakAccumulator(max(1, round(sample_rate * bucket_s)))
    # stderr to a file, not a pipe: a chatty ffmpeg could fill a pipe we do not read yet.
    with tempfile.TemporaryFile() as err, subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err
    ) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(_PCM_CHUNK):
            acc.feed(chunk)
        code = proc.wait()
        err.seek(0)
        stderr = err.read()
    if code != 0:
        raise PipelineError(f"ffmpeg exited with {code}: {_tail(stderr)}", code)
    peaks = acc.finish()
    if not peaks:
        raise PipelineError(f"no audio decoded from {src}")
    out = checked_path(dst)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(envelope_json(peaks, sample_rate, bucket_s, acc.samples), encoding="utf-8")
    os.replace(tmp, out)
    return PipelineResult("upload_audio_envelope_v1", out, (tuple(argv),))


def run_job(job_type: str, src: Path, dst: Path, *, duration_s: float | None = None,
            on_command: OnCommand | None = None) -> PipelineResult:
    """Run the pipeline of `job_type` (one of schema.JOB_TYPES) from `src` to `dst`."""
    if job_type == "create_video_export_v1":
        return run_export(src, dst, on_command)
    if job_type == "upload_edit_proxy_v1":
        return run_proxy(src, dst, on_command)
    if job_type == "upload_thumb_v1":
        return run_thumb(src, dst, duration_s=duration_s, on_command=on_command)
    if job_type == "upload_audio_envelope_v1":
        return run_envelope(src, dst, on_command=on_command)
    raise ValueError(f"unknown job type {job_type!r}; known: {', '.join(schema.JOB_TYPES)}")


#: The output file's extension per job type.
OUTPUT_SUFFIX = {
    "create_video_export_v1": ".mp4",
    "upload_edit_proxy_v1": ".mp4",
    "upload_thumb_v1": ".jpg",
    "upload_audio_envelope_v1": ".json",
}


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m collectors.jobtypes JOB_TYPE INPUT OUTPUT [--duration S]`."""
    p = argparse.ArgumentParser(prog="python -m collectors.jobtypes", description=main.__doc__)
    p.add_argument("job_type", choices=schema.JOB_TYPES)
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--duration", type=float, help="input duration, s (thumbnail time)")
    args = p.parse_args(argv)
    try:
        result = run_job(args.job_type, Path(args.input), Path(args.output),
                         duration_s=args.duration)
    except (PipelineError, ValueError, OSError) as exc:
        print(f"{args.job_type}: {exc}", file=sys.stderr)
        code = getattr(exc, "returncode", None)
        return code if isinstance(code, int) and code > 0 else 1
    print(result.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

