"""`mjplan summary`: tables, JSON, and one clear line for each kind of user error."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from planner.cli import main
from tests.rows import row, write
from tests.s3server import SeaweedS3


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rows = [row(instance_type="c5.large", input_s=60.0, wall_s=40.0) for _ in range(3)]
    rows += [row(instance_type="c7i.large", input_s=60.0, wall_s=20.0, start_s=86400.0)]
    rows += [row(job_type="upload_thumb_v1", input_s=20.0, wall_s=2.0)]
    write(tmp_path, rows)
    return tmp_path


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["summary", *argv, "--json"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_json_for_scripts(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--data", str(folder))
    assert doc["dataset"] == str(folder) and doc["files"] == 3 and doc["skipped_files"] == []
    groups = {(g["job_type"], g["instance_type"]): g for g in doc["groups"]}
    assert groups[("create_video_export_v1", "c5.large")]["rtf"] == pytest.approx(1.5)
    assert groups[("create_video_export_v1", "c7i.large")]["rtf"] == pytest.approx(3.0)
    thumb = groups[("upload_thumb_v1", "c7i.large")]
    assert thumb["rtf"] is None and thumb["jobs_per_hour"] == pytest.approx(1800.0)
    assert all(g["low_sample"] for g in doc["groups"])


def test_filters_reach_the_summary(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(
        capsys,
        "--data",
        str(folder),
        "--job-type",
        "create_video_export_v1",
        "--since",
        "2026-11-03",
    )
    assert [(g["instance_type"], g["attempts"]) for g in doc["groups"]] == [("c7i.large", 1)]
    doc = _json(capsys, "--data", str(folder), "--instance-type", "c5.large", "--by", "job_type")
    assert [(g["job_type"], g["attempts"]) for g in doc["groups"]] == [
        ("create_video_export_v1", 3)
    ]


def test_tables_for_people(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    # The heading wraps at the terminal's width, and the folder's name is as long as the
    # temporary folder (longer under pytest-xdist, popen-gw0/): read it with spaces for breaks.
    assert f"{folder}: 5 attempts, 3 files" in " ".join(out.split())
    assert "create_video_export_v1 (RTF: media s / wall s)" in out
    assert "upload_thumb_v1 (jobs per hour per busy slot)" in out
    line = next(ln for ln in out.splitlines() if "c5.large" in ln)
    cells = line.split()
    assert cells[:4] == ["c5.large", "3", "100.0", "1.50"]
    assert cells[-1] == "few"


def test_the_embedded_data_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--by", "job_type", "--only", "synthetic")
    assert {g["job_type"] for g in doc["groups"]} == {
        "create_video_export_v1",
        "upload_edit_proxy_v1",
        "upload_thumb_v1",
        "upload_audio_envelope_v1",
    }
    assert all(not g["low_sample"] for g in doc["groups"])


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["summary", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_one_line_errors(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = folder / "nope"
    assert _error(capsys, "--data", str(missing)) == (
        f"mjplan summary: no dataset folder at {missing}"
    )
    assert _error(capsys, "--data", str(folder), "--job-type", "nope") == (
        "mjplan summary: --job-type 'nope': no such job type in the data; known: "
        "export (create_video_export_v1), thumb (upload_thumb_v1)"
    )
    assert _error(capsys, "--data", str(folder), "--since", "soon") == (
        "mjplan summary: --since: not a date or time: 'soon'"
    )
    assert "not after" in _error(
        capsys, "--data", str(folder), "--since", "2026-11-05", "--until", "2026-11-01"
    )


def test_bad_choice_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["summary", "--by", "colour"])
    assert exc.value.code == 2
    assert "--by: 'colour' is not one of 'instance'" in capsys.readouterr().err


def test_unreachable_s3_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for key, value in {
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    err = _error(capsys, "--data", "s3://metrics/attempts")
    assert err.startswith("mjplan summary: cannot list s3://metrics/attempts: ")


@pytest.mark.s3
def test_summary_of_an_s3_dataset(
    folder: Path, s3_env: SeaweedS3, s3_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.fs as pafs

    from planner.dataset import s3_filesystem

    fs = s3_filesystem()
    base = s3_prefix[len("s3://") :]
    pafs.copy_files(
        str(folder), base, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs
    )
    local = _json(capsys, "--data", str(folder))["groups"]
    remote = _json(capsys, "--data", s3_prefix)["groups"]
    assert len(remote) == len(local) == 3
    for a, b in zip(local, remote, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            assert b[k] == (pytest.approx(a[k]) if isinstance(a[k], float) else a[k])
