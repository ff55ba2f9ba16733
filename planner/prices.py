"""The price table: what one instance of each type costs per hour, and how often spot takes it back.

The table is a CSV file (lines starting with `#` are comments: the shipped file keeps its date and
source there). Columns, one row per instance type:

    instance_type      e.g. c7i.xlarge (unique)
    vcpus              logical CPUs
    memory_gib         GiB
    on_demand_usd_h    on-demand price, USD per instance-hour
    spot_usd_h         a typical spot price, USD per instance-hour
    interruption_band  the Spot Instance Advisor band: "<5%", "5-10%", "10-15%", "15-20%", ">20%"
    interruption_rate  optional: a fraction (0.05 = 5 %) used for spot headroom; empty = the middle
                       of the band (see BAND_RATES)

A user can pass their own file (`mjplan size --prices FILE`); every problem in it is reported as
one `PriceFileError` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from planner.errors import PlannerError

#: The shipped table (us-east-1, Linux); see the header of the file for its date and source.
DEFAULT_PRICES_PATH = Path(__file__).resolve().parent.parent / "data" / "prices.csv"

#: Spot Instance Advisor "frequency of interruption" bands and the rate taken for each when the
#: file gives no number: the middle of the band (">20%" is taken as 25 %).
BAND_RATES: Mapping[str, float] = {
    "<5%": 0.025,
    "5-10%": 0.075,
    "10-15%": 0.125,
    "15-20%": 0.175,
    ">20%": 0.25,
}

REQUIRED_COLUMNS = (
    "instance_type",
    "vcpus",
    "memory_gib",
    "on_demand_usd_h",
    "spot_usd_h",
    "interruption_band",
)
OPTIONAL_COLUMNS = ("interruption_rate",)


class PriceFileError(PlannerError):
    """The price file is missing, unreadable or has a bad value (message names file and line)."""


@dataclass(frozen=True)
class InstancePrice:
    """One row of the price table. Prices in USD per instance-hour."""

    instance_type: str
    vcpus: int
    memory_gib: float
    on_demand_usd_h: float
    spot_usd_h: float
    interruption_band: str
    #: Fraction of instances interrupted per month (Spot Advisor's measure), 0 <= rate < 1.
    interruption_rate: float

    @property
    def family(self) -> str:
        """The part before the dot (`c7i` of `c7i.xlarge`): types that scale by size alike."""
        return self.instance_type.split(".", 1)[0]

    @property
    def arch(self) -> str:
        """CPU architecture: `arch_of`."""
        return arch_of(self.instance_type)


def arch_of(instance_type: str) -> str:
    """`arm64` for Graviton types (a `g` after the generation: c6g, c7gn, m7gd, t4g; and a1),
    else `x86_64`. An AMI is built for one of them, so a launch template serves one."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if family == "a1" or re.fullmatch(r"[a-z]+\d+g[a-z]*", family) else "x86_64"


@dataclass(frozen=True)
class PriceTable:
    """Instance prices by type, and where they came from (a path, for messages)."""

    prices: Mapping[str, InstancePrice]
    source: str

    def __contains__(self, instance_type: object) -> bool:
        return instance_type in self.prices

    def __getitem__(self, instance_type: str) -> InstancePrice:
        return self.prices[instance_type]

    def __iter__(self) -> Iterator[str]:
        return iter(self.prices)

    def __len__(self) -> int:
        return len(self.prices)


def _number(raw: str, *, where: str, field: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(raw.strip())
    except ValueError:
        raise PriceFileError(f"{where}: {field} must be a number, got {raw!r}") from None
    if not 0 <= value < math.inf:  # NaN, negative or infinite
        raise PriceFileError(f"{where}: {field} must be a non-negative number, got {raw!r}")
    return value


def parse_prices(text: str, source: str = "<prices>") -> PriceTable:
    """Parse the CSV text of a price table. Raises PriceFileError on any bad line."""
    numbered = [
        (i + 1, line) for i, line in enumerate(text.splitlines())
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise PriceFileError(f"{source}: no header and no rows")
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in numbered)))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise PriceFileError(f"{source}: missing column(s) {', '.join(missing)}")
    # Line numbers of data rows in the original text, for messages.
    line_numbers = [n for n, _ in numbered[1:]]
    prices: dict[str, InstancePrice] = {}
    for line_no, raw_row in zip(line_numbers, reader, strict=False):
        where = f"{source} line {line_no}"
        # DictReader puts the fields beyond the header's under the key None, as a list.
        if None in raw_row:
            raise PriceFileError(f"{where}: more fields than the header has columns")
        row = {k.strip(): (v or "").strip() for k, v in raw_row.items() if k is not None}
        name = row["instance_type"]
        if not name:
            raise PriceFileError(f"{where}: empty instance_type")
        if name in prices:
            raise PriceFileError(f"{where}: instance type {name} appears twice")
        vcpus = int(_number(row["vcpus"], where=where, field="vcpus", kind=int))
        if vcpus < 1:
            raise PriceFileError(f"{where}: vcpus must be at least 1")
        on_demand = _number(row["on_demand_usd_h"], where=where, field="on_demand_usd_h",
                            kind=float)
        spot = _number(row["spot_usd_h"], where=where, field="spot_usd_h", kind=float)
        if on_demand <= 0 or spot <= 0:
            raise PriceFileError(f"{where}: prices must be above zero")
        band = row["interruption_band"].replace(" ", "")
        if band not in BAND_RATES:
            raise PriceFileError(
                f"{where}: interruption_band {row['interruption_band']!r} is not one of "
                f"{', '.join(BAND_RATES)}"
            )
        raw_rate = row.get("interruption_rate", "")
        if raw_rate:
            rate = _number(raw_rate, where=where, field="interruption_rate", kind=float)
            if rate >= 1:
                raise PriceFileError(f"{where}: interruption_rate must be a fraction below 1")
        else:
            rate = BAND_RATES[band]
        prices[name] = InstancePrice(
            instance_type=name,
            vcpus=vcpus,
            memory_gib=_number(row["memory_gib"], where=where, field="memory_gib", kind=float),
            on_demand_usd_h=on_demand,
            spot_usd_h=spot,
            interruption_band=band,
            interruption_rate=rate,
        )
    if not prices:
        raise PriceFileError(f"{source}: no instance types")
    return PriceTable(prices=prices, source=source)


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The price table from `path`, or the shipped one when None."""
    p = Path(path) if path is not None else DEFAULT_PRICES_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceFileError(f"cannot read price file {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PriceFileError(f"cannot read price file {p}: not UTF-8 text (a CSV file?)") from None
    return parse_prices(text, source=str(p))


def with_interruption_rates(table: PriceTable, rates: Mapping[str, float]) -> PriceTable:
    """A copy of `table` with the interruption rate of some types overridden (fractions)."""
    prices = dict(table.prices)
    for name, rate in rates.items():
        if name not in prices:
            raise PriceFileError(f"{table.source}: no instance type {name} to override")
        if not 0 <= rate < 1:
            raise PriceFileError(f"interruption rate of {name} must be in [0, 1), got {rate}")
        old = prices[name]
        prices[name] = InstancePrice(
            old.instance_type, old.vcpus, old.memory_gib, old.on_demand_usd_h, old.spot_usd_h,
            old.interruption_band, rate,
        )
    return PriceTable(prices=prices, source=table.source)
