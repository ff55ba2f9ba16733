"""Errors the planner reports to people as one line (the CLI and the TUI print the message)."""


class PlannerError(Exception):
    """A problem with what the user asked for or pointed at: bad input, no data, unreachable URL."""


class DatasetError(PlannerError):
    """The dataset cannot be opened or read (missing folder, unreachable S3, no readable file)."""


class EmptySelectionError(PlannerError):
    """The filters select no attempts."""
