"""``ecs_services``: one row per service; ``config`` is its configuration as CreateService/UpdateService set it.

``ecs_service_roles`` (migration 0039), kept with each write of ``config``: the roles ECS assumes for a live
service (its infrastructure roles and lifecycle-hook roles), so that :func:`services_using_roles` finds the services
an IAM write on a role affects by an indexed lookup.
"""

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


def roles_in(config: dict[str, Any]) -> list[str]:
    """The role ARNs ECS assumes for a service with ``config``: its load balancers' infrastructure roles, then its
    lifecycle hooks' roles."""
    found = [str((lb.get("advancedConfiguration") or {}).get("roleArn")) for lb in config.get("loadBalancers") or []
             if (lb.get("advancedConfiguration") or {}).get("roleArn")]
    found += [str(h["roleArn"]) for h in (config.get("deploymentConfiguration") or {}).get("lifecycleHooks") or []
              if h.get("roleArn")]
    return list(dict.fromkeys(found))


def _role_key(role_arn: str) -> tuple[str, str] | None:
    """(account, lower-case name) of an IAM role ARN; None for anything else."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1].lower()


def _index_roles(db: Database, account: str, region: str, arn: str, config: dict[str, Any] | None) -> None:
    db.execute("DELETE FROM ecs_service_roles WHERE service_account_id = ? AND region = ? AND service_arn = ?",
               (account, region, arn))
    for role in roles_in(config or {}):
        key = _role_key(role)
        if key is not None:
            db.execute("INSERT OR IGNORE INTO ecs_service_roles (account_id, role_name_lower, role_arn, "
                       "service_account_id, region, service_arn) VALUES (?, ?, ?, ?, ?, ?)",
                       (*key, role, account, region, arn))


def services_using_roles(db: Database, account: str, names_lower: Collection[str]) -> list[Service]:
    """The live (ACTIVE or DRAINING) services for which ECS assumes a role of ``account`` named (lower case) in
    ``names_lower``, in ARN order."""
    if not names_lower:
        return []
    marks = ", ".join("?" for _ in names_lower)
    rows = db.all(f"SELECT DISTINCT s.* FROM ecs_service_roles r JOIN ecs_services s ON s.account_id = "
                  f"r.service_account_id AND s.region = r.region AND s.arn = r.service_arn WHERE r.account_id = ? "
                  f"AND r.role_name_lower IN ({marks}) AND s.status IN ('ACTIVE', 'DRAINING') ORDER BY s.arn",
                  (account, *names_lower))
    return [_service(row) for row in rows]


def insert_service(db: Database, *, account: str, region: str, cluster: str, name: str, arn: str,
                   config: dict[str, Any], created_at: datetime, created_by: str | None) -> None:
    now = iso(created_at)
    db.execute(
        "INSERT INTO ecs_services (account_id, region, cluster, name, arn, status, config, created_at, created_by, "
        "updated_at) VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?)",
        (account, region, cluster, name, arn, dumps(config), now, created_by, now),
    )
    _index_roles(db, account, region, arn, config)


def delete_service(db: Database, account: str, region: str, arn: str) -> None:
    db.execute("DELETE FROM ecs_services WHERE account_id = ? AND region = ? AND arn = ?", (account, region, arn))
    _index_roles(db, account, region, arn, None)


def set_config(db: Database, account: str, region: str, arn: str, config: dict[str, Any], at: datetime) -> None:
    db.execute("UPDATE ecs_services SET config = ?, updated_at = ? WHERE account_id = ? AND region = ? AND arn = ?",
               (dumps(config), iso(at), account, region, arn))
    _index_roles(db, account, region, arn, config)


def set_draining(db: Database, account: str, region: str, arn: str, config: dict[str, Any], at: datetime) -> None:
    now = iso(at)
    db.execute("UPDATE ecs_services SET status = 'DRAINING', config = ?, updated_at = ?, deleted_at = ? "
               "WHERE account_id = ? AND region = ? AND arn = ?", (dumps(config), now, now, account, region, arn))
    _index_roles(db, account, region, arn, config)


def set_inactive(db: Database, account: str, region: str, arn: str, at: datetime) -> None:
    now = iso(at)
    db.execute("UPDATE ecs_services SET status = 'INACTIVE', deleted_at = ?, updated_at = ? WHERE account_id = ? "
               "AND region = ? AND arn = ?", (now, now, account, region, arn))
    _index_roles(db, account, region, arn, None)
