"""`mjplan` where the planner's packages or the embedded data are not there: one line, exit 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import planner.dataset
from planner.cli import main
from tests.rows import row, write


def test_a_worker_install_says_which_extra_it_lacks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # `pip install .` has the `mjplan` command but not duckdb: `import duckdb` fails as here.
    monkeypatch.setitem(sys.modules, "duckdb", None)
    assert main(["summary", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "duckdb is not installed" in err and "[planner]" in err


def test_another_missing_module_is_a_bug_not_a_missing_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A dataset to read: an empty folder no longer needs pyarrow (a local folder is listed
    # with os), reading a file does.
    write(tmp_path, [row()])
    monkeypatch.setitem(sys.modules, "pyarrow.fs", None)
    with pytest.raises(ModuleNotFoundError):
        main(["summary", "--data", str(tmp_path)])


def test_an_installed_package_without_the_embedded_data_asks_for_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "site-packages" / "data" / "attempts"
    monkeypatch.setattr(planner.dataset, "default_data_url", lambda: str(missing))
    assert main(["summary"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"no embedded data at {missing}" in err
    assert "pass --data URL" in err
