"""I/O hints: phases of an attempt, bytes read and written by its process tree, network bytes
and rates. Pure bookkeeping first, then real attempts: a download from an HTTP server on
loopback, a real ffmpeg transcode, an upload to SeaweedFS, and `mjcollect run --phase`."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pyarrow.dataset as pads
import pytest

from collectors import InMemorySink, attempt, cli, config, schema
from collectors.attempt import rate_mb_per_s, real_time_factor
from collectors.commands.run import (
    parse_commands_file,
    parse_phased_commands_file,
    split_commands,
    split_phased_commands,
)
from collectors.host import reset_host_metrics
from collectors.phases import PhaseClock
from collectors.sampler import children_sampler, tree_sampler

FFMPEG = ("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(config.MEDIAJOB_METRICS_SPOOL, str(tmp_path / "spool"))
    for name in (config.MEDIAJOB_METRICS_URL, config.MEDIAJOB_METRICS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(config.AWS_EC2_METADATA_DISABLED, "true")
    monkeypatch.setenv(config.AWS_INSTANCE_TYPE, "c7i.large")
    reset_host_metrics()
    yield
    reset_host_metrics()


# --- the books (pure) ---------------------------------------------------------------------------


def test_phases_in_a_row_add_up_to_the_wall_time() -> None:
    clock = PhaseClock(0.0)
    clock.start("download", 0.5)  # 0.5 s under no phase before it: other
    clock.end("download", 2.0)
    clock.start("transcode", 2.0)
    clock.end("transcode", 7.0)
    clock.start("upload", 7.25)
    clock.end("upload", 8.0)
    totals = clock.totals(8.5)
    assert totals == {"download": 1.5, "probe": 0.0, "transcode": 5.0, "upload": 0.75,
                      "other": 1.25}
    assert sum(totals.values()) == 8.5


def test_overlapping_nested_unknown_and_skipped_time() -> None:
    clock = PhaseClock(0.0)
    clock.start("download", 0.0)
    clock.start("transcode", 1.0)  # streamed: both open from 1 s to 3 s
    clock.start("transcode", 1.5)  # a second span of the same phase (a thread) counts once
    clock.end("transcode", 2.0)
    clock.end("download", 3.0)
    clock.skip(3.0, 3.5)  # the collector's own work: no phase's, not the job's
    clock.start("thumbnail", 3.5)  # not a well-known name: other
    clock.end("transcode", 4.0)
    clock.end("thumbnail", 4.5)
    assert clock.totals(4.5) == {"download": 3.0, "probe": 0.0, "transcode": 2.5,
                                 "upload": 0.0, "other": 1.0}
    assert clock.skipped_s == 0.5
    with pytest.raises(ValueError, match="not started"):
        clock.end("upload", 5.0)


def test_a_phase_left_open_counts_until_the_end() -> None:
    clock = PhaseClock(10.0)
    clock.start("upload", 11.0)
    assert clock.open_phases() == ["upload"]
    assert clock.totals(14.0)["upload"] == 3.0


def test_rates_and_transcode_rtf() -> None:
    assert rate_mb_per_s(50_000_000, 2_000) == 25.0
    assert rate_mb_per_s(None, 2_000) is None
    assert rate_mb_per_s(10, 0) is None
    assert real_time_factor(60.0, 20_000) == 3.0


def test_phased_commands() -> None:
    assert split_phased_commands(
        ["--", "curl", "-o", "in.mp4", "URL", "--then", "--phase", "transcode", "--",
         "ffmpeg", "-i", "in.mp4", "--then", "--phase", "upload", "aws", "s3", "cp",
         "--then", "true"], first_phase="download") == [
        ("download", ["curl", "-o", "in.mp4", "URL"]),
        ("transcode", ["ffmpeg", "-i", "in.mp4"]),
        ("upload", ["aws", "s3", "cp"]),
        (None, ["true"])]
    # A --phase inside a command is the command's own argument; the old form still splits.
    assert split_commands(["--", "prog", "--phase", "x", "--then", "--", "b"]) == [
        ["prog", "--phase", "x"], ["b"]]
    for bad in (["--", "a", "--then", "--phase"], ["--", "a", "--then", "--phase", "--", "b"],
                ["--", "a", "--then", "--phase", "upload"]):
        with pytest.raises(ValueError):
            split_phased_commands(bad)
    assert parse_phased_commands_file(
        '[{"phase": "download", "argv": ["curl", "URL"]}, ["ffmpeg", "-i", "a"]]') == [
        ("download", ["curl", "URL"]), (None, ["ffmpeg", "-i", "a"])]
    assert parse_commands_file('[{"phase": "upload", "argv": ["true"]}]') == [["true"]]
    for text in ('[{"phase": "", "argv": ["a"]}]', '[{"argv": ["a"]}]',
                 '[{"phase": "x", "argv": []}]', '[{"phase": "x", "argv": ["a"], "y": 1}]'):
        with pytest.raises(ValueError):
            parse_phased_commands_file(text)


# --- real media, a real HTTP server, real ffmpeg --------------------------------------------------


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s 720p H.264 + AAC file of a few MB (near-lossless), so that ffmpeg's own reads
    (its shared libraries' headers, ~0.2 MB) are small beside it."""
    path = tmp_path_factory.mktemp("io-media") / "source.mp4"
    subprocess.run([*FFMPEG, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=3",
                    "-f", "lavfi", "-i", "sine=duration=3", "-c:v", "libx264", "-preset",
                    "ultrafast", "-qp", "8", "-c:a", "aac", "-shortest", str(path)], check=True)
    assert path.stat().st_size > 3_000_000
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="module")
def http_base(big_source: Path) -> Iterator[str]:
    """A static HTTP server on loopback serving big_source's folder; its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(big_source.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def transcode_argv(src: Path, dst: Path) -> list[str]:
    return [*FFMPEG, "-i", str(src), "-vf", "scale=320:-2", "-c:v", "libx264", "-preset",
            "ultrafast", "-c:a", "copy", str(dst)]


def phase_ms(row: dict[str, Any]) -> dict[str, int]:
    return {name: row[f"phase_{name}_ms"] for name in schema.PHASES}


@pytest.mark.s3
def test_download_transcode_upload_attempt(big_source: Path, http_base: str, tmp_path: Path,
                                           s3_env: Any, s3_prefix: str) -> None:
    import boto3

    local_src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    target = f"{s3_prefix}/out.mp4"
    bucket, _, key = target[len("s3://"):].partition("/")
    s3 = boto3.client("s3", endpoint_url=s3_env.endpoint_url)
    sink = InMemorySink()
    # The input is not there at start: it is probed once the download phase has fetched it.
    with attempt("create_video_export_v1", "job-io", inputs=[local_src], sink=sink,
                 sampler=children_sampler(interval=0.1)) as a:
        with a.phase("download", files=[local_src]):
            urllib.request.urlretrieve(f"{http_base}/{big_source.name}", local_src)
        with a.phase("transcode"):
            subprocess.run(transcode_argv(local_src, dst), check=True)
        with a.phase("upload", files=[target]):
            s3.upload_file(str(dst), bucket, key)
    [row] = sink.rows
    assert row["status"] == "succeeded", row["metrics_error"]
    assert row["metrics_error"] is None
    phases = phase_ms(row)
    # Back to back, the phases add up to the wall time (each is rounded to the ms).
    assert abs(sum(phases.values()) - row["duration_ms"]) <= 3
    assert phases["other"] <= 20 and phases["probe"] == 0
    assert min(phases["download"], phases["transcode"], phases["upload"]) > 0
    # The deferred probe saw the downloaded file.
    assert row["input_duration_seconds"] == pytest.approx(3.0, abs=0.05)
    assert row["input_size_bytes"] == big_source.stat().st_size
    assert row["transcode_rtf"] == real_time_factor(row["input_duration_seconds"],
                                                    phases["transcode"])
    assert row["transcode_rtf"] > row["rtf"]
    # What went over the network: the download's growth, the uploaded object's size.
    assert row["net_bytes_in"] == big_source.stat().st_size
    head = s3.head_object(Bucket=bucket, Key=key)
    assert row["net_bytes_out"] == head["ContentLength"] == dst.stat().st_size
    assert row["download_mb_per_s"] == rate_mb_per_s(row["net_bytes_in"], phases["download"])
    assert row["upload_mb_per_s"] == rate_mb_per_s(row["net_bytes_out"], phases["upload"])
    # The tree read the body from the socket and again from the file (ffmpeg), the upload
    # read the output; it wrote the file and the output (and the upload's request body).
    size_in, size_out = big_source.stat().st_size, dst.stat().st_size
    assert row["bytes_read"] >= 2 * size_in + size_out
    assert row["bytes_written"] >= size_in + size_out
    metrics = a.metrics
    assert metrics is not None
    assert metrics["phasesMs"] == phases
    assert metrics["io"]["netBytesIn"] == size_in and metrics["transcodeRtf"] > 0


def test_ffmpeg_bytes_read_and_written_match_the_files(big_source: Path, tmp_path: Path) -> None:
    dst = tmp_path / "small.mp4"
    sink = InMemorySink()
    with attempt("upload_edit_proxy_v1", "job-bytes", inputs=[big_source], sink=sink) as a, \
            a.phase("transcode"):
        subprocess.run(transcode_argv(big_source, dst), check=True)
    [row] = sink.rows
    # rchar/wchar of the ffmpeg child, which the kernel added to ours when it was reaped.
    assert row["bytes_read"] == pytest.approx(big_source.stat().st_size, rel=0.10)
    assert row["bytes_written"] == pytest.approx(dst.stat().st_size, rel=0.10)
    assert (row["net_bytes_in"], row["download_mb_per_s"]) == (None, None)
    assert phase_ms(row)["transcode"] > 0
    assert a.metrics is not None and a.metrics["io"]["bytesRead"] == row["bytes_read"]


def test_without_io_counters_the_columns_are_null_and_the_job_unharmed(
        big_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What psutil looks like on macOS: Process has no io_counters at all.
    monkeypatch.delattr(psutil.Process, "io_counters")
    dst = tmp_path / "small.mp4"
    sink = InMemorySink()
    with attempt("upload_edit_proxy_v1", "job-noio", inputs=[big_source], sink=sink,
                 sampler=children_sampler(interval=0.1)):
        subprocess.run(transcode_argv(big_source, dst), check=True)
    [row] = sink.rows
    assert row["status"] == "succeeded" and row["metrics_error"] is None
    assert (row["bytes_read"], row["bytes_written"]) == (None, None)
    assert row["cpu_pct_avg"] is not None and row["cpu_pct_avg"] > 0  # the rest is measured
    assert dst.stat().st_size > 0
    # No phase named: the breakdown is unknown, not "all other".
    assert set(phase_ms(row).values()) == {None} and row["transcode_rtf"] is None


def test_bad_phase_calls_are_noted_not_raised() -> None:
    sink = InMemorySink()
    with attempt("upload_thumb_v1", "job-bad", sink=sink) as a:
        a.phase_end("upload")  # never started
        a.add_bytes_downloaded(-5)
        a.add_bytes_uploaded(1_000)
        a.phase_start("upload")  # left open: closed at finish
    [row] = sink.rows
    assert row["status"] == "succeeded"
    assert "not started" in row["metrics_error"] and "bytes" in row["metrics_error"]
    assert row["net_bytes_out"] == 1_000 and row["net_bytes_in"] is None
    assert row["phase_upload_ms"] is not None


def test_a_failing_phase_passes_the_exception_and_still_counts(tmp_path: Path) -> None:
    sink = InMemorySink()
    with pytest.raises(subprocess.CalledProcessError), attempt(
            "upload_edit_proxy_v1", "job-fail", sink=sink) as a, a.phase("transcode"):
        subprocess.run([*FFMPEG, "-i", str(tmp_path / "none.mp4"), str(tmp_path / "o.mp4")],
                       check=True)
    [row] = sink.rows
    assert row["status"] == "failed" and row["phase_transcode_ms"] > 0
    assert row["transcode_rtf"] is None


# --- `mjcollect run --phase` ---------------------------------------------------------------------


def test_mjcollect_run_with_phases(big_source: Path, http_base: str, tmp_path: Path) -> None:
    local_src, dst, stored = tmp_path / "in.mp4", tmp_path / "out.mp4", tmp_path / "up.mp4"
    manifest = tmp_path / "manifest.json"
    fetch = (f"import urllib.request; urllib.request.urlretrieve("
             f"{http_base + '/' + big_source.name!r}, {str(local_src)!r})")
    code = cli.main([
        "run", "--data", str(tmp_path / "ds"), "--sample-interval", "0.2", "--upload-timeout", "60",
        "--job-type", "upload_edit_proxy_v1", "--job-id", "J-phases", "--input", str(local_src),
        "--output", str(dst), "--manifest", str(manifest),
        "--phase", "download", "--", sys.executable, "-c", fetch,
        "--then", "--phase", "transcode", "--", *transcode_argv(local_src, dst),
        "--then", "--phase", "upload", "--", "cp", str(dst), str(stored)])
    assert code == 0
    [row] = pads.dataset(tmp_path / "ds", format="parquet").to_table().to_pylist()
    phases = phase_ms(row)
    assert abs(sum(phases.values()) - row["duration_ms"]) <= 3
    assert min(phases["download"], phases["transcode"], phases["upload"]) > 0
    assert row["net_bytes_in"] == big_source.stat().st_size
    assert row["net_bytes_out"] == dst.stat().st_size == row["output_size_bytes"]
    assert row["input_duration_seconds"] == pytest.approx(3.0, abs=0.05)
    assert row["transcode_rtf"] > row["rtf"] > 0
    doc = json.loads(manifest.read_text())
    assert doc["metrics"]["phasesMs"] == phases
    assert doc["metrics"]["io"]["netBytesOut"] == row["net_bytes_out"]


def test_mjcollect_run_refuses_a_phase_without_a_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commands = tmp_path / "commands.json"
    commands.write_text('[["true"]]')
    code = cli.main(["run", "--data", str(tmp_path / "ds"), "--job-type", "upload_thumb_v1",
                     "--job-id", "J", "--commands-file", str(commands), "--phase", "upload"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "mjcollect run: --phase names the command after --, and none is given")
    assert not (tmp_path / "ds").exists()


# --- the sampler's io counters -------------------------------------------------------------------

WRITE_5MB = ("import sys, time\nwith open(sys.argv[1], 'wb') as f: f.write(b'x' * 5_000_000)\n"
             "time.sleep(float(sys.argv[2]))\n")


def test_a_child_still_running_at_stop_counts(tmp_path: Path) -> None:
    sampler = children_sampler(interval=0.1)
    sampler.start()
    child = subprocess.Popen([sys.executable, "-c", WRITE_5MB, str(tmp_path / "f"), "30"])
    try:
        while not (tmp_path / "f").exists() or (tmp_path / "f").stat().st_size < 5_000_000:
            time.sleep(0.05)
        summary = sampler.stop()
    finally:
        child.kill()
        child.wait()
    # Read from its own counters (it was never reaped): the 5 MB and the interpreter's few
    # writes, but not our sampler's reads of /proc, which it subtracts.
    assert summary.bytes_written is not None
    assert 5_000_000 <= summary.bytes_written < 5_100_000


def test_a_tree_sampler_keeps_the_counters_of_a_root_reaped_before_stop(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", WRITE_5MB, str(tmp_path / "f"), "0.5"])
    sampler = tree_sampler(child.pid, interval=0.1)
    sampler.start()
    child.wait()
    summary = sampler.stop()
    assert summary.bytes_written is not None
    assert 5_000_000 <= summary.bytes_written < 5_100_000


def test_a_manifest_with_io_hints_reads_back_as_the_row() -> None:
    """A worker that writes `metrics.phasesMs` and `metrics.io` itself (ingested manifests)
    gets the same columns the attempt API fills."""
    phases = {"download": 6000, "transcode": 3000, "upload": 1000, "probe": 0, "other": 0}
    io = {"bytesRead": 10, "bytesWritten": 20, "netBytesIn": 30_000_000,
          "netBytesOut": 5_000_000, "downloadMBps": 5.0, "uploadMBps": 5.0}
    manifest: dict[str, Any] = {
        "attemptId": "att-io", "jobId": "job-io", "jobType": "create_video_export_v1",
        "metrics": {"status": "succeeded", "durationMs": 10_000, "transcodeRtf": 4.5,
                    "phasesMs": phases, "io": io},
    }
    row = schema.manifest_to_row(manifest)
    assert (row["phase_download_ms"], row["phase_transcode_ms"], row["phase_upload_ms"]) == (
        6000, 3000, 1000)
    assert (row["bytes_read"], row["net_bytes_in"], row["upload_mb_per_s"]) == (10, 30_000_000,
                                                                                  5.0)
    back = schema.metrics_of_row(row)
    assert back["phasesMs"] == phases
    assert back["io"] == io and back["transcodeRtf"] == 4.5
