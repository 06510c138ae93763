"""Subnets: CreateSubnet, DescribeSubnets, DeleteSubnet (IPv4 only)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from ...core import ids
from ...core.context import RequestContext
from ...wire.errors import ServiceError
from . import errors, network, store, tags, zones
from .base import result, with_tags
from .filters import Filters
from .model import Subnet
from .vpcs import VPC_PREFIXES, VpcOperations, refuse_unsupported, requested_block

SUBNETS_PER_VPC = 200  # AWS's default quota "Subnets per VPC"

_UNSUPPORTED = ("Ipv6CidrBlock", "OutpostArn", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "Ipv6IpamPoolId",
                "Ipv6NetmaskLength")


def subnet_shape(subnet: Subnet, resource_tags: Mapping[str, str] | None, state: str | None = None
                 ) -> dict[str, Any]:
    return with_tags({
        "SubnetId": subnet.subnet_id,
        "SubnetArn": subnet.arn,
        "VpcId": subnet.vpc_id,
        "OwnerId": subnet.account_id,
        "State": state or subnet.state,
        "CidrBlock": subnet.cidr_block,
        "AvailabilityZone": subnet.availability_zone,
        "AvailabilityZoneId": subnet.availability_zone_id,
        "AvailableIpAddressCount": subnet.available_ip_address_count,
        "DefaultForAz": subnet.default_for_az,
        "MapPublicIpOnLaunch": subnet.map_public_ip_on_launch,
        "MapCustomerOwnedIpOnLaunch": False,
        "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [],
        "EnableDns64": False,
        "Ipv6Native": False,
        "PrivateDnsNameOptionsOnLaunch": {
            "HostnameType": "ip-name",
            "EnableResourceNameDnsARecord": False,
            "EnableResourceNameDnsAAAARecord": False,
        },
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
    }, resource_tags)


def subnet_filters(tag_map: Mapping[str, Mapping[str, str]]) -> Filters[Subnet]:
    def none(s: Subnet) -> None:
        return None

    def cidr(s: Subnet) -> str:
        return s.cidr_block

    def default_for_az(s: Subnet) -> bool:
        return s.default_for_az

    def zone(s: Subnet) -> str:
        return s.availability_zone

    def zone_id(s: Subnet) -> str:
        return s.availability_zone_id

    # The model documents the camelCase names beside the dashed ones (availabilityZone, availabilityZoneId, cidr and
    # cidrBlock, defaultForAz); the Terraform provider's aws_subnet data source sends them.
    return Filters({
        "availability-zone": zone, "availabilityZone": zone,
        "availability-zone-id": zone_id, "availabilityZoneId": zone_id,
        "available-ip-address-count": lambda s: s.available_ip_address_count,
        "cidr": cidr, "cidr-block": cidr, "cidrBlock": cidr,
        "default-for-az": default_for_az, "defaultForAz": default_for_az,
        "enable-dns64": lambda s: False,
        "ipv6-cidr-block-association.ipv6-cidr-block": none,
        "ipv6-cidr-block-association.association-id": none,
        "ipv6-cidr-block-association.state": none,
        "ipv6-native": lambda s: False,
        "map-customer-owned-ip-on-launch": lambda s: False,
        "map-public-ip-on-launch": lambda s: s.map_public_ip_on_launch,
        "outpost-arn": none,
        "owner-id": lambda s: s.account_id,
        "state": lambda s: s.state,
        "subnet-arn": lambda s: s.arn,
        "subnet-id": lambda s: s.subnet_id,
        "vpc-id": lambda s: s.vpc_id,
    }, tags=lambda s: tag_map.get(s.subnet_id, {}))


def _zone_error(parameter: str, value: str, offered: list[str]) -> ServiceError:
    return errors.invalid_value(
        f"Value ({value}) for parameter {parameter} is invalid. Subnets can currently only be created in the "
        f"following availability zones: {', '.join(offered)}."
    )


class SubnetOperations(VpcOperations):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def _subnet_of(self, ctx: RequestContext, subnet_id: str) -> Subnet:
        return self._existing(ctx, "subnet", subnet_id, store.subnet, errors.subnet_not_found)

    @staticmethod
    def _zone(region: str, req: Mapping[str, Any], existing: list[Subnet]) -> zones.Zone:
        offered = zones.zones(region)
        name, zone_id = req.get("AvailabilityZone"), req.get("AvailabilityZoneId")
        zone: zones.Zone | None = None
        if name:
            zone = zones.by_name(region, name)
            if zone is None:
                raise _zone_error("availabilityZone", name, [z.name for z in offered])
        if zone_id:
            by_id = zones.by_id(region, zone_id)
            if by_id is None or (zone is not None and by_id != zone):
                raise _zone_error("availabilityZoneId", zone_id, [z.zone_id for z in offered])
            zone = by_id
        if zone is not None:
            return zone
        # AWS picks a zone itself; Turnout picks the zone where the VPC has the fewest subnets (first on a tie).
        used = [s.availability_zone for s in existing]
        return min(offered, key=lambda z: used.count(z.name))

    def create_subnet(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        refuse_unsupported("CreateSubnet", req, _UNSUPPORTED)
        if req.get("Ipv6Native"):
            raise errors.unsupported("CreateSubnet", "Ipv6Native")
        vpc = self._vpc_of(ctx, req["VpcId"])
        cidr, block = requested_block(req)
        if block.prefixlen not in VPC_PREFIXES or not block.subnet_of(ipaddress.IPv4Network(vpc.cidr_block)):
            raise ServiceError("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.")
        account, region = ctx.account_id, ctx.region
        existing = store.subnets(self.db, account, region, vpc.vpc_id)
        zone = self._zone(region, req, existing)
        if any(block.overlaps(ipaddress.IPv4Network(s.cidr_block)) for s in existing):
            raise ServiceError("InvalidSubnet.Conflict", f"The CIDR '{cidr}' conflicts with another subnet")
        if len(existing) >= SUBNETS_PER_VPC:
            raise ServiceError("SubnetLimitExceeded", "The maximum number of subnets has been reached.")
        pairs = tags.specifications(req, "subnet")
        self._dry_run(req)
        subnet = Subnet(account, region, ids.ec2_id("subnet"), vpc.vpc_id, str(block), zone.name, zone.zone_id,
                        False, False, "available")
        store.insert_subnet(self.db, subnet, ctx.received_at)
        tags.put(self.db, account, region, subnet.subnet_id, pairs)
        # Like CreateVpc, the new subnet is reported "pending" and described "available" afterwards.
        return {"Subnet": subnet_shape(subnet, tags.mapping(pairs), state="pending")}

    def describe_subnets(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        wanted = req.get("SubnetIds") or []
        errors.check_ids("subnet", wanted)
        tag_map = self._tag_map(ctx)
        test = subnet_filters(tag_map).compile(req.get("Filters"))
        self._dry_run(req)
        items = store.subnets(self.db, ctx.account_id, ctx.region)
        chunk, token = self._select(items, lambda s: s.subnet_id, wanted, errors.subnet_not_found, test, req)
        return result("Subnets", [subnet_shape(s, tag_map.get(s.subnet_id)) for s in chunk], token)

    def delete_subnet(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        subnet = self._subnet_of(ctx, req["SubnetId"])
        if network.in_use(self.db, ctx.account_id, ctx.region, subnet.subnet_id):
            raise errors.dependency(f"The subnet '{subnet.subnet_id}' has dependencies and cannot be deleted.")
        self._dry_run(req)
        store.delete_subnet(self.db, ctx.account_id, ctx.region, subnet.subnet_id)
        tags.drop(self.db, ctx.account_id, ctx.region, subnet.subnet_id)
        return {}
