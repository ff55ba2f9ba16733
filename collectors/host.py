"""What the worker runs on: `get_host_metrics()`, computed once per process.

- cpu_cores: logical CPUs of the machine (`os.cpu_count()`).
- cpu_cores_usable: the CPUs this process may really use, since workers run in containers:
  the CPU affinity mask, capped by the cgroup CPU quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us` /
  `cpu.cfs_period_us`, the tightest limit on the way up the hierarchy). A quota of 150000/100000
  is 1.5 CPUs. Every file is read defensively: missing or odd means "no limit known".
- mem_gb: total RAM in GB (1e9 bytes), rounded to 0.1.
- hostname.
- arch: the CPU architecture, "x86_64" or "aarch64" (other names as `platform.machine()` says).
- cpu_model: the CPU's model name from /proc/cpuinfo ("model name"; on ARM, where the kernel
  has none, the "CPU implementer"/"CPU part" codes), else None.
- instance_type: AWS_INSTANCE_TYPE, else IMDSv2 (PUT a token, GET
  /latest/meta-data/instance-type) within a total budget of about one second, else None.
  As botocore does, AWS_EC2_METADATA_DISABLED=true skips IMDS,
  AWS_EC2_METADATA_SERVICE_ENDPOINT moves it and AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6
  picks its IPv6 address. Proxies from the environment are ignored (IMDS is
  link-local). The look-up runs in a daemon thread that is waited for at most the budget, so a
  server that trickles bytes cannot hold the worker longer. An answer is kept for the boot
  (collectors.hostcache, keyed by the kernel's boot id and the endpoint: an instance changes
  type only across a stop and start): `mjcollect run`, a new process per job, then imports
  neither urllib nor asks IMDS again. No answer is not kept (asked again next time).
"""

from __future__ import annotations

import logging
import os
import platform
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors import config, hostcache

log = logging.getLogger("collectors.host")

_IMDS_TOKEN_PATH = "/latest/api/token"
_IMDS_TYPE_PATH = "/latest/meta-data/instance-type"
_TOKEN_TTL_S = "21600"
# "c7i.large", "m5d.24xlarge", "u-6tb1.metal", "mac2-m2pro.metal".
_INSTANCE_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]*\.[a-z0-9-]+$")


@dataclass(frozen=True)
class HostMetrics:
    """The worker host, as recorded on every attempt row (schema columns of the same names)."""

    cpu_cores: int | None  #: logical CPUs of the machine
    cpu_cores_usable: float | None  #: CPUs this process may use (affinity, cgroup quota)
    mem_gb: float | None  #: total RAM, GB (1e9 bytes), 0.1 precision
    hostname: str | None
    instance_type: str | None  #: "c7i.large"; None off EC2 or when IMDS does not answer
    arch: str | None = None  #: "x86_64" or "aarch64"
    cpu_model: str | None = None  #: "Intel(R) Xeon(R) Platinum 8488C"

    def as_row(self) -> dict[str, Any]:
        """The row columns of the host."""
        return {
            "cpu_cores": self.cpu_cores,
            "cpu_cores_usable": self.cpu_cores_usable,
            "mem_gb": self.mem_gb,
            "hostname": self.hostname,
            "instance_type": self.instance_type,
            "arch": self.arch,
            "cpu_model": self.cpu_model,
        }


# --- CPU ------------------------------------------------------------------------------------

def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


def parse_cpu_max(text: str | None) -> float | None:
    """CPUs allowed by a cgroup v2 `cpu.max` ("150000 100000" -> 1.5; "max 100000" -> None)."""
    if not text:
        return None
    parts = text.split()
    if not parts or parts[0] == "max":
        return None
    period = parts[1] if len(parts) > 1 else "100000"
    return _quota(parts[0], period)


def parse_cfs_quota(quota: str | None, period: str | None) -> float | None:
    """CPUs allowed by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1: no limit)."""
    if not quota or not period:
        return None
    return _quota(quota, period)


def _quota(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def _proc_cgroups(proc_cgroup: Path) -> tuple[str | None, str | None]:
    """(v2 path, v1 cpu-controller path) of this process from /proc/self/cgroup."""
    v2 = v1 = None
    for line in (_read(proc_cgroup) or "").splitlines():
        hier, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hier == "0" and controllers == "":
            v2 = path
        elif "cpu" in controllers.split(","):
            v1 = path
    return v2, v1


def _ancestors(root: Path, cgroup_path: str) -> list[Path]:
    """`root/<cgroup_path>` and each parent up to `root`, innermost first."""
    parts = [p for p in cgroup_path.strip("/").split("/") if p and p != ".."]
    return [root.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def cgroup_cpu_limit(
    root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")
) -> float | None:
    """The tightest CPU quota (in CPUs) on this process's cgroup and its parents, or None.

    Tries cgroup v2 (`<root>/<path>/cpu.max`), then v1 (`<root>/cpu,cpuacct/...` or
    `<root>/cpu/...`). Inside a container the recorded path may not exist in the container's
    view of the tree; the mount root (the container's own cgroup) is read then.
    """
    v2, v1 = _proc_cgroups(proc_cgroup)
    limits: list[float] = []
    if v2 is not None:
        for folder in _ancestors(root, v2):
            limit = parse_cpu_max(_read(folder / "cpu.max"))
            if limit is not None:
                limits.append(limit)
    if not limits and v1 is not None:
        for mount in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
            base = root / mount
            if not base.is_dir():
                continue
            for folder in _ancestors(base, v1):
                limit = parse_cfs_quota(_read(folder / "cpu.cfs_quota_us"),
                                        _read(folder / "cpu.cfs_period_us"))
                if limit is not None:
                    limits.append(limit)
            break
    return min(limits) if limits else None


def usable_cpus(cpu_count: int | None, affinity: int | None, quota: float | None) -> float | None:
    """min(affinity or CPU count, quota), rounded to 0.01 CPU."""
    base = affinity or cpu_count
    if base is None:
        return round(quota, 2) if quota is not None else None
    return round(min(float(base), quota) if quota is not None else float(base), 2)


def _affinity() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return None


# --- memory, name ---------------------------------------------------------------------------

def _mem_gb() -> float | None:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        try:
            import psutil

            total = int(psutil.virtual_memory().total)
        except Exception as exc:  # psutil raises its own types; any failure means unknown
            log.warning("total RAM unknown: %s", exc)
            return None
    return round(total / 1e9, 1) if total > 0 else None


def _hostname() -> str | None:
    try:
        return socket.gethostname() or None
    except OSError as exc:
        log.warning("host name unknown: %s", exc)
        return None


_ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "armv8": "aarch64"}


def normalise_arch(machine: str | None) -> str | None:
    """"x86_64" / "aarch64" for the names platforms give them (macOS says arm64, Windows AMD64)."""
    if not machine:
        return None
    name = machine.strip().lower()
    return _ARCH_ALIASES.get(name, name) or None


def parse_cpu_model(cpuinfo: str | None) -> str | None:
    """The CPU model from /proc/cpuinfo text: the first "model name" (x86, and newer ARM
    kernels), else "CPU implementer 0x41 part 0xd40" (Graviton and other ARM: the kernel
    names no model), else None. Blanks are collapsed."""
    if not cpuinfo:
        return None
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), " ".join(value.split())
        if sep and value and key not in fields:
            fields[key] = value
    if "model name" in fields:
        return fields["model name"]
    if "cpu implementer" in fields and "cpu part" in fields:
        return f"CPU implementer {fields['cpu implementer']} part {fields['cpu part']}"
    return None


def _cpu_model() -> str | None:
    return parse_cpu_model(_read(Path("/proc/cpuinfo"))) or platform.processor() or None


# --- instance type --------------------------------------------------------------------------

def imds_endpoint() -> str:
    """AWS_EC2_METADATA_SERVICE_ENDPOINT without its trailing slash, else the link-local
    default (its IPv6 form when AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is "IPv6")."""
    raw = os.environ.get(config.AWS_EC2_METADATA_SERVICE_ENDPOINT, "").strip()
    if raw:
        return raw.rstrip("/")
    mode = os.environ.get(config.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE, "").strip().lower()
    return config.DEFAULT_IMDS_ENDPOINT_IPV6 if mode == "ipv6" else config.DEFAULT_IMDS_ENDPOINT


def imds_disabled() -> bool:
    """AWS_EC2_METADATA_DISABLED=true (any case), as botocore reads it."""
    return os.environ.get(config.AWS_EC2_METADATA_DISABLED, "").strip().lower() == "true"


def _imds_get_instance_type(endpoint: str, deadline: float) -> str | None:
    """IMDSv2 token then instance type; IMDSv1 when the token call is refused (403/404/405)."""
    # Imported here: urllib.request (with http.client and email) costs a worker that sets
    # AWS_INSTANCE_TYPE or runs off EC2 ~15 ms per process for nothing.
    import urllib.error
    import urllib.request

    # IMDS is link-local: never through an HTTP(S)_PROXY from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("IMDS budget spent")
        return remaining

    headers: dict[str, str] = {}
    token_req = urllib.request.Request(
        endpoint + _IMDS_TOKEN_PATH, method="PUT",
        headers={"X-aws-ec2-metadata-token-ttl-seconds": _TOKEN_TTL_S},
    )
    try:
        with opener.open(token_req, timeout=left()) as resp:
            headers["X-aws-ec2-metadata-token"] = resp.read(4096).decode("ascii").strip()
    except urllib.error.HTTPError as exc:
        if exc.code not in (403, 404, 405):
            raise
    req = urllib.request.Request(endpoint + _IMDS_TYPE_PATH, headers=headers)
    with opener.open(req, timeout=left()) as resp:
        value: str = resp.read(256).decode("ascii", "replace").strip()
    if not _INSTANCE_TYPE.match(value):
        log.warning("IMDS answered an unexpected instance type %r; ignored", value[:64])
        return None
    return value


def instance_type_from_imds(budget_s: float = config.IMDS_BUDGET_S) -> str | None:
    """The instance type from IMDS, or None; returns within about `budget_s` seconds."""
    if imds_disabled():
        return None
    endpoint = imds_endpoint()
    deadline = time.monotonic() + budget_s
    result: list[str | None] = []

    def look_up() -> None:
        try:
            result.append(_imds_get_instance_type(endpoint, deadline))
        except Exception as exc:  # URLError, timeouts, HTTP errors, http.client's BadStatusLine
            log.info("no instance type from IMDS at %s: %s: %s", endpoint,
                     type(exc).__name__, exc)
            result.append(None)

    # A daemon thread: urllib's timeout is per socket operation, the budget is for the total.
    thread = threading.Thread(target=look_up, name="collectors-imds", daemon=True)
    thread.start()
    thread.join(budget_s + 0.05)
    if not result:
        log.info("no instance type from IMDS at %s: no answer within %.1f s", endpoint, budget_s)
        return None
    return result[0]


#: The instance type's name in collectors.hostcache.
INSTANCE_TYPE_CACHE = "instance-type"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def instance_type() -> str | None:
    """AWS_INSTANCE_TYPE, else IMDS's answer kept for this boot, else IMDS (see module
    docstring), else None."""
    env = os.environ.get(config.AWS_INSTANCE_TYPE, "").strip()
    if env:
        return env
    if imds_disabled():
        return None
    boot = (_read(BOOT_ID) or "").strip()
    key = f"{boot} {imds_endpoint()}" if boot else None
    if key is not None and (kept := hostcache.read(INSTANCE_TYPE_CACHE, key)) is not None:
        return kept
    found = instance_type_from_imds()
    if key is not None and found is not None:
        hostcache.remember(INSTANCE_TYPE_CACHE, key, found)
    return found


# --- once per process -----------------------------------------------------------------------

_lock = threading.Lock()
_cached: HostMetrics | None = None


def collect_host_metrics() -> HostMetrics:
    """Measure the host now (no cache). Never raises; unknown values are None."""
    cpu_count = os.cpu_count()
    try:
        quota = cgroup_cpu_limit()
    except OSError as exc:  # odd /proc or /sys layouts: no limit known
        log.warning("cgroup CPU quota unreadable: %s", exc)
        quota = None
    return HostMetrics(
        cpu_cores=cpu_count,
        cpu_cores_usable=usable_cpus(cpu_count, _affinity(), quota),
        mem_gb=_mem_gb(),
        hostname=_hostname(),
        instance_type=instance_type(),
        arch=normalise_arch(platform.machine()),
        cpu_model=_cpu_model(),
    )


def get_host_metrics() -> HostMetrics:
    """The host's metrics, measured on the first call of the process and reused after."""
    global _cached
    with _lock:
        if _cached is None:
            _cached = collect_host_metrics()
        return _cached


def reset_host_metrics() -> None:
    """Forget the cached metrics (tests; a worker never needs it)."""
    global _cached
    with _lock:
        _cached = None


def _new_lock_after_fork() -> None:
    # A forked worker keeps its parent's host, but must not inherit a lock held at fork time.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)
