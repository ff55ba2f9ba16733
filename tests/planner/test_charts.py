"""Charts draw exactly the numbers they are given; chart_data samples attempts per group."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collectors import schema
from planner import chart_data, charts
from planner.dataset import open_dataset
from planner.errors import EmptySelectionError

EXPORT, THUMB, AUDIO = "create_video_export_v1", "upload_thumb_v1", "upload_audio_envelope_v1"


def _points() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "job_type": [THUMB, THUMB, THUMB, EXPORT, EXPORT, EXPORT, AUDIO],
            "instance_type": ["c7i.large", "c7i.large", None, "m7i.large", "c7i.large",
                              "c7i.large", "c7i.large"],
            "rtf": [50.0, 60.0, 70.0, 1.0, 1.2, None, 30.0],
            "seconds_per_job": [0.8, 0.9, 1.1, 30.0, 25.0, 4.0, 2.0],
            "pixels_per_second": [2.07e6, 2.07e6, 9.2e5, 6.2e7, 2.76e7, 2.76e7, None],
            "input_video_codec": ["h264", "hevc", "h264", "h264", "vp9", "vp9", None],
            "cpu_sample_count": [4, 0, None, 3, 3, 3, 2],
            "cpu_pct_avg": [95.0, 1.0, 1.0, 150.0, 180.0, 190.0, 40.0],
            "mem_rss_mb_max": [120.0, 1.0, 1.0, 300.0, 310.0, 320.0, 80.0],
        }
    )  # fmt: skip


def _traces(fig: go.Figure, kind: str) -> list[Any]:
    return [t for t in fig.data if t.type == kind]


def test_rtf_distribution_panels_boxes_and_aggregate_diamonds() -> None:
    # The shape of planner.stats.rtf_summary: rtf null for thumbnails, seconds_per_job_mean.
    agg = pl.DataFrame(
        {
            "job_type": [THUMB, EXPORT, EXPORT, "not_in_points"],
            "instance_type": ["c7i.large", "c7i.large", "m7i.large", "c7i.large"],
            "rtf": [None, 1.2, 1.0, 9.9],
            "seconds_per_job_mean": [0.85, 27.5, 30.0, 1.0],
        }
    )
    fig = charts.rtf_distribution(_points(), agg)
    assert fig.layout.meta == {"chart": charts.RTF_DISTRIBUTION,
                               "how": charts.HOW_TO_READ[charts.RTF_DISTRIBUTION]}
    # One panel per job type, in plan order; thumbnails are drawn in seconds per job.
    assert [a.text for a in fig.layout.annotations] == [
        f"{EXPORT}: RTF (× real time)",
        f"{THUMB}: seconds per job",
        f"{AUDIO}: RTF (× real time)",
    ]
    boxes = {(t.yaxis, t.name): list(t.y) for t in _traces(fig, "box")}
    assert boxes == {
        ("y", "c7i.large"): [1.2],  # the null RTF is left out
        ("y", "m7i.large"): [1.0],
        ("y2", "c7i.large"): [0.8, 0.9],
        ("y2", "unknown"): [1.1],
        ("y3", "c7i.large"): [30.0],
    }
    # One legend entry per instance type, whatever the number of panels.
    assert sorted(t.name for t in _traces(fig, "box") if t.showlegend) == [
        "c7i.large", "m7i.large", "unknown"
    ]  # fmt: skip
    diamonds = {
        (t.yaxis, x): y for t in _traces(fig, "scatter") for x, y in zip(t.x, t.y, strict=True)
    }
    assert diamonds == {("y", "c7i.large"): 1.2, ("y", "m7i.large"): 1.0, ("y2", "c7i.large"): 0.85}
    assert {t.marker.symbol for t in _traces(fig, "scatter")} == {"diamond"}
    assert fig.layout.yaxis.title.text == "RTF (× real time)"
    assert fig.layout.yaxis2.title.text == "seconds per job"


def test_rtf_distribution_violin_and_bad_kind() -> None:
    fig = charts.rtf_distribution(_points(), kind="violin")
    assert len(_traces(fig, "violin")) == 5 and not _traces(fig, "box")
    with pytest.raises(ValueError, match="kind"):
        charts.rtf_distribution(_points(), kind="bar")


def test_same_instance_type_has_one_colour_in_every_chart() -> None:
    pts = _points()
    # The resources chart lacks "a1.large" and the unknown instance: one map keeps colours equal.
    colors = charts.color_map(["a1.large", *pts["instance_type"]])
    dist = charts.rtf_distribution(pts, colors=colors)
    res = charts.resources(pts, colors=colors)
    colour = {t.name: t.marker.color for t in _traces(dist, "box")}
    assert colour == {
        "c7i.large": charts.PALETTE[1],
        "m7i.large": charts.PALETTE[2],
        "unknown": "#9E9E9E",
    }
    # Measured types first, then the others: the measured get the most distinct colours.
    assert charts.color_map(["m.large"], more=["a.large", "m.large", None]) == {
        "m.large": charts.PALETTE[0], "a.large": charts.PALETTE[1], "unknown": "#9E9E9E"
    }  # fmt: skip
    assert {t.name: t.marker.color for t in _traces(res, "box")} == {
        "c7i.large": charts.PALETTE[1],
        "m7i.large": charts.PALETTE[2],
    }


def test_rtf_vs_input_leaves_out_inputs_without_pixels() -> None:
    fig = charts.rtf_vs_input(_points())
    assert fig.layout.meta == {"chart": charts.RTF_VS_INPUT,
                               "how": charts.HOW_TO_READ[charts.RTF_VS_INPUT]}
    got = {(t.yaxis, t.name): (list(t.x), list(t.y)) for t in _traces(fig, "scatter")}
    assert got == {
        ("y", "h264"): ([6.2e7], [1.0]),
        ("y", "vp9"): ([2.76e7], [1.2]),
        ("y2", "h264"): ([2.07e6, 9.2e5], [0.8, 1.1]),
        ("y2", "hevc"): ([2.07e6], [0.9]),
    }
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"


def test_resources_only_counts_sampled_attempts() -> None:
    fig = charts.resources(_points())
    got = {(t.xaxis, t.name): (list(t.x), list(t.y)) for t in _traces(fig, "box")}
    assert got == {
        ("x", "c7i.large"): ([THUMB, EXPORT, EXPORT, AUDIO], [95.0, 180.0, 190.0, 40.0]),
        ("x", "m7i.large"): ([EXPORT], [150.0]),
        ("x2", "c7i.large"): ([THUMB, EXPORT, EXPORT, AUDIO], [120.0, 310.0, 320.0, 80.0]),
        ("x2", "m7i.large"): ([EXPORT], [300.0]),
    }


def test_throughput_cost_bars_per_job_type() -> None:
    frame = pl.DataFrame(
        {
            "job_type": [EXPORT, EXPORT, THUMB],
            "instance_type": ["m7i.large", "c7i.large", "c7i.large"],
            "unit_label": ["media hours", "media hours", "1000 jobs"],
            "units_per_instance_hour": [1.5, 2.0, 4.0],
            "cost_per_unit": [0.05, 0.02, 0.01],
        }
    )
    fig = charts.throughput_cost(frame)
    assert [a.text for a in fig.layout.annotations] == [
        f"{EXPORT}: media hours per instance-hour", f"{EXPORT}: USD per media hour",
        f"{THUMB}: 1000 jobs per instance-hour", f"{THUMB}: USD per 1000 jobs",
    ]  # fmt: skip
    bars = [(t.xaxis, list(t.x), list(t.y), list(t.text)) for t in _traces(fig, "bar")]
    assert bars == [
        ("x", ["c7i.large", "m7i.large"], [2.0, 1.5], ["2", "1.5"]),
        ("x2", ["c7i.large", "m7i.large"], [0.02, 0.05], ["$0.02", "$0.05"]),
        ("x3", ["c7i.large"], [4.0], ["4"]),
        ("x4", ["c7i.large"], [0.01], ["$0.01"]),
    ]


def test_fleet_vs_demand_lines_for_recommended_types() -> None:
    curve = pl.DataFrame(
        {
            "demand_multiplier": [1.0, 1.0, 1.0, 2.0, 2.0, 2.0],
            "instance_type": ["a.large", "b.large", "z.large", "b.large", "a.large", "z.large"],
            "rank": [1, 2, 3, 1, 2, 3],
            "instances": [3, 4, 9, 6, 7, 15],
            "cost_per_hour": [0.3, 0.4, 0.9, 0.6, 0.7, 1.5],
            "recommended": [True, True, False, True, True, False],
            "target_capacity": [4, 4, 4, 8, 8, 8],
        }
    )
    fig = charts.fleet_vs_demand(curve)
    lines = {t.name: (list(t.x), list(t.y)) for t in _traces(fig, "scatter")}
    assert lines == {
        "a.large": ([1.0, 2.0], [3, 7]),
        "b.large": ([1.0, 2.0], [4, 6]),  # z.large is never recommended: no line
        "fleet target capacity": ([1.0, 2.0], [4, 8]),
        "cheapest type, USD/h": ([1.0, 2.0], [0.3, 0.6]),
    }
    cost = _traces(fig, "scatter")[-1]
    assert list(cost.customdata) == ["a.large", "b.large"]
    colors = charts.color_map(curve["instance_type"])
    assert list(cost.marker.color) == [colors["a.large"], colors["b.large"]]
    assert [s.x0 for s in fig.layout.shapes] == [1.0, 1.0]  # today's demand marked


def test_charts_without_data_say_so() -> None:
    none = _points().with_columns(
        pl.lit(None, dtype=pl.Float64).alias("rtf"),
        pl.lit(None, dtype=pl.Float64).alias("seconds_per_job"),
        pl.lit(0).alias("cpu_sample_count"),
    )
    for fig, text in [
        (charts.rtf_distribution(none), "No attempt with an RTF"),
        (charts.rtf_vs_input(none), "No attempt with an RTF and a pixels_per_second"),
        (charts.resources(none), "No attempt was sampled"),
        (charts.fleet_vs_demand(pl.DataFrame()), "No sizing result"),
    ]:
        assert not fig.data
        assert fig.layout.annotations[0].text.startswith(text)


# --- chart_data: the sampled per-attempt query on a real (small) dataset -------------------


def _row(i: int, job_type: str, instance: str | None, status: str = "succeeded") -> dict[str, Any]:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
    return schema.validate_row(
        {
            "attempt_id": f"{job_type}-{instance}-{i}",
            "job_id": f"job-{i}",
            "job_type": job_type,
            "status": status,
            "started_at": start,
            "finished_at": start + dt.timedelta(seconds=10),
            "duration_ms": 10_000,
            "rtf": 3.0,
            "input_duration_seconds": 30.0,
            "input_width": 1280,
            "input_height": 720,
            "input_fps": 25.0,
            "instance_type": instance,
        }
    )


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("attempts")
    groups = [(THUMB, "c7i.large", 3000), (EXPORT, "c7i.large", 40), (EXPORT, None, 5)]
    for job_type, instance, n in groups:
        rows = [_row(i, job_type, instance) for i in range(n)]
        rows.append(_row(n, job_type, instance, status="failed"))
        part = root / f"job_type={job_type}" / "dt=2026-11-01"
        part.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows, schema=schema.arrow_schema())
        pq.write_table(table, part / f"{instance}.parquet")
    return root


def test_attempt_points_keeps_small_groups_whole_and_samples_big_ones(small_dataset: Path) -> None:
    ds = open_dataset(str(small_dataset))
    pts = chart_data.attempt_points(ds, per_group=100)
    sizes = dict(
        pts.group_by("job_type", "instance_type")
        .len()
        .select(pl.concat_str(["job_type", pl.col("instance_type").fill_null("-")]), "len")
        .iter_rows()
    )
    assert sizes[f"{EXPORT}c7i.large"] == 40
    assert sizes[f"{EXPORT}-"] == 5
    # A Bernoulli sample at p = 100/3000: 100 expected, sd 10.
    assert 60 <= sizes[f"{THUMB}c7i.large"] <= 140
    assert set(pts["status"]) == {"succeeded"}
    assert set(pts["group_size"]) == {3000, 40, 5}
    assert set(pts["pixels_per_second"]) == {1280 * 720 * 25.0}
    # The same dataset gives the same points (reports diffed week to week).
    again = chart_data.attempt_points(ds, per_group=100)
    assert again["attempt_id"].to_list() == pts["attempt_id"].to_list()
    with_failed = chart_data.attempt_points(ds, per_group=10_000, succeeded_only=False)
    assert with_failed.height == 3000 + 40 + 5 + 3


def test_attempt_points_refuses_nonsense(small_dataset: Path) -> None:
    ds = open_dataset(str(small_dataset))
    with pytest.raises(ValueError, match="per_group"):
        chart_data.attempt_points(ds, per_group=0)
    # Only failed attempts: nothing to draw (any connection with an `attempts` relation works).
    con = duckdb.connect()
    failed = pa.Table.from_pylist([_row(1, EXPORT, "c7i.large", "failed")], schema.arrow_schema())
    con.register("attempts", failed)
    with pytest.raises(EmptySelectionError, match="no succeeded attempts"):
        chart_data.attempt_points(con)
    assert chart_data.attempt_points(con, succeeded_only=False).height == 1


def test_attempt_points_have_no_zero_second_jobs() -> None:
    # A 0 ms wall time is a missing measurement: planner.stats leaves it out of seconds per
    # job, and the box drawn beside its mean must not show it as a 0 s job.
    con = duckdb.connect()
    rows = [_row(1, THUMB, "c7i.large"), {**_row(2, THUMB, "c7i.large"), "duration_ms": 0}]
    con.register("attempts", pa.Table.from_pylist(rows, schema.arrow_schema()))
    pts = chart_data.attempt_points(con).sort("attempt_id")
    assert pts["seconds_per_job"].to_list() == [10.0, None]


def test_with_concurrency_counts_overlapping_attempts_on_the_same_host(tmp_path: Path) -> None:
    t0 = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)

    def run(
        i: int,
        host: str,
        start_s: int,
        end_s: int,
        status: str = "succeeded",
        it: str = "c7i.large",
    ) -> dict[str, Any]:
        row = _row(i, EXPORT, it, status)
        row.update(
            attempt_id=f"a{i}",
            hostname=host,
            started_at=t0 + dt.timedelta(seconds=start_s),
            finished_at=t0 + dt.timedelta(seconds=end_s),
        )
        return row

    rows = [
        run(1, "w1", 0, 100),
        run(2, "w1", 50, 150),  # overlaps 1 and 3
        run(3, "w1", 120, 200, status="failed"),  # failed, but it used the CPU
        run(4, "w1", 200, 300),  # starts as 3 ends: not overlapping
        run(5, "w2", 0, 300),  # another host
        run(6, "w1", 0, 300, it="m7i.large"),  # same name, another instance type: another host
    ]
    part = tmp_path / f"job_type={EXPORT}" / "dt=2026-11-02"
    part.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema.arrow_schema()), part / "a.parquet")
    ds = open_dataset(str(tmp_path))
    pts = chart_data.with_concurrency(ds, chart_data.attempt_points(ds))
    assert dict(pts.select("attempt_id", "concurrency").iter_rows()) == {
        "a1": 2, "a2": 3, "a4": 1, "a5": 1, "a6": 1
    }  # fmt: skip


def test_value_axis_goes_logarithmic_when_values_span_decades() -> None:
    # 0.5x to 40x: a linear axis would press everything but the fastest against zero.
    assert charts.value_axis([0.5, 1.0, 40.0]) == {"type": "log"}
    assert charts.value_axis([0.5, 2.0, None, 0.0]) == {"type": "linear", "rangemode": "tozero"}
    assert charts.value_axis([]) == {"type": "linear", "rangemode": "tozero"}
