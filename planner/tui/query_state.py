"""What the user chose in the jobs view: filters, search and sort, as one frozen record."""

from __future__ import annotations

from dataclasses import dataclass

#: Sort orders the `o` key cycles through: (key, label).
SORTS: tuple[tuple[str, str], ...] = (
    ("newest", "newest first"),
    ("rtf_desc", "RTF high→low"),
    ("rtf_asc", "RTF low→high"),
    ("duration_desc", "longest first"),
)

#: Time ranges the `r` key cycles through, in hours before the newest attempt (None = all).
#: Relative to the data rather than to the clock, so an old dataset still shows its last day.
RANGES_HOURS: tuple[int | None, ...] = (None, 24, 24 * 7, 24 * 30)

STATUSES: tuple[str | None, ...] = (None, "succeeded", "failed")


@dataclass(frozen=True)
class JobsQuery:
    """The jobs view's selection; None means "any"."""

    job_type: str | None = None
    instance_type: str | None = None
    status: str | None = None
    range_hours: int | None = None
    search: str = ""
    sort: str = "newest"
