"""The recommended fleet as an EC2 Fleet request fragment (CreateFleet / `aws ec2 create-fleet`).

    {
      "Type": "maintain",
      "LaunchTemplateConfigs": [{
        "LaunchTemplateSpecification": {"LaunchTemplateName": "...", "Version": "$Latest"},
        "Overrides": [{"InstanceType": "c7g.xlarge", "WeightedCapacity": 2.0}, ...]
      }],
      "TargetCapacitySpecification": {
        "TotalTargetCapacity": 12, "DefaultTargetCapacityType": "spot", "SpotTargetCapacity": 12
      },
      "SpotOptions": {"AllocationStrategy": "price-capacity-optimized"},
      "TagSpecifications": [...]
    }

`WeightedCapacity` is the measured throughput of the type on the job mix relative to the
smallest chosen type, and `TotalTargetCapacity` is in the same units (planner.sizing). Types
whose figures are estimated, not measured, are named in a `mjplan:estimated` tag on the fleet
(the request format has no other place for a note, and unknown keys are refused by EC2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from planner.errors import PlannerError
from planner.sizing import FleetRecommendation

DEFAULT_LAUNCH_TEMPLATE = "mediajobs-worker"


def fleet_request(
    rec: FleetRecommendation,
    *,
    launch_template_name: str = DEFAULT_LAUNCH_TEMPLATE,
    launch_template_version: str = "$Latest",
) -> dict[str, Any]:
    """The CreateFleet request fragment for a recommendation (a dict, JSON-ready)."""
    spot = rec.capacity == "spot"
    target: dict[str, Any] = {
        "TotalTargetCapacity": rec.total_target_capacity,
        "DefaultTargetCapacityType": "spot" if spot else "on-demand",
    }
    if spot:
        target["SpotTargetCapacity"] = rec.total_target_capacity
        target["OnDemandTargetCapacity"] = 0
    else:
        target["OnDemandTargetCapacity"] = rec.total_target_capacity
        target["SpotTargetCapacity"] = 0
    request: dict[str, Any] = {
        "Type": "maintain",
        "LaunchTemplateConfigs": [
            {
                "LaunchTemplateSpecification": {
                    "LaunchTemplateName": launch_template_name,
                    "Version": launch_template_version,
                },
                "Overrides": [
                    {"InstanceType": m.instance_type, "WeightedCapacity": m.weighted_capacity}
                    for m in rec.members
                ],
            }
        ],
        "TargetCapacitySpecification": target,
    }
    if spot:
        # Picks pools with spare capacity first, then price: fewer interruptions (AWS's advice).
        request["SpotOptions"] = {"AllocationStrategy": "price-capacity-optimized"}
    else:
        request["OnDemandOptions"] = {"AllocationStrategy": "lowest-price"}
    tags = [{"Key": "mjplan:capacity-unit", "Value": rec.unit[:256]}]
    estimated = [m.instance_type for m in rec.members if m.estimated]
    if estimated:
        tags.append({"Key": "mjplan:estimated", "Value": " ".join(estimated)[:256]})
    request["TagSpecifications"] = [{"ResourceType": "fleet", "Tags": tags}]
    return request


def write_fleet_json(path: str | Path, rec: FleetRecommendation, **kwargs: Any) -> Path:
    """Write the request fragment to `path` (indented JSON); returns the path.

    Raises PlannerError when the file cannot be written (a missing folder, a directory).
    """
    p = Path(path)
    text = json.dumps(fleet_request(rec, **kwargs), indent=2) + "\n"
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        why = exc.strerror or exc
        raise PlannerError(f"cannot write the fleet request to {p}: {why}") from None
    return p
