"""Account and region facts: DescribeAccountAttributes and DescribeAvailabilityZones."""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from . import errors, store, zones
from .base import Ec2Base
from .filters import Filters

# AWS's defaults for an account (EC2-VPC only since EC2-Classic's retirement); "default-vpc" is filled per region.
_ATTRIBUTES = (
    ("supported-platforms", ("VPC",)),
    ("vpc-max-security-groups-per-interface", ("5",)),
    ("max-elastic-ips", ("5",)),
    ("max-instances", ("20",)),
    ("vpc-max-elastic-ips", ("5",)),
    ("default-vpc", ()),
)

_ZONE_FIELDS = {
    "group-long-name": "GroupLongName", "group-name": "GroupName", "network-border-group": "NetworkBorderGroup",
    "opt-in-status": "OptInStatus", "parent-zone-id": "ParentZoneId", "parent-zone-name": "ParentZoneName",
    "region-name": "RegionName", "state": "State", "zone-id": "ZoneId", "zone-name": "ZoneName",
    "zone-type": "ZoneType",
}


def _field(member: str) -> Any:
    return lambda zone: zone.get(member)


ZONE_FILTERS: Filters[dict[str, Any]] = Filters({
    **{name: _field(member) for name, member in _ZONE_FIELDS.items()},
    "message": lambda zone: [m.get("Message") for m in zone.get("Messages", [])],
})


class AccountOperations(Ec2Base):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def describe_account_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        known = dict(_ATTRIBUTES)
        names = list(dict.fromkeys(req.get("AttributeNames") or []))
        for name in names:
            if name not in known:
                # AWS's wording for an unknown attribute name is not published; this is Turnout's.
                raise errors.invalid_value(f"Value ({name}) for parameter attributeName is invalid. Unknown "
                                           "attribute.")
        self._dry_run(req)
        vpc = store.default_vpc(self.db, ctx.account_id, ctx.region)
        out = []
        for name, values in _ATTRIBUTES:
            if names and name not in names:
                continue
            if name == "default-vpc":
                values = (vpc.vpc_id if vpc is not None else "none",)
            out.append({"AttributeName": name, "AttributeValues": [{"AttributeValue": v} for v in values]})
        return {"AccountAttributes": out}

    def describe_availability_zones(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        region = ctx.region
        names = req.get("ZoneNames") or []
        ids = req.get("ZoneIds") or []
        for name in names:
            if zones.by_name(region, name) is None:
                raise errors.invalid_value(f"Invalid availability zone: [{name}]")
        for zone_id in ids:
            if zones.by_id(region, zone_id) is None:
                raise errors.invalid_value(f"Invalid availability zone: [{zone_id}]")
        test = ZONE_FILTERS.compile(req.get("Filters"))
        self._dry_run(req)
        found = [z for z in zones.zones(region) if not (names or ids) or z.name in names or z.zone_id in ids]
        return {"AvailabilityZones": [s for s in (z.shape() for z in found) if test(s)]}
