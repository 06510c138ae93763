"""``elbv2_targets``: the :class:`Target` record (one registration of a target with a target group, and the events
its health is computed from, see ``health.py``), its lookups and writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ....store.codec import iso, when
from ....store.db import Database, Row
from .common import maybe_when

_COLUMNS = ("account_id, region, target_group_arn, target_id, port, availability_zone, registered_at, "
            "deregistered_at, drain_seconds, reported_health, reported_at")
_CHUNK = 500  # target ids per query (SQLite bounds a statement's parameters)


@dataclass(frozen=True, slots=True)
class Target:
    account_id: str
    region: str
    target_group_arn: str
    target_id: str  # an IP address, an instance id, a Lambda function ARN or a load balancer ARN
    port: int  # 0 for a Lambda function
    availability_zone: str | None
    registered_at: datetime
    deregistered_at: datetime | None = None
    drain_seconds: int = 0  # the deregistration delay in force when it was deregistered
    reported_health: str | None = None  # healthy | unhealthy, from the runtime owning the target; None: no runtime
    reported_at: datetime | None = None


def _record(row: Row) -> Target:
    return Target(
        account_id=row["account_id"], region=row["region"], target_group_arn=row["target_group_arn"],
        target_id=row["target_id"], port=int(row["port"]), availability_zone=row["availability_zone"],
        registered_at=when(row["registered_at"]), deregistered_at=maybe_when(row["deregistered_at"]),
        drain_seconds=int(row["drain_seconds"] or 0), reported_health=row["reported_health"],
        reported_at=maybe_when(row["reported_at"]))


def targets_of(db: Database, account: str, region: str, tg_arn: str) -> list[Target]:
    """The target group's registrations (gone ones included until purged), in registration order."""
    return [_record(row) for row in db.all(
        f"SELECT {_COLUMNS} FROM elbv2_targets WHERE account_id = ? AND region = ? AND target_group_arn = ? "
        "ORDER BY registered_at, target_id, port", (account, region, tg_arn))]


def registered(db: Database, account: str, region: str, target_ids: Iterable[str]) -> list[Target]:
    """The registrations (in any target group) of the targets ``target_ids`` that are not deregistered."""
    wanted = list(dict.fromkeys(target_ids))
    found: list[Target] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found += [_record(row) for row in db.all(
            f"SELECT {_COLUMNS} FROM elbv2_targets WHERE account_id = ? AND region = ? AND target_id IN "
            f"({', '.join('?' * len(chunk))}) AND deregistered_at IS NULL", (account, region, *chunk))]
    return found


def add_target(db: Database, new: Target) -> None:
    db.execute(
        f"INSERT INTO elbv2_targets ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (new.account_id, new.region, new.target_group_arn, new.target_id, new.port, new.availability_zone,
         iso(new.registered_at), iso(new.deregistered_at) if new.deregistered_at else None, new.drain_seconds,
         new.reported_health, iso(new.reported_at) if new.reported_at else None),
    )


def reregister_target(db: Database, account: str, region: str, tg_arn: str, target_id: str, port: int,
                      at: datetime, zone: str | None) -> None:
    """Registering a draining target again starts it over."""
    db.execute(
        "UPDATE elbv2_targets SET registered_at = ?, deregistered_at = NULL, drain_seconds = 0, "
        "availability_zone = ? WHERE account_id = ? AND region = ? AND target_group_arn = ? "
        "AND target_id = ? AND port = ?", (iso(at), zone, account, region, tg_arn, target_id, port))


def deregister_target(db: Database, account: str, region: str, tg_arn: str, target_id: str, port: int,
                      at: datetime, drain_seconds: int) -> None:
    db.execute(
        "UPDATE elbv2_targets SET deregistered_at = ?, drain_seconds = ? WHERE account_id = ? AND region = ? "
        "AND target_group_arn = ? AND target_id = ? AND port = ?",
        (iso(at), drain_seconds, account, region, tg_arn, target_id, port))


def delete_target(db: Database, account: str, region: str, tg_arn: str, target_id: str, port: int) -> None:
    db.execute("DELETE FROM elbv2_targets WHERE account_id = ? AND region = ? AND target_group_arn = ? "
               "AND target_id = ? AND port = ?", (account, region, tg_arn, target_id, port))


def report_health(db: Database, account: str, region: str, tg_arn: str, target_id: str, port: int, health: str,
                  at: datetime) -> bool:
    """Record what the runtime owning a target says of its health; False when the target is not registered."""
    cursor = db.execute(
        "UPDATE elbv2_targets SET reported_health = ?, reported_at = ? WHERE account_id = ? AND region = ? "
        "AND target_group_arn = ? AND target_id = ? AND port = ?",
        (health, iso(at), account, region, tg_arn, target_id, port),
    )
    return cursor.rowcount > 0
