"""`mjplan`: the analysis-side command. With no arguments it opens the TUI on the embedded data.

Each subcommand lives in its own module under `planner.commands` (see `collectors.dispatch` for
what a module exposes). Modules keep heavy imports inside `run`, so `mjplan --help` stays
instant. A `PlannerError` (planner.errors) raised by a command prints one line and exits 2; no
traceback reaches the user. So does a worker install (`pip install .`, without the `planner`
extra), which has the `mjplan` command but not the packages its commands import.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from collectors import dispatch
from planner.errors import PlannerError

SUBCOMMANDS = {
    "tui": "planner.commands.tui",
    "summary": "planner.commands.summary",
    "size": "planner.commands.size",
    "replay": "planner.commands.replay",
    "density": "planner.commands.density",
    "report": "planner.commands.report",
    "compact": "planner.commands.compact",
    "purge": "planner.commands.purge",
    "cache": "planner.commands.cache",
    "ddl": "planner.commands.ddl",
}

#: The top-level packages of the `planner` extra (pyproject.toml) that commands import.
PLANNER_EXTRA = frozenset({"duckdb", "pandas", "polars", "textual", "plotly", "scipy", "rich"})


def main(argv: Sequence[str] | None = None) -> int:
    # Planner commands print their results; INFO logs would clutter them, so WARNING by default.
    try:
        return dispatch.main(
            "mjplan", __doc__.splitlines()[0], SUBCOMMANDS, argv,
            default_command="tui", log_level=logging.WARNING, user_errors=(PlannerError,),
            # A named command (and `mjplan` alone: the TUI) imports only its own module;
            # the others' cost the TUI's start ~20 ms.
            lazy=True,
        )
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in PLANNER_EXTRA:
            raise
        print(f"mjplan: {missing} is not installed: mjplan needs the planner extra "
              "(pip install 'mediajobs-capacity[planner]', or '.[planner]' in a checkout)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
