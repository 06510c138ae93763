"""AWS-managed prefix lists: DescribePrefixLists answers the region's ``com.amazonaws.<region>.s3`` and
``com.amazonaws.<region>.dynamodb`` lists (the gateway-endpoint services).

Their ids are AWS's where Turnout knows them (us-east-1: ``pl-63a5400a`` for S3 and ``pl-02cd2c6b`` for DynamoDB;
us-east-2: ``pl-7ba54012`` and ``pl-4ca54025``); elsewhere an id of the same form derived from the list's name,
stable for a region. Turnout carries AWS's CIDR ranges only for us-east-2 (as AWS published them in 2020); other
regions' lists have none (Turnout routes no traffic, so nothing reads them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ...core.context import RequestContext
from . import errors
from .base import Ec2Base, result
from .filters import Filters

SERVICES = ("dynamodb", "s3")

_KNOWN_IDS = {
    "com.amazonaws.us-east-1.s3": "pl-63a5400a",
    "com.amazonaws.us-east-1.dynamodb": "pl-02cd2c6b",
    "com.amazonaws.us-east-2.s3": "pl-7ba54012",
    "com.amazonaws.us-east-2.dynamodb": "pl-4ca54025",
}
_KNOWN_CIDRS = {
    "com.amazonaws.us-east-2.s3": ("52.219.80.0/20", "3.5.128.0/22", "3.5.132.0/23", "52.219.96.0/20",
                                   "52.92.76.0/22"),
    "com.amazonaws.us-east-2.dynamodb": ("52.94.4.0/24",),
}


@dataclass(frozen=True, slots=True)
class PrefixList:
    prefix_list_id: str
    name: str
    cidrs: tuple[str, ...]

    def shape(self) -> dict[str, Any]:
        return {"PrefixListId": self.prefix_list_id, "PrefixListName": self.name, "Cidrs": list(self.cidrs)}


def prefix_lists(region: str) -> list[PrefixList]:
    """The region's AWS-managed prefix lists, in id order."""
    out = []
    for service in SERVICES:
        name = f"com.amazonaws.{region}.{service}"
        list_id = _KNOWN_IDS.get(name) or "pl-" + hashlib.sha256(name.encode()).hexdigest()[:8]
        out.append(PrefixList(list_id, name, _KNOWN_CIDRS.get(name, ())))
    return sorted(out, key=lambda p: p.prefix_list_id)


PREFIX_LIST_FILTERS: Filters[PrefixList] = Filters({
    "prefix-list-id": lambda p: p.prefix_list_id,
    "prefix-list-name": lambda p: p.name,
})


class PrefixListOperations(Ec2Base):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def describe_prefix_lists(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        wanted = req.get("PrefixListIds") or []
        errors.check_ids("pl", wanted)
        test = PREFIX_LIST_FILTERS.compile(req.get("Filters"))
        self._dry_run(req)
        chunk, token = self._select(prefix_lists(ctx.region), lambda p: p.prefix_list_id, wanted,
                                   errors.prefix_list_not_found, test, req)
        return result("PrefixLists", [p.shape() for p in chunk], token)
