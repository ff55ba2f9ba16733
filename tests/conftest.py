"""Shared fixtures: a real S3 server (SeaweedFS on loopback) and its client settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3server import SeaweedS3


@pytest.fixture(scope="session", autouse=True)
def host_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The host-local registry of running attempts in the session's own folder: the suites of
    other checkouts on this machine would otherwise share ~/.cache/mediajobs/running."""
    folder = tmp_path_factory.mktemp("running")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIAJOB_HOST_REGISTRY", str(folder))
        yield folder


@pytest.fixture(scope="session")
def _planner_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("planner-cache")


@pytest.fixture(autouse=True)
def planner_cache(_planner_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The planner's local cache (planner.cache) in a folder of the test session, never the
    user's: `mjplan` commands use it by default. Shared by the session (caches are per dataset
    URL, and test datasets are in folders of their own)."""
    monkeypatch.setenv("MJPLAN_CACHE_DIR", str(_planner_cache_dir))
    return _planner_cache_dir


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One SeaweedFS for the whole session; tests use their own prefixes in its bucket."""
    server = SeaweedS3(data_dir=tmp_path_factory.mktemp("seaweed") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> SeaweedS3:
    """The server, with the AWS variables of the standard chain pointing at it."""
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    return s3_server


@pytest.fixture
def s3_prefix(request: pytest.FixtureRequest, s3_env: SeaweedS3) -> str:
    """An `s3://bucket/prefix` URL unique to the test."""
    return s3_env.url(f"t/{request.node.name}")


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
