"""The sizing inputs as a file: what `mjplan size` reads from a dataset, saved and read back.

`mjplan size --save-inputs FILE` writes the aggregates sizing consumes (planner.sizing's
SizingInputs, but the prices and the window's attempts one by one) as JSON; `mjplan size
--inputs FILE` sizes from that file without a dataset, so the aggregates can come from
elsewhere (computed over years of data in Athena, from the views of `mjplan ddl`). The format
is documented field by field in docs/sizing-inputs.md.

Not saved: the prices (the price table is an option of its own: --prices). Saved but
optional: the window's first attempts one by one (`arrivals`, three numbers per job, which the
replay replays); a file without them (one made from Athena's views) sizes the same
analytically, and its replay draws arrivals per hour from the hourly demand and the measured
burstiness (planner.replay) instead, so where the replay moved the analytic count the answer
can differ. With them, `--inputs` gives exactly the answer of the dataset (tested).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from planner.arrivals import Arrivals
from planner.demand import DemandHistory
from planner.errors import PlannerError
from planner.prices import PriceTable
from planner.service_times import ServiceSample
from planner.sizing import SizingInputs
from planner.throughput import Concurrency, InstanceMeasurements, Service, Waste

FORMAT = "mediajobs-sizing-inputs"
#: Bumped when a field changes meaning; files of another version are refused.
VERSION = 1


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(float(x)) else None


def to_dict(inputs: SizingInputs) -> dict[str, Any]:
    """The JSON document of `inputs` (docs/sizing-inputs.md)."""
    measurements = []
    for m in inputs.measurements.values():
        if m.estimated:
            continue  # estimates are made again from the measured types and the price table
        c = m.concurrency
        measurements.append({
            "instance_type": m.instance_type,
            "source": m.source,
            "worker_slots": m.worker_slots,
            "concurrency": {"hosts": c.hosts, "attempt_seconds": c.attempt_seconds,
                            "busy_seconds": c.busy_seconds,
                            "max_concurrency": c.max_concurrency,
                            "level_seconds": list(c.level_seconds)},
            "services": [{"job_type": s.job_type, "attempts": s.attempts,
                          "wall_seconds": s.wall_seconds, "media_seconds": s.media_seconds,
                          "media_wall_seconds": s.media_wall_seconds}
                         for s in m.services.values()],
        })
    arrivals = None
    if inputs.arrivals is not None:
        a = inputs.arrivals
        arrivals = {"start": a.start.isoformat(), "hours": a.hours,
                    "job_types": list(a.job_types),
                    "t_s": np.asarray(a.t_s, float).tolist(),
                    "job": np.asarray(a.job).astype(int).tolist(),
                    "input_s": [_num(v) for v in np.asarray(a.input_s, float)]}
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": inputs.source,
        "window_hours": inputs.window.total_seconds() / 3600,
        "start": inputs.start.isoformat() if inputs.start else None,
        "burstiness": inputs.burstiness,
        "measurements": measurements,
        "demand": [{"job_type": h.job_type, "jobs": list(h.jobs),
                    "media_seconds": list(h.media_seconds)} for h in inputs.histories.values()],
        "waste": [{"job_type": w.job_type, "attempts": w.attempts,
                   "failed_attempts": w.failed_attempts,
                   "failed_wall_seconds": w.failed_wall_seconds,
                   "succeeded_wall_seconds": w.succeeded_wall_seconds}
                  for w in inputs.waste.values()],
        "service_samples": [{"instance_type": i, "job_type": j,
                             "wall_s": [_num(v) for v in np.asarray(s.wall_s, float)],
                             "per_media_s": [_num(v) for v in np.asarray(s.per_media_s, float)]}
                            for (i, j), s in inputs.samples.items()],
        "arrivals": arrivals,
        "density_levels": None if inputs.density_levels is None else {
            "columns": {c: str(t) for c, t in inputs.density_levels.schema.items()},
            "rows": [list(r) for r in inputs.density_levels.rows()]},
    }


def from_dict(doc: Mapping[str, Any], prices: PriceTable) -> SizingInputs:
    """SizingInputs from a document of to_dict (or written by other means to its format).
    Raises PlannerError naming the first field that is missing or wrong."""
    if doc.get("format") != FORMAT:
        raise PlannerError(f"not a sizing inputs file (format {doc.get('format')!r}, "
                           f"expected {FORMAT!r})")
    if doc.get("version") != VERSION:
        raise PlannerError(f"sizing inputs version {doc.get('version')!r}; this mjplan reads "
                           f"version {VERSION}")
    where = "?"
    try:
        where = "measurements"
        measurements = {}
        for m in doc["measurements"]:
            it = str(m["instance_type"])
            where = f"measurements[{it}]"
            c = m["concurrency"]
            services = {str(s["job_type"]): Service(
                it, str(s["job_type"]), int(s["attempts"]), float(s["wall_seconds"]),
                float(s["media_seconds"]), float(s["media_wall_seconds"]))
                for s in m["services"]}
            measurements[it] = InstanceMeasurements(
                it, Concurrency(it, int(c["hosts"]), float(c["attempt_seconds"]),
                                float(c["busy_seconds"]), int(c["max_concurrency"]),
                                tuple(float(v) for v in c.get("level_seconds", ()))),
                services, worker_slots=(int(m["worker_slots"]) if m.get("worker_slots")
                                        else None),
                source=str(m["source"]) if m.get("source") else None)
        where = "demand"
        histories = {str(h["job_type"]): DemandHistory(
            str(h["job_type"]), tuple(float(v) for v in h["jobs"]),
            tuple(float(v) for v in h["media_seconds"])) for h in doc["demand"]}
        bad = [j for j, h in histories.items() if len(h.jobs) != len(h.media_seconds)]
        if bad:
            raise ValueError(f"jobs and media_seconds of {bad[0]} differ in length")
        where = "waste"
        waste = {str(w["job_type"]): Waste(
            str(w["job_type"]), int(w["attempts"]), int(w["failed_attempts"]),
            float(w["failed_wall_seconds"]), float(w["succeeded_wall_seconds"]))
            for w in doc.get("waste", [])}
        where = "service_samples"
        samples = {(str(s["instance_type"]), str(s["job_type"])): ServiceSample(
            np.asarray([np.nan if v is None else v for v in s["wall_s"]], float),
            np.asarray([np.nan if v is None else v for v in s["per_media_s"]], float))
            for s in doc.get("service_samples", [])}
        where = "arrivals"
        arrivals = None
        if doc.get("arrivals"):
            a = doc["arrivals"]
            arrivals = Arrivals(
                dt.datetime.fromisoformat(a["start"]), int(a["hours"]),
                tuple(str(j) for j in a["job_types"]), np.asarray(a["t_s"], np.float64),
                np.asarray(a["job"], np.int16),
                np.asarray([np.nan if v is None else v for v in a["input_s"]], np.float64))
            if not (arrivals.t_s.size == arrivals.job.size == arrivals.input_s.size):
                raise ValueError("t_s, job and input_s differ in length")
        where = "density_levels"
        levels = None
        if doc.get("density_levels"):
            import polars as pl

            d = doc["density_levels"]
            levels = pl.DataFrame(d["rows"], orient="row", schema={
                c: getattr(pl, t) for c, t in d["columns"].items()})
        where = "window_hours"
        window = dt.timedelta(hours=float(doc["window_hours"]))
        where = "start"
        start = dt.datetime.fromisoformat(doc["start"]) if doc.get("start") else None
        where = "burstiness"
        burstiness = float(doc.get("burstiness", 1.0))
    except (KeyError, TypeError, ValueError) as exc:
        raise PlannerError(f"sizing inputs: bad or missing {where}: {exc}") from None
    if not measurements or not histories:
        raise PlannerError("sizing inputs: no measurements or no demand")
    return SizingInputs(measurements=measurements, histories=histories, waste=waste,
                        prices=prices, window=window, source=str(doc.get("source", "")),
                        samples=samples, burstiness=burstiness, start=start,
                        arrivals=arrivals, density_levels=levels)


def save(inputs: SizingInputs, path: str | Path) -> None:
    """Write the inputs as JSON (gzip-compressed when `path` ends in .gz)."""
    text = json.dumps(to_dict(inputs), separators=(",", ":"))
    p = Path(path)
    try:
        if p.name.endswith(".gz"):
            p.write_bytes(gzip.compress(text.encode(), mtime=0))
        else:
            p.write_text(text + "\n")
    except OSError as exc:
        raise PlannerError(f"cannot write {p}: {exc.strerror or exc}") from None


def load(path: str | Path, prices: PriceTable) -> SizingInputs:
    """Read inputs saved by `save` (or written to the same format elsewhere), or made from a
    folder of the sizing views' query results (planner.sizing_results)."""
    p = Path(path)
    if p.is_dir():
        from planner.sizing_results import load_results

        return load_results(p, prices)
    try:
        raw = p.read_bytes()
        text = gzip.decompress(raw).decode() if raw[:2] == b"\x1f\x8b" else raw.decode()
        doc = json.loads(text)
    except FileNotFoundError:
        raise PlannerError(f"no sizing inputs file at {p}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise PlannerError(f"cannot read sizing inputs {p}: {exc}") from None
    if not isinstance(doc, dict):
        raise PlannerError(f"{p}: not a sizing inputs file (a JSON object expected)")
    return from_dict(doc, prices)
