"""Test media made with ffmpeg's lavfi sources, once per session.

    from tests.media import make_media
    path = make_media("h264_aac", tmp_path_factory.mktemp("media"))   # 1920x1080, 2 s
    path = make_media("audio_only")          # a per-process temp folder, removed at exit

A file is made once per (kind, seconds, folder) and reused: `make_media` returns the existing
file when it is already there, so call it freely from session- or module-scoped fixtures.
Every kind is small (1-3 s, tiny resolutions but for the 1080p kinds) and takes well under a
second to encode. `EXPECTED` holds what ffprobe reports for each kind (checked by
tests/collectors/test_probe.py), so other tests can assert exact values too.

Kinds:
- h264_aac:   H.264 1920x1080 25 fps + AAC 48 kHz stereo, MP4 (the common upload).
- portrait:   h264_aac stream-copied with rotate=90 (ffmpeg 5.1 drops the tag when encoding,
              keeps it on a copy): stored 1920x1080, displayed 1080x1920, as phones record.
- hevc:       HEVC (libx265) 320x240 25 fps, MP4, no audio.
- vp9:        VP9 + Opus 320x240 25 fps, WebM.
- audio_only: AAC 48 kHz mono, M4A.
- audio_cover: MP3 with cover art (a PNG "attached picture" video stream): audio-only to us.
- video_only: H.264 320x240 25 fps, MP4, no audio.
- raw_h264:   a raw Annex B H.264 stream: no container, so no duration and no bit rate.
- wav:        PCM s16le 48 kHz mono WAV (a container whose bit rate ffprobe derives).
- truncated:  the first half of an h264_aac-like MP4 whose index (moov) is at the end: corrupt.
- text:       a text file (not media).
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

FFMPEG = "ffmpeg"
_BASE = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")

KINDS = (
    "h264_aac", "portrait", "hevc", "vp9", "audio_only", "audio_cover", "video_only",
    "raw_h264", "wav", "truncated", "text",
)

#: What ffprobe reports for each kind made with the default 2 seconds (None: not reported).
#: Keys: MediaInfo fields. Durations are exact for these lavfi sources.
EXPECTED: dict[str, dict[str, object]] = {
    "h264_aac": dict(duration_seconds=2.0, width=1920, height=1080, video_codec="h264",
                     audio_codec="aac", fps=25.0),
    "portrait": dict(duration_seconds=2.0, width=1080, height=1920, video_codec="h264",
                     audio_codec="aac", fps=25.0),
    "hevc": dict(duration_seconds=2.0, width=320, height=240, video_codec="hevc",
                 audio_codec=None, fps=25.0),
    "vp9": dict(duration_seconds=2.008, width=320, height=240, video_codec="vp9",
                audio_codec="opus", fps=25.0),
    "audio_only": dict(width=None, height=None, video_codec=None, audio_codec="aac", fps=None),
    "audio_cover": dict(duration_seconds=2.038, width=None, height=None, video_codec=None,
                        audio_codec="mp3", fps=None),
    "video_only": dict(duration_seconds=2.0, width=320, height=240, video_codec="h264",
                       audio_codec=None, fps=25.0),
    "raw_h264": dict(duration_seconds=None, width=320, height=240, video_codec="h264",
                     audio_codec=None, fps=25.0, bitrate_kbps=None),
    "wav": dict(duration_seconds=2.0, width=None, height=None, video_codec=None,
                audio_codec="pcm_s16le", fps=None),
}

_lock = threading.Lock()
_default_dir: Path | None = None


def _ffmpeg(*args: str) -> None:
    proc = subprocess.run([FFMPEG, *_BASE, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {proc.stderr.strip()}")


def _testsrc(size: str, seconds: float) -> tuple[str, ...]:
    return ("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds:g}")


def _sine(seconds: float, layout: str = "mono") -> tuple[str, ...]:
    return ("-f", "lavfi", "-i",
            f"sine=frequency=440:sample_rate=48000:duration={seconds:g},"
            f"aformat=channel_layouts={layout}")


_X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def _h264_aac(dst: Path, seconds: float) -> None:
    _ffmpeg(*_testsrc("1920x1080", seconds), *_sine(seconds, "stereo"),
            "-map", "0:v", "-map", "1:a", *_X264, "-c:a", "aac", "-b:a", "64k", str(dst))


def _portrait(dst: Path, seconds: float) -> None:
    src = make_media("h264_aac", dst.parent, seconds)
    _ffmpeg("-i", str(src), "-map", "0", "-c", "copy", "-metadata:s:v:0", "rotate=90", str(dst))


def _hevc(dst: Path, seconds: float) -> None:
    _ffmpeg(*_testsrc("320x240", seconds), "-c:v", "libx265", "-preset", "ultrafast",
            "-x265-params", "log-level=error", "-pix_fmt", "yuv420p", "-tag:v", "hvc1",
            str(dst))


def _vp9(dst: Path, seconds: float) -> None:
    _ffmpeg(*_testsrc("320x240", seconds), *_sine(seconds), "-map", "0:v", "-map", "1:a",
            "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
            "-c:a", "libopus", "-b:a", "32k", str(dst))


def _audio_only(dst: Path, seconds: float) -> None:
    _ffmpeg(*_sine(seconds), "-c:a", "aac", "-b:a", "64k", str(dst))


def _audio_cover(dst: Path, seconds: float) -> None:
    # One frame of cover art (a bounded source: an endless one would keep ffmpeg running).
    _ffmpeg(*_sine(seconds), "-f", "lavfi", "-i", "color=c=red:size=64x64:duration=0.04",
            "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-b:a", "64k", "-c:v", "png",
            "-disposition:v", "attached_pic", str(dst))


def _video_only(dst: Path, seconds: float) -> None:
    _ffmpeg(*_testsrc("320x240", seconds), *_X264, str(dst))


def _raw_h264(dst: Path, seconds: float) -> None:
    _ffmpeg(*_testsrc("320x240", seconds), *_X264, "-f", "h264", str(dst))


def _wav(dst: Path, seconds: float) -> None:
    _ffmpeg(*_sine(seconds), "-c:a", "pcm_s16le", str(dst))


def _truncated(dst: Path, seconds: float) -> None:
    # No +faststart: the moov index is written last, so the first half has none.
    full = dst.with_name(dst.stem + "-full.mp4")
    _ffmpeg(*_testsrc("320x240", seconds), *_sine(seconds), "-map", "0:v", "-map", "1:a",
            *_X264, "-c:a", "aac", str(full))
    data = full.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    full.unlink()


def _text(dst: Path, seconds: float) -> None:
    dst.write_text("this is not a video\n" * 50, encoding="utf-8")


_MAKERS: dict[str, tuple[str, Callable[[Path, float], None]]] = {
    "h264_aac": (".mp4", _h264_aac),
    "portrait": (".mp4", _portrait),
    "hevc": (".mp4", _hevc),
    "vp9": (".webm", _vp9),
    "audio_only": (".m4a", _audio_only),
    "audio_cover": (".mp3", _audio_cover),
    "video_only": (".mp4", _video_only),
    "raw_h264": (".h264", _raw_h264),
    "wav": (".wav", _wav),
    "truncated": (".mp4", _truncated),
    "text": (".txt", _text),
}


def _session_dir() -> Path:
    global _default_dir
    if _default_dir is None:
        _default_dir = Path(tempfile.mkdtemp(prefix="mj-media-"))
        atexit.register(shutil.rmtree, _default_dir, True)
    return _default_dir


def make_media(kind: str, directory: Path | str | None = None, seconds: float = 2.0) -> Path:
    """The path of a `kind` file (see KINDS) of `seconds` seconds in `directory`.

    Made on first use, reused afterwards. `directory` None: a temp folder shared by the whole
    process. Thread-safe; written to a temporary name and renamed, so a reader never sees half
    a file.
    """
    if kind not in _MAKERS:
        raise ValueError(f"unknown media kind {kind!r}; known: {', '.join(KINDS)}")
    suffix, maker = _MAKERS[kind]
    with _lock:
        folder = Path(directory) if directory is not None else _session_dir()
        folder.mkdir(parents=True, exist_ok=True)
    dst = folder / f"{kind}-{seconds:g}s{suffix}"
    if dst.exists():
        return dst
    tmp = dst.with_name(f".tmp-{threading.get_ident()}-{dst.name}")
    # ffmpeg picks the muxer from the extension, so keep it last.
    tmp = tmp.with_name(tmp.stem + suffix) if tmp.suffix != suffix else tmp
    maker(tmp, seconds)
    tmp.replace(dst)
    return dst
