"""Target groups: create (ip, instance, lambda and alb targets), describe, modify health checks, delete."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store.db import Database
from . import describe, healthchecks, network
from .attributes import ALB_PROTOCOLS, defaults, target_group_specs
from .errors import error, invalid_config, validation
from .store import (
    TargetGroup,
    add_target_group,
    count_target_groups,
    delete_target_group,
    find_target_group,
    get_target_group,
    load_balancers_using,
    target_group_named,
    update_target_group,
)
from .tags import check_new_tags, put_tags

TARGET_GROUPS_PER_REGION = 3000  # the "target-groups" quota
NLB_PROTOCOLS = frozenset({"TCP", "TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC"})
VERSIONS = ("HTTP1", "HTTP2", "GRPC")
_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def check_name(name: str) -> None:
    if not name:
        raise validation("Target group name cannot be empty")  # our wording
    if len(name) > 32:
        raise validation(f"Target group name '{name}' cannot be longer than '32' characters")
    if not _NAME.match(name):
        raise validation(f"Target group name '{name}' can only contain characters that are alphanumeric characters "
                         "or hyphens(-)")
    if name.startswith("-") or name.endswith("-"):
        raise validation(f"Target group name '{name}' cannot begin or end with '-'")  # our wording


def shape(db: Database, tg: TargetGroup) -> dict[str, Any]:
    """The ``TargetGroup`` structure; ``LoadBalancerArns`` from the listeners and rules forwarding to it."""
    out: dict[str, Any] = {"TargetGroupArn": tg.arn, "TargetGroupName": tg.name}
    if tg.protocol is not None:
        out["Protocol"] = tg.protocol
    if tg.port is not None:
        out["Port"] = tg.port
    if tg.vpc_id is not None:
        out["VpcId"] = tg.vpc_id
    check = tg.health_check
    out.update({name: check[name] for name in healthchecks.FIELDS if name in check})
    out["LoadBalancerArns"] = load_balancers_using(db, tg.account_id, tg.region, tg.arn)
    out["TargetType"] = tg.target_type
    if tg.protocol_version is not None:
        out["ProtocolVersion"] = tg.protocol_version
    if tg.ip_address_type is not None:
        out["IpAddressType"] = tg.ip_address_type
    return out


class _Definition:
    """What CreateTargetGroup asks for, validated (everything but the name and tags)."""

    def __init__(self, db: Database, ctx: RequestContext, req: dict[str, Any]) -> None:
        self.target_type: str = req.get("TargetType") or "instance"
        self.protocol: str | None = req.get("Protocol")
        self.port: int | None = req.get("Port")
        self.vpc_id: str | None = req.get("VpcId")
        # An empty ProtocolVersion is the member left unset: the Terraform provider (aws_lb_target_group without
        # protocol_version) sends "ProtocolVersion=" for HTTP/HTTPS groups, which AWS creates as HTTP1.
        self.version: str | None = req.get("ProtocolVersion") or None
        self.ip_type: str | None = req.get("IpAddressType")
        if self.target_type == "lambda":
            self._lambda()
        else:
            self._networked(db, ctx)
        self.health_check = healthchecks.merge(
            self.target_type, self.protocol, self.version,
            healthchecks.defaults(self.target_type, self.protocol, self.version), healthchecks.given(req))

    def _lambda(self) -> None:
        for member, value in (("Protocol", self.protocol), ("Port", self.port), ("VpcId", self.vpc_id),
                              ("ProtocolVersion", self.version), ("IpAddressType", self.ip_type)):
            if value is not None:
                # Our wording: the reference says these do not apply to a Lambda function target.
                raise validation(f"{member} cannot be specified for target groups with target type 'lambda'")

    def _networked(self, db: Database, ctx: RequestContext) -> None:
        # Our wording for the three members the reference requires unless the target is a Lambda function.
        if self.protocol is None:
            raise validation(f"A protocol must be specified for target groups with target type '{self.target_type}'")
        if self.port is None:
            raise validation(f"A port must be specified for target groups with target type '{self.target_type}'")
        if self.vpc_id is None:
            raise validation(f"A VPC ID must be specified for target groups with target type '{self.target_type}'")
        if self.protocol == "GENEVE":
            raise invalid_config("GENEVE target groups (Gateway Load Balancers) are not supported by Turnout")
        if self.target_type == "alb" and self.protocol not in ("TCP", "TLS"):
            raise invalid_config(f"Protocol '{self.protocol}' is not supported for target groups with target type "
                                 "'alb'")  # our wording; the NLB guide allows TCP (and TLS)
        if self.version is not None:
            if self.protocol not in ALB_PROTOCOLS:
                raise invalid_config(f"A protocol version cannot be specified for target groups with the "
                                     f"'{self.protocol}' protocol")  # our wording
            if self.version not in VERSIONS:
                raise validation(f"Protocol version '{self.version}' is not valid; valid versions are HTTP1, HTTP2 "
                                 "and GRPC")  # our wording
        elif self.protocol in ALB_PROTOCOLS:
            self.version = "HTTP1"
        if self.ip_type == "ipv6" and self.target_type != "ip":
            raise invalid_config("IPv6 target groups are only supported for target type 'ip'")  # our wording
        self.ip_type = self.ip_type or "ipv4"
        if network.vpc(db, ctx.account_id, ctx.region, self.vpc_id, ctx.received_at) is None:
            raise validation(f"The VPC ID '{self.vpc_id}' is not found")

    def same_as(self, tg: TargetGroup) -> bool:
        return bool(tg.target_type == self.target_type and tg.protocol == self.protocol
                    and tg.port == self.port and tg.vpc_id == self.vpc_id
                    and tg.protocol_version == self.version and tg.ip_address_type == self.ip_type
                    and tg.health_check == self.health_check)


class TargetGroupOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def create_target_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        name = req["Name"]
        check_name(name)
        tags = req.get("Tags") or []
        check_new_tags(tags)
        definition = _Definition(self.db, ctx, req)
        existing = target_group_named(self.db, account, region, name)
        if existing is not None:
            if not definition.same_as(existing):
                raise error("DuplicateTargetGroupName",
                            f"A target group with the same name '{name}' exists, but with different settings")
            return {"TargetGroups": [shape(self.db, existing)]}  # idempotent, as CreateLoadBalancer
        if count_target_groups(self.db, account, region) >= TARGET_GROUPS_PER_REGION:
            # Our wording; the model documents "You've reached the limit on the number of target groups".
            raise error("TooManyTargetGroups",
                        f"You've reached the limit of {TARGET_GROUPS_PER_REGION} target groups in this region")
        tg_id = ids.hex_id(16)
        arn = arns.elb_target_group(region, account, name, tg_id)
        attributes = defaults(target_group_specs(definition.target_type, definition.protocol, definition.version))
        add_target_group(self.db, TargetGroup(
            account_id=account, region=region, arn=arn, name=name, tg_id=tg_id, target_type=definition.target_type,
            protocol=definition.protocol, protocol_version=definition.version, port=definition.port,
            vpc_id=definition.vpc_id, ip_address_type=definition.ip_type, health_check=definition.health_check,
            attributes=attributes, created_at=ctx.received_at))
        put_tags(self.db, account, region, arn, tags)
        return {"TargetGroups": [shape(self.db, get_target_group(self.db, account, region, arn))]}

    def describe_target_groups(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        found = describe.target_groups(self.db, ctx.account_id, ctx.region, req)
        result = describe.paged(found, lambda tg: tg.name, req, "TargetGroups")
        result["TargetGroups"] = [shape(self.db, tg) for tg in result["TargetGroups"]]
        return result

    def modify_target_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        tg = get_target_group(self.db, account, region, req["TargetGroupArn"])
        check = healthchecks.merge(tg.target_type, tg.protocol, tg.protocol_version, tg.health_check,
                                   healthchecks.given(req))
        update_target_group(self.db, replace(tg, health_check=check))
        return {"TargetGroups": [shape(self.db, get_target_group(self.db, account, region, tg.arn))]}

    def delete_target_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        tg = find_target_group(self.db, account, region, req["TargetGroupArn"])
        if tg is None:
            return {}  # deleting a target group that does not exist succeeds, as on AWS
        if load_balancers_using(self.db, account, region, tg.arn):
            raise error("ResourceInUse", f"Target group '{tg.arn}' is currently in use by a listener or a rule")
        delete_target_group(self.db, account, region, tg.arn)
        return {}
