"""The planner's core (everything but the TUI and the CLI) loads no `textual`: reports, notebooks
and scripts use it without the TUI stack. Checked in a fresh interpreter, since this test process
may have imported textual already. import-linter checks the imports written in the core's source
(the "planner's core renders nothing" contract); this checks what actually gets loaded."""

from __future__ import annotations

import json
import subprocess
import sys

CORE = (
    "planner.dataset",
    "planner.cache",
    "planner.ddl",
    "planner.queries",
    "planner.stats",
    "planner.queueing",
    "planner.sizing",
    "planner.sizing_options",
    "planner.formats",
    "planner.badges",
    "planner.demand",
    "planner.throughput",
    "planner.prices",
    "planner.fleet",
    "planner.charts",
    "planner.chart_data",
    "planner.report",
    "planner.compact",
    "planner.lease",
    "planner.tui_queries",
)


def test_core_modules_load_no_textual() -> None:
    # One interpreter imports the modules in turn and notes, after each, whether textual is
    # loaded: a failure names the first module that pulled it in.
    script = (
        "import importlib, json, sys\n"
        f"names = {list(CORE)!r}\n"
        "seen = {}\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "    seen[name] = 'textual' in sys.modules\n"
        "print(json.dumps({'textual_after': seen, 'loaded': sorted(sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    doc: dict[str, object] = json.loads(out)
    textual_after = doc["textual_after"]
    loaded = doc["loaded"]
    assert isinstance(textual_after, dict) and isinstance(loaded, list)
    assert textual_after == dict.fromkeys(CORE, False)
    assert "textual" not in loaded
    assert [m for m in loaded if m.split(".")[0] == "textual"] == []
    assert set(CORE) <= set(loaded)
