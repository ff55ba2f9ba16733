"""The plan's badges: `RTF 1.3x`, `1080x1920 H.264 AAC, 2:30`, `c7i.large, 2 cores, 4GB`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from planner.badges import (
    badges,
    codec_name,
    host_badge,
    input_badge,
    rtf_badge,
)


def test_rtf_badge_from_the_rtf_column_one_decimal() -> None:
    assert rtf_badge({"rtf": 1.26}) == "RTF 1.3x"
    assert rtf_badge({"rtf": 0.04}) == "RTF 0.04x"


def test_rtf_badge_computed_from_input_and_wall_time_when_rtf_is_missing() -> None:
    row = {"rtf": None, "input_duration_seconds": 150.0, "duration_ms": 60000}
    assert rtf_badge(row) == "RTF 2.5x"
    assert rtf_badge({**row, "status": "failed"}) == ""  # stopped part-way: no speed


@pytest.mark.parametrize(
    "row",
    [{}, {"rtf": None}, {"rtf": float("nan")}, {"duration_ms": 0, "input_duration_seconds": 3}],
)
def test_rtf_badge_is_empty_when_unknown(row: dict[str, object]) -> None:
    assert rtf_badge(row) == ""


def test_input_badge_as_the_plan_shows_it() -> None:
    row = {
        "input_width": 1080,
        "input_height": 1920,
        "input_video_codec": "h264",
        "input_audio_codec": "aac",
        "input_duration_seconds": 150.2,
    }
    assert input_badge(row) == "1080x1920 H.264 AAC, 2:30"


def test_input_badge_audio_only_over_an_hour() -> None:
    row = {
        "input_width": None,
        "input_height": None,
        "input_video_codec": None,
        "input_audio_codec": "mp3",
        "input_duration_seconds": 3723.0,
    }
    assert input_badge(row) == "MP3, 1:02:03"


def test_input_badge_leaves_out_what_is_unknown_never_none() -> None:
    assert input_badge({"input_video_codec": "hevc"}) == "HEVC"
    assert input_badge({"input_duration_seconds": 7.4}) == "0:07"
    assert (
        input_badge(
            {
                "input_width": 640,
                "input_height": None,
                "input_video_codec": "vp9",
                "input_audio_codec": "opus",
            }
        )
        == "VP9 Opus"
    )
    assert input_badge({}) == ""
    assert "None" not in input_badge({k: None for k in ("input_width", "input_video_codec")})


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("h264", "H.264"),
        ("hevc", "HEVC"),
        ("vp9", "VP9"),
        ("prores", "ProRes"),
        ("aac", "AAC"),
        ("opus", "Opus"),
        ("mp3", "MP3"),
        ("av1", "AV1"),
        ("pcm_s16le", "PCM"),
        ("dvvideo", "DVVIDEO"),
        (None, None),
        ("", None),
    ],
)
def test_codec_names_as_people_write_them(raw: str | None, shown: str | None) -> None:
    assert codec_name(raw) == shown


def test_host_badge_as_the_plan_shows_it() -> None:
    assert host_badge({"instance_type": "c7i.large", "cpu_cores": 2, "mem_gb": 4.0}) == (
        "c7i.large, 2 cores, 4GB"
    )
    assert host_badge({"instance_type": "m5.large", "cpu_cores": 2, "mem_gb": 7.5}) == (
        "m5.large, 2 cores, 7.5GB"
    )
    assert host_badge({"instance_type": "t3.micro", "cpu_cores": 1, "mem_gb": 3.96}) == (
        "t3.micro, 1 core, 4GB"
    )


def test_host_badge_of_an_unknown_host() -> None:
    # Not on EC2 (no instance type): "unknown" as in every table, the host name beside it;
    # nothing known at all: empty.
    assert (
        host_badge({"instance_type": None, "hostname": "laptop", "cpu_cores": 8, "mem_gb": None})
        == "unknown (laptop), 8 cores"
    )
    assert (
        host_badge({"instance_type": None, "hostname": None, "cpu_cores": None, "mem_gb": None})
        == ""
    )


def test_badges_of_a_row() -> None:
    assert badges({"rtf": 2.0, "input_audio_codec": "aac", "instance_type": "c5.large"}) == {
        "rtf_badge": "RTF 2.0x",
        "input_badge": "AAC",
        "host_badge": "c5.large",
    }


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_rotated_phone_video_reads_portrait(tmp_path: Path) -> None:
    """A landscape-encoded stream with a 90 degree display matrix, probed for real, shows as
    the viewer sees it (portrait)."""
    probe = pytest.importorskip("collectors.probe")
    land, portrait = tmp_path / "land.mp4", tmp_path / "portrait.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=15:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
            str(land),
        ],
        check=True,
    )
    # ffmpeg 5.1 keeps the rotation only on a stream copy (FACTS.md).
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(land),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(portrait),
        ],
        check=True,
    )
    info = probe.probe_media_info(portrait, cache=None)
    row = {
        "input_width": info.width,
        "input_height": info.height,
        "input_video_codec": info.video_codec,
        "input_audio_codec": info.audio_codec,
        "input_duration_seconds": info.duration_seconds,
    }
    assert input_badge(row) == "180x320 H.264 AAC, 0:02"


def test_thumbnails_read_in_jobs_per_hour_not_rtf() -> None:
    # 442 ms of wall time: 3600 / 0.442 = 8,144.8 jobs an hour on one slot.
    row = {"job_type": "upload_thumb_v1", "rtf": 222.0, "duration_ms": 442,
           "status": "succeeded"}
    assert rtf_badge(row) == "8,145 jobs/h"
    assert rtf_badge({**row, "throughput_unit": "jobs", "job_type": "x"}) == "8,145 jobs/h"
    assert rtf_badge({**row, "status": "failed"}) == ""
    assert rtf_badge({**row, "job_type": "create_video_export_v1"}) == "RTF 222.0x"
