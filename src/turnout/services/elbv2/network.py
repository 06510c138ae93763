"""The EC2 network ELB stands on, read through ``services/ec2/network.py`` (imported lazily: EC2 is another
package). Keeps a load balancer's network interfaces in EC2 (one per subnet). Also tells EC2 which subnets,
security groups and VPCs load balancers and target groups use, so that it refuses to delete them
(DependencyViolation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from ...store.db import Database
from .store import KINDS, LoadBalancer, network_in_use

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


def hold_interfaces(db: Database, account: str, region: str, lb: LoadBalancer, now: datetime) -> None:
    """The load balancer ``lb`` holds one EC2 network interface per subnet, with its security groups (EC2 keeps
    them: created, updated and deleted with the load balancer)."""
    from ..ec2 import network

    kind = KINDS.get(lb.type, "app")
    network.sync_load_balancer_interfaces(
        db, account, region, arn=lb.arn, kind=kind, name=lb.name, lb_id=lb.lb_id,
        subnet_ids=[z["SubnetId"] for z in lb.availability_zones if z.get("SubnetId")],
        groups=list(lb.security_groups), now=now)


def release_interfaces(db: Database, account: str, region: str, arn: str) -> None:
    from ..ec2 import network

    network.release_interfaces(db, account, region, arn)


def uses(db: Database, account: str, region: str, resource_id: str) -> bool:
    """Whether a load balancer or target group uses the subnet, security group or VPC ``resource_id``."""
    return network_in_use(db, account, region, resource_id)


def register_dependency_check() -> None:
    """Add :func:`uses` to EC2's dependency checks, once (nothing when EC2 is not there)."""
    try:
        from ..ec2 import network
    except ImportError:
        return
    if uses not in network.dependency_checks:
        network.dependency_checks.append(uses)
