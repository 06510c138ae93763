"""The Availability Zones of a region: AWS's real zone names and zone ids for the common regions.

Which zone ids an account's zone *names* map to differs from account to account on AWS; Turnout uses one fixed
mapping for every account. Regions with a gap in their letters (us-west-1 offers two zones to an account,
ap-northeast-1 has no ``b`` for new accounts, ca-central-1 no ``c``) keep that gap. A region not listed gets
three zones ``a``, ``b``, ``c`` whose ids are built the way AWS builds them (``me-south-1`` -> ``mes1-az1``).
Zone groups follow AWS's current naming (``us-east-1-zg-1``, "US East (N. Virginia) 1").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (zone letter, zone id number) per region.
_ZONES: dict[str, tuple[tuple[str, int], ...]] = {
    "us-east-1": (("a", 1), ("b", 2), ("c", 4), ("d", 6), ("e", 3), ("f", 5)),
    "us-east-2": (("a", 1), ("b", 2), ("c", 3)),
    "us-west-1": (("a", 3), ("c", 1)),
    "us-west-2": (("a", 1), ("b", 2), ("c", 3), ("d", 4)),
    "ca-central-1": (("a", 1), ("b", 2), ("d", 4)),
    "sa-east-1": (("a", 1), ("b", 2), ("c", 3)),
    "eu-west-1": (("a", 1), ("b", 2), ("c", 3)),
    "eu-west-2": (("a", 2), ("b", 3), ("c", 1)),
    "eu-west-3": (("a", 1), ("b", 2), ("c", 3)),
    "eu-central-1": (("a", 1), ("b", 2), ("c", 3)),
    "eu-north-1": (("a", 1), ("b", 2), ("c", 3)),
    "ap-south-1": (("a", 1), ("b", 3), ("c", 2)),
    "ap-southeast-1": (("a", 1), ("b", 2), ("c", 3)),
    "ap-southeast-2": (("a", 1), ("b", 3), ("c", 2)),
    "ap-northeast-1": (("a", 4), ("c", 1), ("d", 2)),
    "ap-northeast-2": (("a", 1), ("b", 2), ("c", 3), ("d", 4)),
}

_LONG_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)", "ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
    "eu-west-1": "Europe (Ireland)", "eu-west-2": "Europe (London)", "eu-west-3": "Europe (Paris)",
    "eu-central-1": "Europe (Frankfurt)", "eu-north-1": "Europe (Stockholm)", "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
}

_DIRECTIONS = {
    "north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    zone_id: str
    region: str

    def shape(self) -> dict[str, Any]:
        """The ``AvailabilityZone`` structure of DescribeAvailabilityZones."""
        long_name = _LONG_NAMES.get(self.region, self.region)
        return {
            "ZoneName": self.name,
            "ZoneId": self.zone_id,
            "RegionName": self.region,
            "State": "available",
            "OptInStatus": "opt-in-not-required",
            "Messages": [],
            "GroupName": f"{self.region}-zg-1",
            "GroupLongName": f"{long_name} 1",
            "NetworkBorderGroup": self.region,
            "ZoneType": "availability-zone",
        }


def short_name(region: str) -> str:
    """The region part of a zone id: ``us-east-1`` -> ``use1``, ``ap-southeast-2`` -> ``apse2``."""
    parts = region.split("-")
    if len(parts) >= 3 and parts[-1].isdigit():
        return "".join(_DIRECTIONS.get(p, p[:1]) if i else p for i, p in enumerate(parts[:-1])) + parts[-1]
    return "".join(ch for ch in region if ch.isalnum())


def zones(region: str) -> list[Zone]:
    """The region's zones, in name order."""
    layout = _ZONES.get(region, (("a", 1), ("b", 2), ("c", 3)))
    prefix = short_name(region)
    return [Zone(f"{region}{letter}", f"{prefix}-az{number}", region) for letter, number in layout]


def by_name(region: str, name: str) -> Zone | None:
    return next((z for z in zones(region) if z.name == name), None)


def by_id(region: str, zone_id: str) -> Zone | None:
    return next((z for z in zones(region) if z.zone_id == zone_id), None)
