"""`mjplan size` end to end on a written dataset (local and on the SeaweedFS S3 server)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from planner.cli import main
from tests.rows import attempt, measured_trace, write_rows

PRICES = """\
# test prices
instance_type,vcpus,memory_gib,on_demand_usd_h,spot_usd_h,interruption_band,interruption_rate
c5.large,2,4,0.085,0.0323,5-10%,
c5.xlarge,4,8,0.17,0.0646,5-10%,
m9.large,2,8,0.05,0.01,<5%,
"""

ROWS, _ = measured_trace()
# 400 thumbnails on four 2-slot c5.large hosts, all started within one clock hour.
MEAN_SERVICE = sum(r["duration_ms"] for r in ROWS) / 1000 / len(ROWS)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("size-cli")
    write_rows(ROWS, root / "attempts")
    (root / "prices.csv").write_text(PRICES)
    return root


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["size", *args, "--json"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_json_sizes_for_the_data(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(
        capsys,
        "--data",
        str(data_dir / "attempts"),
        "--prices",
        str(data_dir / "prices.csv"),
        "--wait",
        "none",
        "--utilisation",
        "0.7",
    )
    (demand,) = doc["demand"]
    assert demand["job_type"] == "upload_thumb_v1"
    assert demand["jobs_per_hour"] == 400.0
    types = {t["instance_type"]: t for t in doc["types"]}
    c5 = types["c5.large"]
    load = 400 / 3600 * MEAN_SERVICE
    assert c5["load_erlangs"] == pytest.approx(load, rel=1e-6)
    assert c5["slots"] == 2 and not c5["estimated"]
    assert c5["instances"] == math.ceil(load / (2 * 0.7))
    assert c5["instances_spot"] == math.ceil(c5["instances"] * 1.075)
    assert c5["spot_usd_h"] == pytest.approx(c5["instances_spot"] * 0.0323)
    assert types["c5.xlarge"]["estimated"] and types["c5.xlarge"]["slots"] == 4
    assert doc["skipped"] == {
        "m9.large": "not measured, and no measured type of its family to estimate from"
    }
    (tp,) = doc["throughput"]
    assert (tp["instance_type"], tp["job_type"], tp["slots"]) == ("c5.large", "upload_thumb_v1", 2)
    assert tp["service_s"] == pytest.approx(MEAN_SERVICE, rel=1e-6)
    assert tp["jobs_per_hour"] == pytest.approx(tp["mean_concurrency"] * 3600 / MEAN_SERVICE)
    req = doc["fleet_request"]
    assert req["TargetCapacitySpecification"]["DefaultTargetCapacityType"] == "spot"
    overrides = req["LaunchTemplateConfigs"][0]["Overrides"]
    assert {o["InstanceType"] for o in overrides} == {"c5.large", "c5.xlarge"}


def test_table_and_fleet_file(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = tmp_path / "fleet.json"
    code = main(
        [
            "size",
            "--data",
            str(data_dir / "attempts"),
            "--prices",
            str(data_dir / "prices.csv"),
            "--on-demand",
            "--fleet-json",
            str(fleet),
            "--no-estimated",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Ranked by on-demand $/h" in out
    assert "c5.large" in out and "c5.xlarge" not in out
    # The answer first: what to buy and its cost a month, then the fleet.
    assert out.startswith("Buy ") and " on-demand c5.large: $" in out.splitlines()[0]
    assert "As a diversified on-demand fleet:" in out
    req = json.loads(fleet.read_text())
    assert req["LaunchTemplateConfigs"][0]["Overrides"] == [
        {"InstanceType": "c5.large", "WeightedCapacity": 1.0}
    ]
    assert req["TargetCapacitySpecification"]["DefaultTargetCapacityType"] == "on-demand"


def test_forecast_and_growth(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(
        capsys,
        "--data",
        str(data_dir / "attempts"),
        "--prices",
        str(data_dir / "prices.csv"),
        "--forecast",
        "upload_thumb_v1=1000",
        "--growth",
        "1.2",
    )
    (demand,) = doc["demand"]
    assert demand["jobs_per_hour"] == pytest.approx(1200.0)
    assert demand["source"].endswith("; forecast 1000 jobs/h x1.2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--utilisation", "1.5"], "utilisation must be in (0, 1], got 1.5"),
        (["--utilisation", "0"], "utilisation must be in (0, 1], got 0"),
        (["--wait", "p95=20s+service"], "no instance type can meet the response target"),
        (["--wait", "p95=soon"], "is not a duration"),
        (
            ["--forecast", "upload_audio_envelope_v1=30/h"],
            "no measurement of upload_audio_envelope_v1 in the data",
        ),
        (["--forecast", "create_video_export_v1=10"], "holds no media duration"),
        (["--window", "two weeks"], "--window 'two weeks'"),
        (["--interruption", "z1.large=0.1"], "--interruption: z1.large not in"),
        (["--top", "-1"], "--top must be at least 1"),
        (["--fleet-json", "/no-such-folder-mjplan/fleet.json"], "cannot write the fleet request"),
        (["--launch-template", " "], "--launch-template: the name is empty"),
    ],
)
def test_impossible_inputs_print_one_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(
        [
            "size",
            "--data",
            str(data_dir / "attempts"),
            "--prices",
            str(data_dir / "prices.csv"),
            *args,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("mjplan size: ")


def test_bad_price_file(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "prices.csv"
    bad.write_text(PRICES.replace("0.17,0.0646", "0.17,free"))
    assert main(["size", "--data", str(data_dir / "attempts"), "--prices", str(bad)]) == 2
    assert f"{bad} line 4: spot_usd_h must be a number, got 'free'" in capsys.readouterr().err


def test_without_host_names_one_slot_is_assumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        attempt(job_type="upload_thumb_v1", start_s=i * 10, wall_s=4, hostname=None)
        for i in range(5)
    ]
    write_rows(rows, tmp_path)
    doc = run_json(capsys, "--data", str(tmp_path), "--no-estimated")
    c5 = {t["instance_type"]: t for t in doc["types"]}["c5.large"]
    assert (c5["slots"], c5["concurrency_measured"]) == (1, False)
    assert c5["mean_service_s"] == pytest.approx(4.0)
    assert main(["size", "--data", str(tmp_path), "--no-estimated"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the notes are wrapped to the terminal
    assert "concurrency not measured, 1 job slot per instance assumed" in out


def test_no_attempts_in_the_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [attempt(job_type="upload_thumb_v1", start_s=0, wall_s=4, status="failed")]
    write_rows(rows, tmp_path)
    assert main(["size", "--data", str(tmp_path)]) == 2
    assert "no measurement of upload_thumb_v1 in the data" in capsys.readouterr().err


@pytest.mark.s3
def test_size_from_s3(s3_prefix: str, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from planner.dataset import s3_filesystem

    write_rows(ROWS, s3_prefix.removeprefix("s3://"), filesystem=s3_filesystem())
    doc = run_json(
        capsys,
        "--data",
        s3_prefix,
        "--prices",
        str(data_dir / "prices.csv"),
        "--wait",
        "none",
        "--utilisation",
        "0.7",
    )
    assert doc["dataset"] == s3_prefix
    types = {t["instance_type"]: t for t in doc["types"]}
    assert types["c5.large"]["instances"] == math.ceil(400 / 3600 * MEAN_SERVICE / 1.4)


def test_the_replay_decides_and_says_so(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ("--data", str(data_dir / "attempts"), "--prices", str(data_dir / "prices.csv"),
              "--forecast", "upload_thumb_v1=1800/h", "--utilisation", "1", "--wait", "p95=15s",
              "--no-estimated", "--on-demand")
    doc = run_json(capsys, *common)
    top = doc["types"][0]
    # A forecast: arrivals drawn hour by hour with the data's burstiness.
    assert top["decided_by"] == "replay" and "arrivals drawn per hour" in top["replay_source"]
    assert top["hours"] >= 1 and 0 <= top["hours_met"] <= top["hours"]
    assert set(top["waits_by_job_type"]) == {"upload_thumb_v1"}
    assert doc["headline"].startswith(f"{top['instances']} on-demand x {top['instance_type']}")
    analytic = run_json(capsys, *common, "--no-replay")["types"][0]
    assert analytic["decided_by"] == "analytic"
    assert analytic["instances"] == top["instances_analytic"]
    assert main(["size", *common]) == 0
    out = " ".join(capsys.readouterr().out.split())  # lines wrapped to the terminal
    # The answer first, with the headline's figures; how the count was reached after the table.
    assert out.startswith(doc["answer"]["sentence"])
    assert doc["answer"]["instance_type"] == top["instance_type"]
    assert f"${doc['answer']['usd_month']:,.0f} a month" in out
    assert "p95 wait <= 15s met in" in out and "Per job type: thumb p95" in out


def test_replay_command(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["replay", "--data", str(data_dir / "attempts"), "--prices",
              str(data_dir / "prices.csv"), "--instance-type", "c5.large", "--wait", "p95=15s",
              "--json"]
    docs = {}
    for n in (1, 2, 20):
        assert main([*common, "--instances", str(n)]) == 0
        docs[n] = json.loads(capsys.readouterr().out)
    # 400 thumbnails of ~30 s in one hour: one 2-slot instance cannot keep up, twenty can.
    assert docs[1]["slots"] == 2 and docs[1]["arrivals"] == "the window's 400 arrivals"
    assert docs[1]["share_over_target"] > docs[2]["share_over_target"] > 0
    assert docs[20]["share_over_target"] == 0 and docs[20]["hours_met"] == docs[20]["hours"]
    (thumbs,) = docs[1]["job_types"]
    assert thumbs["jobs"] == 400 and thumbs["wait_at_percentile_s"] > 15
    assert sum(h["jobs"] for h in docs[1]["by_hour"]) == 400
    assert main([*common[:-1], "--instances", "2"]) == 0
    assert "Wait per job type" in capsys.readouterr().out
    assert main([*common, "--instances", "0"]) == 2
    assert "instances must be at least 1" in capsys.readouterr().err


def test_a_long_window_is_replayed_over_its_last_hours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.replay

    # 30 thumbnails an hour for 10 hours; at most 100 jobs per replay: the last 4 hours
    # (the hour of the 100th last job and after), judged over those hours alone.
    rows = [attempt(job_type="upload_thumb_v1", start_s=h * 3600 + i * 120, wall_s=5,
                    input_s=None, hostname="h1") for h in range(10) for i in range(30)]
    rows.append(attempt(job_type="upload_thumb_v1", start_s=10 * 3600 + 5, wall_s=5,
                        input_s=None))  # the last, partial hour (left out of the window)
    write_rows(rows, tmp_path)
    monkeypatch.setattr(planner.replay, "MAX_JOBS", 100)
    assert main(["replay", "--data", str(tmp_path), "--instance-type", "c5.large",
                 "--instances", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["hours"] == 4 and len(doc["by_hour"]) == 4
    assert sum(h["jobs"] for h in doc["by_hour"]) == 120
    assert doc["arrivals"].startswith("the window's last 4 hours (120 arrivals")


def test_unreadable_files_are_named_not_silently_left_out(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    ds = tmp_path / "attempts"
    shutil.copytree(data_dir / "attempts", ds)
    bad = ds / "job_type=upload_thumb_v1" / "broken.parquet"
    bad.write_bytes(b"not parquet")
    monkeypatch.setenv("MJPLAN_CACHE_DIR", str(tmp_path / "cache"))
    args = ["--data", str(ds), "--prices", str(data_dir / "prices.csv"), "--wait", "none"]
    # Twice: the second open comes from the cache, which must remember what it left out.
    for _ in range(2):
        doc = run_json(capsys, *args)
        assert [f["path"] for f in doc["skipped_files"]] == [str(bad)]
        assert doc["demand"][0]["jobs_per_hour"] == 400.0  # the good rows, all of them
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["size", *args]) == 0
    out = capsys.readouterr().out
    assert "1 unreadable file(s) of the dataset left out, e.g." in " ".join(out.split())
    assert str(bad) in "".join(out.split())  # wrapped to the terminal's width
