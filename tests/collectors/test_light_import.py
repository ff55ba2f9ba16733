"""A worker's `import collectors` loads nothing of the analysis stack (checked in a fresh
interpreter, since this test process has imported plenty)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "polars", "duckdb", "textual", "plotly", "planner", "pyarrow", "boto3",
         "botocore", "numpy")


def _loaded_after(code: str) -> list[str]:
    script = (
        f"{code}\n"
        "import json, sys\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    modules: list[str] = json.loads(out)
    return modules


@pytest.mark.parametrize("code", [
    "import collectors",
    "import collectors.attempt",
    "from collectors import attempt, start_attempt, probe_media_info, get_host_metrics, "
    "ProbeError, InMemorySink",
    "import collectors.probe, collectors.host, collectors.schema, collectors.config",
])
def test_collectors_import_no_heavy_package(code: str) -> None:
    loaded = _loaded_after(code)
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    assert heavy == []
    # Each name loads its module when first used, no sooner.
    assert ("collectors.attempt" in loaded) == ("attempt" in code)
    assert ("collectors.host" in loaded) == ("host" in code)


def test_import_collectors_alone_loads_none_of_its_modules() -> None:
    # What `mjcollect run` needs before it starts the job: the package, nothing under it.
    loaded = _loaded_after("import collectors")
    assert [m for m in loaded if m.startswith("collectors.")] == []
    assert "psutil" not in loaded


def test_an_attempt_with_metrics_off_loads_nothing_heavy_either() -> None:
    loaded = _loaded_after(
        "import os\n"
        "os.environ['MEDIAJOB_METRICS'] = '0'\n"
        "from collectors import attempt\n"
        "with attempt('upload_thumb_v1', 'j', inputs=['/nonexistent.mp4']) as a:\n"
        "    pass\n"
        "assert a.row is None\n"
    )
    assert [m for m in loaded if m.split(".")[0] in HEAVY + ("psutil",)] == []
    # Off means off: no host look-up (urllib), no sampler (psutil), no probe subprocess.
    assert not {"urllib.request", "collectors.host", "collectors.sampler"} & set(loaded)


def test_attempt_is_the_function_whatever_was_imported_first() -> None:
    out = subprocess.run(
        [sys.executable, "-c",
         "import collectors.attempt as m, collectors\n"
         "from collectors.attempt import start_attempt\n"
         "print(callable(m), m is collectors.attempt, start_attempt.__module__)"],
        capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "collectors.attempt"]

