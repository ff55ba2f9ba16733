"""The sizing table's columns: their labels, the column sets from 80 columns to every column
of `mjplan size` (the widest that fits is shown), and each row's cells from a
`planner.sizing.TypeSizing`. Pure: no Textual, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planner import formats

#: Labels of the sizing table's columns, by key (the wider forms' as `mjplan size` writes them).
SIZING_LABELS: dict[str, str] = {
    "rank": "#", "type": "Instance", "from": "From", "vcpus": "vCPU", "slots": "Slots",
    "service": "Service s", "load": "Load", "util_n": "Util n", "wait_n": "Wait n",
    "instances": "Inst", "fleet": "Fleet", "bound": "Bound", "wait_p": "Wait p", "util": "Util",
    "usd_h": "$/h", "usd_media_h": "$/media h",
    "od_instances": "OD inst", "od_usd_h": "OD $/h", "od_usd_media_h": "OD $/media h",
    "band": "Spot band", "spot_instances": "Spot inst", "spot_usd_h": "Spot $/h",
    "spot_usd_media_h": "Spot $/media h",
}
#: The sizing table's forms, narrowest first; `sizing_columns` picks the widest that fits.
#: At 80 columns: `Fleet`, `$/h` and `$/media h` in the chosen capacity type (`Inst` is the
#: on-demand count). Wider: on-demand and spot side by side, then (about 190 columns) every
#: column of `mjplan size`: the two bounds' counts, the wait reached, where the numbers come from
#: (production, bench, synthetic, or the type an estimate is from).
SIZING_LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("rank", "type", "slots", "instances", "fleet", "bound", "util", "usd_h", "usd_media_h"),
    ("rank", "type", "slots", "bound", "util", "od_instances", "od_usd_h", "spot_instances",
     "spot_usd_h", "usd_media_h"),
    ("rank", "type", "slots", "bound", "util", "od_instances", "od_usd_h", "od_usd_media_h",
     "spot_instances", "spot_usd_h", "spot_usd_media_h"),
    ("rank", "type", "from", "vcpus", "slots", "service", "load", "util_n", "wait_n", "bound",
     "wait_p", "util", "od_instances", "od_usd_h", "od_usd_media_h", "band", "spot_instances",
     "spot_usd_h", "spot_usd_media_h"),
)
#: (key, label) of the columns at 80 columns.
SIZING_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (key, SIZING_LABELS[key]) for key in SIZING_LAYOUTS[0]
)


def sizing_texts(rank: int, t: Any, capacity: str) -> dict[str, str]:
    """Every cell of one row of the sizing table for a `planner.sizing.TypeSizing`, by
    SIZING_LABELS key.

    `Fleet`, `$/h` and `$/media h` are in the chosen capacity type (spot adds interruption
    headroom to the count); `Inst` and `OD ...` are on-demand, `Spot ...` spot. An estimated
    type is marked with `*`.
    """
    spot = capacity == "spot"
    wait_s = t.wait_at_target_percentile_s
    return {
        "rank": str(rank),
        "type": t.instance_type + ("*" if t.estimated else ""),
        "from": t.from_label,
        "vcpus": str(t.vcpus),
        "slots": str(t.slots),
        "service": f"{t.mean_service_s:.1f}",
        "load": f"{t.load_erlangs:.2f}",
        "util_n": str(t.instances_utilisation),
        "wait_n": "-" if t.instances_wait is None else str(t.instances_wait),
        "instances": str(t.instances),
        "fleet": str(t.instances_spot if spot else t.instances),
        "bound": t.bound,
        "wait_p": "-" if wait_s is None else f"{wait_s:.1f}s",
        "util": f"{t.utilisation:.0%}",
        "usd_h": formats.usd(t.spot_usd_h if spot else t.on_demand_usd_h),
        "usd_media_h": formats.usd(
            t.spot_usd_per_media_h if spot else t.on_demand_usd_per_media_h, 3),
        "od_instances": str(t.instances),
        "od_usd_h": formats.usd(t.on_demand_usd_h),
        "od_usd_media_h": formats.usd(t.on_demand_usd_per_media_h, 3),
        "band": t.interruption_band,
        "spot_instances": str(t.instances_spot),
        "spot_usd_h": formats.usd(t.spot_usd_h),
        "spot_usd_media_h": formats.usd(t.spot_usd_per_media_h, 3),
    }


def sizing_cells(
    rank: int, t: Any, capacity: str, columns: Sequence[str] = SIZING_LAYOUTS[0]
) -> list[str]:
    """One row of the sizing table (`sizing_texts`), in the order of `columns`."""
    texts = sizing_texts(rank, t, capacity)
    return [texts[key] for key in columns]


def sizing_label(key: str, columns: Sequence[str], capacity: str) -> str:
    """The header of column `key` among `columns`: a figure in the chosen capacity type says
    which (`Spot $/media h`) when on-demand and spot figures stand side by side."""
    label = SIZING_LABELS[key]
    if key in ("fleet", "usd_h", "usd_media_h") and "od_usd_h" in columns:
        label = ("Spot " if capacity == "spot" else "OD ") + label
    return label


def sizing_columns(
    width: int, rows: Sequence[Mapping[str, str]], capacity: str, padding: int = 1
) -> tuple[str, ...]:
    """The widest of SIZING_LAYOUTS whose columns fit in `width` cells: each column as wide as
    its label (`sizing_label`) or its widest cell in `rows` (`sizing_texts`), with `padding`
    cells each side (a DataTable's cell padding). The narrowest when none fits."""
    def cells(key: str, columns: Sequence[str]) -> int:
        widest = max((len(r[key]) for r in rows), default=0)
        return max(len(sizing_label(key, columns, capacity)), widest) + 2 * padding

    fitting = [c for c in SIZING_LAYOUTS if sum(cells(k, c) for k in c) <= width]
    return fitting[-1] if fitting else SIZING_LAYOUTS[0]
