"""``elbv2_target_groups``: the :class:`TargetGroup` record, its lookups and writes.

Deleting a target group deletes its registered targets and its tags, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row
from ..errors import tg_not_found
from .common import TG_ARN, by_arn

_COLUMNS = ("account_id, region, arn, name, tg_id, target_type, protocol, protocol_version, port, vpc_id, "
            "ip_address_type, health_check, attributes, created_at")


@dataclass(frozen=True, slots=True)
class TargetGroup:
    account_id: str
    region: str
    arn: str
    name: str
    tg_id: str
    target_type: str  # instance | ip | lambda | alb
    protocol: str | None  # None for a lambda target group, as port, VPC, version and IP address type
    protocol_version: str | None
    port: int | None
    vpc_id: str | None
    ip_address_type: str | None
    health_check: dict[str, Any]  # the HealthCheck* members of TargetGroup, and Matcher (see healthchecks.py)
    attributes: dict[str, str]  # the stored set (see attributes.py)
    created_at: datetime


def _record(row: Row) -> TargetGroup:
    return TargetGroup(
        account_id=row["account_id"], region=row["region"], arn=row["arn"], name=row["name"], tg_id=row["tg_id"],
        target_type=row["target_type"], protocol=row["protocol"], protocol_version=row["protocol_version"],
        port=row["port"], vpc_id=row["vpc_id"], ip_address_type=row["ip_address_type"],
        health_check=loads(row["health_check"]) or {}, attributes=loads(row["attributes"]) or {},
        created_at=when(row["created_at"]))


def target_group(db: Database, account: str, region: str, arn: str) -> TargetGroup | None:
    """The target group ``arn`` of the account and region, if it exists (no check of the ARN's form)."""
    row = db.one(f"SELECT {_COLUMNS} FROM elbv2_target_groups WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn))
    return None if row is None else _record(row)


def find_target_group(db: Database, account: str, region: str, arn: str) -> TargetGroup | None:
    """The target group ``arn`` if it is the caller's and exists (no error), for deletes that succeed anyway;
    ValidationError for a malformed ARN."""
    return by_arn(db, account, region, arn, TG_ARN, "target group", target_group)


def get_target_group(db: Database, account: str, region: str, arn: str) -> TargetGroup:
    """The target group ``arn`` of the caller's account and region, or TargetGroupNotFound."""
    found = find_target_group(db, account, region, arn)
    if found is None:
        raise tg_not_found()
    return found


def target_group_named(db: Database, account: str, region: str, name: str) -> TargetGroup | None:
    row = db.one(f"SELECT {_COLUMNS} FROM elbv2_target_groups WHERE account_id = ? AND region = ? AND name = ?",
                 (account, region, name))
    return None if row is None else _record(row)


def all_target_groups(db: Database, account: str, region: str) -> list[TargetGroup]:
    """All the region's target groups."""
    return [_record(row) for row in db.all(
        f"SELECT {_COLUMNS} FROM elbv2_target_groups WHERE account_id = ? AND region = ?", (account, region))]


def count_target_groups(db: Database, account: str, region: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM elbv2_target_groups WHERE account_id = ? AND region = ?",
                         (account, region)))


def add_target_group(db: Database, tg: TargetGroup) -> None:
    db.execute(
        f"INSERT INTO elbv2_target_groups ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (tg.account_id, tg.region, tg.arn, tg.name, tg.tg_id, tg.target_type, tg.protocol, tg.protocol_version,
         tg.port, tg.vpc_id, tg.ip_address_type, dumps(tg.health_check), dumps(tg.attributes), iso(tg.created_at)),
    )


def update_target_group(db: Database, tg: TargetGroup) -> None:
    """Write what can change of a target group: its health check settings and attributes."""
    db.execute("UPDATE elbv2_target_groups SET health_check = ?, attributes = ? WHERE account_id = ? AND region = ? "
               "AND arn = ?", (dumps(tg.health_check), dumps(tg.attributes), tg.account_id, tg.region, tg.arn))


def delete_target_group(db: Database, account: str, region: str, arn: str) -> None:
    """Delete the target group with its registered targets and its tags."""
    from .tags import drop_tags

    db.execute("DELETE FROM elbv2_targets WHERE account_id = ? AND region = ? AND target_group_arn = ?",
               (account, region, arn))
    drop_tags(db, account, region, [arn])
    db.execute("DELETE FROM elbv2_target_groups WHERE account_id = ? AND region = ? AND arn = ?",
               (account, region, arn))
