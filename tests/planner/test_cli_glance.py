"""`mjplan size` and `mjplan summary` at a glance, on the embedded data: the answer first, no
line wider than the terminal (80 and 120 columns), every column with --wide and in CSV, the
same figures in every format, job types by their short names."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from planner.answer import HOURS_PER_MONTH
from planner.cli import main


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int,
         *argv: str) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(list(argv)) == 0
    out: str = capsys.readouterr().out
    return out


@pytest.fixture(scope="module")
def size_json() -> dict[str, Any]:
    out = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        assert main(["size", "--json"]) == 0
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("argv", [["size"], ["summary"], ["summary", "--by", "class"]])
def test_no_line_wider_than_the_terminal(
    argv: list[str], width: int, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = _run(capsys, monkeypatch, width, *argv)
    widest = max(out.splitlines(), key=len)
    assert len(widest) <= width, widest
    # Nothing squeezed to fit: no cell cut short with an ellipsis.
    assert "…" not in out


def test_size_leads_with_the_answer_in_dollars_a_month(
    size_json: dict[str, Any], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer = size_json["answer"]
    top = size_json["types"][0]
    # The answer is the top-ranked type alone: its count and $/h, a month of 730 hours.
    assert answer["instance_type"] == top["instance_type"]
    assert answer["instances"] == top["instances_spot"]
    assert answer["usd_h"] == pytest.approx(top["spot_usd_h"])
    assert answer["usd_month"] == pytest.approx(top["spot_usd_h"] * 730)
    assert answer["on_demand_usd_month"] == pytest.approx(top["on_demand_usd_h"] * 730)
    assert HOURS_PER_MONTH == 730
    out = _run(capsys, monkeypatch, 80, "size")
    first = out.splitlines()[0]
    assert first.startswith(f"Buy {answer['instances']} spot {answer['instance_type']}")
    assert " ".join(out.split()).startswith(answer["sentence"])  # wrapped to the terminal
    assert f"${answer['usd_month']:,.0f} a month" in answer["sentence"]
    assert "p95 wait" in out and "per media hour" in out and "Sized for export" in out
    # The essentials at 80 columns; --wide adds every column, wider than the terminal.
    header = next(line for line in out.splitlines() if line.lstrip().startswith("#"))
    for name in ("Instance", "Inst", "$/h", "$/month", "$/media h"):
        assert name in header
    wide = _run(capsys, monkeypatch, 80, "size", "--wide")
    assert "Service s" in wide and "Spot band" in wide
    assert max(len(line) for line in wide.splitlines()) > 80


def test_size_formats_agree(
    size_json: dict[str, Any], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = list(csv.DictReader(io.StringIO(_run(capsys, monkeypatch, 80, "size", "--format",
                                                 "csv"))))
    assert len(rows) == len(size_json["types"])  # every type, every column
    assert rows[0]["Instance"].rstrip("*") == size_json["answer"]["instance_type"]
    assert rows[0]["$/month"] == f"${size_json['answer']['usd_month']:,.0f}"
    assert {"vCPU", "Service s", "Spot band", "OD $/media h"} <= set(rows[0])
    md = _run(capsys, monkeypatch, 80, "size", "--format", "markdown")
    assert md.startswith(f"**{size_json['answer']['sentence']}**")
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert table[1].startswith("|---:|:---|") and len(table) == 2 + 15  # --top 15


def test_summary_leads_with_the_fastest_type_and_takes_short_names(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = json.loads(_run(capsys, monkeypatch, 80, "summary", "--job-type", "export",
                          "--json"))
    assert {g["job_type"] for g in doc["groups"]} == {"create_video_export_v1"}
    groups = [g for g in doc["groups"] if not g["low_sample"]]
    best = max(groups, key=lambda g: g["rtf"])
    out = _run(capsys, monkeypatch, 80, "summary", "--job-type", "EXPORT")
    assert out.splitlines()[1] == f"Fastest: export {best['instance_type']} {best['rtf']:.1f}x."
    assert "export · create_video_export_v1 (RTF: media s / wall s)" in out


def test_unknown_job_types_name_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--job-type", "exprot"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "mjplan summary: --job-type 'exprot': no such job type in the data; known: export "
        "(create_video_export_v1), proxy (upload_edit_proxy_v1), thumb (upload_thumb_v1), "
        "audio (upload_audio_envelope_v1)\n")
    assert main(["size", "--forecast", "exprot=40h/d"]) == 2
    assert "no such job type; known: export (create_video_export_v1)" in capsys.readouterr().err


def test_a_forecast_of_one_type_keeps_the_data_demand_of_the_others(
    size_json: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["size", "--forecast", "export=40h/d", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    demand = {d["job_type"]: d for d in doc["demand"]}
    assert set(demand) == {d["job_type"] for d in size_json["demand"]}
    assert "forecast 40 media h/day" in demand["create_video_export_v1"]["source"]
    for job_type, d in demand.items():
        if job_type != "create_video_export_v1":
            # The data's demand, in the hour sized for: no forecast, some jobs.
            assert "forecast" not in d["source"] and d["jobs_per_hour"] > 0
    # The answer says each figure's source when they differ.
    assert "forecast 40 media h/day" in doc["answer"]["demand"]
