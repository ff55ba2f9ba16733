"""`mjcollect run`: command splitting and manifest merging (pure), then real ffmpeg runs of the
four pipelines through the command, exit codes, manifests and rows in a dataset folder."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads
import pytest

from collectors import cli, config, jobtypes
from collectors.commands.run import (
    describe_failure,
    exit_code_of,
    parse_commands_file,
    split_commands,
)
from collectors.host import reset_host_metrics
from collectors.manifest import merge_manifest, read_manifest, update_manifest
from collectors.schema import JOB_TYPES
from tests.media import make_media

# --- pure ---------------------------------------------------------------------------------------


def test_split_commands_on_then() -> None:
    assert split_commands(["--", "ffmpeg", "-i", "a"]) == [["ffmpeg", "-i", "a"]]
    assert split_commands(["--", "ffmpeg", "-pass", "1", "--then", "--", "ffmpeg", "-pass", "2",
                           "--then", "true"]) == [
        ["ffmpeg", "-pass", "1"], ["ffmpeg", "-pass", "2"], ["true"]]
    assert split_commands([]) == []
    # A `--` inside a command (not right after --then) is the command's own argument.
    assert split_commands(["--", "prog", "--", "x"]) == [["prog", "--", "x"]]
    with pytest.raises(ValueError):
        split_commands(["--", "ffmpeg", "--then"])
    with pytest.raises(ValueError):
        split_commands(["--", "--then", "ffmpeg"])


def test_parse_commands_file() -> None:
    assert parse_commands_file('[["ffmpeg", "-i", "a"], ["true"]]') == [
        ["ffmpeg", "-i", "a"], ["true"]]
    for bad in ("{}", "[]", "[[]]", '[["ok"], "ffmpeg -i a"]', '[[1, 2]]', "nope"):
        with pytest.raises(ValueError):
            parse_commands_file(bad)


def test_exit_codes_and_failure_text_as_a_shell_reports_them() -> None:
    assert exit_code_of(0) == 0
    assert exit_code_of(1) == 1
    assert exit_code_of(-signal.SIGKILL) == 137
    assert describe_failure(["/usr/bin/ffmpeg", "-i", "s3://k:secret@b/x"], 1) == (
        "CommandFailed: ffmpeg exited with 1")
    assert describe_failure(["ffmpeg"], -signal.SIGTERM) == (
        "CommandFailed: ffmpeg killed by SIGTERM")


def test_merge_manifest_keeps_every_other_key() -> None:
    manifest = {
        "attemptId": "a1", "owner": {"team": "media"}, "outputs": ["x.mp4"],
        "ffmpegCommands": ["ffmpeg -i old.mov old.mp4"],
        "metrics": {"durationMs": 1200, "custom": 1, "input": {"durationSeconds": 9.0,
                                                               "note": "kept"}},
    }
    merged = merge_manifest(
        manifest,
        {"durationMs": 1500, "rtf": None, "status": "succeeded",
         "input": {"durationSeconds": None, "width": 320}},
        ["ffmpeg -i old.mov old.mp4", "ffmpeg -i new.mov new.mp4"],
        job={"attemptId": "ignored", "jobId": "j1"},
    )
    assert merged == {
        "attemptId": "a1", "owner": {"team": "media"}, "outputs": ["x.mp4"],
        "ffmpegCommands": ["ffmpeg -i old.mov old.mp4", "ffmpeg -i new.mov new.mp4"],
        "metrics": {"durationMs": 1500, "custom": 1, "rtf": None, "status": "succeeded",
                    "input": {"durationSeconds": 9.0, "note": "kept", "width": 320}},
        "jobId": "j1",
    }
    assert list(merged)[:4] == ["attemptId", "owner", "outputs", "ffmpegCommands"]


def test_update_manifest_file_is_atomic_and_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"keep": [1, 2], "metrics": {"x": 1}}')
    os.chmod(path, 0o600)
    update_manifest(path, {"durationMs": 5}, ["ffmpeg -version"])
    assert read_manifest(path) == {"keep": [1, 2], "metrics": {"x": 1, "durationMs": 5},
                                   "ffmpegCommands": ["ffmpeg -version"]}
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temp file left
    new = tmp_path / "new.json"
    update_manifest(new, {"durationMs": 1})
    assert json.loads(new.read_text()) == {"metrics": {"durationMs": 1}, "ffmpegCommands": []}
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2")
    with pytest.raises(ValueError):
        update_manifest(broken, {"durationMs": 1})
    assert broken.read_text() == "[1, 2"
    listing = tmp_path / "list.json"
    listing.write_text("[]")
    with pytest.raises(ValueError, match="not a JSON object"):
        update_manifest(listing, {"durationMs": 1})


# --- real runs through `mjcollect run` ---------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
SPIN = "import time\nwhile time.process_time() < 1.0: pass\n"  # 1.0 CPU s, whatever the load
HOLD = "import time\nb = b'x' * 200_000_000\ntime.sleep(1.0)\n"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("run-media")
    return {"video": make_media("video_only", d), "audio": make_media("audio_only", d),
            "vp9": make_media("vp9", d)}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.MEDIAJOB_METRICS_SPOOL, str(tmp_path / "spool"))
    monkeypatch.delenv(config.MEDIAJOB_METRICS_URL, raising=False)
    monkeypatch.delenv(config.MEDIAJOB_METRICS, raising=False)
    monkeypatch.setenv(config.AWS_EC2_METADATA_DISABLED, "true")
    monkeypatch.setenv(config.AWS_INSTANCE_TYPE, "c7i.large")
    reset_host_metrics()  # host facts are cached per process; other tests set other values


def read_rows(root: Path) -> list[dict[str, Any]]:
    if not root.exists():
        return []
    ds = pads.dataset(root, format="parquet", partitioning="hive")
    rows: list[dict[str, Any]] = ds.to_table().to_pylist()
    return rows


def mjrun(data: Path | str, *opts: str) -> int:
    """`mjcollect run` in this process (the dispatcher's main), rows to `data`, uploaded before
    it returns (a generous `--upload-timeout`: the tests read the dataset next)."""
    return cli.main(["run", "--data", str(data), "--sample-interval", "0.2",
                     "--upload-timeout", "60", *opts])


def pipeline_argv(job_type: str, src: Path, dst: Path) -> list[str]:
    if job_type == "upload_audio_envelope_v1":
        # ffmpeg decodes, Python computes the peaks: both are the job's process tree.
        return [sys.executable, "-m", "collectors.jobtypes", job_type, str(src), str(dst)]
    if job_type == "upload_thumb_v1":
        return jobtypes.thumb_argv(src, dst, jobtypes.thumb_time(2.0))
    if job_type == "upload_edit_proxy_v1":
        return jobtypes.proxy_argv(src, dst)
    return jobtypes.export_argv(src, dst)


@pytest.mark.parametrize("job_type", JOB_TYPES)
def test_each_pipeline_through_mjcollect_run(job_type: str, media: dict[str, Path],
                                             tmp_path: Path) -> None:
    src = media["audio" if job_type == "upload_audio_envelope_v1" else "video"]
    dst = tmp_path / f"out{jobtypes.OUTPUT_SUFFIX[job_type]}"
    argv = pipeline_argv(job_type, src, dst)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"jobId": "J-1", "owner": "media-team",
                                    "metrics": {"custom": True}}))
    code = mjrun(tmp_path / "ds", "--job-type", job_type, "--job-id", "J-1", "--attempt", "2",
                 "--attempt-id", f"A-{job_type}", "--input", str(src), "--output", str(dst),
                 "--manifest", str(manifest), "--", *argv)
    assert code == 0
    [row] = read_rows(tmp_path / "ds")
    assert (row["attempt_id"], row["job_id"], row["job_type"], row["attempt_number"]) == (
        f"A-{job_type}", "J-1", job_type, 2)
    assert row["status"] == "succeeded" and row["error"] is None
    assert row["ffmpeg_commands"] == [shlex.join(argv)]
    assert row["output_size_bytes"] == dst.stat().st_size > 0
    assert row["instance_type"] == "c7i.large"
    assert row["cpu_sample_count"] >= 1
    # A thumbnail can be done within the first 50 ms sample: then it was never seen alive
    # and its figures are null (not 0); when seen, they are sane.
    if row["mem_rss_mb_max"] is not None:
        assert row["mem_rss_mb_max"] > 1 and row["cpu_pct_max"] >= row["cpu_pct_avg"] > 0
    elif job_type in ("create_video_export_v1", "upload_edit_proxy_v1"):
        pytest.fail(f"a {job_type} job of {row['duration_ms']} ms was not sampled")
    assert row["duration_ms"] > 0 and row["rtf"] > 0
    if job_type == "upload_audio_envelope_v1":
        assert (row["input_audio_codec"], row["input_video_codec"]) == ("aac", None)
        assert len(json.loads(dst.read_text())["peaks"]) >= 20
    else:
        assert (row["input_video_codec"], row["input_width"], row["input_height"]) == (
            "h264", 320, 240)
        assert row["input_duration_seconds"] == 2.0
    doc = json.loads(manifest.read_text())
    assert doc["owner"] == "media-team" and doc["metrics"]["custom"] is True
    assert doc["ffmpegCommands"] == [shlex.join(argv)]
    assert doc["metrics"]["outputSizeBytes"] == row["output_size_bytes"]
    assert doc["metrics"]["status"] == "succeeded"
    assert doc["attemptId"] == f"A-{job_type}" and doc["jobId"] == "J-1"


def test_two_pass_export_with_commands_file_and_then(media: dict[str, Path],
                                                     tmp_path: Path) -> None:
    src, dst, log = media["vp9"], tmp_path / "two.mp4", str(tmp_path / "x264")
    base = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(src),
            "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "300k", "-passlogfile", log]
    pass1 = [*base, "-pass", "1", "-an", "-f", "null", "-"]
    pass2 = [*base, "-pass", "2", "-c:a", "aac", str(dst)]
    check = ["ffprobe", "-v", "error", str(dst)]
    cmds = tmp_path / "cmds.json"
    cmds.write_text(json.dumps([pass1]))
    code = mjrun(tmp_path / "ds", "--job-type", "create_video_export_v1", "--job-id", "J-2",
                 "--input", str(src), "--output", str(dst), "--commands-file", str(cmds),
                 "--", *pass2, "--then", "--", *check)
    assert code == 0
    [row] = read_rows(tmp_path / "ds")
    assert row["ffmpeg_commands"] == [shlex.join(pass1), shlex.join(pass2), shlex.join(check)]
    assert (row["input_video_codec"], row["input_audio_codec"]) == ("vp9", "opus")
    assert row["output_size_bytes"] == dst.stat().st_size


def test_failing_ffmpeg_gives_a_failed_row_and_its_exit_code(media: dict[str, Path],
                                                             tmp_path: Path) -> None:
    marker = tmp_path / "second-ran"
    manifest = tmp_path / "m.json"
    code = mjrun(tmp_path / "ds", "--job-type", "upload_thumb_v1", "--job-id", "J-3",
                 "--input", str(media["video"]), "--manifest", str(manifest),
                 "--", "ffmpeg", "-v", "error", "-i", str(tmp_path / "missing.mp4"), "-f", "null",
                 "-", "--then", "--", "touch", str(marker))
    assert code == 1
    assert not marker.exists()  # the attempt stops at the first failing command
    [row] = read_rows(tmp_path / "ds")
    assert row["status"] == "failed"
    assert row["error"] == "CommandFailed: ffmpeg exited with 1"
    assert row["rtf"] is None
    assert len(row["ffmpeg_commands"]) == 1
    assert json.loads(manifest.read_text())["metrics"]["status"] == "failed"


@pytest.mark.parametrize(
    ("code", "expected", "error"),
    [("import sys; sys.exit(3)", 3, "CommandFailed: python3 exited with 3"),
     ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 137,
      "CommandFailed: python3 killed by SIGKILL")],
)
def test_exit_codes_pass_through(code: str, expected: int, error: str, media: dict[str, Path],
                                 tmp_path: Path) -> None:
    python = str(Path(sys.executable).with_name("python3"))
    assert mjrun(tmp_path / "ds", "--job-type", "upload_thumb_v1", "--job-id", "J-4",
                 "--input", str(media["video"]), "--", python, "-c", code) == expected
    [row] = read_rows(tmp_path / "ds")
    assert (row["status"], row["error"]) == ("failed", error)


def test_a_command_that_cannot_start_exits_127(media: dict[str, Path], tmp_path: Path) -> None:
    assert mjrun(tmp_path / "ds", "--job-type", "upload_thumb_v1", "--job-id", "J-5",
                 "--input", str(media["video"]), "--", str(tmp_path / "no-such-ffmpeg")) == 127
    [row] = read_rows(tmp_path / "ds")
    assert row["status"] == "failed" and row["error"].startswith("FileNotFoundError: ")


def test_sampling_sees_cpu_and_memory_of_the_command(media: dict[str, Path],
                                                     tmp_path: Path) -> None:
    for i, code in enumerate((SPIN, HOLD)):
        assert mjrun(tmp_path / "ds", "--job-type", "create_video_export_v1", "--job-id",
                     f"S-{i}", "--attempt-id", f"S-{i}", "--input", str(media["video"]),
                     "--", sys.executable, "-c", code) == 0
    rows = {r["attempt_id"]: r for r in read_rows(tmp_path / "ds")}
    spin, hold = rows["S-0"], rows["S-1"]
    assert spin["cpu_sample_count"] >= 5
    # The sampled mean over the job's wall time is the child's 1.0 CPU s (+ start-up): on a
    # loaded machine it gets less than a core, so the CPU seconds are asserted, not a %.
    assert 0.8 <= spin["cpu_pct_avg"] * spin["duration_ms"] / 100_000 <= 1.4
    assert spin["cpu_pct_avg"] <= spin["cpu_pct_max"] <= 110
    assert 180 <= hold["mem_rss_mb_max"] <= 260


def test_the_real_command_passes_output_and_code_through(tmp_path: Path,
                                                         media: dict[str, Path]) -> None:
    env = {**os.environ, config.MEDIAJOB_METRICS_URL: str(tmp_path / "ds"),
           config.MEDIAJOB_METRICS_SPOOL: str(tmp_path / "spool"),
           config.AWS_EC2_METADATA_DISABLED: "true"}
    mjcollect = str(Path(sys.executable).with_name("mjcollect"))
    proc = subprocess.run(
        [mjcollect, "run", "--upload-timeout", "60", "--job-type", "upload_thumb_v1",
         "--job-id", "J-6",
         "--input", str(media["video"]), "--", sys.executable, "-c",
         "import sys; print('to stdout'); print('to stderr', file=sys.stderr); sys.exit(42)"],
        capture_output=True, text=True, env=env, cwd=REPO, check=False)
    assert proc.returncode == 42
    assert proc.stdout == "to stdout\n"
    assert "to stderr\n" in proc.stderr
    [row] = read_rows(tmp_path / "ds")  # MEDIAJOB_METRICS_URL, no --data
    assert row["error"] == f"CommandFailed: {Path(sys.executable).name} exited with 42"


def test_off_ec2_the_commands_stderr_is_left_as_it_was(tmp_path: Path,
                                                       media: dict[str, Path]) -> None:
    with socket.socket() as s:  # IMDS at a port nobody listens on: what a laptop or CI sees
        s.bind(("127.0.0.1", 0))
        imds = f"http://127.0.0.1:{s.getsockname()[1]}"
    env = {k: v for k, v in os.environ.items() if k not in (config.AWS_INSTANCE_TYPE,
                                                             config.AWS_EC2_METADATA_DISABLED)}
    env |= {config.MEDIAJOB_METRICS_SPOOL: str(tmp_path / "spool"),
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("mjcollect")), "run", "--data", str(tmp_path / "ds"),
         "--upload-timeout", "60", "--job-type", "upload_thumb_v1", "--job-id", "J-11",
         "--input", str(media["video"]),
         "--", sys.executable, "-c", "import sys; print('ffmpeg says', file=sys.stderr)"],
        capture_output=True, text=True, env=env, cwd=REPO, check=False)
    assert (proc.returncode, proc.stderr) == (0, "ffmpeg says\n")
    [row] = read_rows(tmp_path / "ds")
    assert (row["instance_type"], row["status"]) == (None, "succeeded")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_mjcollect_reaches_the_command(sig: signal.Signals, tmp_path: Path,
                                                   media: dict[str, Path]) -> None:
    # The command starts before mjcollect's set-up: the signal may arrive during it.
    import time

    env = {**os.environ, config.MEDIAJOB_METRICS_SPOOL: str(tmp_path / "spool"),
           config.AWS_EC2_METADATA_DISABLED: "true"}
    marker = tmp_path / "started"
    child = f"import pathlib, time; pathlib.Path({str(marker)!r}).touch(); time.sleep(120)"
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("mjcollect")), "run", "--data", str(tmp_path / "ds"),
         "--upload-timeout", "60", "--job-type", "upload_thumb_v1", "--job-id", "J-10",
         "--input", str(media["video"]),
         "--", sys.executable, "-c", child], env=env, cwd=REPO)
    deadline = time.monotonic() + 60  # a bound against hanging, not a speed assert
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == 128 + sig
    [row] = read_rows(tmp_path / "ds")
    assert row["error"] == f"CommandFailed: {Path(sys.executable).name} killed by {sig.name}"


def test_stdin_passes_through_to_the_command(tmp_path: Path, media: dict[str, Path]) -> None:
    env = {**os.environ, config.MEDIAJOB_METRICS_SPOOL: str(tmp_path / "spool"),
           config.AWS_EC2_METADATA_DISABLED: "true"}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("mjcollect")), "run", "--data", str(tmp_path / "ds"),
         "--job-type", "upload_thumb_v1", "--job-id", "J-20", "--input", str(media["video"]),
         "--", "tr", "a-z", "A-Z"],
        input="piped through\n", capture_output=True, text=True, env=env, cwd=REPO, check=False)
    assert (proc.returncode, proc.stdout) == (0, "PIPED THROUGH\n")


def test_by_default_the_row_is_spooled_and_a_detached_flusher_uploads_it(
        tmp_path: Path, media: dict[str, Path]) -> None:
    import time

    assert cli.main(["run", "--data", str(tmp_path / "ds"), "--job-type", "upload_thumb_v1",
                     "--job-id", "J-9", "--attempt-id", "A-9", "--input", str(media["video"]),
                     "--", "true"]) == 0
    # The row is uploaded by another process; wait for it (not a speed assert: the bound is
    # only there so that a broken flush fails the test instead of hanging it).
    deadline = time.monotonic() + 120
    while not read_rows(tmp_path / "ds") and time.monotonic() < deadline:
        time.sleep(0.2)
    [row] = read_rows(tmp_path / "ds")
    assert (row["attempt_id"], row["status"]) == ("A-9", "succeeded")


def test_metrics_off_runs_the_command_and_records_nothing(tmp_path: Path, media: dict[str, Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.MEDIAJOB_METRICS, "0")
    manifest = tmp_path / "m.json"
    manifest.write_text('{"a": 1}')
    marker = tmp_path / "ran"
    assert mjrun(tmp_path / "ds", "--job-type", "upload_thumb_v1", "--job-id", "J-7",
                 "--input", str(media["video"]), "--manifest", str(manifest),
                 "--", "touch", str(marker)) == 0
    assert marker.exists()
    assert manifest.read_text() == '{"a": 1}'
    assert read_rows(tmp_path / "ds") == []


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert mjrun(tmp_path / "ds", "--job-type", "t", "--job-id", "j") == 2
    assert mjrun(tmp_path / "ds", "--job-type", "t", "--job-id", "j",
                 "--commands-file", str(tmp_path / "none.json")) == 2
    assert mjrun(tmp_path / "ds", "--job-type", "t", "--job-id", "j", "--attempt", "0",
                 "--", "true") == 2
    assert mjrun(tmp_path / "ds", "--job-type", "t", "--job-id", "j",
                 "--sample-interval", "-1", "--", "true") == 2
    assert read_rows(tmp_path / "ds") == []


@pytest.mark.s3
def test_s3_output_size_and_s3_dataset(s3_prefix: str, tmp_path: Path,
                                       media: dict[str, Path]) -> None:
    import io

    import boto3
    import pyarrow.parquet as pq

    from collectors import outputs
    from collectors.layout import parse_url

    outputs.reset_client()  # the environment now points at the test server
    loc = parse_url(s3_prefix)
    s3 = boto3.client("s3")
    s3.put_object(Bucket=loc.bucket, Key=f"{loc.prefix}-out/proxy.mp4", Body=b"x" * 12345)
    out_url = f"s3://{loc.bucket}/{loc.prefix}-out/proxy.mp4"
    assert mjrun(s3_prefix, "--job-type", "upload_edit_proxy_v1", "--job-id", "J-8",
                 "--input", str(media["video"]), "--output", out_url, "--", "true") == 0
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=loc.bucket, Prefix=loc.prefix + "/")
            .get("Contents", [])]
    assert len(keys) == 1 and "/job_type=upload_edit_proxy_v1/" in keys[0]
    body = s3.get_object(Bucket=loc.bucket, Key=keys[0])["Body"].read()
    [row] = pq.read_table(io.BytesIO(body)).to_pylist()
    assert row["output_size_bytes"] == 12345
    assert row["metrics_error"] is None
    outputs.reset_client()


# --- mjcollect demo ---------------------------------------------------------------------------


def test_demo_plan_is_deterministic_and_retries_truncated_inputs() -> None:
    from collectors.commands.demo import INTACT, SMALL, job_types_for, plan

    first, again = plan(SMALL, 1, seed=7), plan(SMALL, 1, seed=7)
    assert [p.attempt_id for p in first] == [p.attempt_id for p in again]
    assert {p.attempt_id for p in first}.isdisjoint(p.attempt_id for p in plan(SMALL, 1, 8))
    assert len({p.attempt_id for p in first}) == len(first)
    retries = [p for p in first if p.attempt_number == 2]
    assert {p.input_name for p in retries} == {"h264_320x240_2s_truncated" + INTACT}
    assert len(retries) == 4
    audio = next(s for s in SMALL if s.vcodec is None)
    assert job_types_for(audio) == ("upload_audio_envelope_v1",)


@pytest.mark.slow
def test_demo_small_writes_a_varied_measured_dataset(tmp_path: Path) -> None:
    assert cli.main(["demo", "--scale", "small", "--out", str(tmp_path / "ds"),
                     "--instance-type", "t3.test"]) == 0
    rows = read_rows(tmp_path / "ds")
    assert len(rows) == 25
    assert {r["job_type"] for r in rows} == set(JOB_TYPES)
    assert {r["input_video_codec"] for r in rows} == {"h264", "hevc", "vp9", None}
    assert {r["input_audio_codec"] for r in rows} == {"aac", "opus", None}
    assert any(r["input_height"] == 426 and r["input_width"] == 240 for r in rows)  # portrait
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 4 and all(r["attempt_number"] == 1 for r in failed)
    assert all(r["error"].startswith("PipelineError: ffmpeg exited with") for r in failed)
    ok = [r for r in rows if r["status"] == "succeeded"]
    assert all(r["rtf"] > 0 and r["output_size_bytes"] > 0 and r["ffmpeg_commands"]
               for r in ok)
    assert all(r["synthetic"] is False and r["instance_type"] == "t3.test" for r in rows)
    # A job that ends before the first (0.05 s) sample is not seen alive: its memory is
    # unknown (null, not 0) and its CPU, when known, is the kernel's count of the reaped
    # children; that happens to a few of these tiny jobs, more or fewer with the machine's load.
    seen_alive = [r for r in rows if r["mem_rss_mb_max"] is not None]
    assert len(seen_alive) >= 5
    assert all(r["mem_rss_mb_max"] > 1 and r["cpu_sample_count"] >= 1
               and r["cpu_pct_max"] >= r["cpu_pct_avg"] > 0 for r in seen_alive)
    assert all(r["cpu_pct_max"] >= r["cpu_pct_avg"] > 0
               for r in rows if r["cpu_pct_avg"] is not None)
    envelope = [r for r in ok if r["job_type"] == "upload_audio_envelope_v1"]
    assert any(r["input_video_codec"] is None for r in envelope)  # the audio-only source
    # The demo's jobs are local: all their time is the transcode phase (but a few ms).
    assert all(r["phase_transcode_ms"] > 0 and r["phase_other_ms"] <= 20
               and abs(r["phase_transcode_ms"] + r["phase_other_ms"] - r["duration_ms"]) <= 2
               for r in rows)


def script_running_mjcollect(script: str, tmp_path: Path, src: Path) -> Any:
    """What `script` (which runs `cli.main(sys.argv[1:])`) prints as JSON, run in a fresh
    interpreter with `mjcollect run ... --input SRC -- true` as its arguments."""
    env = {**os.environ, config.MEDIAJOB_METRICS_SPOOL: str(tmp_path / "spool"),
           config.AWS_EC2_METADATA_DISABLED: "true"}
    out = subprocess.run(
        [sys.executable, "-c", script, "run", "--data", str(tmp_path / "ds"), "--job-type",
         "upload_thumb_v1", "--job-id", "J-12", "--input", str(src), "--", "true"],
        capture_output=True, text=True, env=env, cwd=REPO, check=True)
    return json.loads(out.stdout)


def test_mjcollect_run_imports_no_parquet_writer_and_no_s3_client(
        tmp_path: Path, media: dict[str, Path]) -> None:
    # The row is spooled as JSON; the agent or the detached flusher writes the Parquet.
    script = ("import json, sys\nfrom collectors import cli\nrc = cli.main(sys.argv[1:])\n"
              "print(json.dumps([rc, sorted(sys.modules)]))")
    rc, modules = script_running_mjcollect(script, tmp_path, media["video"])
    assert rc == 0
    heavy = {m.split(".")[0] for m in modules} & {"pyarrow", "boto3", "botocore", "numpy",
                                                    "pandas"}
    assert heavy == set()
    assert "collectors.attempt" in modules


# --- the job first, the set-up while it runs (issue 14, item 2) ---------------------------------

def mjcollect_process(tmp_path: Path, *opts: str) -> tuple[subprocess.CompletedProcess[str],
                                                             float, float]:
    """The installed `mjcollect run` in a fresh interpreter (nothing imported yet, as on a
    worker), rows uploaded before it exits; with the wall clock just before and after it."""
    import time

    env = {**os.environ, config.MEDIAJOB_METRICS_SPOOL: str(tmp_path / "spool"),
           config.AWS_EC2_METADATA_DISABLED: "true", config.AWS_INSTANCE_TYPE: "c7i.large"}
    before = time.time()
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("mjcollect")), "run", "--data", str(tmp_path / "ds"),
         "--upload-timeout", "60", *opts], capture_output=True, text=True, env=env, cwd=REPO,
        check=False)
    return proc, before, time.time()


def test_the_job_starts_before_the_attempt_machinery_is_imported(
        tmp_path: Path, media: dict[str, Path]) -> None:
    # What the interpreter has loaded when the job's command is started: what parsing the
    # command line needs, not psutil, the probe, the schema, the spool, not even logging,
    # typing or the configuration (they load while the job runs, and the probe runs then too).
    script = (
        "import json, subprocess, sys\n"
        "seen = []\n"
        "real = subprocess.Popen.__init__\n"
        "def spy(self, args, *a, **k):\n"
        "    seen.append([list(args), sorted(sys.modules)])\n"
        "    real(self, args, *a, **k)\n"
        "subprocess.Popen.__init__ = spy\n"
        "from collectors import cli\n"
        "rc = cli.main(sys.argv[1:])\n"
        "print(json.dumps([rc, seen]))\n")
    rc, seen = script_running_mjcollect(script, tmp_path, media["video"])
    assert rc == 0
    (first_argv, loaded), *later = seen
    assert first_argv == ["true"]
    assert {"psutil", "collectors.attempt", "collectors.probe", "collectors.sampler",
            "collectors.schema", "collectors.spool", "collectors.host", "pyarrow", "boto3",
            "importlib.metadata", "logging", "typing", "collectors.config"} & set(loaded) == set()
    assert any(Path(argv[0]).name == "ffprobe" for argv, _ in later)  # probed after it


@pytest.mark.parametrize("job", [["true"], ["sleep", "0.01"], ["sleep", "0.1"]])
def test_a_job_shorter_than_the_set_up_still_gives_a_complete_row(
        job: list[str], tmp_path: Path, media: dict[str, Path]) -> None:
    proc, before, after = mjcollect_process(
        tmp_path, "--job-type", "upload_thumb_v1", "--job-id", "J-14", "--input",
        str(media["video"]), "--", *job)
    assert (proc.returncode, proc.stderr) == (0, "")
    [row] = read_rows(tmp_path / "ds")
    assert row["status"] == "succeeded" and row["metrics_error"] is None
    # The set-up done while (or after) the job ran is all there: probe, host, registry.
    assert row["input_duration_seconds"] == 2.0 and row["probe_ms"] > 0
    assert (row["instance_type"], row["host_running_at_start"]) == ("c7i.large", 1)
    # The clock covers the job: from before it started to its exit, inside mjcollect's life.
    seconds = float(job[1]) if len(job) > 1 else 0.0
    assert seconds * 1000 <= row["duration_ms"] <= (after - before) * 1000
    span = row["finished_at"] - row["started_at"]
    assert abs(span.total_seconds() * 1000 - row["duration_ms"]) <= 2
    assert before <= row["started_at"].timestamp() <= row["finished_at"].timestamp() <= after
    # Seen alive or not (a zombie has no memory left to read), never a false figure.
    assert row["cpu_sample_count"] >= 1
    assert row["mem_rss_mb_max"] is None or row["mem_rss_mb_max"] > 0
    assert row["cpu_pct_avg"] is None or row["cpu_pct_max"] >= row["cpu_pct_avg"] >= 0


def test_the_rows_time_covers_a_job_longer_than_the_set_up(
        tmp_path: Path, media: dict[str, Path]) -> None:
    proc, before, after = mjcollect_process(
        tmp_path, "--job-type", "create_video_export_v1", "--job-id", "J-15", "--input",
        str(media["video"]), "--", sys.executable, "-c", HOLD)
    assert proc.returncode == 0
    [row] = read_rows(tmp_path / "ds")
    assert 1000 <= row["duration_ms"] <= (after - before) * 1000
    # Started before the sampler, still sampled whole: its 200 MB, its CPU from its birth.
    assert 180 <= row["mem_rss_mb_max"] <= 260
    assert row["cpu_sample_count"] >= 3


def test_a_first_command_with_a_phase_is_timed_from_its_start(
        tmp_path: Path, media: dict[str, Path]) -> None:
    out = tmp_path / "out.mp4"
    proc, _, _ = mjcollect_process(
        tmp_path, "--job-type", "upload_thumb_v1", "--job-id", "J-16", "--input",
        str(media["video"]), "--output", str(out), "--phase", "transcode", "--", "sleep", "0.3",
        "--then", "--phase", "upload", "--", "cp", str(media["video"]), str(out))
    assert proc.returncode == 0
    [row] = read_rows(tmp_path / "ds")
    assert row["phase_transcode_ms"] >= 300 and row["phase_upload_ms"] > 0
    phases = sum(row[f"phase_{p}_ms"] for p in ("download", "probe", "transcode", "upload",
                                                 "other"))
    assert abs(phases - row["duration_ms"]) <= 3
    assert row["net_bytes_out"] == out.stat().st_size


def test_an_input_the_first_command_fetches_is_probed_whole(
        tmp_path: Path, media: dict[str, Path]) -> None:
    # Not there when mjcollect starts: the first command writes it (slowly, in two halves),
    # so it is not started before the set-up, and the probe waits for the whole file.
    local = tmp_path / "in.mp4"
    fetch = ("import sys, time\ndata = open(sys.argv[1], 'rb').read()\n"
             "with open(sys.argv[2], 'wb') as f:\n"
             "    f.write(data[: len(data) // 2]); f.flush(); time.sleep(0.5)\n"
             "    f.write(data[len(data) // 2:])\n")
    proc, _, _ = mjcollect_process(
        tmp_path, "--job-type", "upload_thumb_v1", "--job-id", "J-17", "--input", str(local),
        "--", sys.executable, "-c", fetch, str(media["video"]), str(local), "--then", "true")
    assert proc.returncode == 0
    [row] = read_rows(tmp_path / "ds")
    assert row["input_duration_seconds"] == 2.0 and row["metrics_error"] is None


def test_download_is_the_name_the_schema_gives_the_phase() -> None:
    from collectors.commands.run import DOWNLOAD
    from collectors.schema import PHASE_DOWNLOAD

    assert DOWNLOAD == PHASE_DOWNLOAD


def test_a_chain_whose_first_command_ends_during_the_set_up(
        tmp_path: Path, media: dict[str, Path]) -> None:
    # `true` is over long before psutil is imported: the wait for the set-up before the next
    # command is left out of the job's time, the phases still add up to it.
    proc, before, after = mjcollect_process(
        tmp_path, "--job-type", "upload_thumb_v1", "--job-id", "J-18", "--input",
        str(media["video"]), "--phase", "probe", "--", "true", "--then", "--phase", "transcode",
        "--", "sleep", "0.2")
    assert proc.returncode == 0
    [row] = read_rows(tmp_path / "ds")
    assert 200 <= row["phase_transcode_ms"] <= row["duration_ms"] <= (after - before) * 1000
    phases = sum(row[f"phase_{p}_ms"] for p in ("download", "probe", "transcode", "upload",
                                                 "other"))
    assert abs(phases - row["duration_ms"]) <= 3
    assert row["ffmpeg_commands"] == ["true", "sleep 0.2"]


def test_the_quick_exit_keeps_the_row_the_log_and_the_registry(
        tmp_path: Path, media: dict[str, Path]) -> None:
    # `mjcollect run` ends without the interpreter's teardown: what it wrote, logged and
    # registered must all be settled by then.
    bad_manifest = tmp_path / "not-a-file"
    bad_manifest.mkdir()
    for i in range(2):
        proc, _, _ = mjcollect_process(
            tmp_path, "--job-type", "upload_thumb_v1", "--job-id", f"J-19-{i}", "--input",
            str(media["video"]), "--manifest", str(bad_manifest), "--", "true")
        assert proc.returncode == 0
        assert f"manifest {bad_manifest} not updated" in proc.stderr  # logged, flushed
    rows = sorted(read_rows(tmp_path / "ds"), key=lambda r: r["job_id"])
    assert [r["job_id"] for r in rows] == ["J-19-0", "J-19-1"]
    # The first run's registry entry was released: the second saw itself alone.
    assert [r["host_running_at_start"] for r in rows] == [1, 1]
