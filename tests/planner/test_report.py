"""`mjplan report --html` on the embedded data: every chart, and the planner's numbers as the
terminal commands print them."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collectors import schema
from planner import chart_data, charts, report
from planner.cli import main
from planner.dataset import open_dataset
from planner.prices import load_prices
from planner.sizing import SizingOptions, load_sizing_inputs, parse_wait, size_fleet
from planner.stats import rtf_summary
from planner.throughput import throughput_frame

EXPORT, THUMB = "create_video_export_v1", "upload_thumb_v1"


class _Tables(HTMLParser):
    """The report's tables: {h3 title: [row cells...]} (header row included), plus <pre>s."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.pres: list[str] = []
        self._title: str | None = None
        self._in: str | None = None
        self._text = ""
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h3", "td", "th", "pre"):
            self._in, self._text = tag, ""
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3" and self._in == "h3":
            self._title = self._text
            self.tables[self._title] = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(self._text)
        elif tag == "tr" and self._row is not None and self._title is not None:
            self.tables[self._title].append(self._row)
            self._row = None
        elif tag == "pre":
            self.pres.append(self._text)
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data


def _terminal_tables(text: str) -> dict[str, list[list[str]]]:
    """Rows of the rich tables a command printed, under the line before each table."""
    tables: dict[str, list[list[str]]] = {}
    title = ""
    for line in text.splitlines():
        if line.startswith(("┃", "│")):
            cells = [c.strip() for c in re.split("[│┃]", line)[1:-1]]
            tables.setdefault(title, []).append(cells)
        elif not line.startswith(("┏", "┡", "└", "├")):
            title = line.strip()
    return tables


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, _Tables]:
    path = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", "--html", str(path), "--wait", "p95=30s", "--points", "300"]) == 0
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return path, parser


def test_report_holds_every_chart_and_plotly_once(built: tuple[Path, _Tables]) -> None:
    path, _ = built
    page = path.read_text(encoding="utf-8")
    for name in charts.CHART_NAMES:
        assert f'<section id="{name}" class="chart">' in page
        assert re.search(rf'Plotly\.newPlot\(\s*"{name}-plot"', page), name
    # Readable offline: plotly.js inline, once; no script fetched from anywhere.
    assert page.count("* plotly.js v") == 1
    assert not re.search(r"<script[^>]*\bsrc=", page)


def test_report_tables_match_mjplan_summary(
    built: tuple[Path, _Tables], capsys: pytest.CaptureFixture[str]
) -> None:
    _, parsed = built
    assert main(["summary"]) == 0
    terminal = _terminal_tables(capsys.readouterr().out)
    job_tables = {t: rows for t, rows in terminal.items() if t.startswith(("create_", "upload_"))}
    assert len(job_tables) == 4
    for title, rows in job_tables.items():
        assert parsed.tables[title] == rows, title
    # And the numbers are the planner's: the aggregate RTF of exports on c5.large, two decimals.
    ds = open_dataset()
    summary = rtf_summary(ds, by="instance")
    row = summary.filter(
        (summary["job_type"] == EXPORT) & (summary["instance_type"] == "c5.large")
    ).row(0, named=True)
    table = parsed.tables[f"{EXPORT} (RTF: media s / wall s)"]
    c5 = next(r for r in table if r[0] == "c5.large")
    assert c5[table[0].index("RTF")] == f"{row['rtf']:.2f}"
    assert c5[table[0].index("95% CI")] == f"{row['rtf_ci_low']:.2f}-{row['rtf_ci_high']:.2f}"
    thumbs = parsed.tables[f"{THUMB} (jobs per hour per busy slot)"]
    assert thumbs[0][:4] == ["instance", "attempts", "ok %", "jobs/h"]


def test_report_sizing_matches_mjplan_size(
    built: tuple[Path, _Tables], capsys: pytest.CaptureFixture[str]
) -> None:
    _, parsed = built
    assert main(["size", "--wait", "p95=30s", "--top", "15"]) == 0
    out = capsys.readouterr().out
    terminal = [rows for rows in _terminal_tables(out).values() if rows[0][0] == "#"]
    ranked = next(rows for t, rows in parsed.tables.items() if t.startswith("Ranked by spot"))
    assert ranked == terminal[0]
    rec_title = next(t for t in parsed.tables if t.startswith("Recommended spot fleet"))
    target = int(rec_title.rsplit(" ", 1)[1])
    assert f"TotalTargetCapacity {target} over" in out
    request = json.loads(parsed.pres[0])
    assert request["TargetCapacitySpecification"]["TotalTargetCapacity"] == target
    assert [o["InstanceType"] for o in request["LaunchTemplateConfigs"][0]["Overrides"]] == [
        r[0].rstrip("*") for r in parsed.tables[rec_title][1:]
    ]


@pytest.fixture(scope="module")
def data() -> report.ReportData:
    ds = open_dataset()
    return report.gather(ds, options=SizingOptions(wait=parse_wait("p95=30s")), per_group=200)


def test_chart_numbers_are_the_planner_numbers(data: report.ReportData) -> None:
    figs = {f.layout.meta["chart"]: f for f in report.figures(data)}
    assert list(figs) == list(charts.CHART_NAMES)
    # The diamonds are rtf_summary's aggregates (RTF; mean seconds per job for thumbnails).
    dist = figs[charts.RTF_DISTRIBUTION]
    panel = {a.text.split(":")[0]: i + 1 for i, a in enumerate(dist.layout.annotations)}
    for row in data.summary.iter_rows(named=True):
        col = "seconds_per_job_mean" if row["job_type"] == THUMB else "rtf"
        axis = "y" if panel[row["job_type"]] == 1 else f"y{panel[row['job_type']]}"
        diamonds = next(t for t in dist.data if t.type == "scatter" and t.yaxis == axis)
        got = dict(zip(diamonds.x, diamonds.y, strict=True))
        assert got[row["instance_type"]] == pytest.approx(row[col])


def test_fleet_curve_at_today_is_the_sizing(data: report.ReportData) -> None:
    assert data.result is not None and data.sizing_error is None
    # The curve is the analytic model's (no replay at each level).
    inputs = load_sizing_inputs(open_dataset())
    result = size_fleet(inputs, replace(data.result.options, replay=False))
    today = data.curve.filter(data.curve["demand_multiplier"] == 1.0)
    assert today["instance_type"].to_list() == [t.instance_type for t in result.types]
    assert today["instances"].to_list() == [t.instances_spot for t in result.types]
    assert result.recommendation is not None
    assert set(today["target_capacity"]) == {result.recommendation.total_target_capacity}
    # Demand grows, the fleet does not get cheaper. (Its target capacity is in units of the
    # slowest type chosen at each level, so those counts are not comparable across levels.)
    levels = data.curve.filter(data.curve["rank"] == 1).sort("demand_multiplier")
    costs = levels["cost_per_hour"].to_list()
    assert costs == sorted(costs) and costs[0] < costs[-1]


def test_throughput_cost_is_price_over_measured_throughput() -> None:
    ds = open_dataset()
    inputs = load_sizing_inputs(ds)
    prices = load_prices()
    frame = chart_data.throughput_cost_frame(inputs.measurements, prices, "on-demand")
    tp = throughput_frame(inputs.measurements)
    export = tp.filter((tp["job_type"] == EXPORT) & (tp["instance_type"] == "c5.large")).row(
        0, named=True
    )
    got = frame.filter((frame["job_type"] == EXPORT) & (frame["instance_type"] == "c5.large")).row(
        0, named=True
    )
    assert got["unit_label"] == "media hours"
    assert got["units_per_instance_hour"] == export["media_s_per_s"]
    assert got["cost_per_unit"] == pytest.approx(
        prices["c5.large"].on_demand_usd_h / export["media_s_per_s"]
    )
    thumb = frame.filter(frame["job_type"] == THUMB).row(0, named=True)
    assert thumb["unit_label"] == "1000 jobs"
    jobs_h = tp.filter((tp["job_type"] == THUMB) & (tp["instance_type"] == thumb["instance_type"]))[
        "jobs_per_hour"
    ][0]
    assert thumb["units_per_instance_hour"] == pytest.approx(jobs_h / 1000)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def test_report_refuses_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    cases: list[tuple[list[str], str]] = [
        (["--data", str(tmp_path / "nowhere")], "no dataset folder"),
        (["--points", "0"], "--points must be at least 1"),
        (["--wait", "p95=soon"], "is not a duration"),
        (["--utilisation", "1.5"], "utilisation must be in (0, 1]"),
    ]
    for extra, message in cases:
        code, err = _run(["report", "--html", str(out), *extra], capsys)
        assert code == 2, extra
        assert err.startswith("mjplan report: ") and message in err and err.count("\n") == 1
    code, err = _run(["report", "--html", str(tmp_path / "no" / "r.html")], capsys)
    assert code == 2 and "no folder" in err
    assert not out.exists()


def test_render_table_escapes_values() -> None:
    html = report.render_table(
        report.Table("<b>t</b>", pl.DataFrame({"a": ["<script>x</script>"], "n": [1.5]}))
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<td class="num">1.50</td>' in html
    assert "<h3>&lt;b&gt;t&lt;/b&gt;</h3>" in html


# --- data that cannot be sized, and a dataset in S3 -----------------------------------------


def _write_rows(root: str, rows: list[dict[str, Any]], filesystem: Any = None) -> None:
    """Rows as hive partitions job_type=/dt=/part.parquet under `root` (local or bucket/key)."""
    by_part: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        by_part.setdefault((r["job_type"], r["started_at"].date().isoformat()), []).append(r)
    for (job_type, day), part in by_part.items():
        table = pa.Table.from_pylist(part, schema=schema.arrow_schema())
        folder = f"{root}/job_type={job_type}/dt={day}"
        if filesystem is None:
            Path(folder).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, f"{folder}/part.parquet", filesystem=filesystem)


def _attempts(
    n: int, *, hosts: bool, instance_type: str | None = "c7i.large"
) -> list[dict[str, Any]]:
    """`n` exports of 60 s media in 30 s on `instance_type` (RTF 2.00) and n thumbnails of
    0.5 s, one every 10 minutes; with `hosts`, on two named workers (concurrency measured)."""
    t0 = dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC)
    rows = []
    for i in range(n):
        for job_type, media, wall_ms in ((EXPORT, 60.0, 30_000), (THUMB, 60.0, 500)):
            start = t0 + dt.timedelta(minutes=10 * i)
            rows.append(
                schema.validate_row(
                    {
                        "attempt_id": f"{job_type}-{i}",
                        "job_id": f"{job_type}-job-{i}",
                        "job_type": job_type,
                        "attempt_number": 1,
                        "status": "succeeded",
                        "started_at": start,
                        "finished_at": start + dt.timedelta(milliseconds=wall_ms),
                        "duration_ms": wall_ms,
                        "rtf": media / (wall_ms / 1000),
                        "input_duration_seconds": media,
                        "input_width": 1920,
                        "input_height": 1080,
                        "input_fps": 30.0,
                        "input_video_codec": "h264",
                        "instance_type": instance_type,
                        "hostname": f"w{i % 2}" if hosts else None,
                    }
                )
            )
    return rows


def test_data_that_cannot_be_sized_still_gets_its_statistics_and_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Workers that know no instance type: statistics yes, nothing to price or size.
    data_dir = tmp_path / "attempts"
    _write_rows(str(data_dir), _attempts(24, hosts=True, instance_type=None))
    out = tmp_path / "r.html"
    assert main(["report", "--html", str(out), "--data", str(data_dir)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("mjplan report: sizing left out: no measurement of")
    page = out.read_text(encoding="utf-8")
    parser = _Tables()
    parser.feed(page)
    export = parser.tables[f"{EXPORT} (RTF: media s / wall s)"]
    assert export[1][:4] == ["unknown", "24", "100.0", "2.00"]
    assert "Not sized: no measurement of" in page
    assert not any(t.startswith("Ranked by") for t in parser.tables)
    for name in charts.CHART_NAMES:
        assert f'<section id="{name}" class="chart">' in page


@pytest.mark.s3
def test_report_from_s3(s3_prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from planner.dataset import s3_filesystem

    _write_rows(s3_prefix.removeprefix("s3://"), _attempts(24, hosts=True), s3_filesystem())
    out = tmp_path / "s3.html"
    assert main(["report", "--html", str(out), "--data", s3_prefix, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dataset"] == s3_prefix and doc["bytes"] == out.stat().st_size
    parser = _Tables()
    parser.feed(out.read_text(encoding="utf-8"))
    export = parser.tables[f"{EXPORT} (RTF: media s / wall s)"]
    assert export[1][:4] == ["c7i.large", "24", "100.0", "2.00"]
    thumbs = parser.tables[f"{THUMB} (jobs per hour per busy slot)"]
    assert thumbs[1][:4] == ["c7i.large", "24", "100.0", "7200"]  # 3600 s / 0.5 s per job
    assert any(t.startswith("Recommended spot fleet") for t in parser.tables)


def test_render_html_escapes_dataset_strings_in_charts() -> None:
    import plotly.graph_objects as go

    # An instance type or codec name is data: it must not end the page's script.
    fig = go.Figure(go.Bar(x=["</script><b>x"], y=[1]))
    page = report.render_html(title="<t>", subtitle="s", tables=[], figures=[fig])
    assert "</script><b>" not in page
    assert "<title>&lt;t&gt;</title>" in page
    assert '<section id="chart-1" class="chart">' in page


def test_demand_table_counts_thumbnails_in_jobs_not_media_hours(data: report.ReportData) -> None:
    assert data.result is not None
    [demand, *_] = report.sizing_tables(data.result)
    rows = {r["job type"]: r for r in demand.frame.iter_rows(named=True)}
    assert rows[THUMB]["media h/h"] == "-"  # their inputs' length is no work a thumbnail does
    export = data.result.demand[EXPORT]
    assert rows[EXPORT]["media h/h"] == f"{export.media_seconds_per_hour / 3600:.2f}"
