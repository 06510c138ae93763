"""EC2: resources and condition keys per operation.

Turnout serves a handful of EC2 operations (VPCs, subnets, security groups, tags, route tables, network interfaces,
prefix lists); those whose resources the parameters do not name plainly have explicit entries.
Every other operation gets what its parameters name: a resource type whose template's placeholder is ``VpcId`` is
filled from ``VpcId``/``VpcIds`` (a few aliases, e.g. ``GroupId`` for ``SecurityGroupId``). Creates act on
``<type>/*`` (the id is generated). ``TagSpecifications`` given to a create are authorized again as
``ec2:CreateTags`` on the new resources with ``ec2:CreateAction`` (AWS's tag-on-create rule).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..reference.authorization import ResourceType, catalog
from .resources_base import (
    STAR,
    Env,
    Extra,
    KeyValue,
    ResourceExtractor,
    ServiceRules,
    Spec,
    Target,
    custom,
    has,
    name_resolvers,
    param,
    strings,
    template,
    value_of,
)

# Parameter spellings of a placeholder besides ``<Placeholder>`` and ``<Placeholder>s``.
ALIASES = {
    "SecurityGroupId": ("GroupId", "GroupIds"),
    "KeyPairName": ("KeyName", "KeyNames"),
    "Ipv6PoolEc2Id": ("Ipv6Pool",),
    "NaclId": ("NetworkAclId", "NetworkAclIds"),
    "LocalGatewayRoutetableId": ("LocalGatewayRouteTableId", "LocalGatewayRouteTableIds"),
    "ExportTaskId": ("ExportTaskIds",),
}

# Resource ids by prefix (longest first), for the ``Resources`` of CreateTags/DeleteTags.
ID_PREFIXES = sorted({
    "vpc-": "vpc", "subnet-": "subnet", "sg-": "security-group", "sgr-": "security-group-rule",
    "i-": "instance", "vol-": "volume", "snap-": "snapshot", "ami-": "image", "igw-": "internet-gateway",
    "eigw-": "egress-only-internet-gateway", "rtb-": "route-table", "acl-": "network-acl",
    "eni-": "network-interface", "dopt-": "dhcp-options", "eipalloc-": "elastic-ip", "nat-": "natgateway",
    "pcx-": "vpc-peering-connection", "lt-": "launch-template", "vpce-": "vpc-endpoint",
    "vpce-svc-": "vpc-endpoint-service", "tgw-": "transit-gateway", "tgw-attach-": "transit-gateway-attachment",
    "tgw-rtb-": "transit-gateway-route-table", "key-": "key-pair", "pl-": "prefix-list", "fl-": "vpc-flow-log",
    "cgw-": "customer-gateway", "vgw-": "vpn-gateway", "vpn-": "vpn-connection", "h-": "dedicated-host",
    "pg-": "placement-group", "cr-": "capacity-reservation", "fleet-": "fleet", "sfr-": "spot-fleet-request",
    "sir-": "spot-instances-request", "ipam-": "ipam", "ipam-pool-": "ipam-pool", "ipam-scope-": "ipam-scope",
    "cvpn-endpoint-": "client-vpn-endpoint", "lgw-": "local-gateway", "carrier-gateway-": "carrier-gateway",
}.items(), key=lambda item: -len(item[0]))


def _infer(rtype: ResourceType) -> tuple[Spec, ...]:
    """A resource type's single placeholder filled from the parameter of the same name (or its plural)."""
    parameters = rtype.parameters
    if len(parameters) != 1:
        return ()
    name = parameters[0]
    return (template(rtype.name, **{name: param(name, name + "s", *ALIASES.get(name, ()))}),)


def _arn_of(env: Env, type_name: str, resource_id: str) -> str | None:
    rtype = catalog().resource_type("ec2", type_name)
    if rtype is None or len(rtype.parameters) != 1:
        return None
    return rtype.build({rtype.parameters[0]: resource_id}, account=env.account, region=env.region)


def _security_group(env: Env) -> Iterable[str]:
    """The group a request names by ``GroupId``, or by ``GroupName`` through the EC2 provider's resolver."""
    group_id = env.params.get("GroupId")
    if isinstance(group_id, str) and group_id:
        return [a for a in (_arn_of(env, "security-group", group_id),) if a]
    name = env.params.get("GroupName")
    resolve = name_resolvers.get("ec2:security-group")
    if isinstance(name, str) and resolve is not None:
        found = resolve(env.db, env.account, env.region, name)
        return (found,) if found else ()
    return ()  # a group named without the provider to resolve it: checked on "*"


def _tagged_resources(env: Env) -> Iterable[str]:
    """CreateTags/DeleteTags: each resource id as the ARN of its type (by the id's prefix)."""
    out = []
    for resource_id in strings(env.params.get("Resources")):
        type_name = next((t for prefix, t in ID_PREFIXES if resource_id.startswith(prefix)), None)
        arn = _arn_of(env, type_name, resource_id) if type_name else None
        if arn:
            out.append(arn)
    return out


def _new_tagged(env: Env) -> Iterable[str]:
    """The resources a create tags through ``TagSpecifications``: ``<type>/*`` for each type tagged."""
    specs = env.params.get("TagSpecifications")
    out: list[str] = []
    for spec in specs if isinstance(specs, list) else ():
        type_name = spec.get("ResourceType") if isinstance(spec, dict) else None
        arn = _arn_of(env, type_name, "*") if isinstance(type_name, str) else None
        if arn and arn not in out:
            out.append(arn)
    return out


def _modified_rules(env: Env) -> Iterable[str]:
    """ModifySecurityGroupRules: each ``SecurityGroupRules[].SecurityGroupRuleId`` as a security-group-rule ARN."""
    updates = env.params.get("SecurityGroupRules")
    out = []
    for update in updates if isinstance(updates, list) else ():
        rule_id = update.get("SecurityGroupRuleId") if isinstance(update, dict) else None
        arn = _arn_of(env, "security-group-rule", rule_id) if isinstance(rule_id, str) and rule_id else None
        if arn and arn not in out:
            out.append(arn)
    return out


SECURITY_GROUP = custom(_security_group, "security-group", needs=("GroupId", "GroupName"))
VPC = template("vpc", VpcId=param("VpcId"))
IPAM_POOL = template("ipam-pool", IpamPoolId=param("Ipv4IpamPoolId", "Ipv6IpamPoolId"))
NEW_RULE = custom(lambda env: [a for a in (_arn_of(env, "security-group-rule", "*"),) if a]
                  if env.params.get("TagSpecifications") else (), "security-group-rule", needs=("TagSpecifications",))

OPS: dict[str, tuple[Spec, ...]] = {
    "CreateVpc": (template("vpc", VpcId=STAR), IPAM_POOL, template("ipv6pool-ec2", Ipv6PoolEc2Id=param("Ipv6Pool"))),
    "CreateSubnet": (template("subnet", SubnetId=STAR), VPC, IPAM_POOL),
    "CreateSecurityGroup": (template("security-group", SecurityGroupId=STAR), VPC),
    "DeleteSecurityGroup": (SECURITY_GROUP,),
    "AuthorizeSecurityGroupIngress": (SECURITY_GROUP, NEW_RULE),
    "AuthorizeSecurityGroupEgress": (SECURITY_GROUP, NEW_RULE),
    "RevokeSecurityGroupIngress": (SECURITY_GROUP,),
    "RevokeSecurityGroupEgress": (template("security-group", SecurityGroupId=param("GroupId")),),
    "ModifySecurityGroupRules": (template("security-group", SecurityGroupId=param("GroupId")),
                                 custom(_modified_rules, "security-group-rule", needs=("SecurityGroupRules",))),
    "CreateTags": (custom(_tagged_resources, needs=("Resources",)),),
    "DeleteTags": (custom(_tagged_resources, needs=("Resources",)),),
}


def _tag_on_create(operation: str, members: tuple[str, ...]) -> tuple[Extra, ...]:
    if "TagSpecifications" not in members:
        return ()
    return (Extra("CreateTags", has("TagSpecifications"), specs=(custom(_new_tagged),),
                  keys={"ec2:CreateAction": operation}),)


# ``ec2:<Type>ID`` keys of a resource: its id, from its ARN.
_ID_KEYS = {
    "ec2:VpcID": "vpc", "ec2:SubnetID": "subnet", "ec2:SecurityGroupID": "security-group",
    "ec2:InstanceID": "instance", "ec2:ImageID": "image", "ec2:VolumeID": "volume", "ec2:SnapshotID": "snapshot",
    "ec2:NetworkInterfaceID": "network-interface", "ec2:InternetGatewayID": "internet-gateway",
    "ec2:RouteTableID": "route-table", "ec2:NetworkAclID": "network-acl", "ec2:DhcpOptionsID": "dhcp-options",
    "ec2:VpcPeeringConnectionID": "vpc-peering-connection", "ec2:AllocationId": "elastic-ip",
}


def _id_key(type_name: str) -> ResourceExtractor:
    marker = f":{type_name}/"

    def extract(env: Env, target: Target) -> KeyValue:
        _, found, resource_id = target.arn.partition(marker)
        return resource_id if found and resource_id != "*" and "/" not in resource_id else None

    return extract


RULES = ServiceRules(
    prefix="ec2",
    ops=OPS,
    request_keys={"ec2:Region": lambda env: env.region or None},
    op_keys={"CreateVpc": {"ec2:Tenancy": lambda env: value_of("InstanceTenancy")(env) or "default"}},
    resource_keys={family: _id_key(type_name) for family, type_name in _ID_KEYS.items()},
    infer=_infer,
    extra_rule=_tag_on_create,
)
