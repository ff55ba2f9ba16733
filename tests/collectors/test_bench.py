"""`mjcollect bench`: argument parsing (pure), then a real run of the proxy pipeline at 1 and 2
attempts at once, read back by `mjplan density`."""

from __future__ import annotations

from pathlib import Path

import pyarrow.dataset as pads
import pytest

from collectors import cli, config
from collectors.commands.bench import (
    INPUT_CLASSES,
    classes_for,
    input_classes,
    parse_levels,
    parse_names,
)
from collectors.host import reset_host_metrics
from planner.dataset import open_dataset
from planner.density import density_curve


def test_levels_and_names() -> None:
    assert parse_levels("2,1,2,4") == [1, 2, 4]
    for bad in ("", "0,1", "a", "1.5"):
        with pytest.raises(ValueError):
            parse_levels(bad)
    assert parse_names("b, a", ("a", "b", "c"), "x") == ["b", "a"]
    with pytest.raises(ValueError, match="unknown job type nope"):
        parse_names("a,nope", ("a",), "job type")


def test_input_classes_suit_their_job_types() -> None:
    specs = input_classes(10.0)
    assert set(specs) == set(INPUT_CLASSES)
    assert {s.size for s in specs.values()} >= {"1920x1080", "3840x2160", None}
    assert {s.vcodec for s in specs.values()} >= {"h264", "hevc"}
    assert any(s.portrait for s in specs.values())
    assert classes_for("upload_audio_envelope_v1", INPUT_CLASSES) == [
        n for n in INPUT_CLASSES if specs[n].acodec]
    assert "aac_audio" not in classes_for("upload_thumb_v1", INPUT_CLASSES)


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["bench", "--out", str(tmp_path / "ds"), "--cache", str(tmp_path / "cache")]
    for extra in (["--concurrency", "0"], ["--job-types", "nope"], ["--seconds", "0"],
                  ["--job-types", "upload_thumb_v1", "--classes", "aac_audio"]):
        assert cli.main([*base, *extra]) == 2
        assert capsys.readouterr().err.startswith("mjcollect bench: ")
    assert not (tmp_path / "ds").exists()


@pytest.mark.slow
def test_bench_writes_rows_for_both_levels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv(config.MEDIAJOB_METRICS_SPOOL, str(tmp_path / "spool"))
    monkeypatch.setenv(config.AWS_EC2_METADATA_DISABLED, "true")
    monkeypatch.delenv(config.AWS_INSTANCE_TYPE, raising=False)
    reset_host_metrics()
    data = tmp_path / "ds"
    # The command, on one short input class and 6 s steps (not the 20 s): an
    # attempt takes 1-4 s here, so each level still records several, and at level 2 the two
    # workers' attempts overlap (each worker runs back to back from the same start).
    assert cli.main(["bench", "--out", str(data), "--cache", str(tmp_path / "cache"),
                     "--concurrency", "1,2", "--job-types", "upload_edit_proxy_v1",
                     "--seconds", "6", "--classes", "h264_1080p", "--input-seconds", "4",
                     "--instance-type", "c7i.large"]) == 0
    reset_host_metrics()
    rows = pads.dataset(data, format="parquet", partitioning="hive").to_table().to_pylist()
    by_level = {n: [r for r in rows if r["worker_slots"] == n] for n in (1, 2)}
    assert by_level[1] and by_level[2] and len(rows) == len(by_level[1]) + len(by_level[2])
    for r in rows:
        assert (r["source"], r["job_type"], r["status"]) == (
            "bench", "upload_edit_proxy_v1", "succeeded")
        assert r["instance_type"] == "c7i.large" and r["input_duration_seconds"] == 4.0
        assert r["rtf"] == pytest.approx(4.0 / (r["duration_ms"] / 1000), rel=1e-3)
        assert r["ffmpeg_commands"] and r["ffmpeg_version"]
    assert {r["host_running_at_start"] for r in by_level[1]} == {1}
    # Two workers: the registry saw both running (a worker between two attempts may be missed).
    assert 2 in {r["host_running_at_start"] for r in by_level[2]}
    assert {r["host_running_at_start"] for r in by_level[2]} <= {1, 2}
    assert all(r["cpu_pct_avg"] is None for r in by_level[2])  # no sampler above level 1
    assert (tmp_path / "cache" / "bench_h264_1920x1080_4s.mp4").exists()  # kept for next time

    ds = open_dataset(str(data))
    try:
        curve = density_curve(ds, min_attempts=1)
    finally:
        ds.close()
    assert set(curve["running"].to_list()) >= {1, 2}
    assert set(curve["source"].to_list()) == {"bench"}
    assert set(curve["instance_type"].to_list()) == {"c7i.large"}


@pytest.mark.slow
def test_ctrl_c_keeps_whole_rows_only(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, config.MEDIAJOB_METRICS_SPOOL: str(tmp_path / "spool"),
           config.AWS_EC2_METADATA_DISABLED: "true", config.AWS_INSTANCE_TYPE: "c7i.large",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    data = tmp_path / "ds"
    # Its own process group, so SIGINT to the group is what a terminal's Ctrl-C sends: to
    # mjcollect and to the ffmpeg it runs.
    proc = subprocess.Popen(
        [sys.executable, "-m", "collectors.cli", "bench", "--out", str(data), "--cache",
         str(tmp_path / "cache"), "--concurrency", "1,2", "--job-types", "upload_edit_proxy_v1",
         "--seconds", "8", "--classes", "h264_1080p", "--input-seconds", "4"],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        start_new_session=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # plain progress lines (no terminal)
        if "[1/2] bench" in line:  # the first level is done, the second under way
            break
    import time

    time.sleep(2.0)  # inside the second level's attempts
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    rows = pads.dataset(data, format="parquet", partitioning="hive").to_table().to_pylist()
    assert rows and all(r["status"] == "succeeded" for r in rows)  # none cut short
    assert {r["worker_slots"] for r in rows} >= {1}
    assert all(r["duration_ms"] and r["rtf"] for r in rows)
    assert "upload_edit_proxy_v1 x1:" in out
