"""``ecs_services``: one row per service; ``config`` is its configuration as CreateService/UpdateService set it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row


@dataclass(frozen=True, slots=True)
class Service:
    account_id: str
    region: str
    cluster: str  # the cluster's name
    name: str
    arn: str
    status: str  # ACTIVE | DRAINING | INACTIVE
    config: dict[str, Any]
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    deleted_at: datetime | None

    @property
    def desired_count(self) -> int:
        return int(self.config.get("desiredCount") or 0)


def _service(row: Row) -> Service:
    return Service(
        account_id=row["account_id"], region=row["region"], cluster=row["cluster"], name=row["name"], arn=row["arn"],
        status=row["status"], config=loads(row["config"]) or {}, created_at=when(row["created_at"]),
        created_by=row["created_by"], updated_at=when(row["updated_at"]),
        deleted_at=when(row["deleted_at"]),
    )


def service(db: Database, account: str, region: str, arn: str) -> Service | None:
    row = db.one("SELECT * FROM ecs_services WHERE account_id = ? AND region = ? AND arn = ?", (account, region, arn))
    return None if row is None else _service(row)


def status_of(db: Database, account: str, region: str, arn: str) -> str | None:
    """The service's status; None when there is no such service."""
    row = db.one("SELECT status FROM ecs_services WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn))
    return None if row is None else str(row["status"])


def services_in_cluster(db: Database, account: str, region: str, cluster: str, *,
                        statuses: Collection[str] = ("ACTIVE", "DRAINING")) -> list[Service]:
    """The cluster's services in one of ``statuses``, in ARN order."""
    marks = ", ".join("?" for _ in statuses)
    rows = db.all(f"SELECT * FROM ecs_services WHERE account_id = ? AND region = ? AND cluster = ? "
                  f"AND status IN ({marks}) ORDER BY arn", (account, region, cluster, *statuses))
    return [_service(row) for row in rows]


def count_active(db: Database, account: str, region: str, cluster: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM ecs_services WHERE account_id = ? AND region = ? AND cluster = ? "
                         "AND status = 'ACTIVE'", (account, region, cluster)))


def any_live(db: Database, account: str, region: str, cluster: str) -> bool:
    """Whether the cluster has an ACTIVE or DRAINING service."""
    return db.one("SELECT 1 FROM ecs_services WHERE account_id = ? AND region = ? AND cluster = ? "
                  "AND status IN ('ACTIVE', 'DRAINING')", (account, region, cluster)) is not None


def live_services(db: Database, arns: Collection[str] | None = None) -> list[Service]:
    """ACTIVE and DRAINING services of every account (``arns``: only those)."""
    if arns is None:
        rows = db.all("SELECT * FROM ecs_services WHERE status IN ('ACTIVE', 'DRAINING')")
    else:
        marks = ", ".join("?" for _ in arns)
        rows = db.all(f"SELECT * FROM ecs_services WHERE arn IN ({marks}) AND status IN ('ACTIVE', 'DRAINING')",
                      tuple(arns))
    return [_service(row) for row in rows]


def insert_service(db: Database, *, account: str, region: str, cluster: str, name: str, arn: str,
                   config: dict[str, Any], created_at: datetime, created_by: str | None) -> None:
    now = iso(created_at)
    db.execute(
        "INSERT INTO ecs_services (account_id, region, cluster, name, arn, status, config, created_at, created_by, "
        "updated_at) VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?)",
        (account, region, cluster, name, arn, dumps(config), now, created_by, now),
    )


def delete_service(db: Database, account: str, region: str, arn: str) -> None:
    db.execute("DELETE FROM ecs_services WHERE account_id = ? AND region = ? AND arn = ?", (account, region, arn))


def set_config(db: Database, account: str, region: str, arn: str, config: dict[str, Any], at: datetime) -> None:
    db.execute("UPDATE ecs_services SET config = ?, updated_at = ? WHERE account_id = ? AND region = ? AND arn = ?",
               (dumps(config), iso(at), account, region, arn))


def set_draining(db: Database, account: str, region: str, arn: str, config: dict[str, Any], at: datetime) -> None:
    now = iso(at)
    db.execute("UPDATE ecs_services SET status = 'DRAINING', config = ?, updated_at = ?, deleted_at = ? "
               "WHERE account_id = ? AND region = ? AND arn = ?", (dumps(config), now, now, account, region, arn))


def set_inactive(db: Database, account: str, region: str, arn: str, at: datetime) -> None:
    now = iso(at)
    db.execute("UPDATE ecs_services SET status = 'INACTIVE', deleted_at = ?, updated_at = ? WHERE account_id = ? "
               "AND region = ? AND arn = ?", (now, now, account, region, arn))
