"""``ecs_clusters``: clusters by name or ARN, their settings and capacity providers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row
from .codec import dumps_or_none


@dataclass(frozen=True, slots=True)
class Cluster:
    account_id: str
    region: str
    name: str
    arn: str
    status: str  # ACTIVE | INACTIVE
    settings: list[dict[str, Any]]
    configuration: dict[str, Any] | None
    service_connect: dict[str, Any] | None
    created_at: datetime
    capacity_providers: list[str]
    default_strategy: list[dict[str, Any]]


def _cluster(row: Row) -> Cluster:
    return Cluster(
        account_id=row["account_id"], region=row["region"], name=row["name"], arn=row["arn"], status=row["status"],
        settings=loads(row["settings"]), configuration=loads(row["configuration"]),
        service_connect=loads(row["service_connect"]), created_at=when(row["created_at"]),
        capacity_providers=list(loads(row["capacity_providers"]) or []),
        default_strategy=list(loads(row["default_strategy"]) or []),
    )


def cluster(db: Database, account: str, region: str, name: str) -> Cluster | None:
    row = db.one("SELECT * FROM ecs_clusters WHERE account_id = ? AND region = ? AND name = ?",
                 (account, region, name))
    return None if row is None else _cluster(row)


def cluster_by_arn(db: Database, account: str, region: str, arn: str) -> Cluster | None:
    row = db.one("SELECT * FROM ecs_clusters WHERE account_id = ? AND region = ? AND arn = ?", (account, region, arn))
    return None if row is None else _cluster(row)


def active_cluster_arns(db: Database, account: str, region: str) -> list[str]:
    """The ARNs of the ACTIVE clusters, in ARN order."""
    rows = db.all("SELECT arn FROM ecs_clusters WHERE account_id = ? AND region = ? AND status = 'ACTIVE' "
                  "ORDER BY arn", (account, region))
    return [str(r["arn"]) for r in rows]


def create_cluster(db: Database, *, account: str, region: str, name: str, arn: str,
                   settings: list[dict[str, str]], configuration: dict[str, Any] | None,
                   service_connect: dict[str, Any] | None, created_at: datetime, capacity_providers: list[str],
                   default_strategy: list[dict[str, Any]]) -> None:
    """An ACTIVE cluster, replacing an INACTIVE one of the same name."""
    db.execute("DELETE FROM ecs_clusters WHERE account_id = ? AND region = ? AND name = ?", (account, region, name))
    db.execute(
        "INSERT INTO ecs_clusters (account_id, region, name, arn, status, settings, configuration, "
        "service_connect, created_at, capacity_providers, default_strategy) "
        "VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?)",
        (account, region, name, arn, dumps(settings), dumps_or_none(configuration), dumps_or_none(service_connect),
         iso(created_at), dumps(capacity_providers), dumps(default_strategy)),
    )


def set_cluster_inactive(db: Database, account: str, region: str, name: str) -> None:
    db.execute("UPDATE ecs_clusters SET status = 'INACTIVE' WHERE account_id = ? AND region = ? AND name = ?",
               (account, region, name))


def update_cluster(db: Database, account: str, region: str, name: str, *,
                   settings: list[dict[str, Any]] | None = None, configuration: dict[str, Any] | None = None,
                   service_connect: dict[str, Any] | None = None) -> None:
    """Replace the members given (None: left as they are)."""
    for column, value in (("settings", settings), ("configuration", configuration),
                          ("service_connect", service_connect)):
        if value is not None:
            db.execute(f"UPDATE ecs_clusters SET {column} = ? WHERE account_id = ? AND region = ? AND name = ?",
                       (dumps(value), account, region, name))


def set_capacity_providers(db: Database, account: str, region: str, name: str, providers: list[str],
                           strategy: list[dict[str, Any]]) -> None:
    db.execute("UPDATE ecs_clusters SET capacity_providers = ?, default_strategy = ? WHERE account_id = ? "
               "AND region = ? AND name = ?", (dumps(providers), dumps(strategy), account, region, name))
