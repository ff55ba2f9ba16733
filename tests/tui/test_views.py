"""Pilot tests of the Distributions and Fleet sizing views, and of the error messages."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select

from planner import formats, queries, stats
from planner.answer import answer_of
from planner.commands import size as size_command
from planner.dataset import default_data_url, open_dataset, s3_filesystem
from planner.demand import parse_forecast
from planner.fleet import fleet_request
from planner.prices import DEFAULT_PRICES_PATH, load_prices
from planner.sizing import SizingOptions, load_sizing_inputs, size_fleet
from planner.tui.app import PlannerApp
from planner.tui.distribution_texts import bins_of, merge_bins
from planner.tui.messages import QueryFailed
from planner.tui.screens.distributions import BINS, FINE_BINS, DistributionsScreen
from planner.tui.screens.save_path import SavePathScreen
from planner.tui.screens.start import StartScreen
from planner.tui.sizing_columns import SIZING_COLUMNS, SIZING_LAYOUTS, sizing_cells
from planner.tui.widgets.attempts_table import AttemptsTable
from planner.tui.widgets.histogram import Histogram
from tests.tui.conftest import TEST_DATA_URL, open_view, wait_for
from tests.tui.helpers import (
    jobs_screen,
    jobs_shown,
    screen_lines,
    sizing_view,
    static_text,
    table_keys,
    table_rows,
    type_keys,
)


async def test_distributions_show_the_planner_statistics(dataset: Any) -> None:
    by_type = {r["job_type"]: r for r in stats.rtf_summary(dataset, by="job_type").to_dicts()}
    by_inst = stats.rtf_summary(dataset, by="instance").to_dicts()
    hist = stats.rtf_histogram(dataset, by="job_type", bins=BINS).to_dicts()
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: jobs_shown(app))
        screen = await open_view(pilot, "d", DistributionsScreen, "data")
        jt = "create_video_export_v1"
        assert screen.job_type == jt and screen.instance_type is None
        selector = static_text(screen.query_one("#dist-selector"))
        assert f"job type {jt} (1/4)" in selector and "instance all" in selector
        figures = static_text(screen.query_one("#dist-stats"))
        row = by_type[jt]
        assert f"  {formats.rtf(row['rtf'])}\n" in figures  # the aggregate RTF
        for p in ("p50", "p90", "p99"):
            assert f"{p}  {formats.rtf(row[f'rtf_{p}'])}" in figures
        histogram = screen.query_one(Histogram)
        expected = [0] * BINS
        for h in hist:
            if h["job_type"] == jt:
                expected[h["bin"]] = h["count"]
        assert histogram.counts == expected
        lines = histogram.lines(60)
        # Each mark sits on the line of the bin holding its value.
        for p in ("p50", "p90", "p99"):
            (line,) = [ln for ln in lines if f" {p}" in ln]
            lo = float(line.split()[0].lstrip("≥").split("–")[0])
            assert row[f"rtf_{p}"] >= lo

        await pilot.press("i")  # first instance type of the job type
        inst = sorted({r["instance_type"] for r in by_inst if r["job_type"] == jt})[0]
        assert screen.instance_type == inst
        row = next(r for r in by_inst if r["job_type"] == jt and r["instance_type"] == inst)
        figures = static_text(screen.query_one("#dist-stats"))
        assert f"attempts   {row['attempts']:,}" in figures
        assert f"  {formats.rtf(row['rtf'])}\n" in figures

        await pilot.press("t", "t")  # thumbnails: seconds per job, no RTF
        assert screen.job_type == "upload_thumb_v1"
        figures = static_text(screen.query_one("#dist-stats"))
        assert "Jobs/hour per slot" in figures
        thumbs = by_type["upload_thumb_v1"]
        assert f"s/job p50  {thumbs['seconds_per_job_p50']:.2f}" in figures


async def test_a_taller_screen_shows_the_histogram_in_more_bins(dataset: Any) -> None:
    jt = "create_video_export_v1"
    fine = [r for r in stats.rtf_histogram(dataset, by="job_type", bins=FINE_BINS).to_dicts()
            if r["job_type"] == jt]
    app = PlannerApp(TEST_DATA_URL)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: jobs_shown(app))
        screen = await open_view(pilot, "d", DistributionsScreen, "data")
        histogram = screen.query_one(Histogram)
        await wait_for(pilot, lambda: histogram.content_size.height > 0)
        edges, counts = histogram.binning(histogram.content_size.height)
        assert len(counts) == 24  # 26 lines: the caption and 24 bins (48 do not fit)
        assert (edges, counts) == merge_bins(*bins_of(fine, FINE_BINS), 24)
        assert sum(counts) == sum(histogram.counts)
        assert len(histogram.lines(60, histogram.content_size.height)) == 25


@pytest.mark.slow
async def test_fleet_sizing_follows_its_inputs_and_writes_the_request(
    dataset: Any, tmp_path: Path
) -> None:
    inputs = load_sizing_inputs(dataset)
    default = size_fleet(inputs, SizingOptions())
    async with sizing_view(str(tmp_path)) as (pilot, screen, table):
        assert table_rows(table) == [
            sizing_cells(i, t, "spot") for i, t in enumerate(default.types, 1)
        ]
        fleet = static_text(screen.query_one("#sizing-fleet"))
        assert default.recommendation is not None
        assert f"target capacity {default.recommendation.total_target_capacity} " in fleet
        # The answer first, under the form, as mjplan size words it, in one line of 80 columns.
        answer = answer_of(default)
        assert answer is not None
        status = static_text(screen.query_one("#sizing-status"))
        assert status.splitlines()[0] == answer.brief() and answer.brief() not in fleet
        assert len(answer.brief()) <= 78

        # Edit the utilisation in place: the table follows.
        box = screen.query_one("#in-utilisation", Input)
        box.value = "0.5"
        await wait_for(pilot, lambda: screen.answer is not None
                       and screen.answer.options.utilisation == 0.5)
        half = size_fleet(inputs, SizingOptions(utilisation=0.5))
        assert table_rows(table) == [
            sizing_cells(i, t, "spot") for i, t in enumerate(half.types, 1)
        ]

        # On-demand instead of spot.
        screen.query_one("#in-capacity", Select).value = "on-demand"
        await wait_for(pilot, lambda: screen.answer is not None
                       and screen.answer.options.capacity == "on-demand")
        od = size_fleet(inputs, SizingOptions(utilisation=0.5, capacity="on-demand"))
        assert table_rows(table)[0] == sizing_cells(1, od.types[0], "on-demand")

        # A bad value is a message, and the last good table stays, dimmed and labelled as such.
        box.value = "1.5"
        await wait_for(pilot, lambda: "Error" in static_text(screen.query_one("#sizing-status")))
        status = static_text(screen.query_one("#sizing-status"))
        assert "utilisation" in status and "the last inputs that could be sized" in status
        assert table_rows(table)[0] == sizing_cells(1, od.types[0], "on-demand")
        assert table.has_class("stale") and screen.query_one("#sizing-fleet").has_class("stale")
        box.value = "0.5"
        await wait_for(pilot, lambda: screen.computed_generation == screen.generation)
        assert not table.has_class("stale")

        # A forecast instead of the data's demand, for one job type.
        demand = screen.query_one("#in-demand", Input)
        demand.value = "create_video_export_v1=40h/d"
        await wait_for(pilot, lambda: screen.answer is not None
                       and len(screen.answer.options.forecasts) == 1)
        forecast = size_fleet(inputs, SizingOptions(
            utilisation=0.5, capacity="on-demand",
            forecasts=(parse_forecast("create_video_export_v1=40h/d"),)))
        assert table_rows(table) == [
            sizing_cells(i, t, "on-demand") for i, t in enumerate(forecast.types, 1)
        ]
        demand.value = ""
        await wait_for(pilot, lambda: screen.answer is not None
                       and not screen.answer.options.forecasts)

        # Another price file: only its instance types are sized.
        prices = screen.query_one("#in-prices", Input)
        prices.value = str(tmp_path / "missing.csv")
        await wait_for(pilot, lambda: "Error" in static_text(screen.query_one("#sizing-status")))
        assert "missing.csv" in static_text(screen.query_one("#sizing-status"))
        lines = DEFAULT_PRICES_PATH.read_text().splitlines()
        header = next(i for i, line in enumerate(lines) if line.startswith("instance_type"))
        kept = [line for line in lines[header + 1:] if line.startswith(("c7i.", "c7g."))]
        small = tmp_path / "prices.csv"
        small.write_text("\n".join([*lines[: header + 1], *kept]) + "\n")
        prices.value = str(small)
        await wait_for(pilot, lambda: screen.computed_generation == screen.generation
                       and screen.inputs.prices.source == str(small))
        assert {r[1].rstrip("*").split(".")[0] for r in table_rows(table)} <= {"c7i", "c7g"}
        mine = size_fleet(replace(inputs, prices=load_prices(small)),
                          SizingOptions(utilisation=0.5, capacity="on-demand"))
        assert table_rows(table) == [
            sizing_cells(i, t, "on-demand") for i, t in enumerate(mine.types, 1)
        ]
        prices.value = ""
        await wait_for(pilot, lambda: screen.computed_generation == screen.generation
                       and screen.inputs.prices.source == str(DEFAULT_PRICES_PATH))

        # w asks where (the folder given, shown), then writes the fleet request and says where.
        await pilot.press("escape", "w")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SavePathScreen))
        path = tmp_path / "fleet-request-on-demand.json"
        assert getattr(pilot.app.screen.query_one("#save-path"), "value", "") == str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.written is not None)
        assert screen.written == str(path)
        assert str(path) in static_text(screen.query_one("#sizing-status"))
        assert od.recommendation is not None
        assert json.loads(path.read_text()) == fleet_request(od.recommendation)


def _headers(table: DataTable[Any]) -> list[str]:
    return [str(c.label) for c in table.ordered_columns]


async def test_a_wider_screen_shows_more_sizing_columns(dataset: Any) -> None:
    """80 columns: counts and costs in the chosen capacity type; wider: on-demand and spot side
    by side; 200: every column of `mjplan size`. Each form fits without scrolling sideways."""
    result = size_fleet(load_sizing_inputs(dataset), SizingOptions())
    async with sizing_view() as (pilot, screen, table):

        def fits() -> bool:
            return table.virtual_size.width <= table.scrollable_content_region.width

        assert _headers(table) == [label for _, label in SIZING_COLUMNS]
        assert fits()
        # The note on estimated types is never broken across lines.
        assert any(t.estimated for t in result.types)
        status = static_text(screen.query_one("#sizing-status")).splitlines()
        assert status[-1].endswith("* estimated from a measured type of its family")

        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: "OD $/h" in _headers(table))
        assert _headers(table) == [
            "#", "Instance", "Slots", "Bound", "Util", "OD inst", "OD $/h", "OD $/media h",
            "Spot inst", "Spot $/h", "Spot $/media h"]
        assert table_rows(table) == [
            sizing_cells(i, t, "spot", SIZING_LAYOUTS[2]) for i, t in enumerate(result.types, 1)
        ]
        first = dict(zip(_headers(table), table_rows(table)[0], strict=True))
        top = result.types[0]
        assert first["OD $/h"] == formats.usd(top.on_demand_usd_h)
        assert first["Spot $/h"] == formats.usd(top.spot_usd_h)
        assert first["Bound"] == top.bound
        assert fits()

        await pilot.resize_terminal(200, 50)
        await wait_for(pilot, lambda: "From" in _headers(table))
        assert _headers(table)[-4:] == ["Spot band", "Spot inst", "Spot $/h", "Spot $/media h"]
        rows = {r[1]: dict(zip(_headers(table), r, strict=True)) for r in table_rows(table)}
        for t in result.types:
            row = rows[t.instance_type + ("*" if t.estimated else "")]
            assert row["From"] == t.from_label  # production/bench/synthetic, est. <type>
            assert row["Util n"] == str(t.instances_utilisation)
        assert fits()

        # 100 columns: one $/media h, in the capacity chosen, which its header names.
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: "OD $/media h" not in _headers(table)
                       and "OD $/h" in _headers(table))
        assert _headers(table)[-1] == "Spot $/media h"
        assert fits()
        screen.query_one("#in-capacity", Select).value = "on-demand"
        await wait_for(pilot, lambda: screen.answer is not None
                       and screen.answer.options.capacity == "on-demand")
        assert _headers(table)[-1] == "OD $/media h"
        od = size_fleet(load_sizing_inputs(dataset), SizingOptions(capacity="on-demand"))
        assert table_rows(table)[0][-1] == formats.usd(od.types[0].on_demand_usd_per_media_h, 3)

        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: _headers(table) == [label for _, label in SIZING_COLUMNS])
        assert table_rows(table) == [
            sizing_cells(i, t, "on-demand") for i, t in enumerate(od.types, 1)
        ]
        assert fits()


async def test_fleet_inputs_say_how_to_leave_them() -> None:
    """Typing in an input hides the letter keys from the footer (they type); it shows escape,
    which goes back to the table, from the capacity Select too."""
    async with sizing_view() as (pilot, screen, table):

        def footer() -> str:
            return screen_lines(pilot.app)[-1]

        assert table.has_focus and "w Write fleet JSON" in footer() and "esc" not in footer()
        assert "e Edit inputs" in footer()
        await pilot.press("e")
        await wait_for(pilot, lambda: "esc Back to the table" in footer())
        assert screen.focused is screen.query_one("#in-demand", Input)
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.has_focus and "w Write fleet JSON" in footer())
        screen.query_one("#in-capacity", Select).focus()
        await pilot.pause()
        assert footer().rstrip().endswith("q Quit")  # the footer still fits
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.has_focus)


async def _type_into(pilot: Pilot[Any], box: Input, text: str) -> None:
    """Click the input, delete what it holds and type `text`, key by key, as a user would."""
    await pilot.click(f"#{box.id}")
    await type_keys(pilot, "end", *["backspace"] * len(box.value), *text)
    assert box.value == text


def _cli_options(*argv: str) -> tuple[SizingOptions, dt.timedelta]:
    """What `mjplan size ARGV` sizes with: its options and window (`build_options`)."""
    parser = argparse.ArgumentParser()
    size_command.add_arguments(parser)
    args = parser.parse_args(list(argv))
    return size_command.build_options(args), size_command.parse_window(args)


@pytest.mark.slow
async def test_fleet_sizing_growth_percentile_and_window_match_the_cli(dataset: Any) -> None:
    options, window = _cli_options("--growth", "2", "--percentile", "50")
    assert (options.growth, options.percentile, window) == (2.0, 50.0, dt.timedelta(days=14))
    inputs = load_sizing_inputs(dataset, window=window)
    expected = size_fleet(inputs, options)
    async with sizing_view() as (pilot, screen, table):
        assert screen.result.options == size_fleet(inputs, _cli_options()[0]).options

        await _type_into(pilot, screen.query_one("#in-growth", Input), "2")
        await _type_into(pilot, screen.query_one("#in-percentile", Input), "50")
        await wait_for(pilot, lambda: screen.computed_generation == screen.generation
                       and screen.result.options.percentile == 50)
        assert screen.result.options == options
        assert table_rows(table) == [
            sizing_cells(i, t, "spot") for i, t in enumerate(expected.types, 1)
        ]
        shown = {r[1].rstrip("*"): (int(r[3]), int(r[4])) for r in table_rows(table)}
        assert shown == {t.instance_type: (t.instances, t.instances_spot) for t in expected.types}
        status = static_text(screen.query_one("#sizing-status"))
        assert f"the p50 hour of load on {expected.types[0].instance_type}" in status
        for job_type, d in expected.demand.items():
            # The mix of one real hour of the window (the p50 hour of the load), doubled.
            base = inputs.histories[job_type]
            assert d.jobs_per_hour in {n * 2 for n in base.jobs}
            assert f"{formats.short_job_type(job_type)} {d.jobs_per_hour:.1f}" in status
        fleet = static_text(screen.query_one("#sizing-fleet"))
        assert expected.recommendation is not None
        assert f"target capacity {expected.recommendation.total_target_capacity} " in fleet
        names = {m.instance_type for m in expected.recommendation.members}
        unit = min((t for t in expected.types if t.instance_type in names),
                   key=lambda t: t.capacity_jobs_per_hour)
        assert (f"1 unit = one {unit.instance_type}'s throughput of this mix "
                f"({unit.capacity_jobs_per_hour:.1f} jobs/h, all slots busy)") in fleet
        planner_unit = expected.recommendation.unit
        assert planner_unit.startswith(f"the throughput of one {unit.instance_type} ")

        # A bad value is a one-line message naming the field; the last good table stays.
        growth = screen.query_one("#in-growth", Input)
        for bad, says in (("0", "growth must be above 0"), ("two", "growth 'two' is not")):
            await _type_into(pilot, growth, bad)
            await wait_for(pilot, lambda: "Error" in static_text(
                screen.query_one("#sizing-status")))
            assert says in static_text(screen.query_one("#sizing-status"))
            assert table_rows(table) == [
                sizing_cells(i, t, "spot") for i, t in enumerate(expected.types, 1)
            ]
        await _type_into(pilot, growth, "2")
        percentile = screen.query_one("#in-percentile", Input)
        await _type_into(pilot, percentile, "101")
        await wait_for(pilot, lambda: "percentile must be in (0, 100]" in static_text(
            screen.query_one("#sizing-status")))
        await _type_into(pilot, percentile, "p50")  # as the wait target writes it
        await wait_for(pilot, lambda: screen.computed_generation == screen.generation)
        assert screen.result.options == options

        # Another window: the queries run again over it, as `mjplan size --window 10d`.
        window_box = screen.query_one("#in-window", Input)
        await _type_into(pilot, window_box, "2x")
        await wait_for(pilot, lambda: "Error" in static_text(screen.query_one("#sizing-status")))
        assert "window '2x'" in static_text(screen.query_one("#sizing-status"))
        await _type_into(pilot, window_box, "10d")
        await wait_for(pilot, lambda: screen.computed_generation == screen.generation
                       and screen.inputs.window == dt.timedelta(days=10), timeout=60)
        options2, window2 = _cli_options("--growth", "2", "--percentile", "50", "--window", "10d")
        short = size_fleet(load_sizing_inputs(dataset, window=window2), options2)
        assert table_rows(table) == [
            sizing_cells(i, t, "spot") for i, t in enumerate(short.types, 1)
        ]
        assert (f"the p50 hour of load on {short.types[0].instance_type}"
                in static_text(screen.query_one("#sizing-status")))

        # Growth multiplies a forecast too.
        await _type_into(pilot, screen.query_one("#in-demand", Input), "upload_thumb_v1=900/h")
        await wait_for(pilot, lambda: screen.computed_generation == screen.generation
                       and bool(screen.result.options.forecasts))
        options3, _ = _cli_options("--growth", "2", "--percentile", "50", "--window", "10d",
                                   "--forecast", "upload_thumb_v1=900/h")
        assert screen.result.options == options3
        assert screen.result.demand["upload_thumb_v1"].jobs_per_hour == 1800
        assert "thumb 1800.0" in static_text(screen.query_one("#sizing-status"))

        # The failure of a form since changed (a slow window query) does not hide this result.
        screen.post_message(QueryFailed(f"sizing#{screen.generation - 1}", "stale failure"))
        await pilot.pause(0.1)
        assert "thumb 1800.0" in static_text(screen.query_one("#sizing-status"))
        screen.post_message(QueryFailed(f"sizing#{screen.generation}", "current failure"))
        await wait_for(pilot, lambda: "current failure" in static_text(
            screen.query_one("#sizing-status")))


async def test_empty_dataset_shows_a_message(tmp_path: Path) -> None:
    app = PlannerApp(str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Cannot open" in static_text(
            app.screen.query_one("#start-text")))
        assert isinstance(app.screen, StartScreen)
        text = static_text(app.screen.query_one("#start-text"))
        assert f"no Parquet files under {tmp_path}" in text
        await pilot.press("j")  # the views stay closed without data
        assert isinstance(app.screen, StartScreen)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_s3_shows_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    app = PlannerApp("s3://bucket/x")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Cannot open" in static_text(
            app.screen.query_one("#start-text")), timeout=60)
        text = static_text(app.screen.query_one("#start-text"))
        assert "cannot list s3://bucket/x" in text
        assert "Traceback" not in text


async def test_skipped_files_are_announced(tmp_path: Path) -> None:
    source = sorted(Path(default_data_url()).rglob("*.parquet"))[0]
    part = tmp_path / source.parent.parent.name / source.parent.name
    part.mkdir(parents=True)
    (part / "good.parquet").write_bytes(source.read_bytes())
    (part / "torn.parquet").write_bytes(b"PAR1 not really")
    app = PlannerApp(str(tmp_path))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_for(pilot, lambda: jobs_shown(app) and bool(app.screen.query("Toast")))
        toasts = [str(getattr(t.render(), "plain", t.render())) for t in app.screen.query("Toast")]
        assert any("1 unreadable file(s) skipped, e.g. " in t and "torn.parquet" in t
                   for t in toasts), toasts


@pytest.mark.s3
async def test_s3_dataset_shows_its_attempts(fixed_data_url: str, s3_prefix: str) -> None:
    """`mjplan tui --data s3://...` on a real S3 server (SeaweedFS) shows what a folder does."""
    pafs.copy_files(fixed_data_url, s3_prefix.removeprefix("s3://"),
                    destination_filesystem=s3_filesystem())
    local = open_dataset(fixed_data_url)
    expected = queries.list_attempts(local, limit=200)["attempt_id"].to_list()
    total = queries.count_attempts(local)
    local.close()
    app = PlannerApp(s3_prefix)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: jobs_shown(app) and jobs_screen(app).total is not None,
                       timeout=60)
        assert table_keys(app.screen.query_one(AttemptsTable)) == expected
        assert jobs_screen(app).total == total
