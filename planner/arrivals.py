"""When jobs arrived: the window's first attempts one by one (for the replay), how bursty they
are, and arrivals drawn per hour with that burstiness (for a forecast).

**Burstiness** is the index of dispersion of counts (IDC) in one-minute bins, against the rate
of the ten minutes around them (so the swing from hour to hour, or a quiet half hour, is not
counted as burstiness):

    IDC = sum over bins (n_b - r_B)^2 / sum over bins r_B,   r_B = jobs of the bin's block / 10

1 for Poisson arrivals, about the mean batch size b(1 + scv_b) / ... for batches (b for batches
of a fixed size b, 2b - 1 for geometric ones of mean b). It stands for the arrivals' SCV ca^2
in the Allen-Cunneen wait (planner.queueing.variability_factor), as its long-run limit does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.queries import KNOWN_INPUT, connection_of

#: In time order, ties (a batch started in the same microsecond) broken by what the replay reads
#: of them, so that the same data gives the same replay whatever order a parallel scan returns.
ARRIVALS_SQL = f"""
SELECT job_type, epoch_us(started_at) AS t_us,
       CASE WHEN {KNOWN_INPUT} THEN input_duration_seconds END AS input_s
FROM attempts
WHERE coalesce(attempt_number, 1) = 1 AND started_at >= ? AND started_at < ?
ORDER BY t_us, job_type, input_s NULLS LAST
"""

#: Seconds per bin of the IDC, and bins per block whose mean rate a bin is measured against.
BIN_S = 60.0
BINS_PER_BLOCK = 10


@dataclass(frozen=True)
class Arrivals:
    """First attempts of a window, in time order. Times in seconds from `start`."""

    start: dt.datetime
    hours: int
    job_types: tuple[str, ...]
    #: Seconds from `start`, ascending (float64).
    t_s: Any = field(repr=False)
    #: Index into job_types (int16).
    job: Any = field(repr=False)
    #: Input media seconds (NaN: unknown).
    input_s: Any = field(repr=False)

    @property
    def count(self) -> int:
        return int(np.asarray(self.t_s).size)


def load_arrivals(source: Any, start: dt.datetime, end: dt.datetime) -> Arrivals:
    """The first attempts with start time in [start, end), one query."""
    table = connection_of(source).sql(ARRIVALS_SQL, params=[start, end]).to_arrow_table()
    hours = max(1, int((end - start).total_seconds() // 3600))
    if table.num_rows == 0:
        return Arrivals(start, hours, (), np.empty(0), np.empty(0, np.int16), np.empty(0))
    jobs = table["job_type"].combine_chunks().dictionary_encode()
    names = tuple(str(x) for x in jobs.dictionary.to_pylist())
    start_us = start.timestamp() * 1e6
    t = (table["t_us"].to_numpy().astype(np.float64) - start_us) / 1e6
    inp = np.asarray(table["input_s"].to_numpy(zero_copy_only=False), dtype=np.float64)
    idx = jobs.indices.to_numpy(zero_copy_only=False).astype(np.int16)
    return Arrivals(start, hours, names, t, idx, inp)


def burstiness(t_s: Any, hours: int) -> float:
    """The IDC of arrivals at `t_s` (seconds from the window's start) against the rate of their
    ten-minute block (module docstring); 1 (Poisson) when there are too few arrivals to say."""
    t = np.asarray(t_s, dtype=np.float64)
    if t.size < 50:
        return 1.0
    nbins = _blocks(hours) * BINS_PER_BLOCK
    counts = np.bincount(np.clip((t // BIN_S).astype(np.int64), 0, nbins - 1), minlength=nbins)
    return burstiness_of_counts(counts, hours)


def _blocks(hours: int) -> int:
    return int(hours * 3600 / BIN_S / BINS_PER_BLOCK)


def burstiness_of_counts(counts: Any, hours: int) -> float:
    """`burstiness` from the arrivals per BIN_S bin of the window (bin i: [i, i + 1) * BIN_S
    seconds from its start; bins past the window's end count in its last), as the engines'
    view of them gives them (planner.sizing_views)."""
    c = np.asarray(counts, dtype=np.int64)
    if c.sum() < 50:
        return 1.0
    blocks = _blocks(hours)
    nbins = blocks * BINS_PER_BLOCK
    if c.size > nbins:
        c = np.concatenate((c[:nbins - 1], [c[nbins - 1:].sum()]))
    counts = np.pad(c, (0, nbins - c.size))
    per_block = counts.reshape(blocks, BINS_PER_BLOCK)
    rate = per_block.sum(axis=1, keepdims=True) / BINS_PER_BLOCK
    # A block with a single arrival says nothing about bunching.
    busy = (per_block.sum(axis=1) > 1)[:, None]
    dev = float((((per_block - rate) ** 2) * busy).sum())
    weight = float((rate * busy).sum() * BINS_PER_BLOCK)
    # The unbiased sample variance of BINS_PER_BLOCK counts around their own mean.
    return dev / weight * BINS_PER_BLOCK / (BINS_PER_BLOCK - 1) if weight > 0 else 1.0


def draw_hourly(rates_per_h: Any, idc: float, rng: np.random.Generator) -> Any:
    """Arrival times (s, ascending) of a process whose hour h brings rates_per_h[h] jobs on
    average, in batches whose IDC is `idc`: batches arrive as Poisson within the hour, their
    sizes geometric of mean b = (idc + 1) / 2 (IDC of geometric batches: 2b - 1), so idc = 1
    gives plain Poisson."""
    rates = np.asarray(rates_per_h, dtype=float)
    b = max(1.0, (idc + 1.0) / 2.0)
    batches = rng.poisson(rates / b)
    hour_of = np.repeat(np.arange(rates.size), batches)
    t = (hour_of + rng.random(hour_of.size)) * 3600.0
    sizes = rng.geometric(1.0 / b, size=t.size) if b > 1 else np.ones(t.size, np.int64)
    out = np.repeat(t, sizes)
    out.sort()
    return out
