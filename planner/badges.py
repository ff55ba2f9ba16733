"""The attempt badges as strings, from one attempt row (a dict of dataset columns).

    rtf_badge   -> "RTF 1.3x" (thumbnails, counted in jobs: "8,145 jobs/h")
    input_badge -> "1080x1920 H.264 AAC, 2:30"
    host_badge  -> "c7i.large, 2 cores, 4GB"

Pure functions: a missing or unknown part is left out (never "None"); a badge with nothing to
say is the empty string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner import formats

#: ffprobe codec_name -> the name people write. Unknown names are shown upper-cased.
CODEC_NAMES: dict[str, str] = {
    "h264": "H.264",
    "hevc": "HEVC",
    "h265": "HEVC",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "prores": "ProRes",
    "mpeg4": "MPEG-4",
    "mpeg2video": "MPEG-2",
    "mpeg1video": "MPEG-1",
    "mjpeg": "MJPEG",
    "dnxhd": "DNxHD",
    "theora": "Theora",
    "png": "PNG",
    "gif": "GIF",
    "aac": "AAC",
    "opus": "Opus",
    "mp3": "MP3",
    "vorbis": "Vorbis",
    "flac": "FLAC",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
    "alac": "ALAC",
    "pcm_s16le": "PCM",
    "pcm_s24le": "PCM",
    "pcm_f32le": "PCM",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def codec_name(codec: Any) -> str | None:
    """ "H.264" for "h264"; None for a missing codec; unknown codecs upper-cased."""
    name = _text(codec)
    if name is None:
        return None
    key = name.lower()
    if key in CODEC_NAMES:
        return CODEC_NAMES[key]
    if key.startswith("pcm_"):
        return "PCM"
    return name.upper()


def format_mem_gb(mem_gb: Any) -> str | None:
    """ "4GB" when integral to 0.1 GB, "7.5GB" otherwise; None when unknown."""
    x = formats.finite(mem_gb)
    if x is None or x <= 0:
        return None
    rounded = round(x, 1)
    if abs(rounded - round(rounded)) < 0.05:
        return f"{int(round(rounded))}GB"
    return f"{rounded:.1f}GB"


def counted_in_jobs(row: Mapping[str, Any]) -> bool:
    """Whether the row's job type is measured in jobs per hour (thumbnails), not RTF: its
    `throughput_unit`, else the job type's (collectors.schema)."""
    from collectors import schema

    unit = row.get("throughput_unit") or schema.THROUGHPUT_UNIT_BY_JOB_TYPE.get(
        str(row.get("job_type")))
    return unit == schema.THROUGHPUT_JOBS


def rtf_badge(row: Mapping[str, Any]) -> str:
    """ "RTF 1.3x" from the row's `rtf` (else input seconds / wall seconds); "" when unknown.

    A job type counted in jobs (thumbnails: the input's length says nothing of the work) reads
    in jobs per hour of one slot instead, 3600 / wall seconds: "8,145 jobs/h", as the
    statistics and the sizing count it.
    """
    if counted_in_jobs(row):
        ms = formats.finite(row.get("duration_ms"))
        if row.get("status") == "failed" or ms is None or ms <= 0:
            return ""
        return f"{3_600_000 / ms:,.0f} jobs/h"
    rtf = formats.finite(row.get("rtf"))
    # A failed attempt stopped part-way: input seconds over its wall time is no speed.
    if rtf is None and row.get("status") != "failed":
        secs = formats.finite(row.get("input_duration_seconds"))
        ms = formats.finite(row.get("duration_ms"))
        if secs is not None and ms is not None and ms > 0:
            rtf = secs / (ms / 1000.0)
    text = formats.rtf(rtf, missing="")
    return f"RTF {text}" if text else ""


def input_badge(row: Mapping[str, Any]) -> str:
    """ "1080x1920 H.264 AAC, 2:30": display size, codecs, duration; unknown parts left out.

    Width and height are stored as displayed (rotation applied by the collector), so a portrait
    phone video reads 1080x1920. An audio-only input reads "AAC, 2:30".
    """
    parts: list[str] = []
    w, h = formats.finite(row.get("input_width")), formats.finite(row.get("input_height"))
    if w is not None and h is not None and w > 0 and h > 0:
        parts.append(f"{int(w)}x{int(h)}")
    for key in ("input_video_codec", "input_audio_codec"):
        name = codec_name(row.get(key))
        if name:
            parts.append(name)
    head = " ".join(parts)
    duration = formats.clock(row.get("input_duration_seconds"))
    if head and duration:
        return f"{head}, {duration}"
    return head or duration or ""


def host_badge(row: Mapping[str, Any]) -> str:
    """ "c7i.large, 2 cores, 4GB"; unknown parts left out; "" when nothing is known.

    A host without an instance type (not on EC2) reads `formats.UNKNOWN`, as in the tables
    and charts, and its host name beside it: "unknown (laptop), 8 cores".
    """
    parts: list[str] = []
    name = _text(row.get("instance_type"))
    host = _text(row.get("hostname"))
    if name:
        parts.append(name)
    elif host:
        parts.append(f"{formats.UNKNOWN} ({host})")
    cores = formats.finite(row.get("cpu_cores"))
    if cores is not None and cores > 0:
        n = int(cores)
        parts.append(f"{n} core" if n == 1 else f"{n} cores")
    mem = format_mem_gb(row.get("mem_gb"))
    if mem:
        parts.append(mem)
    return ", ".join(parts)


def badges(row: Mapping[str, Any]) -> dict[str, str]:
    """All three badges of a row: {"rtf_badge": ..., "input_badge": ..., "host_badge": ...}."""
    return {
        "rtf_badge": rtf_badge(row),
        "input_badge": input_badge(row),
        "host_badge": host_badge(row),
    }
