"""Generate the synthetic part of the embedded dataset (seeded: the same files on every run).

    .venv/bin/python data/generate_synthetic.py            # writes data/attempts/
    .venv/bin/python data/generate_synthetic.py --out DIR --days 28 --seed 87 --scale 0.75

Every row has synthetic=True, source "synthetic" and collector_version "synthetic-<seed>";
files are named `synthetic-<seed>.parquet` inside `job_type=<t>/dt=<YYYY-MM-DD>/`, and a run
first removes the previous `synthetic-*.parquet` files only, so measured files (from
`mjcollect demo`) beside them are left alone.

The model (all times UTC; the numbers are assumptions chosen to look like a media fleet, not
measurements):

* Fleet. Seven EC2 instance types, a fixed pool of hosts per type (INSTANCE_TYPES below: vCPUs,
  RAM, a CPU-generation speed factor, pool size, architecture, CPU model). Each worker runs
  `slots = max(2, vCPUs // 2)` jobs at once (recorded as `worker_slots`: 2 on 2- and 4-vCPU
  types, 4 on 8-vCPU ones), so attempts overlap on a host; a job waits for a free slot (FIFO
  per host). `host_running_at_start` is the host's busy slots when an attempt starts, itself
  included (1..slots), as the host-local registry counts it. The speed below depends on the
  configured slots, not on how many run at a moment, so a density curve of this data is flat
  per level by construction: a model of a fleet, not of contention.
* Arrivals. Batches of jobs (one upload of several files, an export campaign) arrive as a
  Poisson process whose rate follows a daily cycle, rate(h) ~ 1 + 0.8 sin(2 pi (h - 9) / 24)
  (peak about 15:00, trough about 03:00), 0.6 times that at weekends. Batch size is geometric
  (mean 3). A batch goes to one host, picked with probability proportional to its slots, so
  bursts queue up and run concurrently.
* Job types. Mix: export 25 %, edit proxy 35 %, thumbnail 25 %, audio envelope 15 %.
* Inputs. Duration lognormal (median 75 s, exports 120 s), clipped to 3 s .. 2 h. Display
  size from a mix dominated by phone portrait 1080x1920; video codec h264 70 %, hevc 18 %, vp9
  5 %, prores 4 %, av1 3 %; audio aac mostly, some opus, some silent videos; 35 % of audio
  envelope inputs are audio-only files (mp3, aac, opus). Frame rate 30, some 24/60.
* Speed. For export and proxy jobs the real-time factor is

      rtf = K[job] * codec[c] * gen[i] * (vCPUs / slots) ** 0.85 / (pixel_rate / P1080) ** 0.7
            * lognormal(0, 0.15)

  with pixel_rate = width * height * fps and P1080 = 1920 * 1080 * 30 (K: export 0.85, proxy
  2.3; codec: h264 1.0, hevc 0.75, vp9 0.7, prores 1.1, av1 0.5). Audio envelopes:
  rtf = 55 * gen * lognormal(0, 0.25), 0.7 times that when the audio is demuxed from a video.
  Thumbnails take 0.35 s + 0.45 s per 2 Mpixel (scaled by codec and generation) with
  lognormal(0, 0.3) noise, whatever the input length. Wall ms = input seconds / rtf * 1000
  plus 250 ms of process start.
* Failures. 3 % of attempts fail (7 % for prores, 5 % over 20 minutes of input) after a uniform
  5 %..90 % of their planned time, with an ffmpeg, timeout or S3 error; 75 % of failed attempts
  are retried 20..180 s later (attempt_number + 1) on a host of the same instance type.
* Sampling. cpu_pct_avg = 100 * vCPUs / slots * U(0.72, 0.96) (thumbnails and audio about one
  core), cpu_pct_max 1.05..1.35 times that, a sample every 2 s; mem_rss_mb_max grows with
  pixels (export: 180 MB + 150 MB per 1080p frame size). 5 % of rows have no samples (an older
  collector).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors import schema  # noqa: E402


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    mem_gb: float
    gen: float  # speed per vCPU relative to Ice Lake (c6i/m6i)
    hosts: int
    arch: str = "x86_64"
    cpu_model: str | None = None


INSTANCE_TYPES = (
    InstanceType("c5.large", 2, 4.0, 0.82, 4, cpu_model="Intel(R) Xeon(R) Platinum 8275CL CPU"
                 " @ 3.00GHz"),
    InstanceType("c6i.xlarge", 4, 8.0, 1.0, 3, cpu_model="Intel(R) Xeon(R) Platinum 8375C CPU"
                 " @ 2.90GHz"),
    InstanceType("c7i.large", 2, 4.0, 1.15, 4, cpu_model="Intel(R) Xeon(R) Platinum 8488C"),
    InstanceType("c7i.2xlarge", 8, 16.0, 1.15, 2, cpu_model="Intel(R) Xeon(R) Platinum 8488C"),
    InstanceType("m6i.large", 2, 8.0, 1.0, 3, cpu_model="Intel(R) Xeon(R) Platinum 8375C CPU"
                 " @ 2.90GHz"),
    InstanceType("c7g.xlarge", 4, 8.0, 0.92, 3, arch="aarch64",
                 cpu_model="CPU implementer 0x41 part 0xd40"),
    InstanceType("c6a.2xlarge", 8, 16.0, 0.97, 2, cpu_model="AMD EPYC 7R13 Processor"),
)

JOB_MIX = (
    ("create_video_export_v1", 0.25),
    ("upload_edit_proxy_v1", 0.35),
    ("upload_thumb_v1", 0.25),
    ("upload_audio_envelope_v1", 0.15),
)
SIZES = (  # (width, height) as displayed, weight
    ((1080, 1920), 0.36),
    ((1920, 1080), 0.18),
    ((720, 1280), 0.18),
    ((1280, 720), 0.06),
    ((480, 854), 0.05),
    ((640, 360), 0.04),
    ((2160, 3840), 0.05),
    ((3840, 2160), 0.05),
    ((1440, 2560), 0.03),
)
VIDEO_CODECS = (("h264", 0.70), ("hevc", 0.18), ("vp9", 0.05), ("prores", 0.04), ("av1", 0.03))
CODEC_SPEED = {"h264": 1.0, "hevc": 0.75, "vp9": 0.7, "prores": 1.1, "av1": 0.5}
AUDIO_IN_VIDEO = (("aac", 0.88), ("opus", 0.05), (None, 0.07))
AUDIO_ONLY = (("mp3", 0.4), ("aac", 0.4), ("opus", 0.2))
FORMAT_OF = {
    "h264": "mov,mp4,m4a,3gp,3g2,mj2",
    "hevc": "mov,mp4,m4a,3gp,3g2,mj2",
    "av1": "mov,mp4,m4a,3gp,3g2,mj2",
    "prores": "mov,mp4,m4a,3gp,3g2,mj2",
    "vp9": "matroska,webm",
    "mp3": "mp3",
    "aac": "mov,mp4,m4a,3gp,3g2,mj2",
    "opus": "ogg",
}
K_RTF = {"create_video_export_v1": 0.85, "upload_edit_proxy_v1": 2.3}
P1080 = 1920 * 1080 * 30
STATS_COLUMNS = ["job_type", "status", "started_at", "finished_at", "instance_type"]
ERRORS = (
    "FFmpegError: ffmpeg exited with code 1: Invalid data found when processing input",
    "FFmpegError: ffmpeg exited with code 234: Error while decoding stream #0:0",
    "TimeoutError: job exceeded its time limit",
    "S3UploadError: An error occurred (SlowDown) when calling the PutObject operation",
)
COMMANDS = {
    "create_video_export_v1": "ffmpeg -hide_banner -y -i input{ext} -c:v libx264 -preset veryfast "
    "-crf 21 -c:a aac -b:a 160k -movflags +faststart export.mp4",
    "upload_edit_proxy_v1": "ffmpeg -hide_banner -y -i input{ext} -vf scale=-2:540 -c:v libx264 "
    "-preset ultrafast -g 15 -c:a aac -b:a 96k proxy.mp4",
    "upload_thumb_v1": "ffmpeg -hide_banner -y -ss 1 -i input{ext} -frames:v 1 "
    "-vf scale=480:-2 thumb.jpg",
    "upload_audio_envelope_v1": "ffmpeg -hide_banner -y -i input{ext} -vn -ac 1 -ar 8000 "
    "-f s16le envelope.pcm",
}


def _choice(rng: np.random.Generator, table: tuple[tuple[Any, float], ...]) -> Any:
    weights = np.array([w for _, w in table])
    return table[int(rng.choice(len(table), p=weights / weights.sum()))][0]


def _uid(rng: np.random.Generator) -> str:
    h = rng.bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


@dataclass
class Host:
    itype: InstanceType
    hostname: str
    slots: int
    free_at: list[float]  # heap of times (s since start) each slot is free


def _rate_factor(t: float, start: dt.datetime) -> float:
    when = start + dt.timedelta(seconds=t)
    hour = when.hour + when.minute / 60
    day = 1 + 0.8 * math.sin(2 * math.pi * (hour - 9) / 24)
    return day * (0.6 if when.weekday() >= 5 else 1.0)


def _make_input(rng: np.random.Generator, job_type: str) -> dict[str, Any]:
    median = 120.0 if job_type == "create_video_export_v1" else 75.0
    dur = float(np.clip(rng.lognormal(math.log(median), 0.9), 3.0, 7200.0))
    audio_only = job_type == "upload_audio_envelope_v1" and rng.random() < 0.35
    if audio_only:
        acodec = _choice(rng, AUDIO_ONLY)
        kbps = {"mp3": 192.0, "aac": 128.0, "opus": 96.0}[acodec] * float(rng.uniform(0.8, 1.2))
        return {
            "input_duration_seconds": round(dur, 3),
            "input_video_codec": None,
            "input_audio_codec": acodec,
            "input_width": None,
            "input_height": None,
            "input_fps": None,
            "input_bitrate_kbps": round(kbps, 1),
            "input_size_bytes": int(kbps * 125 * dur),
            "input_format": FORMAT_OF[acodec],
        }
    w, h = _choice(rng, SIZES)
    vcodec = _choice(rng, VIDEO_CODECS)
    acodec = _choice(rng, AUDIO_IN_VIDEO)
    fps = float(_choice(rng, ((30.0, 0.75), (60.0, 0.12), (24.0, 0.13))))
    mbps_1080 = {"h264": 8.0, "hevc": 5.0, "vp9": 5.0, "av1": 3.5, "prores": 120.0}[vcodec]
    kbps = 1000 * mbps_1080 * (w * h * fps / P1080) ** 0.8 * float(rng.uniform(0.6, 1.4))
    return {
        "input_duration_seconds": round(dur, 3),
        "input_video_codec": vcodec,
        "input_audio_codec": acodec,
        "input_width": w,
        "input_height": h,
        "input_fps": fps,
        "input_bitrate_kbps": round(kbps, 1),
        "input_size_bytes": int(kbps * 125 * dur),
        "input_format": FORMAT_OF[vcodec],
    }


def _planned_wall_s(
    rng: np.random.Generator, job_type: str, inp: dict[str, Any], host: Host
) -> float:
    it = host.itype
    share = (it.vcpus / host.slots) ** 0.85
    vcodec = inp["input_video_codec"]
    cs = CODEC_SPEED.get(vcodec, 1.0) if vcodec else 1.0
    dur = inp["input_duration_seconds"]
    if job_type == "upload_thumb_v1":
        mpix = (inp["input_width"] or 1280) * (inp["input_height"] or 720) / 2e6
        t = (0.35 + 0.45 * mpix / cs) / it.gen * rng.lognormal(0, 0.3)
        return float(t)
    if job_type == "upload_audio_envelope_v1":
        rtf = 55 * it.gen * rng.lognormal(0, 0.25) * (0.7 if vcodec else 1.0)
    else:
        pixel_rate = inp["input_width"] * inp["input_height"] * inp["input_fps"]
        rtf = K_RTF[job_type] * cs * it.gen * share / (pixel_rate / P1080) ** 0.7
        rtf *= rng.lognormal(0, 0.15)
    return float(dur / rtf + 0.25)


def _fail_probability(inp: dict[str, Any]) -> float:
    p = 0.03
    if inp["input_video_codec"] == "prores":
        p = 0.07
    elif inp["input_duration_seconds"] > 1200:
        p = 0.05
    return p


def generate(seed: int, days: int, scale: float, end: dt.date) -> list[dict[str, Any]]:
    """All synthetic rows, in no particular order."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC) - dt.timedelta(days=days)
    horizon = days * 86400.0
    hosts: list[Host] = []
    for it in INSTANCE_TYPES:
        for k in range(it.hosts):
            slots = max(2, it.vcpus // 2)
            name = f"ip-10-{hosts.__len__() + 1}-{k * 16 + 4}-{int(rng.integers(2, 250))}"
            hosts.append(Host(it, f"{name}.ec2.internal", slots, [0.0] * slots))
    weights = np.array([h.slots for h in hosts], dtype=float)
    weights /= weights.sum()

    # Batches per second at the daily peak: ~26k attempts at the default scale over 28 days.
    peak_rate = 0.0052 * scale
    pending: list[tuple[float, int, dict[str, Any]]] = []  # (arrival s, seq, job)
    seq = 0
    t = 0.0
    while True:
        t += float(rng.exponential(1 / (peak_rate * 1.8)))
        if t >= horizon:
            break
        if rng.random() > _rate_factor(t, start) / 1.8:
            continue
        host_idx = int(rng.choice(len(hosts), p=weights))
        for _ in range(int(rng.geometric(1 / 3))):
            job_type = _choice(rng, JOB_MIX)
            job = {
                "job_id": _uid(rng),
                "job_type": job_type,
                "attempt_number": 1,
                "host": host_idx,
                "input": _make_input(rng, job_type),
            }
            seq += 1
            heapq.heappush(pending, (t + float(rng.uniform(0, 5)), seq, job))

    rows: list[dict[str, Any]] = []
    while pending:
        arrival, _, job = heapq.heappop(pending)
        host = hosts[job["host"]]
        slot_free = heapq.heappop(host.free_at)
        begin = max(arrival, slot_free)
        # What the host-local registry would count: the other slots still busy, and this one.
        running = 1 + sum(1 for free in host.free_at if free > begin)
        inp = job["input"]
        planned = _planned_wall_s(rng, job["job_type"], inp, host)
        failed = rng.random() < _fail_probability(inp) * (0.5 if job["attempt_number"] > 1 else 1)
        wall = planned * float(rng.uniform(0.05, 0.9)) if failed else planned
        wall = max(wall, 0.05)
        heapq.heappush(host.free_at, begin + wall)
        rows.append(_row(rng, seed, start, job, host, begin, wall, failed, running))
        if failed and rng.random() < 0.75 and job["attempt_number"] < 3:
            same_type = [i for i, h in enumerate(hosts) if h.itype == host.itype]
            retry = dict(job, attempt_number=job["attempt_number"] + 1,
                         host=same_type[int(rng.integers(len(same_type)))])
            seq += 1
            heapq.heappush(pending, (begin + wall + float(rng.uniform(20, 180)), seq, retry))
    return rows


def _row(
    rng: np.random.Generator, seed: int, start: dt.datetime, job: dict[str, Any], host: Host,
    begin: float, wall: float, failed: bool, running: int,
) -> dict[str, Any]:
    it = host.itype
    job_type = job["job_type"]
    inp = job["input"]
    row = schema.empty_row()
    duration_ms = int(round(wall * 1000))
    started = start + dt.timedelta(seconds=begin)
    row.update(inp)
    row.update(
        attempt_id=_uid(rng),
        job_id=job["job_id"],
        job_type=job_type,
        attempt_number=job["attempt_number"],
        status=schema.STATUS_FAILED if failed else schema.STATUS_SUCCEEDED,
        error=ERRORS[int(rng.integers(len(ERRORS)))] if failed else None,
        started_at=started,
        finished_at=started + dt.timedelta(milliseconds=duration_ms),
        duration_ms=duration_ms,
        probe_ms=int(rng.integers(70, 220)),
        rtf=None if failed else round(inp["input_duration_seconds"] / (duration_ms / 1000), 4),
        throughput_unit=schema.THROUGHPUT_UNIT_BY_JOB_TYPE[job_type],
        instance_type=it.name,
        cpu_cores=it.vcpus,
        cpu_cores_usable=float(it.vcpus),
        mem_gb=it.mem_gb,
        hostname=host.hostname,
        arch=it.arch,
        cpu_model=it.cpu_model,
        worker_slots=host.slots,
        host_running_at_start=running,
        synthetic=True,
        source=schema.SOURCE_SYNTHETIC,
        collector_version=f"synthetic-{seed}",
        schema_version=schema.SCHEMA_VERSION,
    )
    ext = {"matroska,webm": ".webm", "mp3": ".mp3", "ogg": ".ogg"}.get(inp["input_format"], ".mp4")
    row["ffmpeg_commands"] = [COMMANDS[job_type].format(ext=ext)]
    if not failed:
        out = {
            "create_video_export_v1": inp["input_size_bytes"] * 0.6,
            "upload_edit_proxy_v1": 1.5e6 / 8 * inp["input_duration_seconds"],
            "upload_thumb_v1": float(rng.uniform(2e4, 9e4)),
            "upload_audio_envelope_v1": 16000 * inp["input_duration_seconds"],
        }[job_type]
        row["output_size_bytes"] = int(out)
    if rng.random() >= 0.05:
        heavy = job_type in K_RTF
        cores_busy = it.vcpus / host.slots if heavy else 1.0
        avg = 100 * cores_busy * float(rng.uniform(0.72, 0.96))
        row["cpu_pct_avg"] = round(avg, 1)
        row["cpu_pct_max"] = round(min(avg * float(rng.uniform(1.05, 1.35)), 100 * it.vcpus), 1)
        row["cpu_sample_count"] = max(1, int(wall // 2))
        mpix = (inp["input_width"] or 0) * (inp["input_height"] or 0) / (1920 * 1080)
        base = {"create_video_export_v1": (180, 150), "upload_edit_proxy_v1": (120, 90),
                "upload_thumb_v1": (60, 40), "upload_audio_envelope_v1": (35, 10)}[job_type]
        row["mem_rss_mb_max"] = round((base[0] + base[1] * mpix) * float(rng.uniform(0.85, 1.2)), 1)
    return schema.validate_row(row)


def write(rows: list[dict[str, Any]], out: Path, seed: int) -> int:
    """Write rows as hive partitions job_type=/dt=/synthetic-<seed>.parquet (job_type in the
    path only); returns file count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from collectors.hive import without_path_columns

    # The column docs (field metadata) would be repeated in every footer: ~6 KB per file.
    full = schema.arrow_schema()
    lean = pa.schema([f.remove_metadata() for f in full], metadata=full.metadata)
    for old in out.glob("job_type=*/dt=*/synthetic-*.parquet"):
        old.unlink()
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["job_type"], r["started_at"].date().isoformat()), []).append(r)
    for (job_type, day), items in sorted(groups.items()):
        items.sort(key=lambda r: (r["started_at"], r["attempt_id"]))
        folder = out / f"job_type={job_type}" / f"dt={day}"
        folder.mkdir(parents=True, exist_ok=True)
        # The Hive layout: job_type in the path only (collectors.hive).
        table = without_path_columns(pa.Table.from_pylist(items, schema=lean),
                                     {"job_type": job_type})
        # Statistics only where readers filter (time, type), to keep the small files small.
        pq.write_table(table, folder / f"synthetic-{seed}.parquet", compression="zstd",
                       compression_level=9,
                       write_statistics=[c for c in STATS_COLUMNS if c in table.column_names])
    for folder in out.glob("job_type=*/dt=*"):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return len(groups)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "attempts")
    ap.add_argument("--seed", type=int, default=87)
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--scale", type=float, default=0.75, help="arrival rate multiplier")
    # The day after the measured attempts (2026-11-25), so windows counted back from the newest
    # attempt do not open on days with no history.
    ap.add_argument("--end", default="2026-11-26", help="first day after the period (UTC)")
    args = ap.parse_args(argv)
    rows = generate(args.seed, args.days, args.scale, dt.date.fromisoformat(args.end))
    files = write(rows, args.out, args.seed)
    size = sum(p.stat().st_size for p in args.out.rglob("synthetic-*.parquet"))
    print(f"{len(rows)} rows in {files} files, {size / 1e6:.2f} MB under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
