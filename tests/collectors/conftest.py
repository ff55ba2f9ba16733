"""Fixtures shared by the collector tests that run the real ffprobe on media ffmpeg makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors import probe


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests.media.make_media writes; per module, so each file's media are made once."""
    return tmp_path_factory.mktemp("media")


def install_ffprobe_wrapper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str = ""
) -> Path:
    """Point the collector at a wrapper that logs each run, does `body`, then execs the real
    ffprobe; returns the log (one line a run)."""
    log = tmp_path / "ffprobe-runs.log"
    wrapper = tmp_path / "ffprobe-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\n{body}\nexec ffprobe "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setattr(probe, "FFPROBE", str(wrapper))
    return log


@pytest.fixture
def ffprobe_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A log with one line per real ffprobe run."""
    return install_ffprobe_wrapper(tmp_path, monkeypatch)


def runs(log: Path) -> int:
    """How many times ffprobe ran, by the wrapper's log."""
    return len(log.read_text().splitlines()) if log.exists() else 0
