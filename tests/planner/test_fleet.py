"""The EC2 Fleet request fragment: shape, units, capacity type, estimated marks."""

from __future__ import annotations

import json
from pathlib import Path

from planner.fleet import fleet_request, write_fleet_json
from planner.sizing import FleetMember, FleetRecommendation

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
    req = fleet_request(REC, launch_template_name="workers")
    assert req["Type"] == "maintain"
    (config,) = req["LaunchTemplateConfigs"]
    assert config["LaunchTemplateSpecification"] == {
        "LaunchTemplateName": "workers",
        "Version": "$Latest",
    }
    assert config["Overrides"] == [
        {"InstanceType": "c7g.large", "WeightedCapacity": 1.0},
        {"InstanceType": "c7g.xlarge", "WeightedCapacity": 2.0},
        {"InstanceType": "c6i.large", "WeightedCapacity": 1.05},
    ]
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
