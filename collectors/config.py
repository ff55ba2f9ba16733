"""Configuration: every environment variable the collectors read, in one place.

The rule, as in the OpenTelemetry SDK: an explicit argument wins, else the environment variable,
else the default constant. A bad explicit argument raises ValueError (a programming error); a bad
environment value is logged once and replaced by the default, so a typo in a deployment never
fails a job.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

#: typing is not imported at run time: `mjcollect run` imports this module before it starts the
#: job, and typing alone is a few ms of every job's start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    N = TypeVar("N", int, float)

log = logging.getLogger("collectors")


#: "0", "false", "off" or "no" turns every collector action off: no probe, no writes, no threads.
#: Anything else, or unset, leaves metrics on.
MEDIAJOB_METRICS = "MEDIAJOB_METRICS"

#: Where attempt rows go: `s3://bucket/prefix` or a local folder. Unset: rows are not written.
MEDIAJOB_METRICS_URL = "MEDIAJOB_METRICS_URL"

#: Folder of the local spool (rows waiting for upload). Default: ~/.cache/mediajobs/spool.
MEDIAJOB_METRICS_SPOOL = "MEDIAJOB_METRICS_SPOOL"

#: Upper bound of the spool on disk, bytes. Default 512 MiB.
MEDIAJOB_METRICS_SPOOL_MAX_BYTES = "MEDIAJOB_METRICS_SPOOL_MAX_BYTES"

#: Rows per uploaded Parquet object (a batch is cut at this count). Default 500.
MEDIAJOB_METRICS_BATCH_ROWS = "MEDIAJOB_METRICS_BATCH_ROWS"

#: Seconds a row may wait in the spool before a batch is cut anyway. Default 60.
MEDIAJOB_METRICS_BATCH_AGE = "MEDIAJOB_METRICS_BATCH_AGE"

#: The metrics budget: the most a process spends on metrics after its job, at exit (uploading
#: what it spooled; the rest stays in the spool for the agent, the next process or `mjcollect
#: flush`), seconds. Also the bound of each S3 request of the process's uploader (connect: half
#: of it), so no request outlives it by much. Default 1.
MEDIAJOB_METRICS_EXIT_TIMEOUT = "MEDIAJOB_METRICS_EXIT_TIMEOUT"

#: Upper bound of the wait between upload retries, seconds (capped exponential backoff with
#: jitter, starting at 0.5 s). Default 60.
MEDIAJOB_METRICS_RETRY_MAX = "MEDIAJOB_METRICS_RETRY_MAX"

#: Seconds before ffprobe is abandoned. Default 30.
MEDIAJOB_PROBE_TIMEOUT = "MEDIAJOB_PROBE_TIMEOUT"

#: Seconds between CPU/memory samples of the job's process tree. Default 2.
MEDIAJOB_SAMPLE_INTERVAL = "MEDIAJOB_SAMPLE_INTERVAL"

#: How many attempts this worker runs at once (recorded as `worker_slots`). Unset: null.
MEDIAJOB_WORKER_SLOTS = "MEDIAJOB_WORKER_SLOTS"

#: Folder of the host-local registry of running attempts (collectors.registry), shared by every
#: worker process of the host (containers mount one host folder here). Default
#: /dev/shm/mediajobs-running-<uid> (else ~/.cache/mediajobs/running).
MEDIAJOB_HOST_REGISTRY = "MEDIAJOB_HOST_REGISTRY"

#: The instance type, when the deployment knows it (saves the IMDS round trip).
AWS_INSTANCE_TYPE = "AWS_INSTANCE_TYPE"

#: "true" disables IMDS look-ups, as in botocore.
AWS_EC2_METADATA_DISABLED = "AWS_EC2_METADATA_DISABLED"

#: IMDS endpoint override, as in botocore. Default http://169.254.169.254.
AWS_EC2_METADATA_SERVICE_ENDPOINT = "AWS_EC2_METADATA_SERVICE_ENDPOINT"

#: "IPv6" selects IMDS's IPv6 address when no endpoint is set, as in botocore.
AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"

DEFAULT_PROBE_TIMEOUT_S = 30.0
DEFAULT_SAMPLE_INTERVAL_S = 2.0
DEFAULT_SPOOL_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_BATCH_ROWS = 500
DEFAULT_BATCH_AGE_S = 60.0
DEFAULT_EXIT_TIMEOUT_S = 1.0
DEFAULT_RETRY_MAX_S = 60.0
#: First wait after a failed upload, seconds; doubled per failure up to the retry maximum.
RETRY_BASE_S = 0.5
DEFAULT_IMDS_ENDPOINT = "http://169.254.169.254"
DEFAULT_IMDS_ENDPOINT_IPV6 = "http://[fd00:ec2::254]"
#: Total time IMDS may take (token and instance type together), seconds.
IMDS_BUDGET_S = 1.0

_FALSE = {"0", "false", "off", "no"}
_TRUE = {"1", "true", "on", "yes", ""}
_logged: set[str] = set()  # keys of log_once already logged at their own level


def log_once(logger: logging.Logger, key: str, level: int, msg: str, *args: object,
             error: BaseException | None = None) -> None:
    """Log at `level` the first time `key` comes up in this process, at DEBUG after that.

    One policy for every collector failure: a worker runs thousands of attempts, and one broken
    setting must not repeat itself in each. `error` adds its traceback to the first record.
    """
    first = key not in _logged
    _logged.add(key)
    logger.log(level if first else logging.DEBUG, msg, *args,
               exc_info=error if first else None)


def _warn_once(name: str, raw: str, default: object) -> None:
    log_once(log, f"env:{name}", logging.WARNING, "ignoring %s=%r (not valid); using %r",
             name, raw, default)


def metrics_enabled() -> bool:
    """False when MEDIAJOB_METRICS says off; read on every call so tests and workers can flip it.

    A value that is neither on nor off (`disabled`, a typo) keeps metrics on, as the variable's
    default is, and says so once: a worker that meant to switch metrics off learns it did not.
    """
    raw = os.environ.get(MEDIAJOB_METRICS, "1").strip().lower()
    if raw in _FALSE:
        return False
    if raw not in _TRUE:
        _warn_once(MEDIAJOB_METRICS, raw, "on")
    return True


def _env_number(name: str, default: N, parse: Callable[[str], N], valid: Callable[[N], bool]) -> N:
    """`parse` of the variable when it is set and `valid`; else `default`, logged once if set.

    One policy for every numeric variable: blank counts as unset, and a bad value never fails a
    job (see the module doc).
    """
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = parse(raw)
        if valid(value):
            return value
    except ValueError:
        pass
    _warn_once(name, raw, default)
    return default


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    """A float > minimum from the environment, or `default` (logged once) when unset or bad."""
    # `v > minimum` is False for NaN, so NaN is refused too; infinity is no usable setting.
    return _env_number(name, default, float, lambda v: v > minimum and v != float("inf"))


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    """An integer >= minimum from the environment, or `default` (logged once) when unset or bad."""
    return _env_number(name, default, int, lambda v: v >= minimum)


def positive_arg(name: str, value: float | None, env: str, default: float) -> float:
    """Explicit argument, else environment, else default. A bad explicit value raises ValueError."""
    if value is None:
        return env_float(env, default)
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def metrics_url() -> str | None:
    """MEDIAJOB_METRICS_URL, or None when unset or blank."""
    raw = os.environ.get(MEDIAJOB_METRICS_URL, "").strip()
    return raw or None


def spool_max_bytes() -> int:
    """MEDIAJOB_METRICS_SPOOL_MAX_BYTES, else DEFAULT_SPOOL_MAX_BYTES: the spool's bound, bytes."""
    return env_int(MEDIAJOB_METRICS_SPOOL_MAX_BYTES, DEFAULT_SPOOL_MAX_BYTES)


def batch_rows() -> int:
    """MEDIAJOB_METRICS_BATCH_ROWS, else DEFAULT_BATCH_ROWS: rows per uploaded object."""
    return env_int(MEDIAJOB_METRICS_BATCH_ROWS, DEFAULT_BATCH_ROWS)


def spool_base() -> str:
    """MEDIAJOB_METRICS_SPOOL, or ~/.cache/mediajobs/spool (each dataset URL gets a subfolder)."""
    raw = os.environ.get(MEDIAJOB_METRICS_SPOOL, "").strip()
    return os.path.expanduser(raw or "~/.cache/mediajobs/spool")


def worker_slots(value: int | None = None) -> int | None:
    """Explicit argument, else MEDIAJOB_WORKER_SLOTS, else None (unknown): the attempts this
    worker runs at once. A bad explicit value (not an integer >= 1) raises ValueError; a bad
    environment value is logged once and read as unknown."""
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"worker_slots must be an integer >= 1, got {value!r}")
        return value
    raw = os.environ.get(MEDIAJOB_WORKER_SLOTS, "").strip()
    if not raw:
        return None
    try:
        slots = int(raw)
    except ValueError:
        slots = 0
    if slots < 1:
        _warn_once(MEDIAJOB_WORKER_SLOTS, raw, None)
        return None
    return slots
