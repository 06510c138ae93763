"""The EC2 network ELB stands on, read through ``services/ec2/network.py`` (imported lazily: EC2 is another
package). Keeps a load balancer's network interfaces in EC2 (one per subnet). Also tells EC2 which subnets,
security groups and VPCs load balancers and target groups use, so that it refuses to delete them
(DependencyViolation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from ...store.db import Database, Row
from .store import KINDS, loads

if TYPE_CHECKING:
    from ..ec2.network import SecurityGroup, Subnet, Vpc


def subnets(db: Database, account: str, region: str, ids: Iterable[str], now: datetime) -> dict[str, Subnet]:
    """The existing subnets among ``ids``, by id."""
    from ..ec2 import network

    return {s.subnet_id: s for s in network.subnets(db, account, region, ids, now)}


def security_groups(db: Database, account: str, region: str, ids: Iterable[str], now: datetime
                    ) -> dict[str, SecurityGroup]:
    from ..ec2 import network

    return {g.group_id: g for g in network.security_groups(db, account, region, ids, now)}


def default_security_group(db: Database, account: str, region: str, vpc_id: str, now: datetime) -> str | None:
    from ..ec2 import network

    group = network.default_security_group(db, account, region, vpc_id, now)
    return group.group_id if group is not None else None


def vpc(db: Database, account: str, region: str, vpc_id: str, now: datetime) -> Vpc | None:
    from ..ec2 import network

    return network.vpc(db, account, region, vpc_id, now)


def vpc_subnets(db: Database, account: str, region: str, vpc_id: str, now: datetime) -> list[Subnet]:
    from ..ec2 import network

    return network.vpc_subnets(db, account, region, vpc_id, now)


def zone_names(region: str) -> set[str]:
    from ..ec2 import zones

    return {zone.name for zone in zones.zones(region)}


def hold_interfaces(db: Database, account: str, region: str, row: Row, now: datetime) -> None:
    """The load balancer ``row`` holds one EC2 network interface per subnet, with its security groups (EC2 keeps
    them: created, updated and deleted with the load balancer)."""
    from ..ec2 import network

    kind = KINDS.get(row["type"], "app")
    zones = loads(row["availability_zones"]) or []
    network.sync_load_balancer_interfaces(
        db, account, region, arn=row["arn"], kind=kind, name=row["name"], lb_id=row["lb_id"],
        subnet_ids=[z["SubnetId"] for z in zones if z.get("SubnetId")],
        groups=loads(row["security_groups"]) or [], now=now)


def release_interfaces(db: Database, account: str, region: str, arn: str) -> None:
    from ..ec2 import network

    network.release_interfaces(db, account, region, arn)


def _like(value: str) -> str:
    return f'%"{value}"%'


def uses(db: Database, account: str, region: str, resource_id: str) -> bool:
    """Whether a load balancer or target group uses the subnet, security group or VPC ``resource_id``."""
    if resource_id.startswith("subnet-"):
        sql, arg = "SELECT 1 FROM elbv2_load_balancers WHERE account_id = ? AND region = ? " \
                   "AND availability_zones LIKE ?", _like(resource_id)
    elif resource_id.startswith("sg-"):
        sql, arg = "SELECT 1 FROM elbv2_load_balancers WHERE account_id = ? AND region = ? " \
                   "AND security_groups LIKE ?", _like(resource_id)
    elif resource_id.startswith("vpc-"):
        if db.one("SELECT 1 FROM elbv2_target_groups WHERE account_id = ? AND region = ? AND vpc_id = ?",
                  (account, region, resource_id)) is not None:
            return True
        sql, arg = "SELECT 1 FROM elbv2_load_balancers WHERE account_id = ? AND region = ? AND vpc_id = ?", \
            resource_id
    else:
        return False
    return db.one(sql, (account, region, arg)) is not None


def register_dependency_check() -> None:
    """Add :func:`uses` to EC2's dependency checks, once (nothing when EC2 is not there)."""
    try:
        from ..ec2 import network
    except ImportError:
        return
    if uses not in network.dependency_checks:
        network.dependency_checks.append(uses)
