"""The planner's core (everything but the TUI and the CLI) loads no `textual`: reports, notebooks
and scripts use it without the TUI stack. Checked in a fresh interpreter, since this test process
may have imported textual already. import-linter checks the imports written in the core's source
(the "planner's core renders nothing" contract); this checks what actually gets loaded.

The core's modules are listed once, in that contract (pyproject.toml); the tests below read it
and check it against planner/*.py and the README's planner paragraph."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "The planner's core renders nothing"
#: Modules of planner/ outside the core: the command line (its commands are in commands/, the
#: TUI in tui/, both packages and so not listed here).
NOT_CORE = {"planner.cli"}


def _contract_modules() -> tuple[str, ...]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"]
                   if c["name"] == CONTRACT]
    return tuple(contract["source_modules"])


#: The core's modules: the one list is the import contract in pyproject.toml.
CORE = _contract_modules()


def test_the_contract_lists_every_core_module() -> None:
    on_disk = {f"planner.{p.stem}" for p in (ROOT / "planner").glob("*.py")
               if p.stem != "__init__"} - NOT_CORE
    assert sorted(on_disk - set(CORE)) == [], (
        f"add these to the contract {CONTRACT!r} in pyproject.toml (or to NOT_CORE here)")
    assert sorted(set(CORE) - on_disk) == [], "the contract names modules that do not exist"
    assert len(CORE) == len(set(CORE))


def test_the_readme_names_every_core_module() -> None:
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"`(\w+)\.py`", readme))
    missing = sorted(m for m in CORE if m.removeprefix("planner.") not in named)
    assert missing == [], "say in README.md's planner/ paragraph what these hold"


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
