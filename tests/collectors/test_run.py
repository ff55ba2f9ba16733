"""`mjcollect run`: command splitting and manifest merging (pure), then real ffmpeg runs of the
four pipelines through the command, exit codes, manifests and rows in a dataset folder."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from collectors.commands.run import (
    describe_failure,
    exit_code_of,
    parse_commands_file,
    split_commands,
)
from collectors.manifest import merge_manifest, read_manifest, update_manifest

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
