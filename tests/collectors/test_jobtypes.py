"""The four pipelines: argv builders and envelope maths (pure), then real ffmpeg on tiny media."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from collectors import jobtypes
from collectors.jobtypes import PeakAccumulator, PipelineError, checked_path, thumb_time


def make_media(path: Path, *, size: str | None = "320x240", seconds: float = 1.5,
               audio: bool = True, volume: float = 0.5) -> Path:
    """A tiny source: testsrc2 video (H.264) and/or a 440 Hz sine at `volume` (AAC)."""
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    if size:
        argv += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate=48000"]
    if size:
        argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        argv += ["-af", f"volume={volume}", "-c:a", "aac"]
    subprocess.run([*argv, str(path)], check=True)
    return path


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's JSON for `path` (values as parsed: strings, numbers, lists, objects)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    doc: dict[str, Any] = json.loads(out)
    return doc


def streams(path: Path) -> dict[str, dict[str, object]]:
    found: list[dict[str, object]] = probe(path)["streams"]
    return {str(s["codec_type"]): s for s in found}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    return {
        "land": make_media(d / "land.mp4"),
        "portrait": make_media(d / "portrait.mp4", size="480x640", seconds=1.0),
        "audio": make_media(d / "tone.m4a", size=None, seconds=2.0, volume=0.5),
    }


# --- pure ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["-i", "-y.mp4", "concat:a.mp4|b.mp4", "http://x/y.mp4", "",
                                 "a\x00b"])
def test_checked_path_refuses_options_and_protocols(bad: str) -> None:
    with pytest.raises(ValueError):
        checked_path(bad)


def test_relative_paths_are_passed_with_dot_slash() -> None:
    argv = jobtypes.export_argv(Path("in.mp4"), Path("out/x.mp4"))
    assert argv[argv.index("-i") + 1] == "./in.mp4"
    assert argv[-1] == "./out/x.mp4"
    assert jobtypes.export_argv(Path("/a/in.mp4"), Path("/b/o.mp4"))[-1] == "/b/o.mp4"


def test_export_argv_is_h264_aac_at_source_resolution() -> None:
    argv = jobtypes.export_argv(Path("/s.mov"), Path("/o.mp4"))
    assert argv[0] == "ffmpeg"
    assert argv[argv.index("-c:v") + 1] == "libx264"
    assert argv[argv.index("-c:a") + 1] == "aac"
    assert argv[argv.index("-vf") + 1] == "scale=trunc(iw/2)*2:trunc(ih/2)*2"


def test_proxy_argv_is_short_gop_fastdecode() -> None:
    argv = jobtypes.proxy_argv(Path("/s.mov"), Path("/o.mp4"))
    assert argv[argv.index("-g") + 1] == "12"
    assert argv[argv.index("-tune") + 1] == "fastdecode"
    assert argv[argv.index("-preset") + 1] == "ultrafast"


@pytest.mark.parametrize(
    ("duration", "at", "expected"),
    [(60.0, None, 6.0), (60.0, 12.5, 12.5), (4.0, 10.0, 2.0), (None, None, 0.0),
     (None, 3.0, 3.0), (10.0, -1.0, 0.0)],
)
def test_thumb_time_stays_inside_the_media(duration: float | None, at: float | None,
                                           expected: float) -> None:
    assert thumb_time(duration, at) == expected


def test_peak_accumulator_buckets_and_odd_chunks() -> None:
    import array

    pcm = array.array("h", [100, -200, 50, 0, 16384, -32768, 7])  # buckets of 3: 3 + 3 + 1
    raw = pcm.tobytes()  # little-endian on every machine we run on
    acc = PeakAccumulator(3)
    acc.feed(raw[:5])  # a split inside a sample must be carried over
    acc.feed(raw[5:])
    assert acc.finish() == [round(200 / 32768, 4), 1.0, round(7 / 32768, 4)]
    assert acc.samples == 7


def test_envelope_json_shape() -> None:
    doc = json.loads(jobtypes.envelope_json([0.5, 0.25], 8000, 0.1, 1600))
    assert doc == {"sampleRate": 8000, "bucketSeconds": 0.1, "durationSeconds": 0.2,
                   "peaks": [0.5, 0.25]}


# --- real ffmpeg --------------------------------------------------------------------------------

def test_export_keeps_resolution_and_makes_h264_aac(media: dict[str, Path], tmp_path: Path) -> None:
    seen: list[list[str]] = []
    result = jobtypes.run_export(media["land"], tmp_path / "e.mp4",
                                 on_command=lambda a: seen.append(list(a)))
    v = streams(result.output)["video"]
    assert (v["codec_name"], v["width"], v["height"]) == ("h264", 320, 240)
    s = streams(result.output)
    assert s["audio"]["codec_name"] == "aac"
    assert [list(c) for c in result.commands] == seen
    assert result.job_type == "create_video_export_v1"


def test_proxy_scales_portrait_short_side_to_360(media: dict[str, Path], tmp_path: Path) -> None:
    result = jobtypes.run_proxy(media["portrait"], tmp_path / "p.mp4")
    v = streams(result.output)["video"]
    assert (v["width"], v["height"]) == (360, 480)
    # A landscape source smaller than 360 px is not scaled up.
    v = streams(jobtypes.run_proxy(media["land"], tmp_path / "l.mp4").output)["video"]
    assert (v["width"], v["height"]) == (320, 240)


def test_thumb_is_one_jpeg(media: dict[str, Path], tmp_path: Path) -> None:
    result = jobtypes.run_thumb(media["land"], tmp_path / "t.jpg", at_s=9.0, duration_s=1.5)
    v = streams(result.output)["video"]
    assert (v["codec_name"], v["width"], v["height"]) == ("mjpeg", 320, 240)
    assert "0.750" in result.commands[0]  # 9 s is past the end: clamped to the middle


def test_envelope_peaks_of_a_half_scale_tone(media: dict[str, Path], tmp_path: Path) -> None:
    result = jobtypes.run_envelope(media["audio"], tmp_path / "env.json")
    doc = json.loads(result.output.read_text())
    assert doc["sampleRate"] == 8000 and doc["bucketSeconds"] == 0.1
    assert doc["durationSeconds"] == pytest.approx(2.0, abs=0.05)
    assert len(doc["peaks"]) in (20, 21)
    # lavfi's sine is 1/8 of full scale; volume=0.5 halves it: peaks near 0.0625 once AAC settles.
    middle = doc["peaks"][2:-2]
    assert all(0.05 <= p <= 0.075 for p in middle), middle


def test_envelope_of_a_video_without_audio_fails(tmp_path: Path) -> None:
    silent = make_media(tmp_path / "silent.mp4", audio=False, seconds=0.5)
    with pytest.raises(PipelineError) as err:
        jobtypes.run_envelope(silent, tmp_path / "env.json")
    assert err.value.returncode is not None and err.value.returncode != 0
    assert not (tmp_path / "env.json").exists()


def test_missing_input_raises_with_ffmpeg_message(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="No such file"):
        jobtypes.run_job("create_video_export_v1", tmp_path / "nope.mp4", tmp_path / "o.mp4")
    with pytest.raises(ValueError, match="unknown job type"):
        jobtypes.run_job("transcode_v9", tmp_path / "a", tmp_path / "b")


def test_module_entry_point_runs_a_pipeline(media: dict[str, Path], tmp_path: Path) -> None:
    assert jobtypes.main(["upload_thumb_v1", str(media["land"]), str(tmp_path / "t.jpg"),
                          "--duration", "1.5"]) == 0
    assert (tmp_path / "t.jpg").stat().st_size > 1000
    assert jobtypes.main(["upload_thumb_v1", str(tmp_path / "missing.mp4"),
                          str(tmp_path / "u.jpg")]) == 1
