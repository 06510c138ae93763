"""``elbv2_load_balancers``: the :class:`LoadBalancer` record, its lookups and writes.

Deleting a load balancer deletes its listeners, their rules (and the rules' target group index) and the tags of
all of them, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row
from ..errors import lb_not_found
from .common import LB_ARN, by_arn

_COLUMNS = ("account_id, region, arn, name, lb_id, type, scheme, ip_address_type, vpc_id, dns_name, "
            "canonical_hosted_zone_id, state, availability_zones, security_groups, attributes, extra, created_at")


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    account_id: str
    region: str
    arn: str
    name: str
    lb_id: str
    type: str  # application | network
    scheme: str
    ip_address_type: str
    vpc_id: str
    dns_name: str
    canonical_hosted_zone_id: str
    state: str
    availability_zones: list[dict[str, Any]]  # AvailabilityZone structures, as DescribeLoadBalancers returns them
    security_groups: list[str]
    attributes: dict[str, str]  # the stored set (see attributes.py)
    extra: dict[str, Any]  # members of LoadBalancer returned as stored (EnforceSecurityGroupInbound...)
    created_at: datetime


def _record(row: Row) -> LoadBalancer:
    return LoadBalancer(
        account_id=row["account_id"], region=row["region"], arn=row["arn"], name=row["name"], lb_id=row["lb_id"],
        type=row["type"], scheme=row["scheme"], ip_address_type=row["ip_address_type"], vpc_id=row["vpc_id"],
        dns_name=row["dns_name"], canonical_hosted_zone_id=row["canonical_hosted_zone_id"], state=row["state"],
        availability_zones=loads(row["availability_zones"]) or [], security_groups=loads(row["security_groups"]) or [],
        attributes=loads(row["attributes"]) or {}, extra=loads(row["extra"]) or {}, created_at=when(row["created_at"]))


def load_balancer(db: Database, account: str, region: str, arn: str) -> LoadBalancer | None:
    """The load balancer ``arn`` of the account and region, if it exists (no check of the ARN's form)."""
    row = db.one(f"SELECT {_COLUMNS} FROM elbv2_load_balancers WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn))
    return None if row is None else _record(row)


def find_load_balancer(db: Database, account: str, region: str, arn: str) -> LoadBalancer | None:
    """The load balancer ``arn`` if it is the caller's and exists; ValidationError for a malformed ARN."""
    return by_arn(db, account, region, arn, LB_ARN, "load balancer", load_balancer)


def get_load_balancer(db: Database, account: str, region: str, arn: str) -> LoadBalancer:
    """The load balancer ``arn`` of the caller's account and region, or LoadBalancerNotFound."""
    found = find_load_balancer(db, account, region, arn)
    if found is None:
        raise lb_not_found()
    return found


def load_balancer_named(db: Database, account: str, region: str, name: str) -> LoadBalancer | None:
    row = db.one(f"SELECT {_COLUMNS} FROM elbv2_load_balancers WHERE account_id = ? AND region = ? AND name = ?",
                 (account, region, name))
    return None if row is None else _record(row)


def all_load_balancers(db: Database, account: str, region: str) -> list[LoadBalancer]:
    """All the region's load balancers."""
    return [_record(row) for row in db.all(
        f"SELECT {_COLUMNS} FROM elbv2_load_balancers WHERE account_id = ? AND region = ?", (account, region))]


def every_load_balancer(db: Database) -> list[LoadBalancer]:
    """Every load balancer of every account and Region (turnout.dataplane.snapshot)."""
    return [_record(row) for row in db.all(f"SELECT {_COLUMNS} FROM elbv2_load_balancers")]


def count_load_balancers(db: Database, account: str, region: str, lb_type: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM elbv2_load_balancers WHERE account_id = ? AND region = ? "
                         "AND type = ?", (account, region, lb_type)))


def add_load_balancer(db: Database, lb: LoadBalancer) -> None:
    db.execute(
        f"INSERT INTO elbv2_load_balancers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (lb.account_id, lb.region, lb.arn, lb.name, lb.lb_id, lb.type, lb.scheme, lb.ip_address_type, lb.vpc_id,
         lb.dns_name, lb.canonical_hosted_zone_id, lb.state, dumps(lb.availability_zones), dumps(lb.security_groups),
         dumps(lb.attributes), dumps(lb.extra), iso(lb.created_at)),
    )


def update_load_balancer(db: Database, lb: LoadBalancer) -> None:
    """Write what can change of a load balancer: zones, security groups, IP address type, attributes, extra."""
    db.execute(
        "UPDATE elbv2_load_balancers SET availability_zones = ?, security_groups = ?, ip_address_type = ?, "
        "attributes = ?, extra = ? WHERE account_id = ? AND region = ? AND arn = ?",
        (dumps(lb.availability_zones), dumps(lb.security_groups), lb.ip_address_type, dumps(lb.attributes),
         dumps(lb.extra), lb.account_id, lb.region, lb.arn),
    )


def delete_load_balancer(db: Database, account: str, region: str, arn: str) -> None:
    """Delete the load balancer with its listeners, their rules and the tags of all of them."""
    from .listeners import delete_listener, listener_arns
    from .tags import drop_tags

    for listener_arn in listener_arns(db, account, region, arn):
        delete_listener(db, account, region, listener_arn)
    drop_tags(db, account, region, [arn])
    db.execute("DELETE FROM elbv2_load_balancers WHERE account_id = ? AND region = ? AND arn = ?",
               (account, region, arn))


def _like(value: str) -> str:
    return f'%"{value}"%'


def network_in_use(db: Database, account: str, region: str, resource_id: str) -> bool:
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
