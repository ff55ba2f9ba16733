"""Schema version 2 on the writer side: worker_slots, arch, cpu_model, ffmpeg_version, source,
from the attempt API and `mjcollect run`, with a real ffmpeg."""

from __future__ import annotations

import logging
import os
import platform
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from collectors import InMemorySink, attempt, cli, config, schema
from collectors.ffmpeg_version import ffmpeg_version, parse_version_output, reset_ffmpeg_version
from collectors.host import normalise_arch, parse_cpu_model, reset_host_metrics


@pytest.fixture(autouse=True)
def worker_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(config.AWS_INSTANCE_TYPE, "c7i.large")
    for name in (config.MEDIAJOB_METRICS, config.MEDIAJOB_METRICS_URL,
                 config.MEDIAJOB_WORKER_SLOTS):
        monkeypatch.delenv(name, raising=False)
    reset_host_metrics()
    reset_ffmpeg_version()
    yield
    reset_host_metrics()
    reset_ffmpeg_version()


def _real_ffmpeg_first_line() -> str:
    out = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.splitlines()[0].split())


def _run_one(sink: InMemorySink, **options: object) -> dict[str, object]:
    with attempt("upload_thumb_v1", "j", sink=sink, sampler=None, **options) as a:  # type: ignore[arg-type]
        pass
    assert a.row is not None
    return a.row


def test_worker_slots_from_argument_else_environment_else_null(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sink = InMemorySink()
    assert _run_one(sink)["worker_slots"] is None
    assert _run_one(sink, worker_slots=3)["worker_slots"] == 3
    monkeypatch.setenv(config.MEDIAJOB_WORKER_SLOTS, "4")
    assert _run_one(sink)["worker_slots"] == 4
    assert _run_one(sink, worker_slots=2)["worker_slots"] == 2  # the argument wins
    with caplog.at_level(logging.WARNING):
        for bad in ("0", "two", "-1"):
            monkeypatch.setenv(config.MEDIAJOB_WORKER_SLOTS, bad)
            assert _run_one(sink)["worker_slots"] is None  # a typo never fails a job
    assert "MEDIAJOB_WORKER_SLOTS" in caplog.text
    for bad_arg in (0, -2, True, "3"):
        with pytest.raises(ValueError, match="worker_slots"):
            _run_one(sink, worker_slots=bad_arg)
    assert sink.rows[1]["worker_slots"] == 3
    assert schema.metrics_of_row(sink.rows[1])["workerSlots"] == 3


def test_source_is_production_by_default_and_bench_on_request() -> None:
    sink = InMemorySink()
    assert _run_one(sink)["source"] == "production"
    row = _run_one(sink, source="bench")
    assert row["source"] == "bench" and schema.metrics_of_row(row)["source"] == "bench"
    with pytest.raises(ValueError, match="source"):
        _run_one(sink, source="lab")


def test_host_arch_and_cpu_model_as_the_machine_reports_them() -> None:
    row = _run_one(InMemorySink())
    uname = subprocess.run(["uname", "-m"], capture_output=True, text=True, check=True)
    assert row["arch"] == uname.stdout.strip()
    cpuinfo = Path("/proc/cpuinfo").read_text()
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
             if line.startswith("model name")]
    if names:
        assert row["cpu_model"] == " ".join(names[0].split())
    host = schema.metrics_of_row(row)["host"]
    assert host["arch"] == row["arch"] and host["cpuModel"] == row["cpu_model"]


def test_arch_names_and_cpuinfo_parsing() -> None:
    assert normalise_arch("AMD64") == "x86_64" and normalise_arch("arm64") == "aarch64"
    assert normalise_arch("x86_64") == "x86_64" and normalise_arch("") is None
    intel = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R)  Platinum 8488C\nflags : x\n" * 2
    assert parse_cpu_model(intel) == "Intel(R) Xeon(R) Platinum 8488C"
    graviton = ("processor\t: 0\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\n"
                "CPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0xd40\n")
    assert parse_cpu_model(graviton) == "CPU implementer 0x41 part 0xd40"
    assert parse_cpu_model("") is None and parse_cpu_model("processor : 0\n") is None


def test_ffmpeg_version_is_the_first_line_of_ffmpeg_version() -> None:
    row = _run_one(InMemorySink())
    assert row["ffmpeg_version"] == _real_ffmpeg_first_line()
    assert str(row["ffmpeg_version"]).startswith("ffmpeg version ")
    assert parse_version_output("\n  ffmpeg version 7.1  Copyright\nbuilt with gcc\n") == (
        "ffmpeg version 7.1 Copyright")


def test_a_failed_job_never_waits_for_the_ffmpeg_look_up(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in ffmpeg that logs each run, so the test sees whether it was started.
    log = tmp_path / "runs.log"
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho run >> "{log}"\necho "ffmpeg version 9.9-test"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    sink = InMemorySink()
    with pytest.raises(RuntimeError), attempt("upload_thumb_v1", "j", sink=sink, sampler=None):
        raise RuntimeError("the job failed")
    assert sink.rows[-1]["status"] == "failed" and sink.rows[-1]["ffmpeg_version"] is None
    assert not log.exists()  # not started on the failure path
    assert _run_one(sink)["ffmpeg_version"] == "ffmpeg version 9.9-test"
    assert _run_one(sink)["ffmpeg_version"] == "ffmpeg version 9.9-test"
    with pytest.raises(RuntimeError), attempt("upload_thumb_v1", "j", sink=sink, sampler=None):
        raise RuntimeError("failed again")
    assert sink.rows[-1]["ffmpeg_version"] == "ffmpeg version 9.9-test"  # known by now
    assert log.read_text().splitlines() == ["run"]  # once per process


def test_no_ffmpeg_on_path_leaves_the_version_null_and_the_job_unharmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    row = _run_one(InMemorySink())
    assert row["status"] == "succeeded" and row["ffmpeg_version"] is None
    assert ffmpeg_version() is None


def test_mjcollect_run_records_worker_slots(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.MEDIAJOB_METRICS_SPOOL, str(tmp_path / "spool"))
    monkeypatch.setenv(config.AWS_EC2_METADATA_DISABLED, "true")
    data = tmp_path / "ds"
    code = cli.main(["run", "--data", str(data), "--upload-timeout", "60", "--job-type",
                     "upload_thumb_v1", "--job-id", "J", "--worker-slots", "3", "--", "true"])
    assert code == 0
    rows = pads.dataset(data, format="parquet", partitioning="hive").to_table().to_pylist()
    assert [(r["worker_slots"], r["source"], r["schema_version"]) for r in rows] == [
        (3, "production", 2)]
    assert rows[0]["arch"] == normalise_arch(platform.machine())
    assert cli.main(["run", "--data", str(data), "--job-type", "upload_thumb_v1", "--job-id",
                     "J", "--worker-slots", "0", "--", "true"]) == 2
