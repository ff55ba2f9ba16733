"""The shared subcommand dispatcher behind `mjcollect` and `mjplan`."""

from __future__ import annotations

import argparse
import sys
import types

import pytest

from collectors import dispatch


class UserMistake(Exception):
    pass


def _command(name: str, outcome: int | BaseException) -> types.ModuleType:
    """A subcommand module that returns `outcome`, or raises it."""
    module = types.ModuleType(name)
    module.HELP = f"the {name} command"  # type: ignore[attr-defined]
    module.add_arguments = lambda parser: None  # type: ignore[attr-defined]

    def run(args: argparse.Namespace) -> int:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    module.run = run  # type: ignore[attr-defined]
    return module


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    modules = {
        "ok": _command("fake_cmd_ok", 7),
        "bad": _command("fake_cmd_bad", UserMistake("no such thing")),
        "stop": _command("fake_cmd_stop", KeyboardInterrupt()),
    }
    for module in modules.values():
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return {name: m.__name__ for name, m in modules.items()}


def test_runs_the_chosen_command_and_returns_its_code(commands: dict[str, str]) -> None:
    assert dispatch.main("prog", "d", commands, ["ok"]) == 7


def test_no_command_prints_help_and_exits_2(
    commands: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert dispatch.main("prog", "d", commands, []) == 2
    out = capsys.readouterr().out
    assert "usage: prog" in out and "ok" in out


def test_default_command_runs_on_bare_invocation(commands: dict[str, str]) -> None:
    assert dispatch.main("prog", "d", commands, [], default_command="ok") == 7


def test_user_error_is_one_line_and_exit_2(
    commands: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert dispatch.main("prog", "d", commands, ["bad"], user_errors=(UserMistake,)) == 2
    assert capsys.readouterr().err == "prog bad: no such thing\n"


def test_other_errors_propagate(commands: dict[str, str]) -> None:
    with pytest.raises(UserMistake):
        dispatch.main("prog", "d", commands, ["bad"])


def test_interrupt_exits_130(commands: dict[str, str]) -> None:
    assert dispatch.main("prog", "d", commands, ["stop"]) == 130


def test_a_missing_command_module_is_a_bug_not_hidden(commands: dict[str, str]) -> None:
    broken = commands | {"gone": "fake_cmd_missing"}
    with pytest.raises(ModuleNotFoundError):
        dispatch.main("prog", "d", broken, ["ok"])
    # Lazy (mjcollect): the named command's module only, but a missing one still surfaces.
    with pytest.raises(ModuleNotFoundError):
        dispatch.main("prog", "d", broken, ["gone"], lazy=True)
    with pytest.raises(ModuleNotFoundError):  # the overview imports every command's module
        dispatch.main("prog", "d", broken, ["-v"], lazy=True)
    assert dispatch.main("prog", "d", broken, ["ok"], lazy=True) == 7


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["size", "--utilisation", "x"],
         "mjplan size: --utilisation: expected a number, got 'x' (see mjplan size --help)"),
        (["size", "--top", "2.5"],
         "mjplan size: --top: expected a whole number, got '2.5' (see mjplan size --help)"),
        (["summary", "--by", "host"],
         "mjplan summary: --by: 'host' is not one of 'instance', 'class', 'codec', 'job_type' "
         "(see mjplan summary --help)"),
        (["size", "--wat"], "mjplan size: unrecognized arguments: --wat (see mjplan size --help)"),
        (["nope"], "mjplan: 'nope' is not a command (one of 'tui', 'summary'"),
    ],
)
def test_usage_errors_are_one_line_with_a_hint(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage:" not in err
    assert err.startswith(expected)


@pytest.mark.parametrize("main_name", ["planner.cli", "collectors.cli"])
def test_version_on_both_commands(main_name: str, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib
    from importlib.metadata import version

    main = importlib.import_module(main_name).main
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    prog = "mjplan" if main_name == "planner.cli" else "mjcollect"
    assert capsys.readouterr().out == f"{prog} {version('mediajobs-capacity')}\n"
