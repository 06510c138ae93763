"""Security groups: CreateSecurityGroup, DescribeSecurityGroups, DeleteSecurityGroup, and how requests name a
group (``GroupId``, or ``GroupName`` in the default VPC)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...core.context import RequestContext
from ...wire.errors import ServiceError
from . import defaults, errors, network, store, tags
from .base import result, with_tags
from .filters import Field, Filters
from .model import Rule, SecurityGroup
from .permissions import ip_permissions
from .vpcs import VpcOperations

_TEXT = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}")


def check_text(value: str, parameter: str, what: str) -> None:
    """GroupName and GroupDescription: 1 to 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*. AWS's
    wording for a bad name or description is not published; this follows its rule-description message."""
    if not value:
        raise errors.missing(f"The request must contain the parameter {parameter}")
    if not value.isascii():
        raise errors.invalid_value(f"Value ({value}) for parameter {parameter} is invalid. Character sets beyond "
                                   "ASCII are not supported.")
    if _TEXT.fullmatch(value) is None:
        raise errors.invalid_value(f"Invalid {what}. Valid {what}s are strings less than 256 characters from the "
                                   "following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*")


def group_shape(group: SecurityGroup, rules: list[Rule], resource_tags: Mapping[str, str] | None) -> dict[str, Any]:
    return with_tags({
        "GroupId": group.group_id,
        "GroupName": group.group_name,
        "Description": group.description,
        "VpcId": group.vpc_id,
        "OwnerId": group.account_id,
        "SecurityGroupArn": group.arn,
        "IpPermissions": ip_permissions([r for r in rules if not r.is_egress], group.account_id),
        "IpPermissionsEgress": ip_permissions([r for r in rules if r.is_egress], group.account_id),
    }, resource_tags)


def group_filters(tag_map: Mapping[str, Mapping[str, str]], rules_of: Mapping[str, list[Rule]],
                  names: Mapping[str, str]) -> Filters[SecurityGroup]:
    fields: dict[str, Field[SecurityGroup]] = {
        "description": lambda g: g.description,
        "group-id": lambda g: g.group_id,
        "group-name": lambda g: g.group_name,
        "owner-id": lambda g: g.account_id,
        "vpc-id": lambda g: g.vpc_id,
    }

    def of(egress: bool, read: Any) -> Field[SecurityGroup]:
        return lambda g: [read(r) for r in rules_of.get(g.group_id, []) if r.is_egress == egress]

    for prefix, egress in (("ip-permission.", False), ("egress.ip-permission.", True)):
        fields[prefix + "cidr"] = of(egress, lambda r: r.cidr_ipv4)
        fields[prefix + "from-port"] = of(egress, lambda r: r.from_port)
        fields[prefix + "to-port"] = of(egress, lambda r: r.to_port)
        fields[prefix + "group-id"] = of(egress, lambda r: r.referenced_group_id)
        fields[prefix + "group-name"] = of(egress, lambda r: names.get(r.referenced_group_id or ""))
        fields[prefix + "ipv6-cidr"] = of(egress, lambda r: r.cidr_ipv6)
        fields[prefix + "prefix-list-id"] = of(egress, lambda r: r.prefix_list_id)
        fields[prefix + "protocol"] = of(egress, lambda r: r.protocol)
        fields[prefix + "user-id"] = of(egress, lambda r: r.referenced_user_id)
    return Filters(fields, tags=lambda g: tag_map.get(g.group_id, {}))


def _by_rule_group(rules: list[Rule]) -> dict[str, list[Rule]]:
    out: dict[str, list[Rule]] = {}
    for rule in rules:
        out.setdefault(rule.group_id, []).append(rule)
    return out


class SecurityGroupOperations(VpcOperations):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def _group_of(self, ctx: RequestContext, group_id: str) -> SecurityGroup:
        return self._existing(ctx, "sg", group_id, store.group, errors.group_not_found)

    def _default_group_named(self, ctx: RequestContext, name: str) -> SecurityGroup:
        """``GroupName``: a group of the default VPC (nondefault VPCs' groups are named by id)."""
        vpc = store.default_vpc(self.db, ctx.account_id, ctx.region)
        if vpc is None:
            raise errors.no_default_vpc()
        group = store.group_by_name(self.db, ctx.account_id, ctx.region, vpc.vpc_id, name)
        if group is None:
            raise errors.group_name_not_found(name, vpc.vpc_id)
        return group

    def _target_group(self, ctx: RequestContext, req: Mapping[str, Any]) -> SecurityGroup:
        group_id, name = req.get("GroupId"), req.get("GroupName")
        if group_id:
            return self._group_of(ctx, group_id)
        if name:
            return self._default_group_named(ctx, name)
        raise errors.missing("The request must contain the parameter groupName or groupId")

    def create_security_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        name, description = req["GroupName"], req["Description"]
        check_text(name, "GroupName", "security group name")
        check_text(description, "GroupDescription", "security group description")
        if name.startswith("sg-"):
            raise errors.invalid_value(f"Value ({name}) for parameter GroupName is invalid. Group names may not be "
                                       "in the format sg-*.")
        vpc_id = req.get("VpcId")
        vpc = self._vpc_of(ctx, vpc_id) if vpc_id else store.default_vpc(self.db, ctx.account_id, ctx.region)
        if vpc is None:
            raise errors.no_default_vpc()
        if store.group_by_name(self.db, ctx.account_id, ctx.region, vpc.vpc_id, name) is not None:
            raise ServiceError("InvalidGroup.Duplicate",
                               f"The security group '{name}' already exists for VPC '{vpc.vpc_id}'")
        pairs = tags.specifications(req, "security-group")
        self._dry_run(req)
        group = defaults.add_group(self.db, vpc, name, description, ctx.received_at)
        tags.put(self.db, ctx.account_id, ctx.region, group.group_id, pairs)
        out: dict[str, Any] = {"GroupId": group.group_id, "SecurityGroupArn": group.arn}
        if pairs:
            out["Tags"] = tags.as_list(tags.mapping(pairs))
        return out

    def describe_security_groups(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        account, region = ctx.account_id, ctx.region
        wanted = req.get("GroupIds") or []
        errors.check_ids("sg", wanted)
        items = store.groups(self.db, account, region)
        rules_of = _by_rule_group(store.rules(self.db, account, region))
        tag_map = self._tag_map(ctx)
        test = group_filters(tag_map, rules_of, {g.group_id: g.group_name for g in items}).compile(req.get("Filters"))
        chosen: set[str] = set()
        have = {g.group_id for g in items}
        for group_id in wanted:
            if group_id not in have:
                raise errors.group_not_found(group_id)
            chosen.add(group_id)
        for name in req.get("GroupNames") or []:
            chosen.add(self._default_group_named(ctx, name).group_id)
        self._dry_run(req)
        if wanted or req.get("GroupNames"):
            items = [g for g in items if g.group_id in chosen]
        chunk, token = self._paged([g for g in items if test(g)], lambda g: g.group_id, req)
        shapes = [group_shape(g, rules_of.get(g.group_id, []), tag_map.get(g.group_id)) for g in chunk]
        return result("SecurityGroups", shapes, token)

    def delete_security_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        group = self._target_group(ctx, req)
        if group.is_default:
            raise ServiceError("CannotDelete", f'the specified group: "{group.group_id}" name: "default" cannot be '
                               "deleted by a user")
        if (store.referencing_groups(self.db, ctx.region, group.group_id)
                or network.in_use(self.db, ctx.account_id, ctx.region, group.group_id)):
            raise errors.dependency(f"resource {group.group_id} has a dependent object")
        self._dry_run(req)
        defaults.remove_group(self.db, group)
        return {"Return": True, "GroupId": group.group_id}
