"""The density curve on a hand-made dataset whose RTF per level is known, and `mjplan density`.

Expected figures are computed by hand from the rows below (comments show the arithmetic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planner import cli
from planner.dataset import open_dataset
from planner.density import DensityError, best_densities, best_slots, density_curve
from tests.rows import row, write

EXPORT = "create_video_export_v1"
THUMB = "upload_thumb_v1"
PRICES = {"c7i.large": 0.09, "m6i.large": 0.1}


def _level(n: int, running: int, *, job_type: str = EXPORT, input_s: float = 60.0,
           wall_s: float, instance_type: str = "c7i.large", **extra: Any) -> list[dict[str, Any]]:
    return [row(job_type=job_type, input_s=input_s, wall_s=wall_s, start_s=i * 1000.0,
                instance_type=instance_type, host_running_at_start=running, source="bench",
                **extra) for i in range(n)]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("density")
    rows = [
        # c7i.large export: 60 s of media in 30 / 40 / 50 / 100 s at 1 / 2 / 3 / 4 running.
        *_level(6, 1, wall_s=30.0), *_level(6, 2, wall_s=40.0), *_level(6, 3, wall_s=50.0),
        *_level(6, 4, wall_s=100.0),
        # Too few to be chosen, however fast.
        *_level(2, 6, wall_s=10.0),
        # Not counted: failed, an unknown level (version-1 style), an unknown input duration
        # (counted in s/job, not in the RTF).
        *_level(3, 2, wall_s=5.0, status="failed"),
        row(job_type=EXPORT, input_s=60.0, wall_s=1.0, instance_type="c7i.large"),
        row(job_type=EXPORT, input_s=None, wall_s=40.0, instance_type="c7i.large",
            host_running_at_start=2, source="production"),
        # c7i.large thumbnails: 1.0 / 1.5 / 2.4 s a job at 1 / 2 / 3 running.
        *_level(5, 1, job_type=THUMB, input_s=10.0, wall_s=1.0),
        *_level(5, 2, job_type=THUMB, input_s=10.0, wall_s=1.5),
        *_level(5, 3, job_type=THUMB, input_s=10.0, wall_s=2.4),
        # m6i.large export: 60 s in 20 s alone, 45 s at 2 (slowdown 2.25).
        *_level(5, 1, wall_s=20.0, instance_type="m6i.large"),
        *_level(5, 2, wall_s=45.0, instance_type="m6i.large"),
    ]
    write(root, rows)
    return root


@pytest.fixture(scope="module")
def curve(data: Path) -> Any:
    ds = open_dataset(str(data))
    try:
        return density_curve(ds, PRICES, max_slowdown=1.5, min_attempts=5)
    finally:
        ds.close()


def _at(curve: Any, instance_type: str, job_type: str, running: int) -> dict[str, Any]:
    rows = [r for r in curve.to_dicts() if (r["instance_type"], r["job_type"], r["running"])
            == (instance_type, job_type, running)]
    assert len(rows) == 1
    found: dict[str, Any] = rows[0]
    return found


def test_rtf_throughput_slowdown_per_level_by_hand(curve: Any) -> None:
    expected = {  # running: (attempts, rtf, media s per s of one instance, slowdown)
        1: (6, 60 / 30, 1 * 60 / 30, 1.0),
        2: (7, 60 / 40, 2 * 60 / 40, (60 / 30) / (60 / 40)),  # 7: the unknown-input attempt
        3: (6, 60 / 50, 3 * 60 / 50, (60 / 30) / (60 / 50)),
        4: (6, 60 / 100, 4 * 60 / 100, (60 / 30) / (60 / 100)),
        6: (2, 60 / 10, 6 * 60 / 10, (60 / 30) / (60 / 10)),
    }
    for running, (n, rtf, throughput, slowdown) in expected.items():
        got = _at(curve, "c7i.large", EXPORT, running)
        assert got["attempts"] == n
        assert got["rtf"] == pytest.approx(rtf)
        assert got["throughput"] == pytest.approx(throughput)
        assert got["slowdown"] == pytest.approx(slowdown)
        assert got["throughput_unit"] == "media_seconds"
        assert got["usd_h"] == 0.09
        assert got["per_usd"] == pytest.approx(throughput * 3600 / 0.09)
    assert _at(curve, "c7i.large", EXPORT, 2)["service_s"] == pytest.approx(40.0)
    assert _at(curve, "c7i.large", EXPORT, 2)["source"] == "bench+production"
    assert _at(curve, "c7i.large", EXPORT, 1)["source"] == "bench"


def test_best_and_bounded_levels(curve: Any) -> None:
    marks = {(r["instance_type"], r["job_type"], r["running"]): (r["best"], r["bounded"])
             for r in curve.to_dicts()}
    # Export on c7i.large: 2.0, 3.0, 3.6, 2.4 (and 36 at 6, too few): best 3 (slowdown 1.67),
    # bounded by 1.5: 2 (slowdown 1.33).
    assert [k[2] for k, (best, _) in marks.items() if best and k[:2] == ("c7i.large", EXPORT)
            ] == [3]
    assert [k[2] for k, (_, b) in marks.items() if b and k[:2] == ("c7i.large", EXPORT)] == [2]
    # Thumbnails: 3600, 2 * 3600 / 1.5 = 4800, 3 * 3600 / 2.4 = 4500 jobs/h; slowdown at 2 is
    # 1.5 exactly, within the bound.
    thumb2 = _at(curve, "c7i.large", THUMB, 2)
    assert thumb2["throughput"] == pytest.approx(4800.0) and thumb2["slowdown"] == 1.5
    assert thumb2["throughput_unit"] == "jobs"
    assert (thumb2["best"], thumb2["bounded"]) == (True, True)
    # m6i.large: 60 / 20 = 3.0 alone beats 2 * 60 / 45 = 2.67 at 2 (slowdown 2.25), so level 1
    # is both best and bounded.
    assert _at(curve, "m6i.large", EXPORT, 1)["throughput"] == pytest.approx(3.0)
    assert _at(curve, "m6i.large", EXPORT, 2)["throughput"] == pytest.approx(2 * 60 / 45)
    assert (_at(curve, "m6i.large", EXPORT, 1)["best"],
            _at(curve, "m6i.large", EXPORT, 1)["bounded"]) == (True, True)

    best = {(r["instance_type"], r["job_type"]): r for r in best_densities(curve).to_dicts()}
    assert best[("c7i.large", EXPORT)]["best_running"] == 3
    assert best[("c7i.large", EXPORT)]["bounded_running"] == 2
    assert best[("c7i.large", EXPORT)]["bounded_per_usd"] == pytest.approx(3.0 * 3600 / 0.09)
    assert best[("c7i.large", EXPORT)]["attempts"] == 6 + 7 + 6 + 6 + 2
    assert best[("c7i.large", EXPORT)]["source"] == "bench+production"
    # Slots for sizing: the smallest bounded level over the job types of a type.
    assert best_slots(curve) == {"c7i.large": 2, "m6i.large": 1}
    assert best_slots(curve, job_types=[THUMB]) == {"c7i.large": 2}


def test_a_looser_bound_and_fewer_attempts_move_the_choice(data: Path) -> None:
    ds = open_dataset(str(data))
    try:
        loose = density_curve(ds, PRICES, max_slowdown=2.0, min_attempts=5)
        few = density_curve(ds, None, max_slowdown=1.5, min_attempts=2)
        production_only = density_curve(ds, PRICES, sources=["production"])
    finally:
        ds.close()
    # Export at 3 (slowdown 1.67) is within 2x now; thumbnails at 3 (2.4x) are not, so the
    # type's slots stay at 2 unless sized for exports alone.
    assert best_slots(loose, job_types=[EXPORT]) == {"c7i.large": 3, "m6i.large": 1}
    assert best_slots(loose) == {"c7i.large": 2, "m6i.large": 1}
    few_best = [r["running"] for r in few.to_dicts()
                if r["best"] and (r["instance_type"], r["job_type"]) == ("c7i.large", EXPORT)]
    assert few_best == [6]  # 6 * 60 / 10 = 36 media s/s once 2 attempts suffice
    assert few["per_usd"].is_null().all()  # no prices: no per-dollar figure
    # The production row alone has no known input: s/job but no RTF, never chosen.
    assert production_only.height == 1 and production_only["rtf"][0] is None
    assert not production_only["best"][0]


def test_bad_options_raise_one_line_errors(data: Path) -> None:
    ds = open_dataset(str(data))
    try:
        for bad in ({"max_slowdown": 0.9}, {"max_slowdown": float("nan")}, {"min_attempts": 0}):
            with pytest.raises(DensityError):
                density_curve(ds, PRICES, **bad)
    finally:
        ds.close()


def test_mjplan_density_json_and_table(data: Path, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("instance_type,vcpus,memory_gib,on_demand_usd_h,spot_usd_h,"
                      "interruption_band\nc7i.large,2,4,0.18,0.09,<5%\n")
    assert cli.main(["density", "--data", str(data), "--json", "--prices", str(prices),
                     "--job-type", EXPORT]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["max_slowdown"] == 1.5 and doc["price"] == "spot"
    c7i = {r["running"]: r for r in doc["curve"] if r["instance_type"] == "c7i.large"}
    assert c7i[3]["best"] and c7i[2]["bounded"]
    assert c7i[3]["per_usd"] == pytest.approx(3 * 60 / 50 * 3600 / 0.09)
    m6i = [r for r in doc["curve"] if r["instance_type"] == "m6i.large"]
    assert m6i and all(r["usd_h"] is None for r in m6i)  # not in that price file
    assert {(r["instance_type"], r["bounded_running"]) for r in doc["best"]} == {
        ("c7i.large", 2), ("m6i.large", 1)}

    assert cli.main(["density", "--data", str(data), "--on-demand", "--prices", str(prices),
                     "--max-slowdown", "2"]) == 0
    out = capsys.readouterr().out
    assert "upload_thumb_v1 (throughput of one instance: jobs/h)" in out
    assert "4800" in out and "best" in out and "≤2x" in out


def test_mjplan_density_errors_exit_2(data: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["density", "--data", str(data), "--max-slowdown", "0.5"]) == 2
    assert "--max-slowdown" in capsys.readouterr().err
    v1 = tmp_path / "v1"
    write(v1, [row()])  # no level recorded
    assert cli.main(["density", "--data", str(v1)]) == 2
    err = capsys.readouterr().err
    assert "host_running_at_start" in err and len(err.strip().splitlines()) == 1


def test_density_chart_draws_the_curve(curve: Any) -> None:
    import polars as pl

    from planner import charts

    fig = charts.density(curve)
    assert fig.layout.meta["chart"] == charts.DENSITY
    traces = {(t.name, t.xaxis): t for t in fig.data}
    c7i_export = traces[("c7i.large", "x")]  # first panel: the export job type
    assert list(c7i_export.x) == [1, 2, 3, 4, 6]
    assert list(c7i_export.y) == pytest.approx([2.0, 3.0, 3.6, 2.4, 36.0])
    assert list(c7i_export.marker.symbol) == ["circle", "circle-open", "star", "circle", "circle"]
    assert len(fig.data) == 3  # c7i and m6i exports, c7i thumbnails
    empty = charts.density(pl.DataFrame())
    assert not empty.data and "host_running_at_start" in empty.layout.annotations[0].text


def test_slots_best_sizes_at_the_best_density_with_its_service_times(data: Path) -> None:
    import datetime as dt

    from planner.density import measure_levels, with_density_slots
    from planner.prices import parse_prices
    from planner.sizing import load_sizing_inputs, size_fleet
    from planner.sizing_options import build_sizing_options

    prices = parse_prices(
        "instance_type,vcpus,memory_gib,on_demand_usd_h,spot_usd_h,interruption_band\n"
        "c7i.large,2,4,0.18,0.09,<5%\nm6i.large,2,8,0.2,0.1,<5%\n")
    ds = open_dataset(str(data))
    try:
        inputs = load_sizing_inputs(ds, window=dt.timedelta(days=30), prices=prices)
        levels = measure_levels(ds)
    finally:
        ds.close()
    best = with_density_slots(inputs.measurements, levels, max_slowdown=1.5)
    c7i = best["c7i.large"]
    assert c7i.density_slots == 2 and c7i.slots_for("best") == 2
    # The services of level 2, by hand: 7 exports of 40 s (one without a known input), 5
    # thumbnails of 1.5 s.
    assert c7i.services[EXPORT].service_s == pytest.approx(40.0)
    assert c7i.services[EXPORT].rtf == pytest.approx(60 / 40)
    assert c7i.services[THUMB].service_s == pytest.approx(1.5)
    assert best["m6i.large"].density_slots == 1
    assert best["m6i.large"].services[EXPORT].service_s == pytest.approx(20.0)

    options = build_sizing_options(slots="best", max_slowdown=1.5, wait="none", replay=False)
    result = size_fleet(inputs, options)
    sized = {t.instance_type: t for t in result.types}
    assert sized["c7i.large"].slots == 2
    assert sized["c7i.large"].slots_source == "best density within the slowdown bound"
    assert "m6i.large" in result.skipped  # no thumbnail measured on it
    # The load is that of the level-2 services (RTF 1.5, 1.5 s a thumbnail), not of all levels
    # together (exports: 1560 media s in 1340 s, RTF 1.16).
    from dataclasses import replace

    two = build_sizing_options(slots=2, wait="none", replay=False)
    at_two = size_fleet(replace(inputs, measurements=best), two).types[0]
    all_levels = size_fleet(inputs, two).types[0]
    assert sized["c7i.large"].load_erlangs == pytest.approx(at_two.load_erlangs)
    assert sized["c7i.large"].load_erlangs < all_levels.load_erlangs
    loose = build_sizing_options(slots="best", max_slowdown=2.0, wait="none", replay=False)
    # Thumbnails at 3 slow down 2.4x: still 2 slots however loose the export bound.
    assert size_fleet(inputs, loose).types[0].slots == 2
