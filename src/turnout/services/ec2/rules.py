"""Security group rules: Authorize/Revoke SecurityGroup Ingress/Egress, DescribeSecurityGroupRules and
ModifySecurityGroupRules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.context import RequestContext
from ...wire.errors import ServiceError
from . import defaults, errors, permissions, store, tags
from .base import result
from .filters import Filters
from .model import Rule, SecurityGroup
from .permissions import PeerLookup, Spec
from .security_groups import SecurityGroupOperations


def rule_filters(tag_map: Mapping[str, Mapping[str, str]]) -> Filters[Rule]:
    return Filters({
        "group-id": lambda r: r.group_id,
        "security-group-rule-id": lambda r: r.rule_id,
    }, tags=lambda r: tag_map.get(r.rule_id, {}))


class RuleOperations(SecurityGroupOperations):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def _peer_lookup(self, ctx: RequestContext, target: SecurityGroup) -> PeerLookup:
        """How a rule's peer group is found: by id (in its owner's account), or by name in the target's VPC. A
        peer must be in the target's VPC (Turnout has no VPC peering)."""

        def lookup(group_id: str | None, name: str | None, owner: str | None) -> tuple[str, str]:
            account = owner or ctx.account_id
            if group_id:
                if not errors.well_formed("sg", group_id):
                    raise errors.malformed("sg", group_id)
                peer = store.group(self.db, account, ctx.region, group_id)
                if peer is None:
                    raise errors.group_not_found(group_id)
            elif name:
                peer = store.group_by_name(self.db, account, ctx.region, target.vpc_id, name)
                if peer is None:
                    raise errors.group_name_not_found(name, target.vpc_id)
            else:
                raise errors.missing("The request must contain the parameter groupId or groupName")
            if peer.vpc_id != target.vpc_id:
                raise ServiceError("InvalidGroup.NotFound",
                                   "You have specified two resources that belong to different networks.")
            return peer.group_id, peer.account_id

        return lookup

    def _authorize(self, ctx: RequestContext, req: dict[str, Any], egress: bool) -> dict[str, Any]:
        self._ensure(ctx)
        group = self._target_group(ctx, req)
        specs = permissions.parse(req, self._peer_lookup(ctx, group))
        if not specs:
            raise permissions.no_permissions()
        existing = [r for r in store.group_rules(self.db, ctx.account_id, ctx.region, group.group_id)
                    if r.is_egress == egress]
        have = {r.key for r in existing}
        for spec in specs:
            if spec.key in have:
                raise permissions.duplicate(spec)
        permissions.check_quota(existing, specs)
        pairs = tags.specifications(req, "security-group-rule")
        self._dry_run(req)
        created = [self._add(group, egress, spec) for spec in specs]
        for rule in created:
            tags.put(self.db, ctx.account_id, ctx.region, rule.rule_id, pairs)
        return {"Return": True,
                "SecurityGroupRules": [permissions.rule_shape(r, tags.mapping(pairs)) for r in created]}

    def _add(self, group: SecurityGroup, egress: bool, spec: Spec) -> Rule:
        return defaults.add_rule(
            self.db, group, egress, spec.protocol, spec.from_port, spec.to_port, cidr_ipv4=spec.cidr_ipv4,
            cidr_ipv6=spec.cidr_ipv6, prefix_list_id=spec.prefix_list_id,
            referenced_group_id=spec.referenced_group_id, referenced_user_id=spec.referenced_user_id,
            description=spec.description,
        )

    def _revoke(self, ctx: RequestContext, req: dict[str, Any], egress: bool) -> dict[str, Any]:
        self._ensure(ctx)
        account, region = ctx.account_id, ctx.region
        group = self._target_group(ctx, req)
        existing = [r for r in store.group_rules(self.db, account, region, group.group_id) if r.is_egress == egress]
        rule_ids = req.get("SecurityGroupRuleIds") or []
        errors.check_ids("sgr", rule_ids)
        by_id = {r.rule_id: r for r in existing}
        chosen: list[Rule] = []
        for rule_id in rule_ids:
            rule = by_id.get(rule_id)
            if rule is None:
                raise errors.rule_not_found(rule_id)
            chosen.append(rule)
        specs = permissions.parse(req, self._peer_lookup(ctx, group))
        if not rule_ids and not specs:
            raise permissions.no_permissions()
        by_key = {r.key: r for r in existing}
        unknown: list[Spec] = []
        for spec in specs:
            match = by_key.get(spec.key)
            if match is None:
                unknown.append(spec)
            elif match not in chosen:
                chosen.append(match)
        vpc = store.vpc(self.db, account, region, group.vpc_id)
        if unknown and not (vpc is not None and vpc.is_default):
            # A nondefault VPC's group refuses the whole call; a default VPC's reports what it did not find.
            raise ServiceError("InvalidPermission.NotFound",
                               "The specified rule does not exist in this security group.")
        self._dry_run(req)
        for rule in chosen:
            store.delete_rule(self.db, account, region, rule.rule_id)
            tags.drop(self.db, account, region, rule.rule_id)
        out: dict[str, Any] = {"Return": True,
                               "RevokedSecurityGroupRules": [permissions.revoked_shape(r) for r in chosen]}
        if unknown:
            out["UnknownIpPermissions"] = permissions.ip_permissions(unknown, account)
        return out

    def authorize_security_group_ingress(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._authorize(ctx, req, egress=False)

    def authorize_security_group_egress(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._authorize(ctx, req, egress=True)

    def revoke_security_group_ingress(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._revoke(ctx, req, egress=False)

    def revoke_security_group_egress(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._revoke(ctx, req, egress=True)

    def describe_security_group_rules(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        account, region = ctx.account_id, ctx.region
        wanted = req.get("SecurityGroupRuleIds") or []
        errors.check_ids("sgr", wanted)
        tag_map = self._tag_map(ctx)
        test = rule_filters(tag_map).compile(req.get("Filters"))
        self._dry_run(req)
        items = store.rules(self.db, account, region)
        if wanted:
            have = {r.rule_id for r in items}
            for rule_id in wanted:
                if rule_id not in have:
                    raise errors.rule_not_found(rule_id)
            chosen = set(wanted)
            items = [r for r in items if r.rule_id in chosen]
        chunk, token = self._paged([r for r in items if test(r)], lambda r: r.rule_id, req)
        shapes = [permissions.rule_shape(r, tag_map.get(r.rule_id, {})) for r in chunk]
        return result("SecurityGroupRules", shapes, token)

    def modify_security_group_rules(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        """Replace rules of a group in place: each keeps its id, direction and tags."""
        self._ensure(ctx)
        account, region = ctx.account_id, ctx.region
        group = self._group_of(ctx, req["GroupId"])
        existing = store.group_rules(self.db, account, region, group.group_id)
        by_id = {r.rule_id: r for r in existing}
        lookup = self._peer_lookup(ctx, group)
        changed: dict[str, Spec] = {}
        for update in req["SecurityGroupRules"]:
            rule_id = update.get("SecurityGroupRuleId")
            if not rule_id:
                raise errors.missing("The request must contain the parameter SecurityGroupRuleId")
            errors.check_ids("sgr", [rule_id])
            if rule_id not in by_id:
                raise errors.rule_not_found(rule_id)
            changed[rule_id] = permissions.from_rule_request(update.get("SecurityGroupRule") or {}, lookup)
        for rule_id, spec in changed.items():
            egress = by_id[rule_id].is_egress
            others = [changed.get(r.rule_id, r) for r in existing if r.is_egress == egress and r.rule_id != rule_id]
            if any(other.key == spec.key for other in others):
                raise permissions.duplicate(spec)
        self._dry_run(req)
        for rule_id, spec in changed.items():
            store.update_rule(self.db, account, region, rule_id, spec)
        return {"Return": True}
