"""Fleet sizing on a 10-million-attempt dataset: the queries once, then a recompute (the TUI case).

    .venv/bin/python benchmarks/sizing.py                 # 10M rows, data in benchmarks/scratch/
    .venv/bin/python benchmarks/sizing.py --rows 1000000  # a smaller run
    .venv/bin/python benchmarks/sizing.py --data benchmarks/scratch/summary_10m   # another 10M
                                  # dataset (benchmarks/summary_10m.py's, with duplicates)

    .venv/bin/python benchmarks/sizing.py --data data/attempts   # the embedded data

Questions: how long do `load_sizing_inputs` (DuckDB: hourly demand, per-host concurrency from
intervals, service times and their samples, waste, the window's arrivals) and `size_fleet`
take on 10M attempts; how long the analytic pass (`replay=False`: the TUI's live number) and
the sizing with its replay (the answer); one replay of one fleet (`replay_fleet`); and the
whole `mjplan size --json` process.

The data: a seeded, vectorised generator (numpy) of the columns sizing reads, over 28 days:
7 instance types x 50 hosts, each host running `slots` lanes of back-to-back attempts
(exponential gaps), so attempts overlap on a host; job mix 25/35/25/15 %, 3 % failed.
Other schema columns are null. Written once as hive partitions job_type=/dt= (112 files) and
reused by later runs. Results: benchmarks/results/sizing.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors import schema  # noqa: E402

TYPES = [  # (instance type, slots per host, relative speed)
    ("c5.large", 2, 0.8), ("c6i.xlarge", 2, 1.6), ("c7g.large", 2, 0.95),
    ("c7i.xlarge", 2, 1.8), ("m6i.large", 2, 0.85), ("c6a.2xlarge", 4, 1.6),
    ("c7g.2xlarge", 4, 1.9),
]
HOSTS_PER_TYPE = 50
JOBS = list(schema.JOB_TYPES)
MIX = [0.25, 0.35, 0.25, 0.15]
DAYS = 28
START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def generate(rows: int, out: Path, seed: int = 87) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    lanes = [(t, h, s) for t, slots, s in TYPES for h in range(HOSTS_PER_TYPE)
             for _ in range(slots)]
    per_lane = -(-rows // len(lanes))
    n = per_lane * len(lanes)
    lane_idx = np.repeat(np.arange(len(lanes)), per_lane)
    speed = np.array([s for _, _, s in lanes])[lane_idx]
    job = rng.choice(len(JOBS), size=n, p=MIX)
    media = np.clip(rng.lognormal(np.log(75), 0.8, n), 3, 7200)
    base_rtf = np.array([0.9, 2.4, 0.0, 50.0])[job]
    wall = np.where(job == 2, 0.4 + rng.lognormal(0, 0.3, n) * 0.5,
                    media / np.maximum(base_rtf * speed, 1e-9)) / np.where(job == 2, speed, 1.0)
    wall = wall * rng.lognormal(0, 0.15, n) + 0.25
    wall2 = wall.reshape(len(lanes), per_lane)
    busy = wall2.sum(axis=1, keepdims=True)
    gap_mean = np.maximum((DAYS * 86400 - busy) / per_lane, 1.0)
    gaps = rng.exponential(1.0, wall2.shape) * gap_mean
    starts = (np.cumsum(gaps + wall2, axis=1) - wall2).reshape(-1)
    failed = rng.random(n) < 0.03
    wall = np.where(failed, wall * rng.uniform(0.05, 0.9, n), wall)
    start_us = (START.timestamp() * 1e6 + starts * 1e6).astype(np.int64)
    dur_ms = np.round(wall * 1000).astype(np.int64)
    finish_us = start_us + dur_ms * 1000
    day = ((start_us // 1_000_000 - int(START.timestamp())) // 86400).astype(np.int64)
    host_names = np.array([f"{t}-{h}" for t, h, _ in lanes])
    type_names = np.array([t for t, _, _ in lanes])
    ids = pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string())
    cols = {
        "attempt_id": ids,
        "job_id": ids,
        "job_type": pa.array(np.array(JOBS)[job]),
        "attempt_number": pa.array(np.where(rng.random(n) < 0.02, 2, 1).astype(np.int32)),
        "status": pa.array(np.where(failed, "failed", "succeeded")),
        "started_at": pa.array(start_us, pa.timestamp("us", tz="UTC")),
        "finished_at": pa.array(finish_us, pa.timestamp("us", tz="UTC")),
        "duration_ms": pa.array(dur_ms),
        "input_duration_seconds": pa.array(np.where(job == 2, media, media)),
        "instance_type": pa.array(type_names[lane_idx]),
        "hostname": pa.array(host_names[lane_idx]),
        "synthetic": pa.array(np.ones(n, dtype=bool)),
        "schema_version": pa.array(np.full(n, schema.SCHEMA_VERSION, dtype=np.int32)),
    }
    sch = schema.arrow_schema()
    arrays = [cols[f.name] if f.name in cols else pa.nulls(n, f.type) for f in sch]
    table = pa.Table.from_arrays(arrays, schema=sch.remove_metadata().with_metadata(sch.metadata))
    order = np.lexsort((start_us, day, job))
    table = table.take(pa.array(order))
    job_s, day_s = job[order], day[order]
    key = job_s * 1000 + day_s
    bounds = np.flatnonzero(np.diff(key)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, n], strict=True):
        d = (START + dt.timedelta(days=int(day_s[lo]))).date().isoformat()
        folder = out / f"job_type={JOBS[job_s[lo]]}" / f"dt={d}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.slice(lo, hi - lo), folder / "bench.parquet")
    (out / "ROWS").write_text(str(n))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--recomputes", type=int, default=20)
    parser.add_argument("--data", help="an existing dataset folder instead of generating one")
    args = parser.parse_args(argv)
    out = Path(args.data) if args.data else ROOT / "benchmarks" / "scratch" / f"sizing_{args.rows}"
    t = time.perf_counter()
    if args.data:
        gen_s = None
    elif not (out / "ROWS").exists():
        generate(args.rows, out)
        gen_s = time.perf_counter() - t
    else:
        gen_s = None

    from planner.dataset import open_dataset
    from planner.sizing import SizingOptions, WaitTarget, load_sizing_inputs, size_fleet

    t0 = time.perf_counter()
    ds = open_dataset(str(out))
    t1 = time.perf_counter()
    inputs = load_sizing_inputs(ds, window=dt.timedelta(days=14))
    t2 = time.perf_counter()
    first = size_fleet(inputs, SizingOptions(replay=False))
    t3 = time.perf_counter()
    recompute = []
    for i in range(args.recomputes):
        opts = SizingOptions(utilisation=0.6 + 0.01 * (i % 10), wait=WaitTarget(95, 30 + i),
                             replay=False)
        s = time.perf_counter()
        size_fleet(inputs, opts)
        recompute.append(time.perf_counter() - s)
    s = time.perf_counter()
    replayed = size_fleet(inputs, SizingOptions())
    replayed_s = time.perf_counter() - s
    top = replayed.types[0]
    from planner.sizing import replay_fleet

    s = time.perf_counter()
    one = replay_fleet(inputs, SizingOptions(), top.instance_type, top.instances)
    one_replay_s = time.perf_counter() - s
    rss = peak_rss_mib()
    rows = int(ds.connection.execute("SELECT count(*) FROM attempts").fetchall()[0][0])

    # The load again, phase by phase (same queries as load_sizing_inputs).
    from planner import demand, throughput

    phases = {}
    s0 = time.perf_counter()
    arrivals = demand.load_hourly_arrivals(ds)
    bounds = arrivals.bounds(dt.timedelta(days=14))
    arrivals.histories(dt.timedelta(days=14))
    phases["hourly_demand_and_range_s"] = time.perf_counter() - s0
    s0 = time.perf_counter()
    throughput.measure_concurrency(ds, bounds[0])
    phases["concurrency_s"] = time.perf_counter() - s0
    s0 = time.perf_counter()
    throughput.measure_outcomes(ds, bounds[0])
    phases["services_and_waste_s"] = time.perf_counter() - s0
    from planner import arrivals as arrivals_mod
    from planner import service_times

    s0 = time.perf_counter()
    arrivals_mod.load_arrivals(ds, bounds[0], bounds[1])
    phases["arrival_times_s"] = time.perf_counter() - s0
    s0 = time.perf_counter()
    service_times.measure_service_samples(ds, bounds[0])
    phases["service_samples_s"] = time.perf_counter() - s0
    rows_in_window = int(ds.connection.execute(
        "SELECT count(*) FROM attempts WHERE started_at >= ?", [bounds[0]]).fetchall()[0][0])

    env = dict(os.environ)
    s = time.perf_counter()
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mjplan"), "size", "--data", str(out), "--json"],
        capture_output=True, text=True, env=env, check=False,
    )
    cli_s = time.perf_counter() - s
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)

    result = {
        "dataset": str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out),
        "rows": rows,
        "files": len(ds.files),
        "generate_s": gen_s,
        "open_dataset_s": round(t1 - t0, 3),
        "load_sizing_inputs_s": round(t2 - t1, 3),
        "load_phases_s": {k: round(v, 3) for k, v in phases.items()},
        "rows_in_14d_window": rows_in_window,
        "analytic_first_s": round(t3 - t2, 4),
        "analytic_recompute_median_s": round(statistics.median(recompute), 5),
        "analytic_recompute_max_s": round(max(recompute), 5),
        "recomputes": args.recomputes,
        "size_fleet_with_replay_s": round(replayed_s, 3),
        "replayed_types": sum(t.decided_by == "replay" for t in replayed.types),
        "replay_jobs": one.source,
        "one_replay_s": round(one_replay_s, 3),
        "top_type": {"instance_type": top.instance_type, "analytic": top.instances_analytic,
                     "replay": top.instances, "slots": top.slots,
                     "slots_source": top.slots_source, "service_scv": round(top.service_scv, 2),
                     "arrival_scv": round(top.arrival_scv, 2)},
        "peak_rss_mib": round(rss, 1),
        "cli_mjplan_size_json_s": round(cli_s, 3),
        "cli_exit_code": proc.returncode,
        "types_sized": len(first.types),
        "recommendation": [m.instance_type for m in replayed.recommendation.members]
        if replayed.recommendation else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "benchmarks/sizing.py " + " ".join(argv or sys.argv[1:]),
    }
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    if args.data:
        name = f"sizing_{out.name}.json"
    else:
        name = "sizing.json" if args.rows == 10_000_000 else f"sizing_{args.rows}.json"
    (results / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
