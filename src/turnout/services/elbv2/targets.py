"""Registered targets: RegisterTargets, DeregisterTargets, DescribeTargetHealth, and the hook through which the
runtime owning a target (an ECS task) reports its health.

Health is never stored: :mod:`.health` computes it from the registration's events each time it is read. A
deregistered target drains for the target group's deregistration delay (none when the group serves no load
balancer) and is gone afterwards; gone rows are purged by the next write to the group.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any

from ...clock import Clock
from ...gateway.context import RequestContext
from ...store.db import Database, Row
from . import network
from .attributes import ALB_PROTOCOLS, deregistration_delay
from .errors import error, invalid_target, validation
from .health import NOT_REGISTERED, TargetEvents, TargetHealth, target_health
from .healthchecks import settings
from .store import LB_ARN, iso, loads, tg_row, when
from .usage import in_use

TARGETS_PER_GROUP = 1000  # "targets-per-application-load-balancer"; Turnout counts them per target group
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}([0-9a-f]{9})?$")
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
                         r"[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$")
# Where an ip target outside the VPC may be (the CreateTargetGroup reference): RFC 1918 and RFC 6598.
_PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                                              "fc00::/7")]
_NO_OVERRIDE = {"State": "no_override", "Reason": "AdministrativeOverride.NoOverride",
                "Description": "No override is currently active on target"}


def events(row: Row) -> TargetEvents:
    return TargetEvents(
        registered_at=when(row["registered_at"]),
        deregistered_at=when(row["deregistered_at"]) if row["deregistered_at"] else None,
        drain_seconds=int(row["drain_seconds"] or 0),
        reported_health=row["reported_health"],
        reported_at=when(row["reported_at"]) if row["reported_at"] else None,
    )


def live_targets(db: Database, clock: Clock, tg: Row) -> list[tuple[Row, TargetHealth]]:
    """The group's registrations that are not gone, with their health now, in registration order."""
    used = in_use(db, tg["account_id"], tg["region"], tg["arn"])
    check = settings(loads(tg["health_check"]))
    rows = db.all("SELECT * FROM elbv2_targets WHERE account_id = ? AND region = ? AND target_group_arn = ? "
                  "ORDER BY registered_at, target_id, port", (tg["account_id"], tg["region"], tg["arn"]))
    out = []
    for row in rows:
        health = target_health(events(row), check, used, clock)
        if health is not None:
            out.append((row, health))
    return out


def _purge(db: Database, clock: Clock, tg: Row) -> list[tuple[Row, TargetHealth]]:
    """Delete the group's gone registrations; the live ones."""
    live = live_targets(db, clock, tg)
    keep = {(row["target_id"], row["port"]) for row, _ in live}
    for row in db.all("SELECT target_id, port FROM elbv2_targets WHERE account_id = ? AND region = ? "
                      "AND target_group_arn = ?", (tg["account_id"], tg["region"], tg["arn"])):
        if (row["target_id"], row["port"]) not in keep:
            db.execute("DELETE FROM elbv2_targets WHERE account_id = ? AND region = ? AND target_group_arn = ? "
                       "AND target_id = ? AND port = ?",
                       (tg["account_id"], tg["region"], tg["arn"], row["target_id"], row["port"]))
    return live


def report_health(db: Database, account: str, region: str, tg_arn: str, target_id: str, port: int, health: str,
                  at: datetime) -> bool:
    """The runtime owning a target reports it ``healthy`` or ``unhealthy`` at ``at`` (for the ECS issue: a task
    reports its own health). False when the target is not registered."""
    if health not in ("healthy", "unhealthy"):
        raise ValueError(f"health must be 'healthy' or 'unhealthy', not {health!r}")
    cursor = db.execute(
        "UPDATE elbv2_targets SET reported_health = ?, reported_at = ? WHERE account_id = ? AND region = ? "
        "AND target_group_arn = ? AND target_id = ? AND port = ?",
        (health, iso(at), account, region, tg_arn, target_id, port),
    )
    return cursor.rowcount > 0


class _Registration:
    """One target of a RegisterTargets request, validated: id, port (0 for a Lambda function) and zone."""

    def __init__(self, target_id: str, port: int, zone: str | None) -> None:
        self.target_id, self.port, self.zone = target_id, port, zone


def _ip_zone(db: Database, ctx: RequestContext, tg: Row, target: dict[str, Any]) -> str | None:
    """The zone an ip target is in: its subnet's, or the one given for an address outside the VPC."""
    text, given = target["Id"], target.get("AvailabilityZone")
    version = 6 if tg["ip_address_type"] == "ipv6" else 4
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise validation(f"The IP address '{text}' is not a valid IPv{version} address")  # our wording
    for subnet in network.vpc_subnets(db, ctx.account_id, ctx.region, tg["vpc_id"], ctx.received_at):
        if address.version == 4 and address in ipaddress.ip_network(subnet.cidr_block):
            zone = subnet.availability_zone
            if given is not None and given != zone:
                raise validation(f"The IP address '{text}' is within the VPC, and cannot have its Availability "
                                 f"Zone overridden to '{given}' from '{zone}'")
            return zone
    if not any(address in net for net in _PRIVATE if net.version == address.version):
        raise invalid_target(f"The IP address '{text}' is not in a valid range: it must be in the VPC's subnets, "
                             "the RFC 1918 ranges or the RFC 6598 range")  # our wording, after the reference
    if given != "all" and given not in network.zone_names(ctx.region):
        raise validation("You must specify a valid Availability Zone or select 'all' for all enabled Availability "
                         f"zones, since the IP address '{text}' is outside the VPC")
    return str(given)


def _registrations(db: Database, ctx: RequestContext, tg: Row, targets: list[dict[str, Any]]
                   ) -> list[_Registration]:
    kind = tg["target_type"]
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
        port = target.get("Port") or tg["port"]
        if kind == "alb":
            match = LB_ARN.match(target["Id"])
            row = db.one("SELECT type FROM elbv2_load_balancers WHERE account_id = ? AND region = ? AND arn = ?",
                         (ctx.account_id, ctx.region, target["Id"])) if match else None
            if row is None or row["type"] != "application":
                raise invalid_target(f"The target '{target['Id']}' is not an Application Load Balancer of this "
                                     "account and region")  # our wording
            if port != tg["port"]:
                raise validation(f"The port of an Application Load Balancer target must be the target group's port "
                                 f"{tg['port']}")  # our wording
            out.append(_Registration(target["Id"], port, None))
        else:
            out.append(_Registration(target["Id"], port, _ip_zone(db, ctx, tg, target)))
    return out


def _describe(tg: Row, row: Row | None, health: TargetHealth, target: dict[str, Any], anomaly: bool
              ) -> dict[str, Any]:
    described: dict[str, Any] = {"Id": target["Id"]}
    port = row["port"] if row is not None else (target.get("Port") or tg["port"])
    if tg["target_type"] != "lambda" and port:
        described["Port"] = port
    if row is not None and row["availability_zone"]:
        described["AvailabilityZone"] = row["availability_zone"]
    out: dict[str, Any] = {"Target": described}
    check = loads(tg["health_check"])
    if tg["target_type"] != "lambda" and port:
        check_port = check.get("HealthCheckPort", "traffic-port")
        out["HealthCheckPort"] = str(port) if check_port == "traffic-port" else str(check_port)
    out["TargetHealth"] = health.shape()
    if anomaly and tg["protocol"] in ALB_PROTOCOLS:
        out["AnomalyDetection"] = {"Result": "normal", "MitigationInEffect": "no"}
    out["AdministrativeOverride"] = dict(_NO_OVERRIDE)
    return out


class TargetOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database
    clock: Clock

    def register_targets(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        tg = tg_row(self.db, account, region, req["TargetGroupArn"])
        registrations = _registrations(self.db, ctx, tg, req["Targets"])
        live = {(row["target_id"], row["port"]): row for row, _ in _purge(self.db, self.clock, tg)}
        registered = set(live)
        now = iso(ctx.received_at)
        for reg in registrations:
            row = live.get((reg.target_id, reg.port))
            if row is None and (reg.target_id, reg.port) not in registered:
                self.db.execute(
                    "INSERT INTO elbv2_targets (account_id, region, target_group_arn, target_id, port, "
                    "availability_zone, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (account, region, tg["arn"], reg.target_id, reg.port, reg.zone, now),
                )
                registered.add((reg.target_id, reg.port))
            elif row is not None and row["deregistered_at"] is not None:
                # Registering a draining target again starts it over.
                self.db.execute(
                    "UPDATE elbv2_targets SET registered_at = ?, deregistered_at = NULL, drain_seconds = 0, "
                    "availability_zone = ? WHERE account_id = ? AND region = ? AND target_group_arn = ? "
                    "AND target_id = ? AND port = ?",
                    (now, reg.zone, account, region, tg["arn"], reg.target_id, reg.port),
                )
        if tg["target_type"] in ("lambda", "alb") and len(registered) > 1:
            # Our wording: a lambda or alb target group holds a single target.
            raise error("TooManyTargets", f"You can register only one target with a target group of target type "
                                          f"'{tg['target_type']}'")
        if len(registered) > TARGETS_PER_GROUP:
            raise error("TooManyTargets", f"The maximum number of targets per target group '{TARGETS_PER_GROUP}' "
                                          f"has been reached on target group '{tg['arn']}'")  # our wording
        return {}

    def deregister_targets(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        tg = tg_row(self.db, account, region, req["TargetGroupArn"])
        live = {(row["target_id"], row["port"]): row for row, _ in _purge(self.db, self.clock, tg)}
        drain = deregistration_delay(tg) if in_use(self.db, account, region, tg["arn"]) else 0
        for target in req["Targets"]:
            if tg["target_type"] == "instance" and not _INSTANCE_ID.match(target["Id"]):
                raise validation(f"Instance ID '{target['Id']}' is not valid")
            port = 0 if tg["target_type"] == "lambda" else (target.get("Port") or tg["port"])
            row = live.get((target["Id"], port))
            if row is None or row["deregistered_at"] is not None:
                continue  # "If the specified target does not exist, the action returns successfully."
            self.db.execute(
                "UPDATE elbv2_targets SET deregistered_at = ?, drain_seconds = ? WHERE account_id = ? AND region = ? "
                "AND target_group_arn = ? AND target_id = ? AND port = ?",
                (iso(ctx.received_at), drain, account, region, tg["arn"], target["Id"], port),
            )
        return {}

    def describe_target_health(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        tg = tg_row(self.db, ctx.account_id, ctx.region, req["TargetGroupArn"])
        include = set(req.get("Include") or [])
        anomaly = bool(include & {"AnomalyDetection", "All"})
        live = live_targets(self.db, self.clock, tg)
        wanted = req.get("Targets")
        if not wanted:
            return {"TargetHealthDescriptions": [
                _describe(tg, row, health, {"Id": row["target_id"]}, anomaly) for row, health in live]}
        out = []
        for target in wanted:
            port = target.get("Port")
            matches = [(row, health) for row, health in live if row["target_id"] == target["Id"]
                       and (port is None or row["port"] == port)]
            if not matches:
                out.append(_describe(tg, None, NOT_REGISTERED, target, anomaly))
            out.extend(_describe(tg, row, health, target, anomaly) for row, health in matches)
        return {"TargetHealthDescriptions": out}
