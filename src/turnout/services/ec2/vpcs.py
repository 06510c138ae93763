"""VPCs: CreateVpc, DescribeVpcs, DeleteVpc (IPv4 only; IPv6 and IPAM parameters are not modelled)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from ...core.context import RequestContext
from ...wire.errors import ServiceError
from . import defaults, errors, network, store, tags
from .base import Ec2Base, result, with_tags
from .filters import Filters
from .model import Vpc

VPCS_PER_REGION = 5  # AWS's default quota "VPCs per Region" (the default VPC counts)
VPC_PREFIXES = range(16, 29)  # a VPC's IPv4 block is between /16 and /28

_UNSUPPORTED = ("Ipv6Pool", "Ipv6CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "Ipv6IpamPoolId",
                "Ipv6NetmaskLength", "Ipv6CidrBlockNetworkBorderGroup", "VpcEncryptionControl")


def ipv4_block(cidr: str, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    """An IPv4 CIDR block as AWS accepts it: ``a.b.c.d/n`` with no bits set after the prefix (Turnout refuses
    host bits rather than silently truncating them)."""
    if "/" not in cidr:
        raise errors.cidr_value(cidr, parameter)
    try:
        return ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        raise errors.cidr_value(cidr, parameter) from None


def refuse_unsupported(operation: str, req: Mapping[str, Any], names: Sequence[str]) -> None:
    """UnsupportedOperation for the first of the parameters ``names`` (not modelled) that the request sets."""
    for name in names:
        if req.get(name) is not None:
            raise errors.unsupported(operation, name)


def requested_block(req: Mapping[str, Any]) -> tuple[str, ipaddress.IPv4Network]:
    """The request's ``CidrBlock``, as given and as a block (IPAM pools are not modelled, so it is required)."""
    cidr = req.get("CidrBlock")
    if not cidr:
        raise errors.missing("Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
    return cidr, ipv4_block(cidr)


def vpc_shape(vpc: Vpc, resource_tags: Mapping[str, str] | None, state: str | None = None) -> dict[str, Any]:
    return with_tags({
        "VpcId": vpc.vpc_id,
        "OwnerId": vpc.account_id,
        "State": state or vpc.state,
        "CidrBlock": vpc.cidr_block,
        "CidrBlockAssociationSet": [{
            "AssociationId": vpc.cidr_association_id,
            "CidrBlock": vpc.cidr_block,
            "CidrBlockState": {"State": "associated"},
        }],
        "DhcpOptionsId": vpc.dhcp_options_id,
        "InstanceTenancy": vpc.instance_tenancy,
        "IsDefault": vpc.is_default,
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
    }, resource_tags)


def vpc_filters(tag_map: Mapping[str, Mapping[str, str]]) -> Filters[Vpc]:
    def none(v: Vpc) -> None:
        return None

    return Filters({
        "cidr": lambda v: v.cidr_block,
        "cidr-block-association.cidr-block": lambda v: v.cidr_block,
        "cidr-block-association.association-id": lambda v: v.cidr_association_id,
        "cidr-block-association.state": lambda v: "associated",
        "dhcp-options-id": lambda v: v.dhcp_options_id,
        "ipv6-cidr-block-association.ipv6-cidr-block": none,
        "ipv6-cidr-block-association.ipv6-pool": none,
        "ipv6-cidr-block-association.association-id": none,
        "ipv6-cidr-block-association.state": none,
        "is-default": lambda v: v.is_default,
        # Not in the model's list, but EC2 takes it (boto/boto3#2227) and the Terraform provider's aws_vpc data
        # source sends it.
        "isDefault": lambda v: v.is_default,
        "owner-id": lambda v: v.account_id,
        "state": lambda v: v.state,
        "vpc-id": lambda v: v.vpc_id,
    }, tags=lambda v: tag_map.get(v.vpc_id, {}))


class VpcOperations(Ec2Base):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def _vpc_of(self, ctx: RequestContext, vpc_id: str) -> Vpc:
        return self._existing(ctx, "vpc", vpc_id, store.vpc, errors.vpc_not_found)

    def create_vpc(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        refuse_unsupported("CreateVpc", req, _UNSUPPORTED)
        if req.get("AmazonProvidedIpv6CidrBlock"):
            raise errors.unsupported("CreateVpc", "AmazonProvidedIpv6CidrBlock")
        cidr, block = requested_block(req)
        if block.prefixlen not in VPC_PREFIXES:
            raise ServiceError("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.")
        tenancy = req.get("InstanceTenancy") or "default"
        if tenancy == "host":
            # The model lists "host", which EC2 refuses for a VPC; the wording is Turnout's.
            raise errors.invalid_value("The tenancy value host is not supported.")
        pairs = tags.specifications(req, "vpc")
        account, region = ctx.account_id, ctx.region
        if len(store.vpcs(self.db, account, region)) >= VPCS_PER_REGION:
            raise ServiceError("VpcLimitExceeded", "The maximum number of VPCs has been reached.")
        self._dry_run(req)
        vpc = defaults.add_vpc(self.db, account, region, str(block), ctx.received_at, tenancy=tenancy)
        tags.put(self.db, account, region, vpc.vpc_id, pairs)
        # AWS answers CreateVpc with the VPC still "pending"; it is "available" when next described.
        return {"Vpc": vpc_shape(vpc, tags.mapping(pairs), state="pending")}

    def describe_vpcs(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        wanted = req.get("VpcIds") or []
        errors.check_ids("vpc", wanted)
        tag_map = self._tag_map(ctx)
        test = vpc_filters(tag_map).compile(req.get("Filters"))
        self._dry_run(req)
        items = store.vpcs(self.db, ctx.account_id, ctx.region)
        chunk, token = self._select(items, lambda v: v.vpc_id, wanted, errors.vpc_not_found, test, req)
        return result("Vpcs", [vpc_shape(v, tag_map.get(v.vpc_id)) for v in chunk], token)

    def delete_vpc(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        vpc = self._vpc_of(ctx, req["VpcId"])
        account, region = ctx.account_id, ctx.region
        groups = store.groups(self.db, account, region, vpc.vpc_id)
        if (store.subnets(self.db, account, region, vpc.vpc_id) or any(not g.is_default for g in groups)
                or network.in_use(self.db, account, region, vpc.vpc_id)):
            raise errors.dependency(f"The vpc '{vpc.vpc_id}' has dependencies and cannot be deleted.")
        self._dry_run(req)
        for group in groups:
            defaults.remove_group(self.db, group)
        for table in store.route_tables(self.db, account, region):
            if table.vpc_id == vpc.vpc_id:
                tags.drop(self.db, account, region, table.route_table_id)
        store.delete_vpc(self.db, account, region, vpc.vpc_id)
        tags.drop(self.db, account, region, vpc.vpc_id)
        return {}
