"""Sizing on hand-made inputs: demand, load of a job mix, bounds, spot headroom, cost ranking."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from planner.demand import DemandHistory, Forecast, parse_forecast, percentile_of, resolve_demand
from planner.errors import PlannerError
from planner.prices import (
    PriceFileError,
    PriceTable,
    load_prices,
    parse_prices,
    with_interruption_rates,
)
from planner.sizing import (
    SizingError,
    SizingInputs,
    SizingOptions,
    WaitTarget,
    instances_for_utilisation,
    instances_for_wait,
    size_fleet,
    spot_instances,
)
from planner.throughput import Concurrency, InstanceMeasurements, Service, Waste

EXPORT, THUMB = "create_video_export_v1", "upload_thumb_v1"

PRICES = """\
# a small price table for tests
instance_type,vcpus,memory_gib,on_demand_usd_h,spot_usd_h,interruption_band,interruption_rate
x1.large,2,4,0.10,0.04,<5%,
x1.xlarge,4,8,0.20,0.07,5-10%,0.10
y1.large,2,8,0.08,0.05,<5%,
z9.large,2,4,0.01,0.005,<5%,
"""


def measured(
    name: str, mean_conc: float, export_rtf: float, thumb_s: float
) -> InstanceMeasurements:
    conc = Concurrency(name, hosts=2, attempt_seconds=1000.0 * mean_conc, busy_seconds=1000.0,
                       max_concurrency=int(mean_conc) + 1)
    # 100 exports of 60 media seconds each, at `export_rtf`; 100 thumbnails of `thumb_s`.
    services = {
        EXPORT: Service(name, EXPORT, 100, 100 * 60 / export_rtf, 6000.0, 100 * 60 / export_rtf),
        THUMB: Service(name, THUMB, 100, 100 * thumb_s, 0.0, 0.0),
    }
    return InstanceMeasurements(name, conc, services)


def inputs(waste: dict[str, Waste] | None = None) -> SizingInputs:
    hours = 24
    return SizingInputs(
        measurements={
            "x1.large": measured("x1.large", 2.0, export_rtf=2.0, thumb_s=2.0),
            "y1.large": measured("y1.large", 1.0, export_rtf=1.5, thumb_s=3.0),
        },
        histories={
            # Every hour: 1200 exports of 60 media seconds, 3600 thumbnails.
            EXPORT: DemandHistory(EXPORT, (1200.0,) * hours, (72000.0,) * hours),
            THUMB: DemandHistory(THUMB, (3600.0,) * hours, (0.0,) * hours),
        },
        waste=waste or {},
        prices=parse_prices(PRICES, "test-prices.csv"),
        window=dt.timedelta(days=1),
    )


NO_WAIT = SizingOptions(utilisation=0.6, wait=None)


def test_load_of_the_mix_and_instances_per_type() -> None:
    result = size_fleet(inputs(), NO_WAIT)
    by = {t.instance_type: t for t in result.types}
    x = by["x1.large"]
    # exports: 72000 media s/h / 3600 / rtf 2 = 10 busy slots; thumbs: 1/s * 2 s = 2.
    assert x.load_erlangs == pytest.approx(12.0)
    assert x.arrivals_per_s == pytest.approx(1200 / 3600 + 1)
    assert x.mean_service_s == pytest.approx(9.0)
    assert x.slots == 2
    assert x.instances_utilisation == 10  # 12 / (2 * 0.6) = 10 exactly: no extra instance
    assert (x.instances, x.bound) == (10, "utilisation")
    assert x.instances_spot == 11  # ceil(10 * 1.025), band <5% -> 2.5 %
    assert x.on_demand_usd_h == pytest.approx(1.00)
    assert x.spot_usd_h == pytest.approx(0.44)
    # 20 media hours arrive per hour.
    assert x.on_demand_usd_per_media_h == pytest.approx(0.05)
    assert x.spot_usd_per_media_h == pytest.approx(0.022)
    y = by["y1.large"]
    assert y.load_erlangs == pytest.approx(72000 / 3600 / 1.5 + 3.0)
    assert y.slots == 1
    assert y.instances == 28  # ceil(16.33 / 0.6)
    assert y.instances_spot == 29
    assert y.spot_usd_h == pytest.approx(29 * 0.05)


def test_estimated_type_is_scaled_by_vcpus_and_marked() -> None:
    result = size_fleet(inputs(), NO_WAIT)
    by = {t.instance_type: t for t in result.types}
    xl = by["x1.xlarge"]
    assert xl.estimated and xl.estimated_from == "x1.large"
    assert xl.slots == 4
    assert xl.instances == 5
    assert xl.instances_spot == 6  # overridden rate 10 %
    assert xl.spot_usd_h == pytest.approx(0.42)
    assert not by["x1.large"].estimated
    assert "z9.large" in result.skipped and "z9.large" not in by
    frame = result.to_frame()
    assert frame.filter(frame["instance_type"] == "x1.xlarge")["estimated"].to_list() == [True]
    off = size_fleet(inputs(), SizingOptions(utilisation=0.6, wait=None, include_estimated=False))
    assert [t.instance_type for t in off.types] == ["x1.large", "y1.large"]
    assert off.skipped["x1.xlarge"] == "not measured, and estimates are left out"
    assert "no measured type of its family" in off.skipped["z9.large"]


def test_cost_ranking_spot_and_on_demand() -> None:
    spot = size_fleet(inputs(), NO_WAIT)
    assert [t.instance_type for t in spot.types] == ["x1.xlarge", "x1.large", "y1.large"]
    od = size_fleet(inputs(), SizingOptions(utilisation=0.6, wait=None, capacity="on-demand"))
    # x1.large and x1.xlarge both cost 1.00 $/h on demand: the measured one ranks first.
    assert [t.instance_type for t in od.types] == ["x1.large", "x1.xlarge", "y1.large"]
    assert [t.on_demand_usd_h for t in od.types] == pytest.approx([1.0, 1.0, 2.24])


def test_recommendation_weights_follow_throughput() -> None:
    rec = size_fleet(inputs(), SizingOptions(utilisation=0.6, wait=None, fleet_types=2))
    assert rec.recommendation is not None
    members = {m.instance_type: m for m in rec.recommendation.members}
    assert set(members) == {"x1.xlarge", "x1.large"}
    assert members["x1.large"].weighted_capacity == 1.0
    assert members["x1.xlarge"].weighted_capacity == 2.0
    assert members["x1.xlarge"].estimated
    # 6 x1.xlarge (weight 2) = 12 units >= 11 x1.large (weight 1).
    assert rec.recommendation.total_target_capacity == 12


def test_wait_target_can_bind() -> None:
    options = SizingOptions(utilisation=0.95, wait=WaitTarget(95, 1.0), replay=False)
    t = {t.instance_type: t for t in size_fleet(inputs(), options).types}["x1.large"]
    lam, mu = 1200 / 3600 + 1, 1 / 9.0
    assert t.instances_utilisation == 7  # ceil(12 / 1.9)
    # The mix: 1/3 export/s of 30 s, 1 thumbnail/s of 2 s, each exponential (SCV 1, no sample):
    # E[S] = 9, E[S^2] = (1/3 * 900 * 2 + 1 * 4 * 2) / (4/3) = 456, SCV = 456 / 81 - 1.
    scv = 456 / 81 - 1
    assert t.service_scv == pytest.approx(scv)
    assert t.wait_factor == pytest.approx((1 + scv) / 2)  # Poisson arrivals (burstiness 1)
    assert t.instances_wait == instances_for_wait(lam, mu, 2, WaitTarget(95, 1.0), (1 + scv) / 2)
    assert t.instances_wait > instances_for_wait(lam, mu, 2, WaitTarget(95, 1.0))
    assert t.instances_wait > t.instances_utilisation
    assert (t.instances, t.bound) == (t.instances_wait, "wait")
    assert t.wait_at_target_percentile_s is not None and t.wait_at_target_percentile_s <= 1.0


def test_a_response_target_one_type_cannot_meet_leaves_that_type_out() -> None:
    # Mean service of the mix: 9 s on x1.large (and its estimate x1.xlarge), 12.25 s on
    # y1.large, so the p95 of the service alone is 9 ln 20 = 27.0 s and 12.25 ln 20 = 36.7 s.
    options = SizingOptions(utilisation=0.6, wait=WaitTarget(95, 30.0, includes_service=True))
    result = size_fleet(inputs(), options)
    assert {t.instance_type for t in result.types} == {"x1.large", "x1.xlarge"}
    assert "below the p95 of the service time itself (36.7s" in result.skipped["y1.large"]
    below_all = replace(options, wait=WaitTarget(95, 20.0, includes_service=True))
    with pytest.raises(SizingError, match=r"response <= 20s: .* is 27.0s on the fastest, x1.l"):
        size_fleet(inputs(), below_all)


def test_cost_per_media_hour_counts_media_job_types_only() -> None:
    # Thumbnails of 100 s inputs: 360000 media s/h that no job processes (one frame each).
    thumbs = DemandHistory(THUMB, (3600.0,) * 24, (360000.0,) * 24)
    with_media = replace(inputs(), histories={**inputs().histories, THUMB: thumbs})
    x = {t.instance_type: t for t in size_fleet(with_media, NO_WAIT).types}["x1.large"]
    assert x.on_demand_usd_per_media_h == pytest.approx(1.00 / 20)  # 20 export media h per h
    only_thumbs = replace(with_media, histories={THUMB: thumbs})
    x = {t.instance_type: t for t in size_fleet(only_thumbs, NO_WAIT).types}["x1.large"]
    assert x.on_demand_usd_per_media_h is None and x.spot_usd_per_media_h is None


def test_waste_of_failed_attempts_adds_load_and_retries() -> None:
    waste = {EXPORT: Waste(EXPORT, attempts=100, failed_attempts=20, failed_wall_seconds=300.0,
                           succeeded_wall_seconds=3000.0)}
    t = {t.instance_type: t for t in size_fleet(inputs(waste), NO_WAIT).types}["x1.large"]
    assert t.load_erlangs == pytest.approx(10 * 1.1 + 2)
    assert t.arrivals_per_s == pytest.approx(1200 / 3600 / 0.8 + 1)
    plain = size_fleet(inputs(waste), SizingOptions(utilisation=0.6, wait=None, count_waste=False))
    assert plain.types[1].load_erlangs == pytest.approx(12.0)


def test_forecast_replaces_the_data_demand_of_its_job_type_only() -> None:
    options = SizingOptions(
        utilisation=0.6, wait=None, growth=1.5,
        forecasts=(Forecast(EXPORT, 240.0, "media_hours_per_day"),),
    )
    result = size_fleet(inputs(), options)
    d = result.demand[EXPORT]
    # 240 media h/day = 36000 media s/h (flat data: peak factor 1), x1.5 growth.
    assert d.media_seconds_per_hour == pytest.approx(54000.0)
    assert d.jobs_per_hour == pytest.approx(54000.0 / 60)
    # Thumbnails have no forecast: the data's demand (3600 jobs every hour), grown too.
    assert set(result.demand) == {EXPORT, THUMB}
    assert result.demand[THUMB].jobs_per_hour == pytest.approx(3600 * 1.5)
    frame = result.demand_frame()
    assert frame["source"].to_list()[0].endswith("; forecast 240 media h/day x peak 1.00 x1.5")
    assert "forecast" not in frame["source"].to_list()[1]


def test_job_types_by_their_short_names_and_unknown_ones_named() -> None:
    assert parse_forecast("export=40h/d") == Forecast(EXPORT, 40.0, "media_hours_per_day")
    assert parse_forecast(" Thumb =500") == Forecast(THUMB, 500.0, "jobs_per_hour")
    hist = inputs().histories
    with pytest.raises(PlannerError) as refused:
        resolve_demand(hist, forecasts=(parse_forecast("exprot=40"),))
    assert str(refused.value) == (
        "forecast for 'exprot': no such job type; known: export (create_video_export_v1), "
        "proxy (upload_edit_proxy_v1), thumb (upload_thumb_v1), audio (upload_audio_envelope_v1)")
    # A job type of the data that is not the plan's is known too.
    other = {**hist, "transcode_v2": DemandHistory("transcode_v2", (1.0,), (1.0,))}
    assert resolve_demand(other, forecasts=(parse_forecast("transcode_v2=5/h"),))


def test_percentile_hour_of_the_data() -> None:
    assert percentile_of([float(i) for i in range(100)], 95) == pytest.approx(94.05)
    hist = {EXPORT: DemandHistory(EXPORT, tuple(float(i) for i in range(100)),
                                  tuple(60.0 * i for i in range(100)))}
    d = resolve_demand(hist, percentile=95)[EXPORT]
    assert d.jobs_per_hour == pytest.approx(94.05)
    assert d.media_seconds_per_hour == pytest.approx(60 * 94.05)


def test_parse_forecast() -> None:
    assert parse_forecast(f"{EXPORT}=120") == Forecast(EXPORT, 120.0, "media_hours_per_day")
    assert parse_forecast(f"{THUMB}=500") == Forecast(THUMB, 500.0, "jobs_per_hour")
    assert parse_forecast(f"{EXPORT}=30/h") == Forecast(EXPORT, 30.0, "jobs_per_hour")
    with pytest.raises(PlannerError, match="not a number"):
        parse_forecast(f"{EXPORT}=lots")


@pytest.mark.parametrize("utilisation", [0.0, -0.1, 1.2])
def test_impossible_utilisation(utilisation: float) -> None:
    with pytest.raises(SizingError, match="utilisation must be in"):
        size_fleet(inputs(), SizingOptions(utilisation=utilisation, wait=None))


def test_no_measurement_of_a_forecast_job_type() -> None:
    options = SizingOptions(forecasts=(Forecast("upload_audio_envelope_v1", 10, "jobs_per_hour"),))
    # Host names are not needed (without them one slot is assumed), so the message asks for none.
    with pytest.raises(SizingError, match="upload_audio_envelope_v1 .* instance type and a wall"):
        size_fleet(inputs(), options)


def test_small_helpers() -> None:
    assert instances_for_utilisation(0.0, 2, 0.7) == 0
    assert instances_for_utilisation(2.8, 2, 0.7) == 2
    assert instances_for_utilisation(2.81, 2, 0.7) == 3
    assert spot_instances(10, 0.075) == 11
    assert spot_instances(40, 0.025) == 41
    assert spot_instances(0, 0.2) == 0


def test_shipped_price_table_is_valid() -> None:
    table = load_prices()
    assert len(table) >= 20
    for name in table:
        p = table[name]
        assert p.spot_usd_h < p.on_demand_usd_h, name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("instance_type,vcpus\nx,2\n", "missing column"),
        (PRICES.replace("0.10,0.04", "0.10,cheap"), "line 3: spot_usd_h must be a number"),
        (PRICES.replace("<5%,\nx1.xlarge", "sometimes,\nx1.xlarge"), "interruption_band"),
        (PRICES + "x1.large,2,4,0.1,0.04,<5%,\n", "appears twice"),
        (PRICES.replace(",0.10\n", ",1.5\n"), "interruption_rate must be a fraction"),
        (PRICES.replace("0.10,0.04", "-0.10,0.04"), "line 3: on_demand_usd_h must be a non-neg"),
        (PRICES.replace("0.10,0.04", "inf,0.04"), "line 3: on_demand_usd_h must be a non-neg"),
        (PRICES.replace("0.08,0.05,<5%,", "0.08,0.05,<5%,,extra"), "line 5: more fields"),
    ],
)
def test_bad_price_files_give_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(PriceFileError, match=message):
        parse_prices(text, "mine.csv")


def test_missing_price_file(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match="cannot read price file"):
        load_prices(tmp_path / "nope.csv")


def test_price_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "prices.xlsx"
    path.write_bytes(b"PK\x03\x04\xff\xfe binary")
    with pytest.raises(PriceFileError, match="not UTF-8 text"):
        load_prices(path)


def test_interruption_override() -> None:
    table = with_interruption_rates(parse_prices(PRICES), {"x1.large": 0.3})
    assert table["x1.large"].interruption_rate == 0.3
    with pytest.raises(PriceFileError):
        with_interruption_rates(table, {"nope.large": 0.1})


def family_prices(*rows: str) -> PriceTable:
    """A price table of the given CSV rows (instance_type,vcpus,memory_gib,on_demand_usd_h,
    spot_usd_h,interruption_band), for estimates within one family."""
    header = "instance_type,vcpus,memory_gib,on_demand_usd_h,spot_usd_h,interruption_band"
    return parse_prices("\n".join((header, *rows)) + "\n")


def test_estimate_keeps_throughput_proportional_to_vcpus() -> None:
    from planner.sizing import estimate_by_vcpus

    table = family_prices("f.2xlarge,8,16,0.4,0.2,<5%", "f.large,2,4,0.1,0.05,<5%")
    base = measured("f.2xlarge", 2.0, export_rtf=2.0, thumb_s=4.0)
    est = estimate_by_vcpus(base, table["f.2xlarge"], table["f.large"])
    # r = 1/4: 2 slots * 1/4 rounds to 1 slot, so each job takes 1 / (2 * 1/4) = 2x as long.
    assert est.slots_for("mean") == 1 and est.estimated_from == "f.2xlarge"
    assert est.services[THUMB].service_s == pytest.approx(8.0)
    assert est.services[EXPORT].rtf == pytest.approx(1.0)
    assert 1 / est.services[THUMB].service_s == pytest.approx(2 / 4.0 / 4)
    # The per-instance throughput (throughput_frame, the report's cost chart) scales by r too,
    # though the rounding of the slots (0.5 -> 1) doubles each job's service time.
    base_media, base_jobs = base.media_seconds_per_second(EXPORT), base.jobs_per_hour(THUMB)
    assert base_media is not None and base_jobs is not None
    assert est.media_seconds_per_second(EXPORT) == pytest.approx(base_media / 4)
    assert est.jobs_per_hour(THUMB) == pytest.approx(base_jobs / 4)


def test_estimated_slots_round_halves_up() -> None:
    from planner.sizing import estimate_by_vcpus

    table = family_prices("f.4xlarge,16,32,0.8,0.4,<5%", "f.2xlarge,8,16,0.4,0.2,<5%")
    base = measured("f.4xlarge", 5.0, export_rtf=2.0, thumb_s=4.0)
    est = estimate_by_vcpus(base, table["f.4xlarge"], table["f.2xlarge"])
    # 5 slots * 1/2 = 2.5 -> 3 slots (as a measured mean of 2.5 would give), each job 3 / 2.5
    # times as long, so the jobs per second stay half the measured type's: 3 / 4.8 = 5 / 4 / 2.
    assert est.slots_for("mean") == 3
    assert est.services[THUMB].service_s == pytest.approx(4.8)


def test_slots_rule_max_uses_the_most_seen_at_once() -> None:
    options = SizingOptions(utilisation=0.6, wait=None, slots="max", include_estimated=False)
    by = {t.instance_type: t for t in size_fleet(inputs(), options).types}
    assert by["x1.large"].slots == 3  # max_concurrency of the hand-made measurement
    fixed = SizingOptions(utilisation=0.6, wait=None, slots=4, include_estimated=False)
    assert {t.slots for t in size_fleet(inputs(), fixed).types} == {4}
