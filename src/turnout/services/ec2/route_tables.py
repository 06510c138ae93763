"""Route tables: DescribeRouteTables, for each VPC's main route table.

Turnout models only the main route table every VPC gets when it is created, with its main association and its
local route (the VPC's CIDR block, target ``local``). It models no internet gateways, so the default VPC's main
table has no ``0.0.0.0/0`` route to one (on AWS it has); no other route tables, routes or subnet associations
exist, and every subnet uses its VPC's main table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.context import RequestContext
from . import errors, store
from .base import result, with_tags
from .filters import Filters
from .model import RouteTable
from .vpcs import VpcOperations


def _local_route(cidr: str) -> dict[str, Any]:
    return {"DestinationCidrBlock": cidr, "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"}


def route_table_shape(table: RouteTable, cidr: str, resource_tags: Mapping[str, str] | None) -> dict[str, Any]:
    shape = {
        "RouteTableId": table.route_table_id,
        "VpcId": table.vpc_id,
        "OwnerId": table.account_id,
        "Associations": [{
            "Main": True,
            "RouteTableAssociationId": table.main_association_id,
            "RouteTableId": table.route_table_id,
            "AssociationState": {"State": "associated"},
        }],
        "PropagatingVgws": [],
        "Routes": [_local_route(cidr)],
    }
    # DescribeRouteTables answers an empty tagSet (unlike VPCs and subnets, which leave it out).
    return with_tags(shape, resource_tags) if resource_tags else {**shape, "Tags": []}


def route_table_filters(tag_map: Mapping[str, Mapping[str, str]], cidrs: Mapping[str, str]) -> Filters[RouteTable]:
    def none(t: RouteTable) -> None:
        return None

    return Filters({
        "association.gateway-id": none,
        "association.main": lambda t: True,
        "association.route-table-association-id": lambda t: t.main_association_id,
        "association.route-table-id": lambda t: t.route_table_id,
        "association.subnet-id": none,
        "owner-id": lambda t: t.account_id,
        "route-table-id": lambda t: t.route_table_id,
        "route.destination-cidr-block": lambda t: cidrs.get(t.vpc_id),
        "route.destination-ipv6-cidr-block": none,
        "route.destination-prefix-list-id": none,
        "route.egress-only-internet-gateway-id": none,
        "route.gateway-id": lambda t: "local",
        "route.instance-id": none,
        "route.nat-gateway-id": none,
        "route.transit-gateway-id": none,
        "route.origin": lambda t: "CreateRouteTable",
        "route.state": lambda t: "active",
        "route.vpc-peering-connection-id": none,
        "vpc-id": lambda t: t.vpc_id,
    }, tags=lambda t: tag_map.get(t.route_table_id, {}))


class RouteTableOperations(VpcOperations):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def describe_route_tables(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        wanted = req.get("RouteTableIds") or []
        errors.check_ids("rtb", wanted)
        account, region = ctx.account_id, ctx.region
        cidrs = {v.vpc_id: v.cidr_block for v in store.vpcs(self.db, account, region)}
        tag_map = self._tag_map(ctx)
        test = route_table_filters(tag_map, cidrs).compile(req.get("Filters"))
        self._dry_run(req)
        items = store.route_tables(self.db, account, region)
        chunk, token = self._select(items, lambda t: t.route_table_id, wanted, errors.route_table_not_found, test,
                                   req)
        shapes = [route_table_shape(t, cidrs.get(t.vpc_id, ""), tag_map.get(t.route_table_id)) for t in chunk]
        return result("RouteTables", shapes, token)
