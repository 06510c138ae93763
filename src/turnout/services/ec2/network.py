"""The network as other services read it: VPCs, subnets and security groups of an account and region.

ELBv2 (and later ECS) validate the subnets and security groups a request names through these functions, inside
their own request's transaction; the region's defaults (default VPC, subnets, security group) are created first
when the account has never used the region. Lookups by id return what exists, in the order asked, each once;
the caller reports missing ids with its own service's error.

Load balancers and awsvpc tasks hold network interfaces (``interfaces.py``): ELBv2 calls
:func:`sync_load_balancer_interfaces` when a load balancer is created or its subnets or security groups change and
:func:`release_interfaces` when it is deleted; ECS calls :func:`attach_task_interface` when it launches an awsvpc
task and :func:`release_interfaces` when the task is STOPPED. An ENI keeps its subnet, VPC and security groups in
use.

A service whose resources use subnets or security groups registers a dependency check, so that EC2 refuses to
delete a subnet, security group or VPC still in use (DependencyViolation), as AWS does::

    network.dependency_checks.append(lambda db, account, region, resource_id: ...)  # True: in use
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from ...store.db import Database
from . import defaults, interfaces, store
from .interfaces import mac_address, private_dns_name
from .model import SecurityGroup, Subnet, Vpc

__all__ = ["DependencyCheck", "SecurityGroup", "Subnet", "Vpc", "attach_task_interface", "default_security_group",
           "default_vpc", "dependency_checks", "in_use", "interface_addresses", "mac_address", "private_dns_name",
           "release_interfaces", "security_groups", "subnets", "sync_load_balancer_interfaces", "vpc", "vpc_subnets"]

DependencyCheck = Callable[[Database, str, str, str], bool]
dependency_checks: list[DependencyCheck] = []


def _ready(db: Database, account: str, region: str, now: datetime | None) -> None:
    defaults.ensure(db, account, region, now or datetime.now(UTC))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def subnets(db: Database, account: str, region: str, ids: Iterable[str], now: datetime | None = None
            ) -> list[Subnet]:
    """The existing subnets among ``ids``."""
    _ready(db, account, region, now)
    found = (store.subnet(db, account, region, subnet_id) for subnet_id in _unique(ids))
    return [s for s in found if s is not None]


def security_groups(db: Database, account: str, region: str, ids: Iterable[str], now: datetime | None = None
                    ) -> list[SecurityGroup]:
    """The existing security groups among ``ids``."""
    _ready(db, account, region, now)
    found = (store.group(db, account, region, group_id) for group_id in _unique(ids))
    return [g for g in found if g is not None]


def vpc(db: Database, account: str, region: str, vpc_id: str, now: datetime | None = None) -> Vpc | None:
    _ready(db, account, region, now)
    return store.vpc(db, account, region, vpc_id)


def default_vpc(db: Database, account: str, region: str, now: datetime | None = None) -> Vpc | None:
    """The region's default VPC (None once the account deleted it)."""
    _ready(db, account, region, now)
    return store.default_vpc(db, account, region)


def default_security_group(db: Database, account: str, region: str, vpc_id: str, now: datetime | None = None
                           ) -> SecurityGroup | None:
    """The VPC's security group named ``default`` (what a load balancer gets when none is named)."""
    _ready(db, account, region, now)
    return store.group_by_name(db, account, region, vpc_id, defaults.DEFAULT_GROUP_NAME)


def vpc_subnets(db: Database, account: str, region: str, vpc_id: str, now: datetime | None = None) -> list[Subnet]:
    _ready(db, account, region, now)
    return store.subnets(db, account, region, vpc_id)


def in_use(db: Database, account: str, region: str, resource_id: str) -> bool:
    """Whether a network interface or another service's resource depends on the subnet, security group or VPC
    ``resource_id``."""
    if store.interface_uses(db, account, region, resource_id):
        return True
    return any(check(db, account, region, resource_id) for check in dependency_checks)


def sync_load_balancer_interfaces(db: Database, account: str, region: str, *, arn: str, kind: str, name: str,
                                  lb_id: str, subnet_ids: Iterable[str], groups: Iterable[str],
                                  now: datetime | None = None) -> None:
    """The load balancer ``arn`` (``kind`` ``app`` or ``net``) holds one ENI in each subnet of ``subnet_ids``, with
    ``groups``: description ``ELB <kind>/<name>/<id>``."""
    _ready(db, account, region, now)
    interfaces.sync_load_balancer(
        db, account, region, arn=arn, description=f"ELB {kind}/{name}/{lb_id}",
        interface_type="network_load_balancer" if kind == "net" else "interface",
        subnets=subnets(db, account, region, subnet_ids, now), groups=groups, now=now or datetime.now(UTC))


def attach_task_interface(db: Database, account: str, region: str, *, task_arn: str, eni_id: str, subnet_id: str,
                          private_ip: str, groups: Iterable[str], description: str,
                          now: datetime | None = None) -> None:
    """The awsvpc task ``task_arn``'s ENI ``eni_id`` in ``subnet_id`` with its address ``private_ip``; its
    description is the task's attachment ARN."""
    interfaces.attach_task(db, account, region, task_arn=task_arn, eni_id=eni_id, subnet_id=subnet_id,
                           private_ip=private_ip, groups=groups, description=description,
                           now=now or datetime.now(UTC))


def interface_addresses(db: Database, account: str, region: str, subnet_id: str) -> set[str]:
    """The private IPv4 addresses the network interfaces in ``subnet_id`` hold."""
    return store.interface_addresses(db, account, region, subnet_id)


def release_interfaces(db: Database, account: str, region: str, owner_ref: str) -> None:
    """Delete the ENIs of the load balancer or task ``owner_ref`` (its ARN)."""
    interfaces.release(db, account, region, owner_ref)
