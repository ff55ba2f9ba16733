"""`mjcollect agent`: one uploader per host drains the spools of many short-lived processes,
and a SIGKILL loses and blocks nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors import schema
from collectors.hostlock import agent_alive
from collectors.spool import Spool, spool_dir_for
from tests.rows import read_ids, spool_row

REPO = Path(__file__).resolve().parents[2]
MJCOLLECT = str(Path(sys.executable).with_name("mjcollect"))

#: A bound against hanging, not a speed assert.
WAIT_S = 90.0

PY_WORKER = """
import sys, time
from collectors import attempt
tag = sys.argv[1]
for i in range(int(sys.argv[2])):
    with attempt("upload_thumb_v1", f"{tag}-{i}", attempt_id=f"{tag}-{i:03d}", sampler=None):
        pass
"""


def wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def env(base: Path) -> dict[str, str]:
    return {**os.environ, "MEDIAJOB_METRICS_SPOOL": str(base), "AWS_INSTANCE_TYPE": "c7i.large",
            "AWS_EC2_METADATA_DISABLED": "true", "MEDIAJOB_METRICS_BATCH_AGE": "0.3"}


@pytest.fixture
def start_agent(base: Path, env: dict[str, str]) -> Iterator[object]:
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([MJCOLLECT, "agent"], cwd=REPO, env=env)
        procs.append(proc)
        wait_for(lambda: agent_alive(base) or proc.poll() is not None, "the agent's lock")
        assert proc.poll() is None
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_the_agent_drains_the_spools_of_several_processes(
    tmp_path: Path, base: Path, env: dict[str, str], start_agent: object
) -> None:
    agent = start_agent()  # type: ignore[operator]
    ds_py, ds_run = tmp_path / "ds-py", tmp_path / "ds-run"
    workers = [subprocess.Popen([sys.executable, "-c", PY_WORKER, f"py{k}", "10"], cwd=REPO,
                                env={**env, "MEDIAJOB_METRICS_URL": str(ds_py)})
               for k in range(3)]
    runs = [subprocess.Popen([MJCOLLECT, "run", "--data", str(ds_run), "--upload-timeout", "30",
                              "--job-type", "upload_thumb_v1", "--job-id", f"J{k}",
                              "--attempt-id", f"run{k}", "--", "true"], cwd=REPO, env=env)
            for k in range(3)]
    for p in workers + runs:
        assert p.wait(timeout=WAIT_S) == 0
    expected_py = {f"py{k}-{i:03d}" for k in range(3) for i in range(10)}
    wait_for(lambda: set(read_ids(ds_py)) == expected_py and len(read_ids(ds_run)) == 3,
             "the agent's uploads")
    assert sorted(read_ids(ds_run)) == ["run0", "run1", "run2"]
    assert len(read_ids(ds_py)) == 30
    # With the agent alive neither the workers nor `mjcollect run` uploaded: every object is
    # the agent's (`<host>-<pid>-<random>-<seq>.parquet`).
    names = [p.name for p in [*ds_py.rglob("*.parquet"), *ds_run.rglob("*.parquet")]]
    assert names and all(f"-{agent.pid}-" in n for n in names), names
    # Stopped, it exits 0 and gives the lock back.
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(timeout=WAIT_S) == 0
    assert not agent_alive(base)


@pytest.mark.slow
def test_a_sigkilled_agent_loses_and_blocks_nothing(
    tmp_path: Path, base: Path, env: dict[str, str], start_agent: object
) -> None:
    ds = tmp_path / "ds"
    spool = Spool(spool_dir_for(str(ds), base), 10**8)
    spool.write_url(str(ds))
    for i in range(600):
        spool.write(schema.validate_row(spool_row(i, day=1 + i % 5)))
    env["MEDIAJOB_METRICS_BATCH_ROWS"] = "10"
    agent = start_agent()  # type: ignore[operator]
    wait_for(lambda: len(list(ds.rglob("*.parquet"))) >= 3, "the first objects")
    agent.kill()  # SIGKILL, mid-drain: a claimed batch may be left behind
    agent.wait()
    assert not agent_alive(base)  # the lock died with it
    start_agent()  # type: ignore[operator]
    wait_for(lambda: not spool.all_row_names(), "the spool to empty")
    ids = read_ids(ds)
    assert set(ids) == {f"att-{i:05d}" for i in range(600)}
    assert len(ids) - len(set(ids)) <= 10  # at most the killed batch twice (readers dedupe)


def test_without_an_agent_mjcollect_run_starts_a_flusher(
    tmp_path: Path, base: Path, env: dict[str, str]
) -> None:
    ds = tmp_path / "ds"
    for k in range(3):
        out = subprocess.run([MJCOLLECT, "run", "--data", str(ds), "--job-type",
                              "upload_thumb_v1", "--job-id", f"J{k}", "--attempt-id", f"f{k}",
                              "--", "true"], cwd=REPO, env=env, timeout=WAIT_S)
        assert out.returncode == 0
    wait_for(lambda: sorted(read_ids(ds)) == ["f0", "f1", "f2"], "the flushers' uploads")
    wait_for(lambda: not agent_alive(base), "the flusher to exit")
    assert Spool(spool_dir_for(str(ds), base), 10**8).all_row_names() == set()


def _nice_of(pid: int) -> int:
    # /proc/PID/stat: field 19 is the nice value (fields counted after the command's ")").
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


def test_the_flusher_uploads_at_the_lowest_cpu_priority(
    tmp_path: Path, base: Path, env: dict[str, str]
) -> None:
    # The flusher `mjcollect run` starts: the process that ran it ends at nice 19 (it starts
    # at 0 here; nice values only go up without privileges, so this can fail only if the
    # command does not lower it).
    ds = tmp_path / "ds"
    spool = Spool(spool_dir_for(str(ds), base), 10**8)
    spool.write_url(str(ds))
    spool.write(schema.validate_row(spool_row(7)))
    code = (f"import os; from collectors import cli; "
            f"rc = cli.main(['agent', '--until-empty', '--spool-base', {str(base)!r}]); "
            "print(rc, os.getpriority(os.PRIO_PROCESS, 0))")
    assert os.getpriority(os.PRIO_PROCESS, 0) == 0
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, timeout=WAIT_S,
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "19"]
    assert read_ids(ds) == ["att-00007"]


def test_the_agent_runs_at_the_priority_asked_for(
    base: Path, env: dict[str, str]
) -> None:
    agent = subprocess.Popen([MJCOLLECT, "agent", "--nice", "5"], cwd=REPO, env=env)
    try:
        wait_for(lambda: agent_alive(base) or agent.poll() is not None, "the agent's lock")
        assert agent.poll() is None
        assert _nice_of(agent.pid) == 5
    finally:
        agent.terminate()
        assert agent.wait(timeout=WAIT_S) == 0
    bad = subprocess.run([MJCOLLECT, "agent", "--nice", "25"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=WAIT_S)
    assert bad.returncode == 2
    assert "--nice: expected 0 to 19, got 25" in bad.stderr
