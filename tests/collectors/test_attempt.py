"""The attempt API around real ffmpeg jobs and real ffprobe, rows checked against the schema."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from collectors import InMemorySink, attempt, config, jobtypes, schema, start_attempt
from collectors.attempt import (
    PRIMARY_INPUT_RULES,
    Attempt,
    error_text,
    primary_input_for,
    real_time_factor,
)
from collectors.host import reset_host_metrics
from collectors.probe import current_cache, probe_media_info
from collectors.redact import command_line
from tests.collectors.conftest import install_ffprobe_wrapper, runs
from tests.media import EXPECTED, make_media


@pytest.fixture(autouse=True)
def worker_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_INSTANCE_TYPE", "c7i.large")  # no IMDS look-up in these tests
    for name in ("MEDIAJOB_METRICS", "MEDIAJOB_METRICS_URL", "MEDIAJOB_PROBE_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    reset_host_metrics()
    yield
    reset_host_metrics()


@pytest.fixture
def sink() -> InMemorySink:
    return InMemorySink()


# --- a real job -----------------------------------------------------------------------------

def test_successful_thumbnail_job_row_and_manifest(
    media_dir: Path, tmp_path: Path, sink: InMemorySink
) -> None:
    src = make_media("h264_aac", media_dir)
    dst = tmp_path / "thumb.jpg"
    before = dt.datetime.now(dt.UTC)
    with attempt("upload_thumb_v1", "job-1", attempt_number=2, attempt_id="att-1",
                 inputs=[src], sink=sink, sampler=None) as a:
        result = jobtypes.run_thumb(src, dst, duration_s=2.0, on_command=a.add_ffmpeg_command)
        a.set_output(dst)
        assert a.row is None  # not before the block ends
    row = a.row
    assert row is not None and sink.rows == [row]
    assert schema.validate_row(row) == row

    expected = EXPECTED["h264_aac"]
    assert row["attempt_id"] == "att-1" and row["job_id"] == "job-1"
    assert row["job_type"] == "upload_thumb_v1" and row["attempt_number"] == 2
    assert (row["status"], row["error"], row["metrics_error"]) == ("succeeded", None, None)
    assert row["input_duration_seconds"] == expected["duration_seconds"]
    assert (row["input_width"], row["input_height"]) == (1920, 1080)
    assert (row["input_video_codec"], row["input_audio_codec"]) == ("h264", "aac")
    assert row["input_fps"] == 25.0
    assert row["input_size_bytes"] == src.stat().st_size
    assert row["input_bitrate_kbps"] == probe_media_info(src, cache=None).bitrate_kbps
    assert row["input_format"] == "mov,mp4,m4a,3gp,3g2,mj2"
    assert row["output_size_bytes"] == dst.stat().st_size
    assert row["ffmpeg_commands"] == [shlex.join(result.commands[0])]
    assert row["throughput_unit"] == "jobs"  # RTF is recorded, but thumbnails count as jobs
    assert row["rtf"] == round(2.0 / (row["duration_ms"] / 1000), 4)
    assert row["duration_ms"] > 0 and row["probe_ms"] >= 0
    assert before <= row["started_at"] <= row["finished_at"] <= dt.datetime.now(dt.UTC)
    assert row["instance_type"] == "c7i.large" and row["cpu_cores"] == os.cpu_count()
    assert row["collector_version"] == "0.1.0"
    assert row["schema_version"] == schema.SCHEMA_VERSION == 2
    assert row["synthetic"] is False
    assert row["cpu_pct_avg"] is None and row["cpu_sample_count"] is None  # sampler=None

    metrics = a.metrics
    assert metrics is not None
    assert metrics["durationMs"] == row["duration_ms"] and metrics["rtf"] == row["rtf"]
    assert metrics["input"] == {
        "durationSeconds": 2.0, "videoCodec": "h264", "audioCodec": "aac", "width": 1920,
        "height": 1080, "bitrateKbps": row["input_bitrate_kbps"], "fps": 25.0,
        "sizeBytes": src.stat().st_size, "format": "mov,mp4,m4a,3gp,3g2,mj2",
    }
    assert metrics["host"]["instanceType"] == "c7i.large"
    assert metrics["host"]["cpuCores"] == row["cpu_cores"]
    assert metrics["status"] == "succeeded"


def test_portrait_thumbnail_job(media_dir: Path, tmp_path: Path, sink: InMemorySink) -> None:
    src = make_media("portrait", media_dir)
    with attempt("upload_thumb_v1", "job-p", inputs=[src], sink=sink, sampler=None) as a:
        assert a.input_info is not None
        jobtypes.run_thumb(src, tmp_path / "t.jpg", duration_s=a.input_info.duration_seconds)
    assert a.row is not None
    assert (a.row["input_width"], a.row["input_height"]) == (1080, 1920)
    # Thumbnails: RTF is recorded, but the planner counts jobs.
    assert a.row["throughput_unit"] == "jobs" and a.row["rtf"] is not None


def test_probe_time_is_kept_apart_from_the_job_time(
    media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sink: InMemorySink
) -> None:
    install_ffprobe_wrapper(tmp_path, monkeypatch, "sleep 0.4")  # a slow ffprobe
    with attempt("upload_thumb_v1", "job-2", inputs=[make_media("video_only", media_dir)],
                 sink=sink, sampler=None) as a:
        pass  # a job that does nothing
    assert a.row is not None
    assert a.row["probe_ms"] >= 400
    assert a.row["duration_ms"] < a.row["probe_ms"]


# --- failures -------------------------------------------------------------------------------

def test_the_jobs_exception_passes_through_unchanged(
    media_dir: Path, sink: InMemorySink
) -> None:
    boom = ValueError("bad frame at 00:01")
    with pytest.raises(ValueError) as caught, attempt(
        "create_video_export_v1", "job-3", inputs=[make_media("video_only", media_dir)],
        sink=sink, sampler=None,
    ) as a:
        raise boom
    assert caught.value is boom
    row = a.row
    assert row is not None and sink.rows == [row]
    assert (row["status"], row["error"]) == ("failed", "ValueError: bad frame at 00:01")
    assert row["rtf"] is None  # the job did not get through its input
    assert row["input_duration_seconds"] == 2.0 and row["duration_ms"] >= 0


def test_a_failing_ffmpeg_on_a_truncated_input(
    media_dir: Path, tmp_path: Path, sink: InMemorySink
) -> None:
    src = make_media("truncated", media_dir)
    with pytest.raises(jobtypes.PipelineError), attempt(
        "upload_edit_proxy_v1", "job-4", inputs=[src], sink=sink, sampler=None
    ) as a:
        jobtypes.run_proxy(src, tmp_path / "out.mp4", on_command=a.add_ffmpeg_command)
    row = a.row
    assert row is not None
    assert row["status"] == "failed"
    assert row["error"].startswith("PipelineError: ffmpeg exited with 1")
    assert row["metrics_error"] == (
        f"probe corrupt: corrupt or truncated media: {src} "
        "(Invalid data found when processing input)")
    assert row["input_duration_seconds"] is None and row["rtf"] is None
    assert len(row["ffmpeg_commands"]) == 1  # recorded before it ran


def test_keyboard_interrupt_is_recorded_and_reraised(sink: InMemorySink) -> None:
    with pytest.raises(KeyboardInterrupt), attempt("upload_thumb_v1", "job-5", sink=sink,
                                                   sampler=None):
        raise KeyboardInterrupt
    assert sink.rows[0]["status"] == "failed" and sink.rows[0]["error"] == "KeyboardInterrupt"


@pytest.mark.parametrize(("kind", "note"), [
    ("text", "probe not_media: not a media file:"),
    ("missing", "probe missing: no such file:"),
])
def test_unprobeable_input_does_not_fail_the_job(
    kind: str, note: str, media_dir: Path, tmp_path: Path, sink: InMemorySink
) -> None:
    src = make_media(kind, media_dir) if kind != "missing" else tmp_path / "gone.mp4"
    with attempt("upload_thumb_v1", "job-6", inputs=[src], sink=sink, sampler=None) as a:
        pass
    row = a.row
    assert row is not None and row["status"] == "succeeded"
    assert row["metrics_error"].startswith(note)
    assert row["input_duration_seconds"] is None and row["rtf"] is None
    assert row["cpu_cores"] is not None  # the other steps still ran


@pytest.mark.parametrize("path", ["concat:/a.mp4|/b.mp4", "-i", "https://h/v.mp4?sig=SECRET"])
def test_hostile_inputs_are_not_probed(
    path: str, sink: InMemorySink, ffprobe_runs: Path
) -> None:
    with attempt("upload_edit_proxy_v1", "job-7", inputs=[path], sink=sink, sampler=None) as a:
        pass
    assert runs(ffprobe_runs) == 0
    assert a.row is not None and a.row["metrics_error"].startswith("probe refused:")
    assert "SECRET" not in a.row["metrics_error"]


class _BrokenSink(InMemorySink):
    def append(self, row: Mapping[str, Any]) -> None:
        raise OSError("disk full")


class _BrokenSampler:
    def start(self) -> None:
        raise RuntimeError("no /proc here")

    def stop(self) -> Any:
        raise AssertionError("never started")


def test_broken_sink_and_sampler_do_not_fail_the_job(media_dir: Path) -> None:
    with attempt("upload_thumb_v1", "job-8", inputs=[make_media("video_only", media_dir)],
                 sink=_BrokenSink(), sampler=_BrokenSampler()) as a:
        ran = True
    assert ran and a.row is not None and a.row["status"] == "succeeded"
    assert a.row["metrics_error"] == "sampler: RuntimeError: no /proc here"


# --- the flag -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "false", "off", "OFF", "no"])
def test_metrics_off_means_no_probe_no_row_no_thread(
    value: str, media_dir: Path, monkeypatch: pytest.MonkeyPatch, sink: InMemorySink,
    ffprobe_runs: Path,
) -> None:
    monkeypatch.setenv("MEDIAJOB_METRICS", value)
    src = make_media("video_only", media_dir)
    threads = set(threading.enumerate())
    with pytest.raises(ValueError, match="job failed"), attempt(
        "upload_edit_proxy_v1", "job-9", inputs=[src], sink=sink  # default sampler and sink
    ) as a:
        assert set(threading.enumerate()) == threads
        a.add_ffmpeg_command(["ffmpeg", "-i", str(src)])
        assert current_cache() is None
        raise ValueError("job failed")
    assert runs(ffprobe_runs) == 0
    assert sink.rows == [] and a.row is None and a.metrics is None and not a.enabled
    with attempt("upload_edit_proxy_v1", "job-10", inputs=[src], sink=sink) as a:
        ran = True
    assert ran and sink.rows == [] and runs(ffprobe_runs) == 0


def test_a_flag_that_is_neither_on_nor_off_keeps_metrics_on_and_says_so_once(
    media_dir: Path, monkeypatch: pytest.MonkeyPatch, sink: InMemorySink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(config, "_logged", set())
    monkeypatch.setenv("MEDIAJOB_METRICS", "disabled")  # meant off, but not a word we know
    src = make_media("video_only", media_dir)
    with caplog.at_level(logging.WARNING, logger="collectors"):
        for job in ("job-41", "job-42"):
            with attempt("upload_thumb_v1", job, inputs=[src], sink=sink, sampler=None):
                pass
    assert [r["job_id"] for r in sink.rows] == ["job-41", "job-42"]
    warnings = [r.getMessage() for r in caplog.records if "MEDIAJOB_METRICS" in r.getMessage()]
    assert warnings == ["ignoring MEDIAJOB_METRICS='disabled' (not valid); using 'on'"]


# --- the probe cache ------------------------------------------------------------------------

def test_the_job_probing_its_input_again_runs_no_ffprobe(
    media_dir: Path, sink: InMemorySink, ffprobe_runs: Path
) -> None:
    src = make_media("audio_only", media_dir)
    with attempt("upload_audio_envelope_v1", "job-11", inputs=[src], sink=sink,
                 sampler=None) as a:
        info = probe_media_info(src)  # e.g. the job wants the duration too
        assert current_cache() is a.probe_cache
    assert info is a.input_info and runs(ffprobe_runs) == 1
    assert current_cache() is None
    probe_media_info(src)  # outside the attempt: a real run
    assert runs(ffprobe_runs) == 2


def test_threads_the_job_starts_share_the_attempts_cache(
    media_dir: Path, sink: InMemorySink, ffprobe_runs: Path
) -> None:
    src = make_media("audio_only", media_dir)
    with attempt("upload_audio_envelope_v1", "job-21", inputs=[src], sink=sink,
                 sampler=None) as a, ThreadPoolExecutor(max_workers=4) as pool:
        infos = list(pool.map(lambda _: probe_media_info(src), range(8)))
        caches = set(pool.map(lambda _: current_cache(), range(8)))
        assert runs(ffprobe_runs) == 1  # the attempt's own probe, none from the threads
    assert caches == {a.probe_cache} and all(i == a.input_info for i in infos)
    # After the attempt a thread has no cache: each probe is a real run.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(current_cache).result() is None
        pool.submit(probe_media_info, src).result()
    assert runs(ffprobe_runs) == 2


def test_with_two_attempts_open_a_thread_of_neither_caches_nothing(
    media_dir: Path, sink: InMemorySink, ffprobe_runs: Path
) -> None:
    src = make_media("audio_only", media_dir)
    first = start_attempt("upload_audio_envelope_v1", "job-22", inputs=[src], sink=sink,
                          sampler=None)
    second = start_attempt("upload_audio_envelope_v1", "job-23", inputs=[src], sink=sink,
                           sampler=None)
    assert runs(ffprobe_runs) == 2  # one cache each
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(current_cache).result() is None  # whose? neither
        pool.submit(probe_media_info, src).result()
        assert runs(ffprobe_runs) == 3
        second.finish()
        assert pool.submit(current_cache).result() is first.probe_cache  # one open again
        pool.submit(probe_media_info, src).result()
        assert runs(ffprobe_runs) == 3
    first.finish()
    assert len(sink.rows) == 2


# --- primary input --------------------------------------------------------------------------

def test_primary_input_rules(tmp_path: Path) -> None:
    small, big = tmp_path / "logo.mov", tmp_path / "footage.mov"
    small.write_bytes(b"x" * 10)
    big.write_bytes(b"x" * 1000)
    music, video, subs = tmp_path / "bed.mp3", tmp_path / "clip.mp4", tmp_path / "c.srt"
    assert set(PRIMARY_INPUT_RULES) == set(schema.JOB_TYPES)
    assert primary_input_for("create_video_export_v1", [small, big, music]) == big
    assert primary_input_for("upload_edit_proxy_v1", [subs, video]) == video
    assert primary_input_for("upload_thumb_v1", [subs, video, small]) == video
    assert primary_input_for("upload_audio_envelope_v1", [video, music]) == music
    assert primary_input_for("upload_audio_envelope_v1", [subs, video]) == video
    assert primary_input_for("upload_edit_proxy_v1", ["s3://b/in.MOV?x=1", subs]) == \
        "s3://b/in.MOV?x=1"
    assert primary_input_for("some_new_job_v1", [subs, video]) == subs
    for job_type in schema.JOB_TYPES:
        assert primary_input_for(job_type, []) is None


def test_explicit_primary_input_wins(media_dir: Path, sink: InMemorySink) -> None:
    video, audio = make_media("video_only", media_dir), make_media("wav", media_dir)
    with attempt("upload_audio_envelope_v1", "job-12", inputs=[video, audio],
                 primary_input=video, sink=sink, sampler=None) as a:
        pass
    assert a.primary_input == video and a.row is not None
    assert a.row["input_video_codec"] == "h264"
    with attempt("upload_audio_envelope_v1", "job-13", inputs=[video, audio], sink=sink,
                 sampler=None) as b:
        pass
    assert b.primary_input == audio and b.row is not None
    assert b.row["input_audio_codec"] == "pcm_s16le" and b.row["input_video_codec"] is None


def test_no_inputs_is_not_an_error(sink: InMemorySink) -> None:
    with attempt("upload_thumb_v1", "job-14", sink=sink, sampler=None) as a:
        pass
    assert a.row is not None
    assert a.row["metrics_error"] is None and a.row["probe_ms"] is None
    assert a.row["input_duration_seconds"] is None and a.row["rtf"] is None


# --- sampler hook ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Summary:
    cpu_pct_avg: float | None
    cpu_pct_max: float | None
    mem_rss_mb_max: float | None
    sample_count: int


class _ListSampler:
    """A sampler that reports what it is told to (the hook's contract, nothing more)."""

    def __init__(self, summary: _Summary) -> None:
        self.summary = summary
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> _Summary:
        self.calls.append("stop")
        return self.summary


def test_sampler_hook_fields(sink: InMemorySink) -> None:
    sampler = _ListSampler(_Summary(150.5, 199.0, 42.5, 7))
    with attempt("upload_thumb_v1", "job-15", sink=sink, sampler=sampler) as a:
        assert sampler.calls == ["start"]
    assert sampler.calls == ["start", "stop"] and a.row is not None
    assert (a.row["cpu_pct_avg"], a.row["cpu_pct_max"], a.row["mem_rss_mb_max"],
            a.row["cpu_sample_count"]) == (150.5, 199.0, 42.5, 7)
    assert a.metrics is not None and a.metrics["cpuPctAvg"] == 150.5


def test_sampler_that_saw_nothing_gives_nulls_not_zeros(sink: InMemorySink) -> None:
    with attempt("upload_thumb_v1", "job-16", sink=sink,
                 sampler=_ListSampler(_Summary(0.0, 0.0, 0.0, 1))) as a:
        pass
    assert a.row is not None
    assert (a.row["cpu_pct_avg"], a.row["mem_rss_mb_max"], a.row["cpu_sample_count"]) == \
        (None, None, 1)


@pytest.mark.parametrize(("summary", "expected"), [
    (_Summary(80.0, 120.0, None, 3), (80.0, 120.0, None)),  # memory unreadable, CPU seen
    (_Summary(0.0, 0.0, 35.0, 3), (0.0, 0.0, 35.0)),  # an idle process: 0 % is true
])
def test_a_sampler_side_seen_alone_is_kept(sink: InMemorySink, summary: _Summary,
                                           expected: tuple[Any, ...]) -> None:
    with attempt("upload_thumb_v1", "job-17", sink=sink, sampler=_ListSampler(summary)) as a:
        pass
    assert a.row is not None
    assert (a.row["cpu_pct_avg"], a.row["cpu_pct_max"], a.row["mem_rss_mb_max"]) == expected
    assert a.row["cpu_sample_count"] == 3


def test_default_sampler_measures_the_jobs_ffmpeg(
    media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sink: InMemorySink
) -> None:
    monkeypatch.setenv("MEDIAJOB_SAMPLE_INTERVAL", "0.05")
    src = make_media("video_only", media_dir)
    with attempt("create_video_export_v1", "job-17", inputs=[src], sink=sink) as a:
        jobtypes.run_export(src, tmp_path / "export.mp4", on_command=a.add_ffmpeg_command)
    row = a.row
    assert row is not None and row["status"] == "succeeded"
    assert row["throughput_unit"] == "media_seconds"
    assert row["rtf"] == round(2.0 / (row["duration_ms"] / 1000), 4)
    assert row["cpu_sample_count"] >= 1
    assert row["cpu_pct_max"] > 0 and row["cpu_pct_avg"] > 0
    assert row["mem_rss_mb_max"] > 5  # an ffmpeg was seen, not just the shell


# --- plain start/finish ---------------------------------------------------------------------

def test_one_input_path_and_a_numeric_string_attempt_number(
    media_dir: Path, sink: InMemorySink, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_media("portrait", media_dir)
    # As a worker would pass them from a job's JSON: one path, the attempt number a string.
    loose: dict[str, Any] = {"inputs": str(src), "attempt_number": "2"}
    with attempt("upload_thumb_v1", "job-s", sink=sink, sampler=None, **loose) as a:
        pass
    assert a.row is not None and a.row["metrics_error"] is None
    assert (a.row["input_width"], a.row["input_height"], a.row["attempt_number"]) == (1080, 1920, 2)
    # Metrics off: not even a bad argument stops the job.
    monkeypatch.setenv("MEDIAJOB_METRICS", "0")
    bad: dict[str, Any] = {"attempt_number": "first"}
    with attempt("", "", sink=sink, **bad) as off:
        ran = True
    assert ran and off.row is None and len(sink.rows) == 1


def test_start_finish_api(media_dir: Path, sink: InMemorySink) -> None:
    a = start_attempt("upload_audio_envelope_v1", "job-18",
                      inputs=[make_media("audio_only", media_dir)], sink=sink, sampler=None)
    assert isinstance(a, Attempt) and len(a.attempt_id) == 32
    int(a.attempt_id, 16)  # uuid4 hex
    row = a.finish(error="Timeout: worker lease lost")
    assert row is not None and a.finish() is row and sink.rows == [row]
    assert (row["status"], row["error"]) == ("failed", "Timeout: worker lease lost")
    b = start_attempt("upload_audio_envelope_v1", "job-18", sink=sink, sampler=None)
    assert b.attempt_id != a.attempt_id
    with pytest.raises(RuntimeError, match="already started"):
        b.start()
    with pytest.raises(ValueError, match="attempt_number"):
        start_attempt("upload_thumb_v1", "job-19", attempt_number=0)


def test_finish_from_another_thread(media_dir: Path, sink: InMemorySink) -> None:
    a = start_attempt("upload_thumb_v1", "job-20", inputs=[make_media("video_only", media_dir)],
                      sink=sink, sampler=None)
    assert current_cache() is a.probe_cache
    worker = threading.Thread(target=a.finish)
    worker.start()
    worker.join()
    assert a.row is not None and a.row["status"] == "succeeded"
    assert current_cache() is None  # the finished attempt's cache is not left behind here


def test_commands_lose_their_credentials(sink: InMemorySink) -> None:
    argv: Sequence[str] = [
        "ffmpeg", "-headers", "Authorization: Bearer tok",
        "-i", "https://bucket.s3.amazonaws.com/in file.mp4?X-Amz-Signature=abc&X-Amz-Credential=k",
        "-f", "mp4", "ftp://user:pass@example.com/out.mp4",
    ]
    with attempt("upload_thumb_v1", "job-21", sink=sink, sampler=None) as a:
        a.add_ffmpeg_command(argv)
    assert a.row is not None
    assert a.row["ffmpeg_commands"] == [
        "ffmpeg -headers '<redacted>' -i 'https://bucket.s3.amazonaws.com/in file.mp4' "
        "-f mp4 ftp://example.com/out.mp4"
    ]


def test_output_size_failure_is_noted_without_credentials_and_logged_once(
    sink: InMemorySink, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(config, "_logged", set())
    out = "https://u:PASS@h/out.mp4?X-Amz-Signature=SIG"
    with caplog.at_level(logging.DEBUG, logger="collectors"):
        for n in range(2):
            with attempt("upload_thumb_v1", f"job-23-{n}", output=out, sink=sink, sampler=None):
                pass
    for row in sink.rows:
        assert row["status"] == "succeeded" and row["output_size_bytes"] is None
        assert row["metrics_error"].startswith(
            "output: size of https://h/out.mp4: FileNotFoundError:")
        assert "PASS" not in row["metrics_error"] and "SIG" not in row["metrics_error"]
    assert "PASS" not in caplog.text and "SIG" not in caplog.text
    assert [r.levelname for r in caplog.records if "output" in r.getMessage()] == [
        "WARNING", "DEBUG"]


@pytest.mark.parametrize("url", ["https://u:PASS@h/x?sig=SIG", "s3://KEY:PASS@bucket/x?SIG"])
def test_a_bad_dataset_url_is_logged_once_without_its_credentials(
    url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(config, "_logged", set())
    monkeypatch.setenv("MEDIAJOB_METRICS_URL", url)
    with caplog.at_level(logging.DEBUG, logger="collectors"):
        for n in range(3):
            with attempt("upload_thumb_v1", f"job-25-{n}", sampler=None) as a:
                pass
            assert a.row is not None and a.row["metrics_error"] is None
    refusals = [r for r in caplog.records if "cannot use MEDIAJOB_METRICS_URL" in r.getMessage()]
    assert [r.levelname for r in refusals] == ["ERROR", "DEBUG", "DEBUG"]
    assert "PASS" not in caplog.text and "SIG" not in caplog.text


def test_a_row_that_cannot_be_built_is_logged_once_with_its_traceback(
    sink: InMemorySink, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(row: Mapping[str, Any]) -> dict[str, Any]:
        raise KeyError("a bug")

    monkeypatch.setattr(config, "_logged", set())
    monkeypatch.setattr(schema, "metrics_of_row", broken)
    with caplog.at_level(logging.DEBUG, logger="collectors"):
        for n in range(2):
            with attempt("upload_thumb_v1", f"job-26-{n}", sink=sink, sampler=None) as a:
                ran = True
            assert ran and a.row is None and a.metrics is None
    assert sink.rows == []
    assert [(r.levelname, r.exc_info is not None) for r in caplog.records] == [
        ("WARNING", True), ("DEBUG", False)]


def test_s3_output_head_against_a_silent_server_costs_seconds_not_minutes(
    sink: InMemorySink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collectors import outputs

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # accepts connections (the kernel does), never answers
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    outputs.reset_client()
    try:
        t0 = time.monotonic()
        with attempt("upload_thumb_v1", "job-24", output="s3://b/out.mp4", sink=sink,
                     sampler=None) as a:
            pass
        took = time.monotonic() - t0
    finally:
        outputs.reset_client()
        server.close()
    assert a.row is not None and a.row["output_size_bytes"] is None
    assert a.row["metrics_error"].startswith("output: size of s3://b/out.mp4: ReadTimeoutError")
    assert took < outputs.HEAD_CONNECT_TIMEOUT_S + outputs.HEAD_READ_TIMEOUT_S + 3


def test_secret_option_values_are_dropped_whole() -> None:
    argv = ["ffmpeg", "-decryption_key", "00112233", "-i", "in.mp4", "-passphrase", "pw",
            "-f", "mpegts", "srt://h:9000"]
    assert command_line(argv) == (
        "ffmpeg -decryption_key '<redacted>' -i in.mp4 -passphrase '<redacted>' "
        "-f mpegts srt://h:9000")


# --- pure helpers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "ms", "rtf"), [
    (60.0, 30_000, 2.0), (2.0, 3000, 0.6667), (None, 1000, None), (10.0, 0, None),
    (0.0, 1000, None), (10.0, None, None),
])
def test_real_time_factor(seconds: float | None, ms: int | None, rtf: float | None) -> None:
    assert real_time_factor(seconds, ms) == rtf


def test_error_text() -> None:
    assert error_text(OSError(28, "No space left")) == "OSError: [Errno 28] No space left"
    assert error_text(RuntimeError()) == "RuntimeError"
    assert error_text(ValueError("x" * 5000)) is not None
    assert len(error_text(ValueError("x" * 5000)) or "") == 2000
    assert error_text(ValueError("get https://h/k?X-Amz-Signature=s failed")) == \
        "ValueError: get https://h/k failed"


def test_error_text_of_a_subprocess_error_keeps_no_argument(sink: InMemorySink) -> None:
    argv = ["/usr/bin/ffmpeg", "-headers", "Authorization: Bearer TOKEN",
            "-i", "https://u:PASS@h/in.mp4", "out.mp4"]
    with pytest.raises(subprocess.CalledProcessError), attempt(
        "upload_thumb_v1", "job-22", sink=sink, sampler=None
    ):
        subprocess.run([sys.executable, "-c", "raise SystemExit(3)"], check=True)
    assert sink.rows[0]["error"] == (
        f"CalledProcessError: {os.path.basename(sys.executable)} returned non-zero exit status 3")
    assert error_text(subprocess.CalledProcessError(1, argv)) == \
        "CalledProcessError: ffmpeg returned non-zero exit status 1"
    assert error_text(subprocess.TimeoutExpired(" ".join(argv), 2.5)) == \
        "TimeoutExpired: ffmpeg timed out after 2.5 s"


# --- the whole way: default sink from the environment to the dataset -----------------------

_WORKER = """
import sys
from pathlib import Path
from collectors import attempt, jobtypes
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
with attempt("upload_thumb_v1", "job-e2e", attempt_id="e2e-1", inputs=[src]) as a:
    jobtypes.run_thumb(src, dst, duration_s=2.0, on_command=a.add_ffmpeg_command)
    a.set_output(dst)
"""


def _worker_writes_a_row(url: str, media_dir: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """Run a worker process with MEDIAJOB_METRICS_URL=url (no flush: the row leaves in the
    sink's at-exit hook, or, past its 1 s budget, by the flusher it starts); return the
    dataset's rows."""
    env = {**os.environ, "MEDIAJOB_METRICS_URL": url,
           "MEDIAJOB_METRICS_SPOOL": str(tmp_path / "spool"), "AWS_INSTANCE_TYPE": "c7i.large"}
    src = make_media("video_only", media_dir)
    subprocess.run([sys.executable, "-c", _WORKER, str(src), str(tmp_path / "t.jpg")],
                   env=env, check=True, timeout=60)
    import pyarrow.dataset as ds

    from collectors.spool import Spool, spool_dir_for

    spool = Spool(spool_dir_for(url, tmp_path / "spool"), 10**9)
    deadline = time.monotonic() + 60  # a bound against hanging, not a speed assert
    while spool.all_row_names() and time.monotonic() < deadline:
        time.sleep(0.1)

    if url.startswith("s3://"):
        from pyarrow import fs

        s3 = fs.S3FileSystem(
            access_key=env["AWS_ACCESS_KEY_ID"], secret_key=env["AWS_SECRET_ACCESS_KEY"],
            endpoint_override=env["AWS_ENDPOINT_URL_S3"].split("://", 1)[1], scheme="http",
            region="us-east-1")
        table = ds.dataset(url[len("s3://"):], filesystem=s3, format="parquet").to_table()
        files = s3.get_file_info(fs.FileSelector(url[len("s3://"):], recursive=True))
        names = [f.path for f in files if f.path.endswith(".parquet")]
    else:
        table = ds.dataset(url, format="parquet").to_table()
        names = [str(p) for p in Path(url).rglob("*.parquet")]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert len(names) == 1 and f"job_type=upload_thumb_v1/dt={today}/" in names[0]
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _check_e2e_row(rows: list[dict[str, Any]], media_dir: Path) -> None:
    assert len(rows) == 1
    row = rows[0]
    src = make_media("video_only", media_dir)
    assert (row["attempt_id"], row["job_id"], row["status"]) == ("e2e-1", "job-e2e", "succeeded")
    assert (row["input_width"], row["input_height"], row["input_duration_seconds"]) == \
        (320, 240, 2.0)
    assert row["input_size_bytes"] == src.stat().st_size
    assert row["instance_type"] == "c7i.large" and row["throughput_unit"] == "jobs"
    assert row["output_size_bytes"] and row["output_size_bytes"] > 0
    assert row["ffmpeg_commands"][0].startswith("ffmpeg ")


def test_worker_with_a_local_dataset(media_dir: Path, tmp_path: Path) -> None:
    rows = _worker_writes_a_row(str(tmp_path / "dataset"), media_dir, tmp_path)
    _check_e2e_row(rows, media_dir)


@pytest.mark.s3
def test_worker_with_an_s3_dataset(media_dir: Path, tmp_path: Path, s3_prefix: str) -> None:
    # The at-exit hook is where boto3 is first imported (once refused by Python's shutdown).
    rows = _worker_writes_a_row(s3_prefix, media_dir, tmp_path)
    _check_e2e_row(rows, media_dir)
