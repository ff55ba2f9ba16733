"""The EC2 Fleet request fragment: shape, units, capacity type, estimated marks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planner.errors import PlannerError
from planner.fleet import fleet_request, write_fleet_json
from planner.prices import arch_of
from planner.sizing import FleetMember, FleetRecommendation, TypeSizing, recommend

REC = FleetRecommendation(
    capacity="spot",
    members=(
        FleetMember("c7g.large", 1.0, False, 11, 0.33),
        FleetMember("c7g.xlarge", 2.0, True, 6, 0.36),
        FleetMember("c6i.large", 1.05, False, 11, 0.37),
    ),
    total_target_capacity=12,
    unit="the throughput of one c7g.large on this job mix (800.0 jobs/h)",
)


def test_spot_fleet_request_shape() -> None:
    req = fleet_request(REC, launch_templates={"arm64": "workers-arm", "x86_64": "workers-x86"})
    assert req["Type"] == "maintain"
    # One launch template config per CPU architecture: a template has one AMI.
    arm, x86 = req["LaunchTemplateConfigs"]
    assert arm["LaunchTemplateSpecification"] == {
        "LaunchTemplateName": "workers-arm",
        "Version": "$Latest",
    }
    assert arm["Overrides"] == [
        {"InstanceType": "c7g.large", "WeightedCapacity": 1.0},
        {"InstanceType": "c7g.xlarge", "WeightedCapacity": 2.0},
    ]
    assert x86["LaunchTemplateSpecification"]["LaunchTemplateName"] == "workers-x86"
    assert x86["Overrides"] == [{"InstanceType": "c6i.large", "WeightedCapacity": 1.05}]
    assert req["TargetCapacitySpecification"] == {
        "TotalTargetCapacity": 12,
        "DefaultTargetCapacityType": "spot",
        "SpotTargetCapacity": 12,
        "OnDemandTargetCapacity": 0,
    }
    assert req["SpotOptions"] == {"AllocationStrategy": "price-capacity-optimized"}
    tags = {t["Key"]: t["Value"] for t in req["TagSpecifications"][0]["Tags"]}
    assert tags["mjplan:estimated"] == "c7g.xlarge"
    assert tags["mjplan:capacity-unit"].startswith("the throughput of one c7g.large")
    # Only keys of the CreateFleet request: EC2 refuses unknown ones.
    assert set(req) <= {
        "Type",
        "LaunchTemplateConfigs",
        "TargetCapacitySpecification",
        "SpotOptions",
        "OnDemandOptions",
        "TagSpecifications",
    }


def test_on_demand_fleet_and_no_estimates(tmp_path: Path) -> None:
    rec = FleetRecommendation("on-demand", REC.members[:1], 11, "one c7g.large")
    path = write_fleet_json(tmp_path / "fleet.json", rec)
    req = json.loads(path.read_text())
    assert req["TargetCapacitySpecification"]["DefaultTargetCapacityType"] == "on-demand"
    assert req["TargetCapacitySpecification"]["OnDemandTargetCapacity"] == 11
    assert "SpotOptions" not in req
    keys = [t["Key"] for t in req["TagSpecifications"][0]["Tags"]]
    assert "mjplan:estimated" not in keys


def _validate_create_fleet(request: dict[str, Any]) -> None:
    """botocore's own EC2 model of the CreateFleet input, offline: raises on any key or type
    EC2 would refuse."""
    import botocore.session
    from botocore.validate import ParamValidator

    shape = botocore.session.get_session().get_service_model("ec2").operation_model(
        "CreateFleet").input_shape
    assert shape is not None
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_requests_validate_against_botocore_create_fleet() -> None:
    templates = {"arm64": "lt-arm", "x86_64": "lt-x86"}
    _validate_create_fleet(fleet_request(REC, launch_templates=templates))
    _validate_create_fleet(
        fleet_request(FleetRecommendation("on-demand", REC.members[2:], 11, "one c6i.large")))


def test_one_template_cannot_serve_two_architectures() -> None:
    with pytest.raises(PlannerError, match="mixes arm64 and x86_64 types but one launch"):
        fleet_request(REC, launch_template_name="workers")
    with pytest.raises(PlannerError, match="no launch template for x86_64"):
        fleet_request(REC, launch_templates={"arm64": "a"})


def _sized(name: str, usd: float) -> TypeSizing:
    return TypeSizing(
        instance_type=name, estimated_from=None, vcpus=2, memory_gib=4, slots=2,
        arrivals_per_s=1, load_erlangs=1, mean_service_s=1, instances_utilisation=2,
        instances_wait=2, instances=2, bound="wait", wait_at_target_percentile_s=1,
        utilisation=0.5, interruption_band="<5%", interruption_rate=0.0, instances_spot=2,
        on_demand_usd_h=usd * 2, spot_usd_h=usd, on_demand_usd_per_media_h=None,
        spot_usd_per_media_h=None, capacity_jobs_per_hour=100, arch=arch_of(name))


def test_recommendation_keeps_to_one_architecture_unless_templates_for_both() -> None:
    ranked = [_sized("c7g.large", 0.10), _sized("c7i.large", 0.11), _sized("c6g.large", 0.12),
              _sized("m7g.large", 0.13)]
    one = recommend(ranked, "spot", 3)
    assert one is not None and [m.instance_type for m in one.members] == [
        "c7g.large", "c6g.large", "m7g.large"]
    assert one.architectures == ("arm64",)
    _validate_create_fleet(fleet_request(one, launch_template_name="workers"))
    both = recommend(ranked, "spot", 3, ("x86_64", "arm64"))
    assert both is not None and both.architectures == ("arm64", "x86_64")
    assert len(fleet_request(both, launch_templates={"arm64": "lt-arm", "x86_64": "lt-x86"})[
        "LaunchTemplateConfigs"]) == 2
    # The headline: the cheapest type alone, 730 hours a month.
    assert one.cost is not None and one.cost.spot_usd_h == pytest.approx(0.10)
    assert one.cost.spot_usd_month == pytest.approx(0.10 * 730)
    assert one.cost.max_spot_usd_h == pytest.approx(0.13)
