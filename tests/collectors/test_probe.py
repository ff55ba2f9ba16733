"""probe_media_info on real media made by ffmpeg, and parse_ffprobe_json on canned JSON."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors import probe
from collectors.probe import (
    MediaInfo,
    ProbeCache,
    ProbeError,
    cache_scope,
    parse_ffprobe_json,
    probe_media_info,
)
from tests.collectors.conftest import runs
from tests.media import EXPECTED, make_media

FRAME_S = 1 / 25  # every video kind runs at 25 fps: "within a frame"


# --- real media -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_probe_reports_what_ffmpeg_made(kind: str, media_dir: Path) -> None:
    path = make_media(kind, media_dir)
    info = probe_media_info(path, cache=None)
    expected = dict(EXPECTED[kind])
    duration = expected.pop("duration_seconds", "any")
    for field, value in expected.items():
        assert getattr(info, field) == value, field
    if duration is None:
        assert info.duration_seconds is None
    elif duration != "any":
        assert info.duration_seconds == pytest.approx(duration, abs=FRAME_S)
    assert info.size_bytes == path.stat().st_size


def test_h264_aac_1080p_bitrate_is_the_container_rate(media_dir: Path) -> None:
    path = make_media("h264_aac", media_dir)
    info = probe_media_info(path, cache=None)
    fmt = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)],
        capture_output=True, check=True, text=True).stdout)["format"]
    assert info.bitrate_kbps == round(int(fmt["bit_rate"]) / 1000, 1)
    assert info.format_name == "mov,mp4,m4a,3gp,3g2,mj2"
    # A 1080p testsrc2 at ultrafast is megabits per second, not kilobits.
    assert 2000 < info.bitrate_kbps < 50000


def test_portrait_is_stored_landscape_but_reported_as_displayed(media_dir: Path) -> None:
    path = make_media("portrait", media_dir)
    stream = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json",
         str(path)], capture_output=True, check=True, text=True).stdout)["streams"][0]
    assert (stream["width"], stream["height"]) == (1920, 1080)
    info = probe_media_info(path, cache=None)
    assert (info.width, info.height) == (1080, 1920)


def test_cover_art_of_an_mp3_is_not_video(media_dir: Path) -> None:
    path = make_media("audio_cover", media_dir)
    streams = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True, check=True, text=True).stdout)["streams"]
    assert [(s["codec_type"], s["disposition"]["attached_pic"]) for s in streams] == \
        [("audio", 0), ("video", 1)]
    info = probe_media_info(path, cache=None)
    assert (info.video_codec, info.width, info.height, info.fps) == (None, None, None, None)
    assert info.audio_codec == "mp3"


def test_raw_h264_has_no_duration_so_no_bitrate(media_dir: Path) -> None:
    info = probe_media_info(make_media("raw_h264", media_dir), cache=None)
    assert info.format_name == "h264"
    assert info.duration_seconds is None and info.bitrate_kbps is None
    assert (info.width, info.height, info.fps) == (320, 240, 25.0)


def test_bitrate_falls_back_to_size_over_duration(media_dir: Path) -> None:
    """Real ffprobe JSON of a WAV with the container's bit_rate taken out."""
    path = make_media("wav", media_dir)
    doc = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, check=True, text=True).stdout)
    del doc["format"]["bit_rate"]
    size = path.stat().st_size
    info = parse_ffprobe_json(json.dumps(doc), size)
    assert info.bitrate_kbps == round(size * 8 / 2.0 / 1000, 1)
    assert info.duration_seconds == 2.0


@pytest.mark.parametrize(("kind", "error_kind", "words"), [
    ("truncated", "corrupt", "corrupt or truncated"),
    ("text", "not_media", "not a media file"),
])
def test_unreadable_media_raises_one_typed_error(
    kind: str, error_kind: str, words: str, media_dir: Path
) -> None:
    path = make_media(kind, media_dir)
    with pytest.raises(ProbeError) as err:
        probe_media_info(path, cache=None)
    assert err.value.kind == error_kind
    assert words in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize(("name", "kind", "words"), [
    # Named .mp4, ffmpeg tries the MP4 demuxer, which finds no index: corrupt MP4.
    ("noise.mp4", "corrupt", "corrupt or truncated media"),
    # Named .bin, ffmpeg picks its "bin" (ANSI art) demuxer, which is not offered to it.
    ("noise.bin", "not_media", "reads it as 'bin'"),
])
def test_random_bytes(name: str, kind: str, words: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(ProbeError) as err:
        probe_media_info(path, cache=None)
    assert err.value.kind == kind and words in str(err.value)


def test_missing_file_and_directory(tmp_path: Path, ffprobe_runs: Path) -> None:
    with pytest.raises(ProbeError) as err:
        probe_media_info(tmp_path / "nope.mp4")
    assert err.value.kind == "missing"
    assert str(err.value) == f"no such file: {tmp_path / 'nope.mp4'}"
    with pytest.raises(ProbeError) as err:
        probe_media_info(tmp_path)
    assert err.value.kind == "not_media"
    assert runs(ffprobe_runs) == 0


# --- hostile paths --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "-i", "-version", "concat:a.mp4|b.mp4", "http://example.com/a.mp4", "https://h/x.mp4",
    "pipe:0", "pipe:", "file:/etc/passwd", "subfile,,start,0,end,10,,:/etc/passwd",
    "tcp://127.0.0.1:1", "data:video/mp4;base64,AAAA", "",
])
def test_hostile_paths_are_refused_without_running_ffprobe(
    path: str, ffprobe_runs: Path
) -> None:
    with pytest.raises(ProbeError) as err:
        probe_media_info(path)
    assert err.value.kind == "refused"
    assert runs(ffprobe_runs) == 0


def test_refusal_message_strips_url_credentials() -> None:
    with pytest.raises(ProbeError) as err:
        probe_media_info("https://user:pw@h/x.mp4?X-Amz-Signature=secret")
    assert "secret" not in str(err.value) and "pw" not in str(err.value)
    assert "https://h/x.mp4" in str(err.value)


def test_a_local_file_named_like_a_protocol_is_probed_as_a_file(
    media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "concat:x.mp4").write_bytes(make_media("video_only", media_dir).read_bytes())
    monkeypatch.chdir(tmp_path)
    assert probe_media_info("./concat:x.mp4", cache=None).video_codec == "h264"


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_crafted_playlists_reach_no_url_and_no_other_file(
    media_dir: Path, tmp_path: Path, web_server: tuple[str, list[str]]
) -> None:
    url, hits = web_server
    other = make_media("video_only", media_dir)
    hls = tmp_path / "upload.mp4"
    hls.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
        f"#EXTINF:2.0,\n{url}/seg.ts\n#EXTINF:2.0,\n{other}\n#EXT-X-ENDLIST\n"
    )
    concat = tmp_path / "upload2.mp4"
    concat.write_text(f"ffconcat version 1.0\nfile {other}\nfile {url}/seg.ts\n")
    for path, demuxer in ((hls, "hls"), (concat, "concat")):
        with pytest.raises(ProbeError) as err:
            probe_media_info(path, cache=None)
        assert err.value.kind == "not_media"
        assert f"reads it as {demuxer!r}" in str(err.value)
    assert hits == []


def test_allow_protocols_passes_the_url_through(media_dir: Path) -> None:
    path = make_media("video_only", media_dir)
    info = probe_media_info(f"file:{path}", allow_protocols=True, cache=None)
    assert info.video_codec == "h264" and info.size_bytes == path.stat().st_size
    with pytest.raises(ProbeError) as err:
        probe_media_info("-f", allow_protocols=True)
    assert err.value.kind == "refused"


def test_safe_demuxers_exist_and_exclude_the_ones_that_open_other_files() -> None:
    out = subprocess.run(["ffprobe", "-hide_banner", "-demuxers"], capture_output=True,
                         text=True, check=True).stdout
    known = {name for line in out.splitlines()[4:] if len(line.split()) > 1
             for name in line.split()[1].split(",")}
    assert set(probe.SAFE_DEMUXERS) <= known
    assert not {"hls", "concat", "image2", "dash", "webm_dash_manifest", "ffmetadata",
                "sdp", "rtsp", "tee"} & set(probe.SAFE_DEMUXERS)


# --- ffprobe missing, slow ------------------------------------------------------------------

def test_no_ffprobe_on_path(media_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "FFPROBE", "ffprobe-not-installed-here")
    with pytest.raises(ProbeError) as err:
        probe_media_info(make_media("video_only", media_dir), cache=None)
    assert err.value.kind == "no_ffprobe"
    assert "install ffmpeg" in str(err.value)


@pytest.fixture
def hanging_ffprobe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper = tmp_path / "ffprobe-hangs"
    # A child process too: the timeout must kill the whole group, not just the shell.
    wrapper.write_text("#!/bin/sh\nsleep 30 &\nsleep 30\n")
    wrapper.chmod(0o755)
    monkeypatch.setattr(probe, "FFPROBE", str(wrapper))


@pytest.mark.usefixtures("hanging_ffprobe")
def test_timeout_kills_ffprobe(media_dir: Path) -> None:
    path = make_media("video_only", media_dir)
    t0 = time.monotonic()
    with pytest.raises(ProbeError) as err:
        probe_media_info(path, timeout=0.3, cache=None)
    assert err.value.kind == "timeout"
    assert str(err.value) == f"ffprobe took longer than 0.3 s on {path}"
    assert time.monotonic() - t0 < 20  # it did not wait for the 30 s sleeps (loose: load)


@pytest.mark.usefixtures("hanging_ffprobe")
def test_timeout_default_comes_from_the_environment(
    media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAJOB_PROBE_TIMEOUT", "0.2")
    with pytest.raises(ProbeError, match=r"longer than 0\.2 s") as err:
        probe_media_info(make_media("video_only", media_dir), cache=None)
    assert err.value.kind == "timeout"
    with pytest.raises(ValueError, match="timeout must be > 0"):
        probe_media_info(make_media("video_only", media_dir), timeout=0, cache=None)


# --- cache ----------------------------------------------------------------------------------

def test_cache_runs_ffprobe_once_per_path_and_version(
    media_dir: Path, tmp_path: Path, ffprobe_runs: Path
) -> None:
    path = tmp_path / "in.mp4"
    path.write_bytes(make_media("video_only", media_dir).read_bytes())
    cache = ProbeCache()
    first = probe_media_info(path, cache=cache)
    assert probe_media_info(str(path), cache=cache) is first
    (tmp_path / "link.mp4").symlink_to(path)
    assert probe_media_info(tmp_path / "link.mp4", cache=cache) is first
    assert runs(ffprobe_runs) == 1 and cache.runs == 1
    # Rewritten file (new mtime): probed again.
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    probe_media_info(path, cache=cache)
    assert runs(ffprobe_runs) == 2
    # No cache: every call runs ffprobe.
    probe_media_info(path, cache=None)
    probe_media_info(path, cache=None)
    assert runs(ffprobe_runs) == 4


def test_default_cache_is_the_current_scope(media_dir: Path, ffprobe_runs: Path) -> None:
    path = make_media("audio_only", media_dir)
    probe_media_info(path)
    probe_media_info(path)
    assert runs(ffprobe_runs) == 2  # outside any attempt: no caching
    with cache_scope(ProbeCache()) as cache:
        probe_media_info(path)
        probe_media_info(path)
    assert runs(ffprobe_runs) == 3 and len(cache) == 1
    assert probe.current_cache() is None


# --- the parser alone -----------------------------------------------------------------------

def _doc(streams: list[dict[str, object]], fmt: dict[str, object] | None = None) -> str:
    return json.dumps({"streams": streams, "format": {"duration": "10.0"} if fmt is None else fmt})


VIDEO = {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
         "avg_frame_rate": "30000/1001", "r_frame_rate": "30000/1001"}


@pytest.mark.parametrize(("extra", "size"), [
    ({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}, (1080, 1920)),
    ({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": 270}]}, (1080, 1920)),
    ({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": 180}]}, (1920, 1080)),
    ({"tags": {"rotate": "90"}}, (1080, 1920)),
    ({"tags": {"rotate": "0"}}, (1920, 1080)),
    ({}, (1920, 1080)),
])
def test_rotation_from_display_matrix_or_legacy_tag(
    extra: dict[str, object], size: tuple[int, int]
) -> None:
    info = parse_ffprobe_json(_doc([{**VIDEO, **extra}]), 1000)
    assert (info.width, info.height) == size
    assert info.fps == 29.97


def test_parser_values_and_fallbacks() -> None:
    info = parse_ffprobe_json(
        _doc([{**VIDEO, "avg_frame_rate": "0/0", "r_frame_rate": "25/1"},
              {"codec_type": "audio", "codec_name": "aac"}],
             {"duration": "N/A", "format_name": "mpegts"}),
        2_500_000,
    )
    assert info == MediaInfo(duration_seconds=None, width=1920, height=1080,
                             video_codec="h264", audio_codec="aac", bitrate_kbps=None,
                             fps=25.0, size_bytes=2_500_000, format_name="mpegts")
    # Per-stream duration when the container has none; bit rate from size/duration.
    info = parse_ffprobe_json(
        _doc([{**VIDEO, "duration": "4.0"}, {"codec_type": "audio", "codec_name": "aac",
                                              "duration": "5.0"}], {}), 2_500_000)
    assert info.duration_seconds == 5.0 and info.bitrate_kbps == 4000.0


def test_cover_art_is_not_video() -> None:
    cover = {"codec_type": "video", "codec_name": "mjpeg", "width": 600, "height": 600,
             "disposition": {"attached_pic": 1}}
    info = parse_ffprobe_json(
        _doc([{"codec_type": "audio", "codec_name": "mp3"}, cover],
             {"duration": "180.5", "bit_rate": "320000"}), None)
    assert (info.video_codec, info.width, info.height, info.fps) == (None, None, None, None)
    assert (info.audio_codec, info.duration_seconds, info.bitrate_kbps) == ("mp3", 180.5, 320.0)


@pytest.mark.parametrize(("text", "kind"), [
    ("not json", "failed"),
    ("[]", "failed"),
    (_doc([{"codec_type": "subtitle", "codec_name": "subrip"}]), "not_media"),
    (_doc([]), "not_media"),
])
def test_parser_rejects_output_without_media(text: str, kind: str) -> None:
    with pytest.raises(ProbeError) as err:
        parse_ffprobe_json(text, 10)
    assert err.value.kind == kind
