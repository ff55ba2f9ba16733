"""MediaJobs metrics collectors: measure each ffmpeg job attempt of a worker (plan 87).

    from collectors import attempt
    with attempt("create_video_export_v1", job_id, inputs=[src]) as a:
        ...
    a.metrics   # the manifest's camelCase `metrics` object;  a.row: the dataset row

`import collectors` pulls in no analysis package (pandas, polars, duckdb, textual, plotly) and
only the standard library. The attempt API is imported at once: its name `attempt` shadows the
submodule `collectors.attempt` as an attribute, and doing it here makes that the same in every
process whatever was imported first (`from collectors.attempt import ...` works as usual). The
other names load their module on first use (PEP 562): `collectors.host` brings urllib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from collectors.attempt import Attempt, attempt, start_attempt

if TYPE_CHECKING:
    from collectors.host import HostMetrics, get_host_metrics
    from collectors.probe import MediaInfo, ProbeError, probe_media_info
    from collectors.sink import InMemorySink, Sink

__all__ = [
    "attempt",
    "start_attempt",
    "Attempt",
    "probe_media_info",
    "MediaInfo",
    "ProbeError",
    "get_host_metrics",
    "HostMetrics",
    "Sink",
    "InMemorySink",
]

_WHERE = {
    "probe_media_info": "collectors.probe",
    "MediaInfo": "collectors.probe",
    "ProbeError": "collectors.probe",
    "get_host_metrics": "collectors.host",
    "HostMetrics": "collectors.host",
    "Sink": "collectors.sink",
    "InMemorySink": "collectors.sink",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'collectors' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access skips this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
