"""RTF statistics on hand-made data whose answers are known."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from planner import stats
from planner.dataset import open_dataset
from planner.errors import EmptySelectionError, PlannerError
from tests.rows import row, write
from tests.s3server import SeaweedS3

EXPORT = "create_video_export_v1"
THUMB = "upload_thumb_v1"


def _one(df: pl.DataFrame, **keys: str) -> dict[str, object]:
    for k, v in keys.items():
        df = df.filter(pl.col(k) == v)
    assert df.height == 1, df
    return df.row(0, named=True)


def test_ratio_of_sums_against_mean_of_ratios(tmp_path: Path) -> None:
    # 10 s of input in 10 s (RTF 1) and 100 s in 20 s (RTF 5): the fleet got through 110 media
    # seconds in 30 busy seconds (3.667x), while the mean of the two ratios says 3.
    write(
        tmp_path,
        [
            row(input_s=10, wall_s=10),
            row(input_s=100, wall_s=20),
            row(input_s=50, wall_s=5, status="failed"),
        ],
    )
    got = _one(stats.rtf_summary(open_dataset(str(tmp_path))))
    assert got["attempts"] == 3 and got["succeeded"] == 2
    assert got["success_rate"] == pytest.approx(2 / 3)
    assert got["rtf"] == pytest.approx(110 / 30)
    assert got["throughput"] == got["rtf"]
    assert got["rtf_mean"] == pytest.approx(3.0)
    assert got["input_seconds"] == 110 and got["wall_seconds"] == 30
    assert got["low_sample"] is True


def test_percentiles_and_histogram(tmp_path: Path) -> None:
    # Per-attempt RTFs 1, 2, ..., 101 (input = RTF x 10 s of wall time).
    write(tmp_path, [row(input_s=10.0 * k, wall_s=10.0) for k in range(1, 102)])
    ds = open_dataset(str(tmp_path))
    got = _one(stats.rtf_summary(ds))
    assert (got["rtf_p10"], got["rtf_p50"], got["rtf_p90"], got["rtf_p99"]) == pytest.approx(
        (11.0, 51.0, 91.0, 100.0)
    )
    assert got["low_sample"] is False
    hist = stats.rtf_histogram(ds, bins=10)
    assert hist["count"].sum() == 101
    assert hist["bin_low"][0] == 0.0 and hist["bin_high"][9] == pytest.approx(100.0)
    # Bins of width 10 up to p99 = 100; the overflow (101) joins the last bin.
    assert hist["count"].to_list() == [9, 10, 10, 10, 10, 10, 10, 10, 10, 12]
    assert set(hist["measure"]) == {"rtf"}


def test_thumbnails_in_jobs_per_hour(tmp_path: Path) -> None:
    walls = [0.5, 1.0, 1.5, 2.0, 1.0]  # mean 1.2 s -> 3000 jobs per busy slot-hour
    write(tmp_path, [row(job_type=THUMB, input_s=30.0, wall_s=w) for w in walls])
    got = _one(stats.rtf_summary(open_dataset(str(tmp_path))))
    assert got["throughput_unit"] == "jobs"
    assert got["rtf"] is None and got["rtf_p50"] is None and got["rtf_mean"] is None
    assert got["jobs_per_hour"] == pytest.approx(3000.0)
    assert got["throughput"] == got["jobs_per_hour"]
    assert got["seconds_per_job_p50"] == pytest.approx(1.0)
    assert got["seconds_per_job_p90"] == pytest.approx(1.8)
    lo, hi = got["jobs_per_hour_ci_low"], got["jobs_per_hour_ci_high"]
    sd = float(np.std(walls, ddof=1))
    half = stats.t_quantile(0.95, 4) * sd / math.sqrt(5)
    assert (lo, hi) == pytest.approx((3600 / (1.2 + half), 3600 / (1.2 - half)))


def test_histogram_counts_what_the_summary_counts(tmp_path: Path) -> None:
    # A thumbnail with no measured wall time (0 ms) is no 0-second job: the summary leaves it
    # out of seconds per job, and so must the histogram drawn beside it.
    rows = [row(job_type=THUMB, input_s=None, wall_s=w) for w in (1.0, 2.0, 0.0)]
    write(tmp_path, rows)
    ds = open_dataset(str(tmp_path))
    assert _one(stats.rtf_summary(ds))["n_wall"] == 2
    hist = stats.rtf_histogram(ds, bins=4)
    assert hist["count"].sum() == 2 and (hist["bin_low"] > 0).all()


def test_groups_by_instance_class_and_codec(tmp_path: Path) -> None:
    rows = [
        row(
            instance_type="c5.large",
            input_width=1080,
            input_height=1920,
            input_video_codec="h264",
            input_audio_codec="aac",
        ),
        row(
            instance_type="c5.large", input_width=3840, input_height=2160, input_video_codec="hevc"
        ),
        row(instance_type="c7i.large", input_width=640, input_height=360, input_video_codec="vp9"),
        row(job_type="upload_audio_envelope_v1", instance_type=None, input_audio_codec="mp3"),
    ]
    write(tmp_path, rows)
    ds = open_dataset(str(tmp_path))
    by_instance = stats.rtf_summary(ds)
    assert by_instance.select("job_type", "instance_type").rows() == [
        (EXPORT, "c5.large"),
        (EXPORT, "c7i.large"),
        ("upload_audio_envelope_v1", "unknown"),
    ]
    by_class = stats.rtf_summary(ds, by="class")
    assert sorted(by_class["input_class"].to_list()) == ["1080p", "2160p+", "<=480p", "audio only"]
    by_codec = stats.rtf_summary(ds, by="codec")
    assert sorted(by_codec["input_class"].to_list()) == ["H.264", "HEVC", "MP3 (audio only)", "VP9"]
    by_job = stats.rtf_summary(ds, by="job_type")
    assert by_job["attempts"].to_list() == [3, 1]
    assert stats.rtf_summary(ds, instance_type="c7i.large")["attempts"].to_list() == [1]
    with pytest.raises(PlannerError, match="cannot group by"):
        stats.rtf_summary(ds, by="colour")
    with pytest.raises(EmptySelectionError):
        stats.rtf_summary(ds, job_type="nope")


@pytest.mark.parametrize(
    ("w", "h", "band"),
    [
        (1080, 1920, "1080p"),
        (1920, 1080, "1080p"),
        (854, 480, "<=480p"),
        (1280, 720, "720p"),
        (2560, 1440, "1440p"),
        (2160, 3840, "2160p+"),
        (None, None, "unknown"),
    ],
)
def test_resolution_bands(w: int | None, h: int | None, band: str) -> None:
    assert stats.resolution_band(w, h, "h264") == band


def test_cpu_and_memory_where_sampled(tmp_path: Path) -> None:
    write(
        tmp_path,
        [
            row(cpu_pct_avg=100.0, cpu_pct_max=150.0, mem_rss_mb_max=200.0, cpu_cores=2),
            row(cpu_pct_avg=300.0, cpu_pct_max=390.0, mem_rss_mb_max=400.0, cpu_cores=4),
            row(),  # not sampled
        ],
    )
    got = _one(stats.rtf_summary(open_dataset(str(tmp_path))))
    assert got["cpu_sampled"] == 2
    assert got["cpu_pct_avg"] == pytest.approx(200.0)
    assert got["cpu_util"] == pytest.approx((0.5 + 0.75) / 2)
    assert got["mem_rss_mb_max"] == 400.0 and got["mem_rss_mb_avg"] == pytest.approx(300.0)


def test_low_sample_flag_at_thirty(tmp_path: Path) -> None:
    write(tmp_path, [row(instance_type="a")] * 29 + [row(instance_type="b")] * 30)
    # (The same row object repeated would be one attempt: make them distinct.)
    ds = open_dataset(str(tmp_path))
    assert stats.rtf_summary(ds)["attempts"].to_list() == [1, 1]
    tmp2 = tmp_path / "2"
    write(
        tmp2,
        [row(instance_type="a") for _ in range(29)] + [row(instance_type="b") for _ in range(30)],
    )
    df = stats.rtf_summary(open_dataset(str(tmp2)))
    assert df["low_sample"].to_list() == [True, False]


def test_ratio_ci_matches_the_formula() -> None:
    y, x = [10.0, 30.0, 20.0, 50.0], [5.0, 20.0, 10.0, 20.0]
    r, lo, hi = stats.ratio_ci_of_samples(y, x)
    assert r == pytest.approx(110 / 55)
    d = np.array(y) - r * np.array(x)
    se = math.sqrt(np.sum(d**2) / 3 / 4) / np.mean(x)
    t = 3.182446305284263  # t(0.975, 3)
    assert (lo, hi) == pytest.approx((r - t * se, r + t * se))
    assert stats.ratio_ci(1, 5.0, 10.0, 0, 0, 0)[0] == 2.0
    assert math.isnan(stats.ratio_ci(1, 5.0, 10.0, 0, 0, 0)[1])


def test_ratio_ci_of_three_spread_attempts_stops_at_zero() -> None:
    # RTF 2, 3 and 1: R = 210 / 100 = 2.1, d = (-3, 36, -33), SE = sqrt(1197 / 3) / 33.3 =
    # 0.599, t(0.975, 2) = 4.303: 2.1 -+ 2.579 would reach -0.479; an RTF cannot be negative.
    r, lo, hi = stats.ratio_ci_of_samples([60.0, 120.0, 30.0], [30.0, 40.0, 30.0])
    assert (r, lo, hi) == pytest.approx((2.1, 0.0, 4.67836), abs=1e-4)


def test_the_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    """Input lengths uniform 10..300 s, per-attempt RTF lognormal(0, 0.5), independent.

    Truth: E[input] / E[wall] = E[input] / (E[input] E[1/rtf]) = 1 / E[1/rtf] = exp(-0.5^2 / 2).
    """
    rng = np.random.default_rng(5)
    truth = math.exp(-(0.5**2) / 2)
    reps, n, covered = 400, 60, 0
    for _ in range(reps):
        inp = rng.uniform(10, 300, n)
        wall = inp / rng.lognormal(0.0, 0.5, n)
        _, lo, hi = stats.ratio_ci_of_samples(inp.tolist(), wall.tolist())
        covered += lo <= truth <= hi
    assert 0.88 <= covered / reps <= 0.99


def test_the_database_interval_equals_the_pure_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    inp = rng.uniform(10, 300, 80)
    wall = inp / rng.lognormal(0.2, 0.4, 80)
    write(
        tmp_path, [row(input_s=float(a), wall_s=float(b)) for a, b in zip(inp, wall, strict=True)]
    )
    got = _one(stats.rtf_summary(open_dataset(str(tmp_path))))
    # Wall times are stored in whole ms; use the stored values for the reference.
    stored = np.round(wall * 1000) / 1000
    r, lo, hi = stats.ratio_ci_of_samples(inp.tolist(), stored.tolist())
    assert (got["rtf"], got["rtf_ci_low"], got["rtf_ci_high"]) == pytest.approx((r, lo, hi))


def test_mean_rate_ci_inverts_the_mean() -> None:
    rate, lo, hi = stats.mean_rate_ci(4, 2.0, 0.0)
    assert (rate, lo, hi) == (1800.0, 1800.0, 1800.0)
    assert math.isnan(stats.mean_rate_ci(1, 2.0, 0.0)[1])


@pytest.mark.s3
def test_the_same_summary_from_a_folder_and_from_s3(
    tmp_path: Path, s3_env: SeaweedS3, s3_prefix: str
) -> None:
    import boto3

    rng = np.random.default_rng(3)
    rows = [
        row(
            job_type=jt,
            instance_type=it,
            input_s=float(rng.uniform(5, 200)),
            wall_s=float(rng.uniform(2, 100)),
            start_s=float(rng.uniform(0, 3 * 86400)),
        )
        for jt in (EXPORT, THUMB)
        for it in ("c5.large", "c7i.large")
        for _ in range(20)
    ]
    write(tmp_path, rows)
    write(tmp_path, rows[:5], name="redelivered")  # at-least-once: 5 attempts twice
    (tmp_path / "job_type=upload_thumb_v1" / "dt=2026-11-03" / "corrupt.parquet").write_bytes(
        b"PAR1 cut off"
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_env.endpoint_url,
        aws_access_key_id=s3_env.access_key,
        aws_secret_access_key=s3_env.secret_key,
        region_name="us-east-1",
    )
    bucket, prefix = s3_prefix[len("s3://") :].split("/", 1)
    for path in tmp_path.rglob("*.parquet"):
        s3.put_object(
            Bucket=bucket, Key=f"{prefix}/{path.relative_to(tmp_path)}", Body=path.read_bytes()
        )

    local = open_dataset(str(tmp_path))
    remote = open_dataset(s3_prefix)
    assert len(remote.files) == len(local.files) and len(remote.skipped) == 1
    assert remote.duplicate_ids == local.duplicate_ids == 5
    assert (
        remote.skipped[0].path
        == f"{s3_prefix}/job_type=upload_thumb_v1/dt=2026-11-03/corrupt.parquet"
    )
    lazy = open_dataset(s3_prefix, materialize=False)  # the route of large datasets
    assert remote.materialized and not lazy.materialized
    for by in ("instance", "job_type"):
        a = stats.rtf_summary(local, by=by)
        for other in (remote, lazy):
            assert_frame_equal(a, stats.rtf_summary(other, by=by), check_exact=False, rel_tol=1e-9)
    assert stats.rtf_summary(remote)["attempts"].sum() == 80
