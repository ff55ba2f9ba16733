"""How long a job holds a slot, as a distribution: samples of the measured service times per
(instance type, job type), for the variability of the wait model (planner.queueing's
Allen-Cunneen factor) and the draws of the replay (planner.replay).

The means stay those of `planner.throughput.Service` (sums over every attempt); a sample of at
most `PER_GROUP` succeeded attempts per group, picked by the md5 of the attempt id (the same
sample on every run, and in the engines' views: planner.sizing_views), carries the shape: the
squared coefficient of variation (SCV, variance /
mean^2) and the draws.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.queries import KNOWN_INPUT, MEASURED_WALL, connection_of

#: Attempts kept per (instance type, job type): enough for an SCV within a few percent.
PER_GROUP = 4000

#: Which attempts a sample keeps, and in what order: the first by the md5 of the attempt id (as
#: hexadecimal text, which sorts as its bytes do), an order every engine computes alike, so the
#: views of planner.sizing_views pick the same attempts, and planner.sizing_results orders them
#: alike. The order matters: the replay draws services by position in the sample, so rows in
#: the order a parallel scan happens to return them made the same data size differently from one
#: run to the next (1 or 2 instances for the bursty thumbnails of tests/planner/
#: test_sizing_truth.py, where the answer is close).
SAMPLE_ORDER = "md5(attempt_id)"

SAMPLE_SQL = f"""
SELECT instance_type, job_type, duration_ms / 1000.0 AS wall_s,
       CASE WHEN {KNOWN_INPUT} THEN input_duration_seconds END AS input_s
FROM attempts
WHERE status = 'succeeded' AND {MEASURED_WALL} AND instance_type IS NOT NULL {{since}}
QUALIFY row_number() OVER (PARTITION BY instance_type, job_type ORDER BY {SAMPLE_ORDER}) <= ?
ORDER BY instance_type, job_type, {SAMPLE_ORDER}
"""


@dataclass(frozen=True)
class ServiceSample:
    """Measured service times of one job type on one instance type (a sample), seconds."""

    #: Wall seconds of succeeded attempts.
    wall_s: Any = field(repr=False)
    #: Wall seconds per input media second of those with a known input (empty: none known).
    per_media_s: Any = field(repr=False)

    @property
    def scv(self) -> float:
        """Squared coefficient of variation of the wall seconds (1 for exponential); 1 when
        fewer than two attempts say anything about it."""
        w = np.asarray(self.wall_s, dtype=float)
        if w.size < 2 or w.mean() <= 0:
            return 1.0
        return float(w.var() / w.mean() ** 2)

    def scaled(self, factor: float) -> ServiceSample:
        """The same shape, every time `factor` times as long (an estimated type)."""
        return ServiceSample(np.asarray(self.wall_s) * factor,
                             np.asarray(self.per_media_s) * factor)


def sample_of(walls: Any, inputs: Any = None) -> ServiceSample:
    """A ServiceSample from wall seconds and (optionally) their input media seconds (NaN or
    <= 0: unknown)."""
    w = np.asarray(walls, dtype=float)
    if inputs is None:
        return ServiceSample(w, np.empty(0))
    i = np.asarray(inputs, dtype=float)
    known = np.isfinite(i) & (i > 0)
    return ServiceSample(w, w[known] / i[known])


def measure_service_samples(
    source: Any, since: dt.datetime | None = None, per_group: int = PER_GROUP
) -> dict[tuple[str, str], ServiceSample]:
    """A sample of service times per (instance type, job type), one query."""
    clause = " AND started_at >= ?" if since is not None else ""
    params: list[Any] = [since] if since is not None else []
    table = connection_of(source).sql(
        SAMPLE_SQL.format(since=clause), params=[*params, per_group]).to_arrow_table()
    if table.num_rows == 0:
        return {}
    keys = [f"{i}\x00{j}" for i, j in zip(table["instance_type"].to_pylist(),
                                             table["job_type"].to_pylist(), strict=True)]
    names, group = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
    wall = np.asarray(table["wall_s"].to_numpy(zero_copy_only=False), dtype=np.float64)
    inp = np.asarray(table["input_s"].to_numpy(zero_copy_only=False), dtype=np.float64)
    out: dict[tuple[str, str], ServiceSample] = {}
    for g, key in enumerate(names):
        sel = group == g
        i, j = str(key).split("\x00", 1)
        out[(i, j)] = sample_of(wall[sel], inp[sel])
    return out


def mix_scv(weights: Mapping[str, float], means: Mapping[str, float],
            scvs: Mapping[str, float]) -> float:
    """SCV of the service time of a mix: job type j arrives with weight (rate) weights[j], holds
    a slot means[j] seconds on average with SCV scvs[j]:

        E[S] = sum w_j s_j / sum w_j,   E[S^2] = sum w_j s_j^2 (1 + scv_j) / sum w_j
        SCV  = E[S^2] / E[S]^2 - 1

    (short thumbnails beside long exports make it large even when each type alone is tame)."""
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    m1 = sum(w * means[j] for j, w in weights.items()) / total
    m2 = sum(w * means[j] ** 2 * (1 + scvs[j]) for j, w in weights.items()) / total
    return m2 / (m1 * m1) - 1.0 if m1 > 0 else 1.0
