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


@dataclass(frozen=True)
class SizingForm:
    """The fleet sizing inputs as typed in the form (parsed by `planner.tui.data.size`).

    `demand`: empty for "from data" (the p95 hour of the window), else forecasts separated by
    spaces or commas, as `mjplan size --forecast` takes them (`upload_edit_proxy_v1=40h/d`).
    `utilisation`: target busy share of the job slots, 0..1. `wait`: `p95=60s`, empty for none.
    `capacity`: "spot" or "on-demand". `prices`: a price CSV path, empty for the default table.
    """

    demand: str = ""
    utilisation: str = "0.7"
    wait: str = "p95=60s"
    capacity: str = "spot"
    prices: str = ""
