"""What does the durable sink cost the job, how fast does it upload, and does compaction pay?

Three questions, one run, against a real S3 server (SeaweedFS on loopback, started here):

1. Job path: wall time of `SpoolingSink.append` per attempt (validate + JSON + write + fsync +
   rename + fsync of the folder), while the uploader thread uploads in the background.
2. Upload throughput: rows per second of `Uploader.drain` (claim, Parquet, PUT If-None-Match,
   delete) for a spool holding N rows, batch size 500 (the default).
3. Reading 100,000 rows through the planner's reader (`open_dataset` + a group-by) from 1,000
   small objects (100 rows each, as many workers would leave them) versus the same data after
   `mjplan compact` (one object per partition).

    .venv/bin/python benchmarks/sink.py [--appends 2000] [--upload-rows 20000] [--read-rows 100000]

Results: benchmarks/results/sink.json (the machine is shared: figures include contention).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors import schema  # noqa: E402
from tests.s3server import SeaweedS3  # noqa: E402

QUERY = ("SELECT job_type, count(*) AS n, sum(input_duration_seconds) / sum(duration_ms / 1000.0)"
         " AS rtf FROM attempts GROUP BY job_type ORDER BY job_type")


def make_row(i: int) -> dict[str, Any]:
    row = schema.empty_row()
    # Consecutive attempts of one day (a worker batch spans few partitions: the 4 job types).
    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=i * 0.5)
    row.update(
        attempt_id=f"bench-{i:07d}", job_id=f"job-{i}", job_type=schema.JOB_TYPES[i % 4],
        attempt_number=1, status="succeeded", started_at=start,
        finished_at=start + dt.timedelta(seconds=40), duration_ms=40_000, probe_ms=100,
        rtf=1.5, throughput_unit="media_seconds", input_duration_seconds=60.0,
        input_video_codec="h264", input_audio_codec="aac", input_width=1920,
        input_height=1080, input_bitrate_kbps=5000.0, input_fps=30.0,
        input_size_bytes=37_500_000, input_format="mov,mp4,m4a,3gp,3g2,mj2",
        instance_type="c7i.large", cpu_cores=2, cpu_cores_usable=2.0, mem_gb=4.0,
        hostname="ip-10-0-0-1", cpu_pct_avg=180.0, cpu_pct_max=199.0, mem_rss_mb_max=350.0,
        cpu_sample_count=20, output_size_bytes=20_000_000,
        ffmpeg_commands=["ffmpeg -i in.mp4 -c:v libx264 -preset veryfast out.mp4"],
        collector_version="0.1.0",
    )
    return row


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_job_path(url: str, work: Path, n: int, fsync: bool = True) -> dict[str, Any]:
    from collectors.upload import SpoolingSink

    sink = SpoolingSink(url, spool_dir=work / f"spool-jobpath-{fsync}", batch_rows=500,
                        batch_age=5, fsync=fsync)
    times = []
    for i in range(n):
        row = make_row(i)
        t0 = time.perf_counter()
        sink.append(row)
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    ok = sink.flush(timeout=120)
    flush_s = time.perf_counter() - t0
    sink.close(timeout=10)
    return {
        "appends": n,
        "p50_ms": round(pct(times, 0.50), 3),
        "p99_ms": round(pct(times, 0.99), 3),
        "max_ms": round(max(times), 3),
        "mean_ms": round(statistics.fmean(times), 3),
        "uploader_running": True,
        "final_flush_s": round(flush_s, 2),
        "all_uploaded": ok,
    }


def bench_upload(url: str, work: Path, n: int) -> dict[str, Any]:
    from collectors.spool import Spool
    from collectors.upload import Uploader

    spool = Spool(work / "spool-upload", 10**10)
    for i in range(n):
        spool.write(schema.validate_row(make_row(1_000_000 + i)))
    uploader = Uploader(url, spool, batch_rows=500)
    cleanup = [0.0]
    empty_trash = spool.empty_trash

    def timed_empty_trash(deadline: float | None = None) -> int:
        t = time.perf_counter()
        n = empty_trash(deadline)
        cleanup[0] += time.perf_counter() - t
        return n

    spool.empty_trash = timed_empty_trash  # type: ignore[method-assign]
    t0 = time.perf_counter()
    result = uploader.drain()
    elapsed = time.perf_counter() - t0
    upload_s = elapsed - cleanup[0]
    return {
        "rows": result.rows,
        "batches": result.batches,
        "objects": uploader.objects_uploaded,
        "upload_seconds": round(upload_s, 2),
        "rows_per_s": round(result.rows / upload_s),
        "spool_cleanup_seconds": round(cleanup[0], 2),
        "rows_per_s_including_cleanup": round(result.rows / elapsed),
        "error": result.error,
    }


def bench_read(url: str, n: int, files: int) -> dict[str, Any]:
    import io

    import boto3
    import pyarrow as pa
    import pyarrow.parquet as pq

    from collectors.layout import parse_url, partition_path, row_day
    from planner.compact import plan_compaction, run_compaction
    from planner.dataset import open_dataset

    loc = parse_url(url)
    s3 = boto3.session.Session().client("s3")
    per_file = n // files
    t0 = time.perf_counter()
    for k in range(files):
        rows = [make_row(k * per_file + j) for j in range(per_file)]
        # One partition per file, as a worker's batch mostly is.
        for r in rows:
            r["job_type"] = schema.JOB_TYPES[k % 4]
            r["started_at"] = rows[0]["started_at"]
        table = pa.Table.from_pylist(rows, schema=schema.arrow_schema())
        buf = io.BytesIO()
        pq.write_table(table, buf)
        key = loc.key(f"{partition_path(rows[0]['job_type'], row_day(rows[0]))}/w-{k:05d}.parquet")
        s3.put_object(Bucket=loc.bucket, Key=key, Body=buf.getvalue())
    write_s = time.perf_counter() - t0

    def read() -> dict[str, Any]:
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            ds = open_dataset(url)
            rows = ds.connection.execute(QUERY).fetchall()
            total = sum(r[1] for r in rows)
            nfiles = len(ds.files)
            ds.close()
            runs.append(time.perf_counter() - t)
        return {"files": nfiles, "rows": total, "open_and_query_s_best": round(min(runs), 3),
                "open_and_query_s_median": round(statistics.median(runs), 3)}

    small = read()
    t0 = time.perf_counter()
    plan = plan_compaction(url)
    result = run_compaction(plan)
    compact_s = time.perf_counter() - t0
    big = read()
    return {
        "rows": n,
        "small_files_written_s": round(write_s, 2),
        "small_files": small,
        "compaction": {"seconds": round(compact_s, 2), "files_in": plan.files_in,
                       "files_out": result.files_written, "rows_out": result.rows_out},
        "compacted": big,
        "speedup": round(small["open_and_query_s_median"] / big["open_and_query_s_median"], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--upload-rows", type=int, default=20000)
    parser.add_argument("--read-rows", type=int, default=100_000)
    parser.add_argument("--read-files", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = SeaweedS3(data_dir=work / "weed")
        server.start()
        os.environ.update(server.env())
        try:
            results = {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
                           "at start (shared with other engineers' runs)",
                "s3": "SeaweedFS 4.48 `weed mini` on loopback",
                "job_path": bench_job_path(server.url("jobpath"), work, args.appends),
                # What the two fsyncs (file, folder) cost; not a mode the sink offers by env.
                "job_path_without_fsync": bench_job_path(server.url("jobpath-nofsync"), work,
                                                         args.appends, fsync=False),
                "upload": bench_upload(server.url("upload"), work, args.upload_rows),
                "read_100k": bench_read(server.url("read"), args.read_rows, args.read_files),
            }
        finally:
            server.stop()
    out = ROOT / "benchmarks" / "results" / "sink.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
