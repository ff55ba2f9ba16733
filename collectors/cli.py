"""`mjcollect`: the worker-side command.

Each subcommand lives in its own module under `collectors.commands` (see `collectors.dispatch`
for what a module exposes). Modules keep heavy imports inside `run`, so `mjcollect --help` stays
instant.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from collectors import dispatch

#: Subcommand name -> module (each must exist: the overview, `mjcollect --help`, imports them
#: all; a named subcommand imports only its own).
SUBCOMMANDS = {
    "run": "collectors.commands.run",
    "demo": "collectors.commands.demo",
    "bench": "collectors.commands.bench",
    "ingest": "collectors.commands.ingest",
    "flush": "collectors.commands.flush",
    "status": "collectors.commands.status",
    "agent": "collectors.commands.agent",
}


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch.main("mjcollect", __doc__.splitlines()[0], SUBCOMMANDS, argv, lazy=True)


if __name__ == "__main__":
    sys.exit(main())
