"""The ffmpeg version is asked once per host and ffmpeg binary, not once per `mjcollect run`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collectors import config
from collectors.ffmpeg_version import ffmpeg_version, reset_ffmpeg_version


def test_a_new_process_reuses_the_answer_until_ffmpeg_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "runs.log"
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho run >> "{log}"\necho "ffmpeg version 9.9-test"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(config.MEDIAJOB_METRICS_SPOOL, str(tmp_path / "spool"))
    try:
        for _ in range(3):  # three "processes": the in-process memory forgotten each time
            reset_ffmpeg_version()
            assert ffmpeg_version() == "ffmpeg version 9.9-test"
        assert log.read_text().splitlines() == ["run"]
        # A new ffmpeg binary (here: the same path rewritten) is asked again.
        fake.write_text(f'#!/bin/sh\necho run >> "{log}"\necho "ffmpeg version 10.0-new"\n')
        os.utime(fake, ns=(1, 1))
        reset_ffmpeg_version()
        assert ffmpeg_version() == "ffmpeg version 10.0-new"
        assert log.read_text().splitlines() == ["run", "run"]
    finally:
        reset_ffmpeg_version()
