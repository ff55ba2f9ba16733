"""MediaJobs metrics collectors: measure each ffmpeg job attempt of a worker (plan 87).

    from collectors import attempt
    with attempt("create_video_export_v1", job_id, inputs=[src]) as a:
        ...
    a.metrics   # the manifest's camelCase `metrics` object;  a.row: the dataset row

`import collectors` pulls in no analysis package (pandas, polars, duckdb, textual, plotly) and,
by itself, nothing but the standard library modules Python starts with: every name loads its
module on first use (PEP 562), so `mjcollect run` can start the job's command before it imports
the attempt machinery (collectors.commands.run). `collectors.attempt` is the function
`attempt` whatever was imported first: the import system sets a package's attribute to each
submodule it loads, and the package's module class keeps the function in that one place
(`from collectors.attempt import ...` works as usual).
"""

from __future__ import annotations

import importlib
import sys
import types

TYPE_CHECKING = False  # typing is not imported at run time (see collectors.commands.run)
if TYPE_CHECKING:
    from typing import Any

    from collectors.attempt import Attempt, attempt, start_attempt
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
    "attempt": "collectors.attempt",
    "start_attempt": "collectors.attempt",
    "Attempt": "collectors.attempt",
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


class _Package(types.ModuleType):
    """The package's module class: the submodule `collectors.attempt`, once loaded, is not
    bound over the function of the same name (importlib binds each loaded submodule with
    `setattr(package, name, module)`)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "attempt" and isinstance(value, types.ModuleType):
            value = value.attempt
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
