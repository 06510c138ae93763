"""Registered targets: RegisterTargets, DeregisterTargets, DescribeTargetHealth, and the hook through which the
runtime owning a target (an ECS task) reports its health.

Health is never stored: the data plane's health checks (:class:`~.ports.HealthChecks`, wired by
``server.build_gateway``) compute it from the registration's events each time it is read. A
deregistered target drains for the target group's deregistration delay (none when the group serves no load
balancer) and is gone afterwards; gone rows are purged by the next write to the group.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from . import network, store
from .attributes import ALB_PROTOCOLS, deregistration_delay
from .errors import error, invalid_target, validation
from .healthchecks import settings
from .ports import HealthChecks
from .store import LB_ARN, Target, TargetGroup, get_target_group, in_use, targets_of
from .target_health import NOT_CHECKED, NOT_REGISTERED, TargetEvents, TargetHealth

TARGETS_PER_GROUP = 1000  # "targets-per-application-load-balancer"; Turnout counts them per target group
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}([0-9a-f]{9})?$")
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
                         r"[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$")
# Where an ip target outside the VPC may be (the CreateTargetGroup reference): RFC 1918 and RFC 6598.
_PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                                              "fc00::/7")]
_NO_OVERRIDE = {"State": "no_override", "Reason": "AdministrativeOverride.NoOverride",
                "Description": "No override is currently active on target"}


def events(target: Target) -> TargetEvents:
    return TargetEvents(
        registered_at=target.registered_at,
        deregistered_at=target.deregistered_at,
        drain_seconds=target.drain_seconds,
        reported_health=target.reported_health,
        reported_at=target.reported_at,
    )


def live_targets(db: Database, checks: HealthChecks, tg: TargetGroup) -> list[tuple[Target, TargetHealth]]:
    """The group's registrations that are not gone, with their health now, in registration order."""
    used = in_use(db, tg.account_id, tg.region, tg.arn)
    check = settings(tg.health_check)
    out = []
    for target in targets_of(db, tg.account_id, tg.region, tg.arn):
        health = checks.target_health(events(target), check, used)
        if health is not None:
            out.append((target, health))
    return out


def _purge(db: Database, checks: HealthChecks, tg: TargetGroup) -> list[tuple[Target, TargetHealth]]:
    """Delete the group's gone registrations; the live ones."""
    live = live_targets(db, checks, tg)
    keep = {(target.target_id, target.port) for target, _ in live}
    for target in targets_of(db, tg.account_id, tg.region, tg.arn):
        if (target.target_id, target.port) not in keep:
            store.delete_target(db, tg.account_id, tg.region, tg.arn, target.target_id, target.port)
    return live


def report_health(db: Database, account: str, region: str, tg_arn: str, target_id: str, port: int, health: str,
                  at: datetime) -> bool:
    """The runtime owning a target reports it ``healthy`` or ``unhealthy`` at ``at`` (for the ECS issue: a task
    reports its own health), or :data:`NOT_CHECKED`: it owns the target and its first check has not answered yet.
    False when the target is not registered."""
    if health not in ("healthy", "unhealthy", NOT_CHECKED):
        raise ValueError(f"health must be 'healthy', 'unhealthy' or {NOT_CHECKED!r}, not {health!r}")
    return store.report_health(db, account, region, tg_arn, target_id, port, health, at)


def _port(tg: TargetGroup, target: dict[str, Any]) -> int:
    """The port a target of an instance, ip or alb target group is registered on (such a group has a port)."""
    return int(target.get("Port") or tg.port or 0)


class _Registration:
    """One target of a RegisterTargets request, validated: id, port (0 for a Lambda function) and zone."""

    def __init__(self, target_id: str, port: int, zone: str | None) -> None:
        self.target_id, self.port, self.zone = target_id, port, zone


def _ip_zone(db: Database, ctx: RequestContext, tg: TargetGroup, target: dict[str, Any]) -> str | None:
    """The zone an ip target is in: its subnet's, or the one given for an address outside the VPC."""
    text, given = target["Id"], target.get("AvailabilityZone")
    version = 6 if tg.ip_address_type == "ipv6" else 4
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise validation(f"The IP address '{text}' is not a valid IPv{version} address")  # our wording
    for subnet in network.vpc_subnets(db, ctx.account_id, ctx.region, tg.vpc_id or "", ctx.received_at):
        if address.version == 4 and address in ipaddress.ip_network(subnet.cidr_block):
            zone = subnet.availability_zone
            if given is not None and given != zone:
                raise validation(f"The IP address '{text}' is within the VPC, and cannot have its Availability "
                                 f"Zone overridden to '{given}' from '{zone}'")
            return zone
    if address.is_loopback:
        # Turnout's addition (docs/dataplane.md, "Targets on this machine"): a program on this machine, reached
        # directly by the listeners; outside every VPC, in every zone unless one is given.
        return "all" if given is None else str(given)
    if not any(address in net for net in _PRIVATE if net.version == address.version):
        raise invalid_target(f"The IP address '{text}' is not in a valid range: it must be in the VPC's subnets, "
                             "the RFC 1918 ranges or the RFC 6598 range")  # our wording, after the reference
    if given != "all" and given not in network.zone_names(ctx.region):
        raise validation("You must specify a valid Availability Zone or select 'all' for all enabled Availability "
                         f"zones, since the IP address '{text}' is outside the VPC")
    return str(given)


def _registrations(db: Database, ctx: RequestContext, tg: TargetGroup, targets: list[dict[str, Any]]
                   ) -> list[_Registration]:
    kind = tg.target_type
    out: list[_Registration] = []
    if kind == "instance":
        for target in targets:
            if not _INSTANCE_ID.match(target["Id"]):
                raise validation(f"Instance ID '{target['Id']}' is not valid")
        # Turnout runs no EC2 instances: every well-formed instance id names one that is not running.
        listed = ", ".join(f"'{t['Id']}'" for t in targets)
        raise invalid_target(f"The following targets are not in a running state and cannot be registered: {listed}")
    if kind == "lambda":
        for target in targets:
            match = _LAMBDA_ARN.match(target["Id"])
            if match is None or match["region"] != ctx.region:
                raise validation(f"'{target['Id']}' is not a valid Lambda function ARN for this region")  # ours
            if target.get("Port") is not None:
                raise validation("A port cannot be specified for a Lambda function target")  # our wording
            out.append(_Registration(target["Id"], 0, None))
        return out
    for target in targets:
        port = _port(tg, target)
        if kind == "alb":
            match = LB_ARN.match(target["Id"])
            lb = store.load_balancer(db, ctx.account_id, ctx.region, target["Id"]) if match else None
            if lb is None or lb.type != "application":
                raise invalid_target(f"The target '{target['Id']}' is not an Application Load Balancer of this "
                                     "account and region")  # our wording
            if port != tg.port:
                raise validation(f"The port of an Application Load Balancer target must be the target group's port "
                                 f"{tg.port}")  # our wording
            out.append(_Registration(target["Id"], port, None))
        else:
            out.append(_Registration(target["Id"], port, _ip_zone(db, ctx, tg, target)))
    return out


def _describe(tg: TargetGroup, registration: Target | None, health: TargetHealth, target: dict[str, Any],
              anomaly: bool) -> dict[str, Any]:
    described: dict[str, Any] = {"Id": target["Id"]}
    port = registration.port if registration is not None else (target.get("Port") or tg.port)
    if tg.target_type != "lambda" and port:
        described["Port"] = port
    if registration is not None and registration.availability_zone:
        described["AvailabilityZone"] = registration.availability_zone
    out: dict[str, Any] = {"Target": described}
    check = tg.health_check
    if tg.target_type != "lambda" and port:
        check_port = check.get("HealthCheckPort", "traffic-port")
        out["HealthCheckPort"] = str(port) if check_port == "traffic-port" else str(check_port)
    out["TargetHealth"] = health.shape()
    if anomaly and tg.protocol in ALB_PROTOCOLS:
        out["AnomalyDetection"] = {"Result": "normal", "MitigationInEffect": "no"}
    out["AdministrativeOverride"] = dict(_NO_OVERRIDE)
    return out


class TargetOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database
    health_checks: HealthChecks

    def register_targets(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        tg = get_target_group(self.db, account, region, req["TargetGroupArn"])
        registrations = _registrations(self.db, ctx, tg, req["Targets"])
        live = {(target.target_id, target.port): target for target, _ in _purge(self.db, self.health_checks, tg)}
        registered = set(live)
        now = ctx.received_at
        for reg in registrations:
            found = live.get((reg.target_id, reg.port))
            if found is None and (reg.target_id, reg.port) not in registered:
                store.add_target(self.db, Target(account_id=account, region=region, target_group_arn=tg.arn,
                                                 target_id=reg.target_id, port=reg.port,
                                                 availability_zone=reg.zone, registered_at=now))
                registered.add((reg.target_id, reg.port))
            elif found is not None and found.deregistered_at is not None:
                # Registering a draining target again starts it over.
                store.reregister_target(self.db, account, region, tg.arn, reg.target_id, reg.port, now, reg.zone)
        if tg.target_type in ("lambda", "alb") and len(registered) > 1:
            # Our wording: a lambda or alb target group holds a single target.
            raise error("TooManyTargets", f"You can register only one target with a target group of target type "
                                          f"'{tg.target_type}'")
        if len(registered) > TARGETS_PER_GROUP:
            raise error("TooManyTargets", f"The maximum number of targets per target group '{TARGETS_PER_GROUP}' "
                                          f"has been reached on target group '{tg.arn}'")  # our wording
        return {}

    def deregister_targets(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        tg = get_target_group(self.db, account, region, req["TargetGroupArn"])
        live = {(target.target_id, target.port): target for target, _ in _purge(self.db, self.health_checks, tg)}
        drain = deregistration_delay(tg) if in_use(self.db, account, region, tg.arn) else 0
        for target in req["Targets"]:
            if tg.target_type == "instance" and not _INSTANCE_ID.match(target["Id"]):
                raise validation(f"Instance ID '{target['Id']}' is not valid")
            port = 0 if tg.target_type == "lambda" else _port(tg, target)
            found = live.get((target["Id"], port))
            if found is None or found.deregistered_at is not None:
                continue  # "If the specified target does not exist, the action returns successfully."
            store.deregister_target(self.db, account, region, tg.arn, target["Id"], port, ctx.received_at, drain)
        return {}

    def describe_target_health(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        tg = get_target_group(self.db, ctx.account_id, ctx.region, req["TargetGroupArn"])
        include = set(req.get("Include") or [])
        anomaly = bool(include & {"AnomalyDetection", "All"})
        live = live_targets(self.db, self.health_checks, tg)
        wanted = req.get("Targets")
        if not wanted:
            return {"TargetHealthDescriptions": [
                _describe(tg, found, health, {"Id": found.target_id}, anomaly) for found, health in live]}
        out = []
        for target in wanted:
            port = target.get("Port")
            matches = [(found, health) for found, health in live if found.target_id == target["Id"]
                       and (port is None or found.port == port)]
            if not matches:
                out.append(_describe(tg, None, NOT_REGISTERED, target, anomaly))
            out.extend(_describe(tg, found, health, target, anomaly) for found, health in matches)
        return {"TargetHealthDescriptions": out}
