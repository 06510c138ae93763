"""``ecs_service_revisions``: one immutable row per service revision (only ``resolvedConfiguration`` in its body is
written again, when the deployment engine decides the target groups)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row


@dataclass(frozen=True, slots=True)
class ServiceRevision:
    account_id: str
    region: str
    arn: str
    service_arn: str
    cluster_arn: str
    task_definition_arn: str
    body: dict[str, Any]  # the ServiceRevision's other members (botocore names)
    created_at: datetime


def _revision(row: Row) -> ServiceRevision:
    return ServiceRevision(
        account_id=row["account_id"], region=row["region"], arn=row["arn"], service_arn=row["service_arn"],
        cluster_arn=row["cluster_arn"], task_definition_arn=row["task_definition_arn"], body=loads(row["body"]) or {},
        created_at=when(row["created_at"]),
    )


def revision(db: Database, account: str, region: str, arn: str) -> ServiceRevision | None:
    row = db.one("SELECT * FROM ecs_service_revisions WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn))
    return None if row is None else _revision(row)


def insert_revision(db: Database, *, account: str, region: str, arn: str, service_arn: str, cluster_arn: str,
                    task_definition_arn: str, body: dict[str, Any], created_at: datetime) -> None:
    db.execute("INSERT INTO ecs_service_revisions (account_id, region, arn, service_arn, cluster_arn, "
               "task_definition_arn, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (account, region, arn, service_arn, cluster_arn, task_definition_arn, dumps(body), iso(created_at)))


def set_body(db: Database, account: str, region: str, arn: str, body: dict[str, Any]) -> None:
    db.execute("UPDATE ecs_service_revisions SET body = ? WHERE account_id = ? AND region = ? AND arn = ?",
               (dumps(body), account, region, arn))


def drop_revisions(db: Database, account: str, region: str, service_arn: str) -> None:
    db.execute("DELETE FROM ecs_service_revisions WHERE account_id = ? AND region = ? AND service_arn = ?",
               (account, region, service_arn))
