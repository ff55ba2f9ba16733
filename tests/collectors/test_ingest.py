"""`mjcollect ingest`: good manifests become rows in the dataset, bad ones are named and skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads
import pytest

from collectors import cli, config

GOOD = {
    "attemptId": "att-1",
    "jobId": "job-1",
    "jobType": "create_video_export_v1",
    "attemptNumber": 2,
    "owner": "someone else's key, ignored",
    "ffmpegCommands": ["ffmpeg -i in.mov -c:v libx264 out.mp4"],
    "metrics": {
        "status": "succeeded",
        "startedAt": "2026-11-20T10:00:00Z",
        "finishedAt": "2026-11-20T10:00:30.500Z",
        "durationMs": 30500,
        "rtf": 1.97,
        "input": {"durationSeconds": 60.0, "videoCodec": "h264", "width": 1920, "height": 1080},
        "host": {"instanceType": "c7i.large", "cpuCores": 2, "memGb": 4.0},
        "cpuPctAvg": 180.5,
        "schemaVersion": 1,
    },
}


def write(path: Path, doc: Any) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def read_rows(root: Path) -> list[dict[str, Any]]:
    ds = pads.dataset(root, format="parquet", partitioning="hive")
    return sorted(ds.to_table().to_pylist(), key=lambda r: r["attempt_id"])


@pytest.fixture(autouse=True)
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(config.MEDIAJOB_METRICS_SPOOL, str(tmp_path / "spool"))
    monkeypatch.delenv(config.MEDIAJOB_METRICS_URL, raising=False)
    return tmp_path / "spool"


def test_good_and_broken_manifests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "manifests"
    d.mkdir()
    good = write(d / "a.json", GOOD)
    second = write(d / "b.json", {**GOOD, "attemptId": "att-2",
                                  "metrics": {**GOOD["metrics"], "status": "failed",  # type: ignore[dict-item]
                                              "error": "CommandFailed: ffmpeg exited with 1"}})
    not_json = write(d / "c.json", "{not json")
    no_metrics = write(d / "d.json", {"attemptId": "x", "jobId": "y", "jobType": "z"})
    no_job = write(d / "e.json", {"metrics": {"status": "succeeded"}})
    bad_type = write(d / "f.json", {**GOOD, "attemptId": "att-3",
                                    "metrics": {**GOOD["metrics"], "durationMs": "slow"}})  # type: ignore[dict-item]
    listing = write(d / "g.json", [GOOD])
    data = tmp_path / "dataset"

    code = cli.main(["ingest", str(good), str(second), str(not_json), str(no_metrics),
                     str(no_job), str(bad_type), str(listing), str(d / "missing.json"),
                     "--data", str(data)])

    out = capsys.readouterr().out
    assert code == 1
    for bad in (not_json, no_metrics, no_job, bad_type, listing, d / "missing.json"):
        assert f"skipped {bad}:" in out
    assert "no `metrics` object" in out and "missing required fields" in out
    assert "metrics.durationMs" in out
    assert "ingested 2 of 8 manifests; 6 skipped" in out
    rows = read_rows(data)
    assert [r["attempt_id"] for r in rows] == ["att-1", "att-2"]
    r = rows[0]
    assert (r["job_id"], r["job_type"], r["attempt_number"], r["status"]) == (
        "job-1", "create_video_export_v1", 2, "succeeded")
    assert (r["duration_ms"], r["rtf"], r["input_width"], r["instance_type"]) == (
        30500, 1.97, 1920, "c7i.large")
    assert r["ffmpeg_commands"] == ["ffmpeg -i in.mov -c:v libx264 out.mp4"]
    assert r["synthetic"] is False
    assert rows[1]["status"] == "failed"
    assert rows[1]["error"] == "CommandFailed: ffmpeg exited with 1"
    parts = sorted(p.relative_to(data).parts[:2] for p in data.rglob("*.parquet"))
    assert parts[0] == ("job_type=create_video_export_v1", "dt=2026-11-20")


def test_all_good_exits_zero_and_folders_expand(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "m"
    d.mkdir()
    for i in range(3):
        write(d / f"{i}.json", {**GOOD, "attemptId": f"att-{i}"})
    write(d / "notes.txt", "not a manifest, not matched")
    assert cli.main(["ingest", str(d), "--data", str(tmp_path / "ds")]) == 0
    assert "ingested 3 of 3 manifests" in capsys.readouterr().out
    assert [r["attempt_id"] for r in read_rows(tmp_path / "ds")] == ["att-0", "att-1", "att-2"]


def test_no_dataset_configured(tmp_path: Path) -> None:
    write(tmp_path / "a.json", GOOD)
    assert cli.main(["ingest", str(tmp_path / "a.json")]) == 2


@pytest.mark.s3
def test_ingest_to_s3(tmp_path: Path, s3_prefix: str) -> None:
    import boto3
    import pyarrow.parquet as pq

    from collectors.layout import parse_url

    write(tmp_path / "a.json", GOOD)
    write(tmp_path / "b.json", "[]")
    assert cli.main(["ingest", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                     "--data", s3_prefix]) == 1
    loc = parse_url(s3_prefix)
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=loc.bucket, Prefix=loc.prefix + "/")
            .get("Contents", [])]
    assert len(keys) == 1 and "/job_type=create_video_export_v1/dt=2026-11-20/" in keys[0]
    import io

    body = s3.get_object(Bucket=loc.bucket, Key=keys[0])["Body"].read()
    assert pq.read_table(io.BytesIO(body)).column("attempt_id").to_pylist() == ["att-1"]
