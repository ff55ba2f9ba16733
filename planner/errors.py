"""Errors the planner reports to people as one line (the CLI and the TUI print the message)."""


class PlannerError(Exception):
    """A problem with what the user asked for or pointed at: bad input, no data, unreachable URL."""


class DatasetError(PlannerError):
    """The dataset cannot be opened or read (missing folder, unreachable S3, no readable file)."""


class EmptySelectionError(PlannerError):
    """The filters select no attempts."""


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def describe(exc: BaseException) -> str:
    """One line for people: a PlannerError's message (written for them), else the exception's
    type and the first line of its message (`ArrowInvalid: Parquet magic bytes not found`)."""
    if isinstance(exc, PlannerError):
        return one_line(exc)
    name = type(exc).__name__
    return f"{name}: {one_line(exc)}" if str(exc).strip() else name
