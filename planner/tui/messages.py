"""Typed messages that query workers post back to the UI thread.

Every query runs in a thread worker; the worker never touches a widget. It posts one of these
(posting is thread-safe in Textual) and an `@on(...)` handler on the UI thread renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.message_pump import MessagePump

from planner.errors import describe

if TYPE_CHECKING:
    from planner.tui.data import Distributions


@dataclass
class DatasetOpened(Message):
    """The dataset is open; `dataset` is a `planner.dataset.Dataset`."""

    dataset: Any
    source: str


@dataclass
class QueryFailed(Message):
    """A query failed; `message` is one line for people (no traceback)."""

    view: str
    message: str


def post_result(sender: MessagePump, view: str, query: Callable[[], Message]) -> bool:
    """Run `query` (in a worker thread) and post the message it returns, or a QueryFailed for
    `view` saying what went wrong (one line, no traceback). True when the query succeeded."""
    try:
        message = query()
    except Exception as exc:  # noqa: BLE001 - shown by the view
        sender.post_message(QueryFailed(view, describe(exc)))
        return False
    sender.post_message(message)
    return True


@dataclass
class AttemptsPage(Message):
    """One page of the jobs list.

    `rows` are attempt rows (dicts of schema columns) at positions offset..offset+len(rows)
    of the ordered selection; `total` is the size of the selection (None when not counted).
    `place`: where the rows go, "after" or "before" the rows shown, or instead of them
    ("first", "last": a jump to that end of the selection).
    """

    generation: int
    offset: int
    rows: list[dict[str, Any]]
    total: int | None
    place: str = "after"


@dataclass
class FilterOptionsLoaded(Message):
    """The values the jobs filters cycle through, from the data."""

    job_types: list[str]
    instance_types: list[str]


@dataclass
class AttemptLoaded(Message):
    """One attempt and the other attempts of its job (oldest first)."""

    row: dict[str, Any]
    siblings: list[dict[str, Any]]


@dataclass
class DistributionLoaded(Message):
    """The figures of the distributions view (`planner.tui.data.Distributions`)."""

    figures: Distributions


@dataclass
class SizingComputed(Message):
    """A `planner.sizing.SizingResult` for the form of `generation` (and the inputs used).

    `final` False: the analytic sizing, shown at once while the replay that confirms it runs;
    True: the answer (replayed, or analytic when there is nothing to replay)."""

    generation: int
    inputs: Any
    result: Any
    final: bool = True


@dataclass
class FleetRequestWritten(Message):
    """The fleet request JSON was written to `path`."""

    path: str


@dataclass
class AttemptsCounted(Message):
    """The size of the jobs selection of query `generation`."""

    generation: int
    total: int


@dataclass
class AttemptsExported(Message):
    """The jobs selection was written as CSV to `path` (`rows` attempts)."""

    path: str
    rows: int
