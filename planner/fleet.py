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

One launch template config per CPU architecture (x86_64, arm64): a template has one AMI, so
c7g (Graviton) and c7i overrides of one template would leave half the fleet unable to launch.

`WeightedCapacity` is the measured throughput of the type on the job mix relative to the
smallest chosen type, and `TotalTargetCapacity` is in the same units (planner.sizing). Types
whose figures are estimated, not measured, are named in a `mjplan:estimated` tag on the fleet
(the request format has no other place for a note, and unknown keys are refused by EC2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planner.errors import PlannerError
from planner.prices import arch_of
from planner.sizing import FleetMember, FleetRecommendation

DEFAULT_LAUNCH_TEMPLATE = "mediajobs-worker"


def fleet_request(
    rec: FleetRecommendation,
    *,
    launch_template_name: str = DEFAULT_LAUNCH_TEMPLATE,
    launch_template_version: str = "$Latest",
    launch_templates: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The CreateFleet request fragment for a recommendation (a dict, JSON-ready).

    One launch template config per CPU architecture of the members (a template has one AMI,
    built for one architecture): `launch_templates` maps `x86_64`/`arm64` to a template name;
    without it (or with `{"*": NAME}`) one template, `launch_template_name`, serves every
    member, which must then be of one architecture. Raises PlannerError when an architecture
    of the members has no template."""
    templates = dict(launch_templates or {"*": launch_template_name})
    by_arch: dict[str, list[FleetMember]] = {}
    for m in rec.members:
        by_arch.setdefault(m.arch or arch_of(m.instance_type), []).append(m)
    if "*" in templates:
        if len(by_arch) > 1:
            raise PlannerError(
                "the fleet mixes " + " and ".join(by_arch) + " types but one launch template "
                "was given: pass one per architecture (--launch-template x86_64=NAME,arm64=NAME)")
        templates = {arch: templates["*"] for arch in by_arch}
    missing = sorted(set(by_arch) - set(templates))
    if missing:
        raise PlannerError(f"no launch template for {', '.join(missing)} "
                           "(--launch-template x86_64=NAME,arm64=NAME)")
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
                    "LaunchTemplateName": templates[arch],
                    "Version": launch_template_version,
                },
                "Overrides": [
                    {"InstanceType": m.instance_type, "WeightedCapacity": m.weighted_capacity}
                    for m in members
                ],
            }
            for arch, members in by_arch.items()
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
