"""`mjplan report --html` on the embedded data: every chart, and the planner's numbers as the
terminal commands print them."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from planner import chart_data, charts, report
from planner.cli import main
from planner.dataset import open_dataset
from planner.prices import load_prices
from planner.sizing import SizingOptions, load_sizing_inputs, parse_wait, size_fleet
from planner.stats import rtf_summary
from planner.table_rows import job_type_title
from planner.throughput import throughput_frame
from tests.planner.report_html import ReportTables
from tests.rows import exports_and_thumbs, write

EXPORT, THUMB = "create_video_export_v1", "upload_thumb_v1"


def _terminal_tables(text: str) -> dict[str, list[list[str]]]:
    """Rows of the Markdown tables a command printed (`--format markdown`), under the bold
    line before each table ("" for one without), header row included."""
    tables: dict[str, list[list[str]]] = {}
    title = ""
    for line in text.splitlines():
        if re.fullmatch(r"\|[-:|]+\|", line):  # the rule under the header
            continue
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in line[2:-2].split(" | ")]
            tables.setdefault(title, []).append(cells)
        elif line.startswith("**"):
            title = line.strip("*")
    return tables


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReportTables]:
    path = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", "--html", str(path), "--wait", "p95=30s", "--points", "300"]) == 0
    parser = ReportTables()
    parser.feed(path.read_text(encoding="utf-8"))
    return path, parser


def test_report_holds_every_chart_and_plotly_once(built: tuple[Path, ReportTables]) -> None:
    path, _ = built
    page = path.read_text(encoding="utf-8")
    for name in charts.CHART_NAMES:
        assert f'<section id="{name}" class="chart">' in page
        assert re.search(rf'Plotly\.newPlot\(\s*"{name}-plot"', page), name
    # Readable offline: plotly.js inline, once; no script fetched from anywhere.
    assert page.count("* plotly.js v") == 1
    assert not re.search(r"<script[^>]*\bsrc=", page)


def test_report_tables_match_mjplan_summary(
    built: tuple[Path, ReportTables], capsys: pytest.CaptureFixture[str]
) -> None:
    _, parsed = built
    assert main(["summary", "--wide", "--format", "markdown"]) == 0
    terminal = _terminal_tables(capsys.readouterr().out)
    job_tables = {t: rows for t, rows in terminal.items()
                  if t.startswith(("export ·", "proxy ·", "thumb ·", "audio ·"))}
    assert len(job_tables) == 4
    for title, rows in job_tables.items():
        assert parsed.tables[title] == rows, title
    # And the numbers are the planner's: the aggregate RTF of exports on c5.large, two decimals.
    ds = open_dataset()
    summary = rtf_summary(ds, by="instance")
    row = summary.filter(
        (summary["job_type"] == EXPORT) & (summary["instance_type"] == "c5.large")
    ).row(0, named=True)
    table = parsed.tables[job_type_title(EXPORT)]
    c5 = next(r for r in table if r[0] == "c5.large")
    assert c5[table[0].index("RTF")] == f"{row['rtf']:.2f}"
    assert c5[table[0].index("95% CI")] == f"{row['rtf_ci_low']:.2f}-{row['rtf_ci_high']:.2f}"
    thumbs = parsed.tables[job_type_title(THUMB)]
    assert thumbs[0][:4] == ["instance", "attempts", "ok %", "jobs/h"]


def test_report_sizing_matches_mjplan_size(
    built: tuple[Path, ReportTables], capsys: pytest.CaptureFixture[str]
) -> None:
    _, parsed = built
    assert main(["size", "--wait", "p95=30s", "--top", "15", "--wide", "--format",
                 "markdown"]) == 0
    out = capsys.readouterr().out
    terminal = [rows for rows in _terminal_tables(out).values() if rows[0][0] == "#"]
    ranked = next(rows for t, rows in parsed.tables.items() if t.startswith("Ranked by spot"))
    assert ranked == terminal[0]
    rec_title = next(t for t in parsed.tables if t.startswith("Recommended spot fleet"))
    target = int(rec_title.rsplit(" ", 1)[1])
    assert f"target capacity {target} over" in out
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
    _, summary = report.charted(data)  # hosts without an instance type are not charted
    for row in summary.iter_rows(named=True):
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


def test_data_that_cannot_be_sized_still_gets_its_statistics_and_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Workers that know no instance type: statistics yes, nothing to price or size.
    data_dir = tmp_path / "attempts"
    write(data_dir, exports_and_thumbs(24, hosts=True, instance_type=None), name="part")
    out = tmp_path / "r.html"
    assert main(["report", "--html", str(out), "--data", str(data_dir)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("mjplan report: sizing left out: no measurement of")
    page = out.read_text(encoding="utf-8")
    parser = ReportTables()
    parser.feed(page)
    export = parser.tables[job_type_title(EXPORT)]
    assert export[1][:4] == ["unknown", "24", "100.0", "2.00"]
    assert "Not sized: no measurement of" in page
    assert not any(t.startswith("Ranked by") for t in parser.tables)
    for name in charts.CHART_NAMES:
        assert f'<section id="{name}" class="chart">' in page


@pytest.mark.s3
def test_report_from_s3(s3_prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from planner.dataset import s3_filesystem

    write(s3_prefix.removeprefix("s3://"), exports_and_thumbs(24, hosts=True), name="part",
          filesystem=s3_filesystem())
    out = tmp_path / "s3.html"
    assert main(["report", "--html", str(out), "--data", s3_prefix, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dataset"] == s3_prefix and doc["bytes"] == out.stat().st_size
    parser = ReportTables()
    parser.feed(out.read_text(encoding="utf-8"))
    export = parser.tables[job_type_title(EXPORT)]
    assert export[1][:4] == ["c7i.large", "24", "100.0", "2.00"]
    thumbs = parser.tables[job_type_title(THUMB)]
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


class _Answer(HTMLParser):
    """The text of the report's first section (`<section id="answer">`) and what precedes it."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text = ""
        self.seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section" and ("id", "answer") in attrs:
            self.depth, self.seen = 1, True
        elif tag == "section" and self.depth:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text += data + " "


def test_the_first_section_holds_the_answer_of_mjplan_size(
    built: tuple[Path, ReportTables], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = built
    assert main(["size", "--wait", "p95=30s", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)["answer"]
    page = path.read_text(encoding="utf-8")
    first = _Answer()
    first.feed(page)
    # Before any chart or table: only the title and the data line come before it.
    assert first.seen
    assert page.index('<section id="answer">') < page.index('class="chart"') < page.index(
        '<section id="summary">')
    body = page[page.index("<body>"):page.index('<section id="answer">')]
    assert "<table" not in body and "Plotly.newPlot" not in body
    text = " ".join(first.text.split())
    assert answer["sentence"] in text
    assert f"${answer['usd_month']:,.0f} a month" in text
    assert f"${answer['on_demand_usd_month']:,.0f} a month" in text
    # What it was sized for, its assumptions and what the data covers.
    assert answer["demand"] in text
    assert "a month is 730 hours" in text and "p95 wait <= 30s" in text
    for words in ("measured in production", "synthetic"):
        assert words in text
    assert "left out of the charts" in text


def test_charts_leave_out_hosts_without_an_instance_type(data: report.ReportData) -> None:
    assert data.unknown_instance_attempts > 0  # the development machine's measured rows
    points, summary = report.charted(data)
    assert points["instance_type"].null_count() == 0
    assert "unknown" not in summary["instance_type"].to_list()
    assert points.height == data.points.height - data.points["instance_type"].null_count()
    assert "left out of the charts" in report.charts_note(data)
    for fig in report.figures(data):
        assert fig.layout.meta["how"] == charts.HOW_TO_READ[fig.layout.meta["chart"]]
