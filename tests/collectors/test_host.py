"""get_host_metrics: CPU (affinity, cgroup quotas on fake trees), RAM, name, and the instance
type from the environment or from an IMDS stand-in on loopback."""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from collectors import host
from collectors.host import (
    cgroup_cpu_limit,
    get_host_metrics,
    imds_endpoint,
    parse_cfs_quota,
    parse_cpu_max,
    reset_host_metrics,
    usable_cpus,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("AWS_INSTANCE_TYPE", "AWS_EC2_METADATA_DISABLED",
                 "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"):
        monkeypatch.delenv(name, raising=False)
    # IMDS answers are kept per boot in the spool base: this test's own.
    monkeypatch.setenv("MEDIAJOB_METRICS_SPOOL", str(tmp_path / "spool"))
    reset_host_metrics()
    yield
    reset_host_metrics()


# --- IMDS stand-in --------------------------------------------------------------------------

@dataclass
class Imds:
    """A loopback IMDS: `mode` is "v2", "v1" (token call 405), "slow", "garbage"."""

    url: str
    mode: str = "v2"
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class _Handler(http.server.BaseHTTPRequestHandler):
    imds: Imds

    def _answer(self, code: int, body: str) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:  # noqa: N802
        imds = self.imds
        imds.requests.append(("PUT", self.path,
                              self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")))
        if imds.mode == "slow":
            imds.release.wait(30)  # answers only at teardown, long after the 1 s budget
        if imds.mode == "v1":
            self._answer(405, "")
        elif self.path == "/latest/api/token":
            self._answer(200, "TOKEN123")
        else:
            self._answer(404, "")

    def do_GET(self) -> None:  # noqa: N802
        imds = self.imds
        token = self.headers.get("X-aws-ec2-metadata-token")
        imds.requests.append(("GET", self.path, token))
        if self.path != "/latest/meta-data/instance-type":
            self._answer(404, "")
        elif imds.mode == "garbage":
            self._answer(200, "<html>captive portal</html>")
        elif imds.mode == "v2" and token != "TOKEN123":
            self._answer(401, "")
        else:
            self._answer(200, "c7i.large")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def imds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Imds]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.block_on_close = False
    state = Imds(url=f"http://127.0.0.1:{server.server_address[1]}/")
    server.RequestHandlerClass = type("H", (_Handler,), {"imds": state})
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", state.url)
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def test_imds_v2_token_then_instance_type(imds: Imds) -> None:
    assert get_host_metrics().instance_type == "c7i.large"
    assert imds.requests == [
        ("PUT", "/latest/api/token", "21600"),
        ("GET", "/latest/meta-data/instance-type", "TOKEN123"),
    ]


def test_imds_v1_when_the_token_call_is_refused(imds: Imds) -> None:
    imds.mode = "v1"
    assert get_host_metrics().instance_type == "c7i.large"
    assert imds.requests[-1] == ("GET", "/latest/meta-data/instance-type", None)


def test_slow_imds_costs_at_most_the_budget(imds: Imds) -> None:
    imds.mode = "slow"
    t0 = time.monotonic()
    metrics = get_host_metrics()
    elapsed = time.monotonic() - t0
    assert metrics.instance_type is None
    assert imds.requests[0][:2] == ("PUT", "/latest/api/token")
    # It gave up by itself (budget 1 s) instead of waiting the 30 s for the answer; the bound
    # is loose so that a loaded machine cannot fail it, and the cost is benchmarked elsewhere.
    assert elapsed < 15


def test_refusing_imds_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{port}")
    assert get_host_metrics().instance_type is None


def test_garbage_answer_is_ignored(imds: Imds) -> None:
    imds.mode = "garbage"
    assert get_host_metrics().instance_type is None


def test_an_answer_that_is_not_http_gives_none_and_no_thread_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crashes: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def answer() -> None:  # http.client raises BadStatusLine (no OSError) on this
        for _ in range(2):
            try:
                conn, _addr = server.accept()
            except OSError:  # closed below: the collector asked fewer than two times
                return
            with conn:
                conn.recv(4096)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    answering = threading.Thread(target=answer, daemon=True)
    answering.start()
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT",
                       f"http://127.0.0.1:{server.getsockname()[1]}")
    try:
        assert get_host_metrics().instance_type is None
    finally:
        server.shutdown(socket.SHUT_RDWR)  # wakes an accept() still waiting (Linux)
        server.close()
    answering.join(timeout=10)
    # Only the collector's threads could have crashed: the answering one returns quietly.
    assert crashes == []


def test_environment_wins_and_imds_is_not_asked(
    imds: Imds, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_INSTANCE_TYPE", " m7g.xlarge ")
    assert get_host_metrics().instance_type == "m7g.xlarge"
    assert imds.requests == []


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_metadata_disabled_skips_imds(
    value: str, imds: Imds, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", value)
    assert get_host_metrics().instance_type is None
    assert imds.requests == []


def test_environment_proxy_is_not_used_for_imds(
    imds: Imds, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert get_host_metrics().instance_type == "c7i.large"


def test_measured_once_per_process_until_reset_and_imds_asked_once_per_boot(
        imds: Imds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_host_metrics()
    assert get_host_metrics() is first
    assert len(imds.requests) == 2
    reset_host_metrics()  # as a new process (`mjcollect run`, once per job) starts
    assert get_host_metrics() == first
    assert len(imds.requests) == 2  # the answer kept for this boot
    # Another boot (or another endpoint) asks again.
    boot = tmp_path / "boot_id"
    boot.write_text("another-boot\n")
    monkeypatch.setattr(host, "BOOT_ID", boot)
    reset_host_metrics()
    assert get_host_metrics() == first
    assert len(imds.requests) == 4


def test_no_answer_is_not_kept(imds: Imds) -> None:
    imds.mode = "garbage"
    assert get_host_metrics().instance_type is None
    imds.mode = "v2"
    reset_host_metrics()
    assert get_host_metrics().instance_type == "c7i.large"


@pytest.mark.parametrize(("endpoint", "mode", "url"), [
    (None, None, "http://169.254.169.254"),
    (None, "IPv6", "http://[fd00:ec2::254]"),
    (None, "ipv4", "http://169.254.169.254"),
    ("http://10.0.0.1:1338/", "IPv6", "http://10.0.0.1:1338"),
])
def test_imds_endpoint_as_botocore_reads_it(
    endpoint: str | None, mode: str | None, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if endpoint is not None:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint)
    if mode is not None:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", mode)
    assert imds_endpoint() == url


# --- the machine ----------------------------------------------------------------------------

def test_cores_memory_and_name_of_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_INSTANCE_TYPE", "c7i.large")
    m = get_host_metrics()
    assert m.cpu_cores == os.cpu_count()
    assert m.hostname == socket.gethostname()
    with open("/proc/meminfo") as f:
        mem_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    assert m.mem_gb == round(mem_kb * 1024 / 1e9, 1)
    affinity = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_limit()
    assert m.cpu_cores_usable == usable_cpus(m.cpu_cores, affinity, quota)
    assert m.cpu_cores_usable is not None and 0 < m.cpu_cores_usable <= affinity
    assert m.as_row() == {"cpu_cores": m.cpu_cores, "cpu_cores_usable": m.cpu_cores_usable,
                          "mem_gb": m.mem_gb, "hostname": m.hostname,
                          "instance_type": "c7i.large", "arch": m.arch,
                          "cpu_model": m.cpu_model}


@pytest.mark.parametrize(("text", "cpus"), [
    ("max 100000", None), ("150000 100000", 1.5), ("200000 50000", 4.0), ("50000", 0.5),
    ("", None), (None, None), ("garbage here", None), ("-1 100000", None), ("100 0", None),
])
def test_parse_cpu_max(text: str | None, cpus: float | None) -> None:
    assert parse_cpu_max(text) == cpus


@pytest.mark.parametrize(("quota", "period", "cpus"), [
    ("-1", "100000", None), ("250000", "100000", 2.5), ("x", "100000", None), (None, "1", None),
])
def test_parse_cfs_quota(quota: str | None, period: str, cpus: float | None) -> None:
    assert parse_cfs_quota(quota, period) == cpus


@pytest.mark.parametrize(("count", "affinity", "quota", "usable"), [
    (8, 8, None, 8.0), (8, 2, None, 2.0), (8, 8, 1.5, 1.5), (8, 1, 1.5, 1.0),
    (None, None, 0.333333, 0.33), (None, None, None, None),
])
def test_usable_cpus(count: int | None, affinity: int | None, quota: float | None,
                     usable: float | None) -> None:
    assert usable_cpus(count, affinity, quota) == usable


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_cgroup_v2_takes_the_tightest_limit_up_the_tree(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "proc": "0::/kubepods/pod1/c1\n",
        "fs/cpu.max": "max 100000\n",
        "fs/kubepods/pod1/cpu.max": "200000 100000\n",
        "fs/kubepods/pod1/c1/cpu.max": "max 100000\n",
    })
    assert cgroup_cpu_limit(tmp_path / "fs", tmp_path / "proc") == 2.0
    (tmp_path / "fs/kubepods/pod1/c1/cpu.max").write_text("50000 100000\n")
    assert cgroup_cpu_limit(tmp_path / "fs", tmp_path / "proc") == 0.5


def test_cgroup_v2_inside_a_container_reads_the_mount_root(tmp_path: Path) -> None:
    # The host's path is recorded but the container sees its own cgroup at the root.
    _tree(tmp_path, {"proc": "0::/system.slice/docker-abc.scope\n",
                     "fs/cpu.max": "150000 100000\n"})
    assert cgroup_cpu_limit(tmp_path / "fs", tmp_path / "proc") == 1.5


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "proc": "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n1:name=systemd:/\n",
        "fs/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
        "fs/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        "fs/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "300000\n",
        "fs/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    })
    assert cgroup_cpu_limit(tmp_path / "fs", tmp_path / "proc") == 3.0


@pytest.mark.parametrize("files", [
    {},  # no /proc/self/cgroup at all
    {"proc": "0::/\n"},  # v2 without a cpu controller file
    {"proc": "0::/\n", "fs/cpu.max": "\x00\x01 nonsense"},
    {"proc": "garbage line\n::::\n", "fs/cpu.max": "100000 100000"},
    {"proc": "1:cpu:/x\n", "fs/cpu/x/cpu.cfs_quota_us": "100000"},  # no period file
])
def test_odd_cgroup_files_mean_no_limit(tmp_path: Path, files: dict[str, str]) -> None:
    _tree(tmp_path, files)
    assert cgroup_cpu_limit(tmp_path / "fs", tmp_path / "proc") is None

