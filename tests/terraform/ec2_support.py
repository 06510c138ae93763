"""The Terraform AWS provider's (v6.x) EC2 calls, replayed through boto3: what each resource and data source sends
and how it turns the answers into state (read from ``internal/service/ec2``: ``vpc_data_source.go``,
``vpc_subnets_data_source.go``, ``vpc_security_group.go``, ``vpc_security_group_ingress_rule.go``,
``vpc_security_group_egress_rule.go``, ``find.go``, ``vpc_network_interface.go``).

A rule of ``aws_security_group``'s ``ingress``/``egress`` blocks is a :class:`Rule`; the provider's read groups the
group's ``IpPermissions`` by protocol, ports and description into such blocks, and a plan shows no change when
the blocks read equal the configured ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

# The provider's error codes (internal/service/ec2/errors.go).
GROUP_NOT_FOUND = "InvalidGroup.NotFound"
RULE_NOT_FOUND = "InvalidSecurityGroupRuleId.NotFound"
PERMISSION_NOT_FOUND = "InvalidPermission.NotFound"
DEPENDENCY_VIOLATION = "DependencyViolation"
GROUP_IN_USE = "InvalidGroup.InUse"


class NotFound(Exception):
    """``tfresource.NotFound``: the provider drops the resource from state (or a delete waiter is done)."""


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def paginate(ec2: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """The SDK v2 paginators the provider's finders use (``ec2.NewDescribe...Paginator``)."""
    items: list[dict[str, Any]] = []
    for page in ec2.get_paginator(operation).paginate(**params):
        items.extend(page[key])
    return items


def single(items: list[dict[str, Any]]) -> dict[str, Any]:
    """``tfresource.AssertSingleValueResult``: none is NotFound, several an error."""
    if not items:
        raise NotFound()
    assert len(items) == 1, f"expected 1 result, got {len(items)}"
    return items[0]


def attribute_filters(values: dict[str, str]) -> list[dict[str, Any]]:
    """``newAttributeFilterList``: one filter per non-empty value."""
    return [{"Name": name, "Values": [value]} for name, value in values.items() if value]


def tag_specifications(resource_type: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    """``getTagSpecificationsIn``: nothing without tags."""
    if not tags:
        return []
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def tags_of(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def update_tags(ec2: Any, resource_id: str, old: dict[str, str], new: dict[str, str]) -> None:
    """``updateTags``: DeleteTags for the keys gone, CreateTags for the keys added or changed."""
    removed = [k for k in old if k not in new]
    if removed:
        ec2.delete_tags(Resources=[resource_id], Tags=[{"Key": k} for k in removed])
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    if changed:
        ec2.create_tags(Resources=[resource_id], Tags=[{"Key": k, "Value": v} for k, v in changed.items()])


# -- data "aws_vpc" and data "aws_subnets" ------------------------------------------------------------------------


def read_vpc_data_source(ec2: Any, *, default: bool = False, vpc_id: str = "") -> dict[str, Any]:
    """``dataSourceVPCRead``: DescribeVpcs (the camelCase ``isDefault`` filter), the three attributes, the main
    route table; the state it sets."""
    params: dict[str, Any] = {}
    filters = attribute_filters({"isDefault": "true" if default else ""})
    if filters:
        params["Filters"] = filters
    if vpc_id:
        params["VpcIds"] = [vpc_id]
    vpc = single(paginate(ec2, "describe_vpcs", "Vpcs", **params))
    state: dict[str, Any] = {
        "id": vpc["VpcId"],
        "arn": f"arn:aws:ec2:us-east-1:{vpc['OwnerId']}:vpc/{vpc['VpcId']}",
        "cidr_block": vpc["CidrBlock"],
        "default": vpc["IsDefault"],
        "dhcp_options_id": vpc["DhcpOptionsId"],
        "instance_tenancy": vpc["InstanceTenancy"],
        "owner_id": vpc["OwnerId"],
        "state": vpc["State"],
        "cidr_block_associations": [
            {"association_id": a["AssociationId"], "cidr_block": a["CidrBlock"], "state": a["CidrBlockState"]["State"]}
            for a in vpc["CidrBlockAssociationSet"]],
        "tags": tags_of(vpc.get("Tags")),
    }
    for name, key in (("enableDnsHostnames", "enable_dns_hostnames"), ("enableDnsSupport", "enable_dns_support"),
                      ("enableNetworkAddressUsageMetrics", "enable_network_address_usage_metrics")):
        # findVPCAttribute: an error here fails the data source.
        answer = ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=name)
        state[key] = answer[name[:1].upper() + name[1:]]["Value"]
    # findVPCMainRouteTable: an error only logs a warning and leaves main_route_table_id empty.
    tables = paginate(ec2, "describe_route_tables", "RouteTables",
                      Filters=attribute_filters({"association.main": "true", "vpc-id": vpc["VpcId"]}))
    state["main_route_table_id"] = single(tables)["RouteTableId"]
    return state


def read_subnets_data_source(ec2: Any, filters: dict[str, list[str]]) -> list[str]:
    """``dataSourceSubnetsRead``: DescribeSubnets with the configured filters; the ids in the order answered."""
    subnets = paginate(ec2, "describe_subnets", "Subnets",
                       Filters=[{"Name": k, "Values": v} for k, v in filters.items()])
    return [s["SubnetId"] for s in subnets]


# -- resource "aws_security_group" ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One ``ingress``/``egress`` block (values as the provider keeps them in state)."""

    protocol: str
    from_port: int = 0
    to_port: int = 0
    cidr_blocks: tuple[str, ...] = ()
    ipv6_cidr_blocks: tuple[str, ...] = ()
    prefix_list_ids: tuple[str, ...] = ()
    security_groups: frozenset[str] = field(default_factory=frozenset)
    self: bool = False
    description: str = ""

    def canonical(self) -> Rule:
        return Rule(self.protocol, self.from_port, self.to_port, tuple(sorted(self.cidr_blocks)),
                    tuple(sorted(self.ipv6_cidr_blocks)), tuple(sorted(self.prefix_list_ids)), self.security_groups,
                    self.self, self.description)


def expand(group_id: str, rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """``expandIPPerms``: one IpPermission per block; protocol ``-1`` sends no ports; ``self`` is the group."""
    out = []
    for rule in rules:
        perm: dict[str, Any] = {"IpProtocol": rule.protocol}
        if rule.protocol != "-1":
            perm["FromPort"], perm["ToPort"] = rule.from_port, rule.to_port
        described = {"Description": rule.description} if rule.description else {}
        groups = sorted(rule.security_groups) + ([group_id] if rule.self else [])
        if groups:
            perm["UserIdGroupPairs"] = [{"GroupId": g, **described} for g in groups]
        if rule.cidr_blocks:
            perm["IpRanges"] = [{"CidrIp": c, **described} for c in rule.cidr_blocks]
        if rule.ipv6_cidr_blocks:
            perm["Ipv6Ranges"] = [{"CidrIpv6": c, **described} for c in rule.ipv6_cidr_blocks]
        if rule.prefix_list_ids:
            perm["PrefixListIds"] = [{"PrefixListId": p, **described} for p in rule.prefix_list_ids]
        out.append(perm)
    return out


def gather(group_id: str, owner: str, permissions: list[dict[str, Any]]) -> set[Rule]:
    """``securityGroupIPPermGather``: the answer's permissions as blocks, one per protocol, ports and description;
    a pair naming the group itself is ``self``, another of the same owner its group id."""
    blocks: dict[tuple[str, int, int, str], dict[str, Any]] = {}

    def block(perm: dict[str, Any], description: str) -> dict[str, Any]:
        key = (perm["IpProtocol"], perm.get("FromPort", 0), perm.get("ToPort", 0), description)
        return blocks.setdefault(key, {"cidr": [], "ipv6": [], "pl": [], "sg": set(), "self": False})

    for perm in permissions:
        for item in perm.get("IpRanges", []):
            block(perm, item.get("Description", ""))["cidr"].append(item["CidrIp"])
        for item in perm.get("Ipv6Ranges", []):
            block(perm, item.get("Description", ""))["ipv6"].append(item["CidrIpv6"])
        for item in perm.get("PrefixListIds", []):
            block(perm, item.get("Description", ""))["pl"].append(item["PrefixListId"])
        for pair in perm.get("UserIdGroupPairs", []):
            found = block(perm, pair.get("Description", ""))
            user = pair.get("UserId", "")
            name = pair["GroupId"] if not user or user == owner else f"{user}/{pair['GroupId']}"
            if pair["GroupId"] == group_id:
                found["self"] = True
            else:
                found["sg"].add(name)
    return {Rule(p, f, t, tuple(sorted(b["cidr"])), tuple(sorted(b["ipv6"])), tuple(sorted(b["pl"])),
                 frozenset(b["sg"]), b["self"], d) for (p, f, t, d), b in blocks.items()}


def find_group(ec2: Any, group_id: str) -> dict[str, Any]:
    """``findSecurityGroupByID``: DescribeSecurityGroups by id; InvalidGroup.NotFound is NotFound."""
    try:
        groups = paginate(ec2, "describe_security_groups", "SecurityGroups", GroupIds=[group_id])
    except ClientError as exc:
        if code_of(exc) in (GROUP_NOT_FOUND, "InvalidSecurityGroupID.NotFound"):
            raise NotFound() from exc
        raise
    group = single(groups)
    if group["GroupId"] != group_id:
        raise NotFound()
    return group


def read_group(ec2: Any, group_id: str) -> dict[str, Any]:
    """``resourceSecurityGroupRead``: the state a refresh sets."""
    group = find_group(ec2, group_id)
    owner = group["OwnerId"]
    return {
        "id": group["GroupId"],
        "arn": f"arn:aws:ec2:us-east-1:{owner}:security-group/{group_id}",
        "name": group["GroupName"],
        "description": group["Description"],
        "owner_id": owner,
        "vpc_id": group["VpcId"],
        "ingress": gather(group_id, owner, group["IpPermissions"]),
        "egress": gather(group_id, owner, group["IpPermissionsEgress"]),
        "tags": tags_of(group.get("Tags")),
    }


def update_group_rules(ec2: Any, group_id: str, kind: str, old: set[Rule], new: set[Rule]) -> None:
    """``updateSecurityGroupRules``: revoke the blocks removed, then authorize the blocks added."""
    removed = expand(group_id, [r for r in old if r not in new])
    added = expand(group_id, [r for r in new if r not in old])
    egress = kind == "egress"
    if removed:
        revoke = ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
        revoke(GroupId=group_id, IpPermissions=removed)
    if added:
        authorize = ec2.authorize_security_group_egress if egress else ec2.authorize_security_group_ingress
        authorize(GroupId=group_id, IpPermissions=added)


def create_group(ec2: Any, *, name: str, description: str = "Managed by Terraform", vpc_id: str = "",
                 tags: dict[str, str] | None = None, ingress: Iterable[Rule] = (), egress: Iterable[Rule] = ()
                 ) -> dict[str, Any]:
    """``resourceSecurityGroupCreate``: create, wait until it exists, revoke the default IPv4 and IPv6 egress, then
    the update (authorize the configured blocks) and its read. Returns the state."""
    params: dict[str, Any] = {"GroupName": name, "Description": description}
    specs = tag_specifications("security-group", tags or {})
    if specs:
        params["TagSpecifications"] = specs
    if vpc_id:
        params["VpcId"] = vpc_id
    group_id: str = ec2.create_security_group(**params)["GroupId"]
    find_group(ec2, group_id)  # waitSecurityGroupCreated
    ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
        {"FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "IpProtocol": "-1"}])
    try:
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
            {"FromPort": 0, "ToPort": 0, "Ipv6Ranges": [{"CidrIpv6": "::/0"}], "IpProtocol": "-1"}])
    except ClientError as exc:
        # The provider tolerates InvalidPermission.NotFound (and an InvalidParameterValue about remote-ipv6-range).
        message = str(exc.response["Error"]["Message"])
        if code_of(exc) != PERMISSION_NOT_FOUND and not (
                code_of(exc) == "InvalidParameterValue" and "remote-ipv6-range" in message):
            raise
    group = find_group(ec2, group_id)  # resourceSecurityGroupUpdate's read
    update_group_rules(ec2, group["GroupId"], "ingress", set(), {r.canonical() for r in ingress})
    update_group_rules(ec2, group["GroupId"], "egress", set(), {r.canonical() for r in egress})
    return read_group(ec2, group_id)


def delete_group(ec2: Any, group_id: str, *, attempts: int = 3, interval: float = 0.0) -> list[str]:
    """``resourceSecurityGroupDelete``: the lingering-ENI lookup, DeleteSecurityGroup retried while it answers
    DependencyViolation or InvalidGroup.InUse (``attempts`` stands for the 15-minute timeout, ``interval`` for
    the retry's back-off), then the wait until DescribeSecurityGroups answers InvalidGroup.NotFound. Returns the
    error codes of the failed attempts."""
    paginate(ec2, "describe_network_interfaces", "NetworkInterfaces",
             Filters=attribute_filters({"group-id": group_id}))
    failures: list[str] = []
    for _ in range(attempts):
        try:
            ec2.delete_security_group(GroupId=group_id)
            break
        except ClientError as exc:
            code = code_of(exc)
            if code == GROUP_NOT_FOUND:
                return failures
            if code not in (DEPENDENCY_VIOLATION, GROUP_IN_USE):
                raise
            failures.append(code)
            time.sleep(interval)
    else:
        return failures
    try:
        find_group(ec2, group_id)
    except NotFound:
        return failures
    raise AssertionError(f"{group_id} still found after its delete")


# -- resource "aws_vpc_security_group_ingress_rule" / "..._egress_rule" ------------------------------------------


@dataclass(frozen=True)
class RuleResource:
    """The configuration of an ``aws_vpc_security_group_{ingress,egress}_rule`` (None: not set)."""

    security_group_id: str
    ip_protocol: str
    from_port: int | None = None
    to_port: int | None = None
    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    prefix_list_id: str | None = None
    referenced_security_group_id: str | None = None
    description: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def permission(self) -> dict[str, Any]:
        """``expandIPPermission``."""
        perm: dict[str, Any] = {"IpProtocol": self.ip_protocol}
        if self.from_port is not None:
            perm["FromPort"] = self.from_port
        if self.to_port is not None:
            perm["ToPort"] = self.to_port
        described = {"Description": self.description} if self.description is not None else {}
        if self.cidr_ipv4 is not None:
            perm["IpRanges"] = [{"CidrIp": self.cidr_ipv4, **described}]
        if self.cidr_ipv6 is not None:
            perm["Ipv6Ranges"] = [{"CidrIpv6": self.cidr_ipv6, **described}]
        if self.prefix_list_id is not None:
            perm["PrefixListIds"] = [{"PrefixListId": self.prefix_list_id, **described}]
        if self.referenced_security_group_id is not None:
            perm["UserIdGroupPairs"] = [{"GroupId": self.referenced_security_group_id, **described}]
        return perm

    def rule_request(self) -> dict[str, Any]:
        """``expandSecurityGroupRuleRequest`` (ModifySecurityGroupRules)."""
        values = {"IpProtocol": self.ip_protocol, "FromPort": self.from_port, "ToPort": self.to_port,
                  "CidrIpv4": self.cidr_ipv4, "CidrIpv6": self.cidr_ipv6, "PrefixListId": self.prefix_list_id,
                  "ReferencedGroupId": self.referenced_security_group_id, "Description": self.description}
        return {k: v for k, v in values.items() if v is not None}

    def state(self) -> dict[str, Any]:
        """What a refresh must read back for no diff."""
        return {"security_group_id": self.security_group_id, "ip_protocol": self.ip_protocol,
                "from_port": self.from_port, "to_port": self.to_port, "cidr_ipv4": self.cidr_ipv4,
                "cidr_ipv6": self.cidr_ipv6, "prefix_list_id": self.prefix_list_id,
                "referenced_security_group_id": self.referenced_security_group_id,
                "description": self.description, "tags": dict(self.tags)}


def create_rule(ec2: Any, config: RuleResource, egress: bool) -> str:
    """``create``: Authorize{Ingress,Egress} with the rule's tags; the first SecurityGroupRules entry's id."""
    params: dict[str, Any] = {"GroupId": config.security_group_id, "IpPermissions": [config.permission()]}
    specs = tag_specifications("security-group-rule", dict(config.tags))
    if specs:
        params["TagSpecifications"] = specs
    authorize = ec2.authorize_security_group_egress if egress else ec2.authorize_security_group_ingress
    rule_id: str = authorize(**params)["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    return rule_id


def read_rule(ec2: Any, rule_id: str, config: RuleResource, egress: bool) -> dict[str, Any]:
    """``Read``: DescribeSecurityGroupRules by id (InvalidSecurityGroupRuleId.NotFound, or a rule of the other
    direction, is NotFound); -1 ports stay null when the configuration has none."""
    try:
        rules = paginate(ec2, "describe_security_group_rules", "SecurityGroupRules", SecurityGroupRuleIds=[rule_id])
    except ClientError as exc:
        if code_of(exc) == RULE_NOT_FOUND:
            raise NotFound() from exc
        raise
    rule = single(rules)
    if rule["SecurityGroupRuleId"] != rule_id or bool(rule["IsEgress"]) != egress:
        raise NotFound()
    referenced = rule.get("ReferencedGroupInfo")
    ref_id = None
    if referenced is not None:
        user = referenced.get("UserId")
        same_owner = not user or user == rule["GroupOwnerId"]
        ref_id = referenced["GroupId"] if same_owner else f"{user}/{referenced['GroupId']}"

    def port(value: int, configured: int | None) -> int | None:
        return None if value == -1 and configured is None else value

    return {"security_group_id": rule["GroupId"], "ip_protocol": rule["IpProtocol"],
            "from_port": port(rule["FromPort"], config.from_port), "to_port": port(rule["ToPort"], config.to_port),
            "cidr_ipv4": rule.get("CidrIpv4"), "cidr_ipv6": rule.get("CidrIpv6"),
            "prefix_list_id": rule.get("PrefixListId"), "referenced_security_group_id": ref_id,
            "description": rule.get("Description"), "tags": tags_of(rule.get("Tags")),
            "arn": rule["SecurityGroupRuleArn"]}


def update_rule(ec2: Any, rule_id: str, old: RuleResource, new: RuleResource) -> None:
    """``Update``: ModifySecurityGroupRules when a rule field changed, then the tags."""
    if old.rule_request() != new.rule_request():
        ec2.modify_security_group_rules(GroupId=new.security_group_id, SecurityGroupRules=[
            {"SecurityGroupRuleId": rule_id, "SecurityGroupRule": new.rule_request()}])
    update_tags(ec2, rule_id, dict(old.tags), dict(new.tags))


def delete_rule(ec2: Any, rule_id: str, config: RuleResource, egress: bool) -> None:
    """``delete``: Revoke{Ingress,Egress} by rule id; InvalidGroup.NotFound and
    InvalidSecurityGroupRuleId.NotFound mean it is gone already."""
    revoke = ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
    try:
        revoke(GroupId=config.security_group_id, SecurityGroupRuleIds=[rule_id])
    except ClientError as exc:
        if code_of(exc) not in (GROUP_NOT_FOUND, RULE_NOT_FOUND):
            raise
