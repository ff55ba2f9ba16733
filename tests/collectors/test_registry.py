"""The host-local registry behind host_running_at_start: real processes, real flock, and a
read-only and a full file system (tmpfs mounts when run as root)."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors import InMemorySink, attempt, config, start_attempt
from collectors.registry import register

REPO = Path(__file__).resolve().parents[2]

# One attempt in a process of its own: it starts, says so, waits until the other process
# started too (so both are running at once), then finishes and prints its count.
TWO_TOGETHER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from collectors import InMemorySink, attempt
    me, other = Path(sys.argv[1]), Path(sys.argv[2])
    sink = InMemorySink()
    with attempt("upload_thumb_v1", me.name, sink=sink, sampler=None) as a:
        me.touch()
        deadline = time.monotonic() + 20
        while not other.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    print(sink.rows[0]["host_running_at_start"])
""")

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from collectors.registry import register
    entry = register("held", Path(sys.argv[1]))
    print(entry.running_at_start, flush=True)
    time.sleep(60)
""")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "running"
    monkeypatch.setenv(config.MEDIAJOB_HOST_REGISTRY, str(d))
    monkeypatch.setenv(config.AWS_INSTANCE_TYPE, "c7i.large")
    monkeypatch.delenv(config.MEDIAJOB_METRICS, raising=False)
    return d


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, config.MEDIAJOB_HOST_REGISTRY: str(folder),
            "PYTHONPATH": str(REPO), config.AWS_INSTANCE_TYPE: "c7i.large"}


def _one_attempt() -> dict[str, object]:
    sink = InMemorySink()
    with attempt("upload_thumb_v1", "job", sink=sink, sampler=None):
        pass
    return sink.rows[0]


def test_two_attempts_started_together_in_two_processes_count_1_and_2(
    folder: Path, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    procs = [subprocess.Popen([sys.executable, "-c", TWO_TOGETHER, str(x), str(y)],
                              env=_env(folder), stdout=subprocess.PIPE, text=True)
             for x, y in ((a, b), (b, a))]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(outs) == ["1", "2"]
    assert [p.returncode for p in procs] == [0, 0]
    assert sorted(p.name for p in folder.iterdir()) == [".registry.lock"]  # both entries gone
    assert _one_attempt()["host_running_at_start"] == 1  # and nothing counts them after


def test_attempts_in_threads_of_one_process_count_each_other(folder: Path) -> None:
    first = register("first", folder)
    second = register("second", folder)
    try:
        assert (first.running_at_start, second.running_at_start) == (1, 2)
        assert _one_attempt()["host_running_at_start"] == 3
    finally:
        first.release()
        second.release()
    assert _one_attempt()["host_running_at_start"] == 1


def test_an_attempt_dropped_unfinished_leaves_no_entry_behind(folder: Path) -> None:
    # A worker that loses an attempt on an error path (never finished) must not count it as
    # running for the rest of the process's life.
    dropped = start_attempt("upload_thumb_v1", "job-dropped", sink=InMemorySink(), sampler=None)
    assert dropped.row is None and _one_attempt()["host_running_at_start"] == 2
    del dropped
    gc.collect()
    assert _one_attempt()["host_running_at_start"] == 1
    assert sorted(p.name for p in folder.iterdir()) == [".registry.lock"]


def test_a_dead_process_entry_is_ignored_and_removed(folder: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], env=_env(folder),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "1"
        assert _one_attempt()["host_running_at_start"] == 2  # alive: counted
        held = [p for p in folder.iterdir() if p.name.startswith("held-")]
        assert len(held) == 1 and held[0].read_text().strip() == str(holder.pid)
    finally:
        holder.send_signal(signal.SIGKILL)  # no clean-up of its own
        holder.wait(10)
    assert held[0].exists()  # left behind by the killed process
    assert _one_attempt()["host_running_at_start"] == 1  # dead: not counted
    assert not held[0].exists()  # and cleaned up


@contextlib.contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _assert_null_and_job_unharmed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "collectors")  # logged at WARNING once per process
    ran = []
    sink = InMemorySink()
    with attempt("upload_thumb_v1", "job", sink=sink, sampler=None) as a:
        ran.append(True)
    assert ran == [True] and a.row is not None
    assert a.row["status"] == "succeeded" and a.row["host_running_at_start"] is None
    assert a.row["metrics_error"] is None  # a gap in one column, not an error of the row
    assert "host_running_at_start unknown" in caplog.text


def test_a_read_only_registry_leaves_the_count_null_and_the_job_unharmed(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.geteuid() == 0:
        with _tmpfs(folder, "ro,size=64k"):
            _assert_null_and_job_unharmed(caplog)
    else:  # permissions hold for other users
        folder.mkdir()
        folder.chmod(0o555)
        _assert_null_and_job_unharmed(caplog)


def test_a_full_disk_leaves_the_count_null_and_the_job_unharmed(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with _tmpfs(folder, "size=16k"):
        with contextlib.suppress(OSError), open(folder / "filler", "wb") as f:
            while True:
                f.write(b"x" * 4096)
                f.flush()
        with pytest.raises(OSError):  # really full
            (folder / "probe").write_bytes(b"x")
        _assert_null_and_job_unharmed(caplog)


def test_a_busy_registry_never_holds_the_job(folder: Path, caplog: pytest.LogCaptureFixture
                                              ) -> None:
    import fcntl

    folder.mkdir()
    fd = os.open(folder / ".registry.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process stuck inside its registration
    try:
        t0 = time.monotonic()
        _assert_null_and_job_unharmed(caplog)
        assert time.monotonic() - t0 < 5.0  # gives up after LOCK_WAIT_S, generous bound
    finally:
        os.close(fd)
