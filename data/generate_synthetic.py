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
  RAM, a CPU-generation speed factor, pool size, architecture, CPU model, baseline network
  bandwidth, and the worker slots of its hosts in turn). Hosts of one type are configured with
  different slots (1..4, recorded as `worker_slots`), so every type has attempts at several
  packing levels; a job waits for a free slot (FIFO per host). `host_running_at_start` is the
  host's busy slots when an attempt starts, itself included (1..slots), as the host-local
  registry counts it; the speed below depends on it (Density).
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

      rtf = K[job] * codec[c] * gen[i] * contention(n) / (pixel_rate / P1080) ** 0.7
            * lognormal(0, 0.15)

  with pixel_rate = width * height * fps and P1080 = 1920 * 1080 * 30 (K: export 0.85, proxy
  2.3; codec: h264 1.0, hevc 0.75, vp9 0.7, prores 1.1, av1 0.5). Audio envelopes:
  rtf = 55 * gen * contention(n) * lognormal(0, 0.25), 0.7 times that when the audio is demuxed
  from a video. Thumbnails take (0.35 s + 0.45 s per 2 Mpixel) / contention(n) (scaled by codec
  and generation) with lognormal(0, 0.3) noise, whatever the input length. Planned wall =
  input seconds / rtf + 0.25 s of process start (thumbnails: the time above).
* Density. n = host_running_at_start, V = vCPUs, C = physical cores (V / 2 on x86, where a
  vCPU is a hyperthread; V on Graviton). Export and proxy (x264 threads, at most 4 vCPUs kept
  busy by one attempt): contention(n) = min(4, V / n) ** 0.85, times (C / n) ** 0.35 once
  n > C (attempts share cores' hyperthreads and caches). So one instance's throughput
  n * rtf(n) grows up to n = C and falls beyond: the best density is C (1 on 2-vCPU x86 types,
  2 on c6i.xlarge, 4 on c7g.xlarge and the 8-vCPU types); a job's own slowdown is 1.8 at
  n = 2 on 4 vCPUs (the 1.5 bound keeps 1 there) but none at n = 2 on 8 vCPUs and 1.4 at n = 3
  (bounded 3). Thumbnails and audio envelopes (about one core): contention(n) =
  min(1, C / n) ** 0.65 * min(1, V / n) ** 0.35 / (1 + 0.1 * max(0, n - V)): no loss while
  each has a core. The speed is drawn at the start (the level the registry records), not
  re-drawn as neighbours finish. A model of contention, not a measurement: `mjcollect bench`
  measures a real curve.
* Phases (a model, like the rest; docs/io_hints.md). The planned wall time is split into the
  phases a worker names: other (the 0.25 s process start; 0.05 s for thumbnails), download
  (the input's bytes over a transfer rate, plus 30 ms of request), probe (U(0.04, 0.15) s),
  transcode (the rest) and upload (the output's bytes over a rate, plus 30 ms), so
  duration_ms is their sum. A transfer's rate is min(150 MB/s, 0.6 * baseline bandwidth / sqrt(n))
  * lognormal(0, 0.3): larger types have more bandwidth (EC2 baselines: 0.75..0.78 Gbps for
  the large types, 1.56..1.88 for the xlarge, 3.12 for the 2xlarge), neighbours share it.
  Thumbnails fetch a ranged prefix (300 kB + 3 s of the input's bit rate), the others the
  whole input. Where download and upload do not fit (short CPU work on big inputs: audio
  envelopes of videos), transcode keeps at least 60 % of the ffmpeg time of the speed model
  and the attempt lasts longer than planned: audio envelopes are I/O-bound on the large
  types (40..60 % of their wall time in download/upload) and not on the 2xlarge ones; the
  others spend 3..12 % in transfers. transcode_rtf = input seconds / transcode seconds
  (succeeded attempts; none for thumbnails). Bytes: net_bytes_in = bytes downloaded,
  net_bytes_out = output bytes uploaded; bytes_read = download (socket) + ffmpeg's input
  reads (1.05 x) + upload (file), bytes_written = download (file) + output twice (ffmpeg,
  socket), as Linux rchar/wchar count them. A failed attempt stops at its failure time: the
  phases after it are 0 and nothing is uploaded.
* Failures. 3 % of attempts fail (7 % for prores, 5 % over 20 minutes of input) after a uniform
  5 %..90 % of their planned time, with an ffmpeg, timeout or S3 error; 75 % of failed attempts
  are retried 20..180 s later (attempt_number + 1) on a host of the same instance type.
* Sampling. ffmpeg's CPU while it transcodes = 100 * V / n * U(0.72, 0.96) (thumbnails and
  audio about one core, less once n > V); cpu_pct_avg is that over the transcode phase, 15 %
  over transfers and 50 % over the probe, weighted by time; cpu_pct_max 1.05..1.35 times
  ffmpeg's; a sample every 2 s; mem_rss_mb_max grows with pixels (export: 180 MB + 150 MB per
  1080p frame size). 5 % of rows come from an older collector: no samples, phases or io
  counters.
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
    net_gbps: float = 0.75  # EC2's baseline network bandwidth of the type (not the burst)
    slots: tuple[int, ...] = (2,)  # worker slots of its hosts, in turn

    @property
    def cores(self) -> float:
        """Physical cores: x86 vCPUs are hyperthreads (two a core), Graviton's are cores."""
        return float(self.vcpus if self.arch == "aarch64" else self.vcpus / 2)


INSTANCE_TYPES = (
    InstanceType("c5.large", 2, 4.0, 0.82, 4, cpu_model="Intel(R) Xeon(R) Platinum 8275CL CPU"
                 " @ 3.00GHz", net_gbps=0.75, slots=(1, 2, 2, 3)),
    InstanceType("c6i.xlarge", 4, 8.0, 1.0, 3, cpu_model="Intel(R) Xeon(R) Platinum 8375C CPU"
                 " @ 2.90GHz", net_gbps=1.56, slots=(2, 3, 4)),
    InstanceType("c7i.large", 2, 4.0, 1.15, 4, cpu_model="Intel(R) Xeon(R) Platinum 8488C",
                 net_gbps=0.78, slots=(1, 2, 3, 3)),
    InstanceType("c7i.2xlarge", 8, 16.0, 1.15, 2, cpu_model="Intel(R) Xeon(R) Platinum 8488C",
                 net_gbps=3.12, slots=(3, 4)),
    InstanceType("m6i.large", 2, 8.0, 1.0, 3, cpu_model="Intel(R) Xeon(R) Platinum 8375C CPU"
                 " @ 2.90GHz", net_gbps=0.78, slots=(2, 2, 3)),
    InstanceType("c7g.xlarge", 4, 8.0, 0.92, 3, arch="aarch64",
                 cpu_model="CPU implementer 0x41 part 0xd40", net_gbps=1.88, slots=(2, 3, 4)),
    InstanceType("c6a.2xlarge", 8, 16.0, 0.97, 2, cpu_model="AMD EPYC 7R13 Processor",
                 net_gbps=3.12, slots=(3, 4)),
)
#: One S3 transfer's rate on an idle host: this share of the type's baseline bandwidth, at most
#: S3_STREAM_MB_S (one single-stream GET/PUT); concurrent attempts share the baseline.
NET_SHARE = 0.6
S3_STREAM_MB_S = 150.0

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
#: vCPUs one export or proxy keeps busy alone (x264 veryfast/ultrafast at these sizes: frame
#: threads bounded by the lookahead and a single-threaded decoder), so 8-vCPU types need two.
X264_VCPUS = 4
#: Process start and the worker's own bookkeeping of an attempt (the `other` phase), seconds.
START_S = 0.25
#: The transcode phase never shrinks below this share of the ffmpeg work the speed model gives:
#: where the download and upload do not fit in the planned wall time, the attempt lasts longer.
MIN_TRANSCODE_SHARE = 0.6
#: The worker's CPU (% of one core) while it downloads or uploads (TLS, S3 client).
TRANSFER_CPU_PCT = 15.0
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


def _contention(job_type: str, it: InstanceType, running: int) -> float:
    """Speed of one attempt with `running` attempts on the host, relative to the speed it would
    have alone on one vCPU-share of the old model (see the module docstring: Density)."""
    n = float(running)
    if job_type in K_RTF:  # x264's threads: up to X264_VCPUS alone, a share of them when packed
        speed = min(float(X264_VCPUS), it.vcpus / n) ** 0.85
        if n > it.cores:  # more attempts than physical cores: hyperthreads and caches shared
            speed *= (it.cores / n) ** 0.35
        return float(speed)
    # Thumbnails and audio envelopes use about one core: no loss until the cores are shared.
    speed = min(1.0, it.cores / n) ** 0.65 * min(1.0, it.vcpus / n) ** 0.35
    return float(speed / (1 + 0.1 * max(0.0, n - it.vcpus)))


def _planned_wall_s(
    rng: np.random.Generator, job_type: str, inp: dict[str, Any], host: Host, running: int
) -> float:
    it = host.itype
    speed = _contention(job_type, it, running)
    vcodec = inp["input_video_codec"]
    cs = CODEC_SPEED.get(vcodec, 1.0) if vcodec else 1.0
    dur = inp["input_duration_seconds"]
    if job_type == "upload_thumb_v1":
        mpix = (inp["input_width"] or 1280) * (inp["input_height"] or 720) / 2e6
        t = (0.35 + 0.45 * mpix / cs) / it.gen / speed * rng.lognormal(0, 0.3)
        return float(t)
    if job_type == "upload_audio_envelope_v1":
        rtf = 55 * it.gen * speed * rng.lognormal(0, 0.25) * (0.7 if vcodec else 1.0)
    else:
        pixel_rate = inp["input_width"] * inp["input_height"] * inp["input_fps"]
        rtf = K_RTF[job_type] * cs * it.gen * speed / (pixel_rate / P1080) ** 0.7
        rtf *= rng.lognormal(0, 0.15)
    return float(dur / rtf + START_S)


def _output_bytes(rng: np.random.Generator, job_type: str, inp: dict[str, Any]) -> int:
    return int({
        "create_video_export_v1": inp["input_size_bytes"] * 0.6,
        "upload_edit_proxy_v1": 1.5e6 / 8 * inp["input_duration_seconds"],
        "upload_thumb_v1": float(rng.uniform(2e4, 9e4)),
        "upload_audio_envelope_v1": 16000 * inp["input_duration_seconds"],
    }[job_type])


def _download_bytes(job_type: str, inp: dict[str, Any]) -> int:
    """What the worker fetches: the whole input, but for a thumbnail (taken at 1 s) a ranged
    GET of the container header and the first seconds."""
    size = int(inp["input_size_bytes"])
    if job_type == "upload_thumb_v1":
        return min(size, int(300_000 + inp["input_bitrate_kbps"] * 125 * 3))
    return size


def _net_mb_s(rng: np.random.Generator, it: InstanceType, running: int) -> float:
    """One transfer's rate: a share of the type's baseline bandwidth (shared, not evenly, by
    the attempts running: they do not all transfer at once), capped by one S3 stream."""
    base = min(S3_STREAM_MB_S, NET_SHARE * it.net_gbps * 125 / math.sqrt(running))
    return float(base * rng.lognormal(0, 0.3))


@dataclass(frozen=True)
class Phases:
    """An attempt's phases in ms (they add up to its duration) and the bytes moved."""

    download_ms: int
    probe_ms: int
    transcode_ms: int
    upload_ms: int
    other_ms: int
    net_in: int  # bytes downloaded
    net_out: int  # bytes uploaded (0 when it failed before the upload)
    read_in: int  # bytes of the input ffmpeg read

    @property
    def duration_ms(self) -> int:
        return (self.download_ms + self.probe_ms + self.transcode_ms + self.upload_ms
                + self.other_ms)


def _phases(
    rng: np.random.Generator, job_type: str, inp: dict[str, Any], host: Host, running: int,
    planned: float, fail_at: float | None,
) -> Phases:
    """Split the planned wall time into phases (module docstring: Phases); `fail_at` (a share
    of the planned time) cuts the attempt there."""
    it = host.itype
    d_bytes = _download_bytes(job_type, inp)
    u_bytes = _output_bytes(rng, job_type, inp)
    download = 0.03 + d_bytes / 1e6 / _net_mb_s(rng, it, running)
    upload = 0.03 + u_bytes / 1e6 / _net_mb_s(rng, it, running)
    probe = float(rng.uniform(0.04, 0.15))
    other = START_S if job_type != "upload_thumb_v1" else 0.05
    work = planned - (START_S if job_type != "upload_thumb_v1" else 0.0)  # ffmpeg alone
    transcode = max(planned - other - probe - download - upload, MIN_TRANSCODE_SHARE * work)
    plan = [other, download, probe, transcode, upload]  # in the order they run
    if fail_at is not None:
        left = sum(plan) * fail_at
        for i, seconds in enumerate(plan):
            plan[i] = min(seconds, left)
            left -= plan[i]
    ms = [int(round(x * 1000)) for x in plan]
    ms[0] += max(0, 50 - sum(ms))  # an attempt lasts at least 50 ms (the process start)
    o, d, p, t, u = ms
    done_in = d_bytes if fail_at is None else int(d_bytes * d / max(1, int(download * 1000)))
    done_t = 1.0 if fail_at is None else t / max(1, int(transcode * 1000))
    return Phases(download_ms=d, probe_ms=p, transcode_ms=t, upload_ms=u, other_ms=o,
                  net_in=done_in, net_out=u_bytes if fail_at is None else 0,
                  read_in=int(done_in * 1.05 * done_t))


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
            slots = it.slots[k % len(it.slots)]
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
        planned = _planned_wall_s(rng, job["job_type"], inp, host, running)
        failed = rng.random() < _fail_probability(inp) * (0.5 if job["attempt_number"] > 1 else 1)
        fail_at = float(rng.uniform(0.05, 0.9)) if failed else None
        phases = _phases(rng, job["job_type"], inp, host, running, planned, fail_at)
        wall = phases.duration_ms / 1000
        heapq.heappush(host.free_at, begin + wall)
        rows.append(_row(rng, seed, start, job, host, begin, wall, failed, running, phases))
        if failed and rng.random() < 0.75 and job["attempt_number"] < 3:
            same_type = [i for i, h in enumerate(hosts) if h.itype == host.itype]
            retry = dict(job, attempt_number=job["attempt_number"] + 1,
                         host=same_type[int(rng.integers(len(same_type)))])
            seq += 1
            heapq.heappush(pending, (begin + wall + float(rng.uniform(20, 180)), seq, retry))
    return rows


def _row(
    rng: np.random.Generator, seed: int, start: dt.datetime, job: dict[str, Any], host: Host,
    begin: float, wall: float, failed: bool, running: int, phases: Phases,
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
        row["output_size_bytes"] = phases.net_out
    # 5 % of rows come from an older collector: no CPU samples, no phases, no io counters.
    if rng.random() >= 0.05:
        heavy = job_type in K_RTF
        # What ffmpeg keeps busy while it transcodes: its share of the vCPUs (one core for
        # thumbnails and audio, less once attempts outnumber vCPUs).
        cores_busy = it.vcpus / running if heavy else 1.0
        cores_busy = min(cores_busy, it.vcpus / running)
        ffmpeg_pct = 100 * cores_busy * float(rng.uniform(0.72, 0.96))
        transfer_ms = phases.download_ms + phases.upload_ms
        avg = (ffmpeg_pct * phases.transcode_ms + TRANSFER_CPU_PCT * transfer_ms
               + 50.0 * phases.probe_ms) / max(1, phases.duration_ms)
        row["cpu_pct_avg"] = round(avg, 1)
        row["cpu_pct_max"] = round(min(ffmpeg_pct * float(rng.uniform(1.05, 1.35)),
                                       100 * it.vcpus), 1)
        row["cpu_sample_count"] = max(1, int(wall // 2))
        mpix = (inp["input_width"] or 0) * (inp["input_height"] or 0) / (1920 * 1080)
        base = {"create_video_export_v1": (180, 150), "upload_edit_proxy_v1": (120, 90),
                "upload_thumb_v1": (60, 40), "upload_audio_envelope_v1": (35, 10)}[job_type]
        row["mem_rss_mb_max"] = round((base[0] + base[1] * mpix) * float(rng.uniform(0.85, 1.2)), 1)
        row.update(
            phase_download_ms=phases.download_ms,
            phase_probe_ms=phases.probe_ms,
            phase_transcode_ms=phases.transcode_ms,
            phase_upload_ms=phases.upload_ms,
            phase_other_ms=phases.other_ms,
            net_bytes_in=phases.net_in,
            net_bytes_out=phases.net_out if phases.upload_ms > 0 else None,
            # The download is read from a socket and written to a file, ffmpeg reads the input
            # (and a little more: its libraries) and writes the output, the upload reads it and
            # writes it to a socket (docs/io_hints.md: Linux rchar/wchar).
            bytes_read=phases.net_in + phases.read_in + phases.net_out,
            bytes_written=phases.net_in + (0 if failed else 2 * phases.net_out),
        )
        if phases.download_ms > 0 and phases.net_in > 0:
            row["download_mb_per_s"] = round(phases.net_in / 1e3 / phases.download_ms, 2)
        if phases.upload_ms > 0 and phases.net_out > 0:
            row["upload_mb_per_s"] = round(phases.net_out / 1e3 / phases.upload_ms, 2)
        if not failed and job_type != "upload_thumb_v1" and phases.transcode_ms > 0:
            row["transcode_rtf"] = round(
                inp["input_duration_seconds"] / (phases.transcode_ms / 1000), 4)
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
