"""``ecs_task_definitions``: one row per revision of a family; ``body`` is the definition as registered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row


@dataclass(frozen=True, slots=True)
class TaskDefinition:
    account_id: str
    region: str
    family: str
    revision: int
    arn: str
    status: str  # ACTIVE | INACTIVE | DELETE_IN_PROGRESS
    body: dict[str, Any]  # RegisterTaskDefinition's members as stored (botocore names)
    registered_at: datetime
    registered_by: str | None
    deregistered_at: datetime | None
    delete_requested_at: datetime | None

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.body.get("containerDefinitions") or [])


def _task_definition(row: Row) -> TaskDefinition:
    return TaskDefinition(
        account_id=row["account_id"], region=row["region"], family=row["family"], revision=int(row["revision"]),
        arn=row["arn"], status=row["status"], body=loads(row["body"]) or {},
        registered_at=when(row["registered_at"]), registered_by=row["registered_by"],
        deregistered_at=when(row["deregistered_at"]),
        delete_requested_at=when(row["delete_requested_at"]),
    )


def task_definition(db: Database, account: str, region: str, arn: str) -> TaskDefinition | None:
    row = db.one("SELECT * FROM ecs_task_definitions WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn))
    return None if row is None else _task_definition(row)


def revision_of(db: Database, account: str, region: str, family: str, revision: int) -> TaskDefinition | None:
    row = db.one("SELECT * FROM ecs_task_definitions WHERE account_id = ? AND region = ? AND family = ? "
                 "AND revision = ?", (account, region, family, revision))
    return None if row is None else _task_definition(row)


def latest_active(db: Database, account: str, region: str, family: str) -> TaskDefinition | None:
    """The family's ACTIVE revision with the highest number."""
    row = db.one("SELECT * FROM ecs_task_definitions WHERE account_id = ? AND region = ? AND family = ? "
                 "AND status = 'ACTIVE' ORDER BY revision DESC", (account, region, family))
    return None if row is None else _task_definition(row)


def latest_active_arn(db: Database, account: str, region: str, family: str) -> str | None:
    row = db.one("SELECT arn FROM ecs_task_definitions WHERE account_id = ? AND region = ? AND family = ? "
                 "AND status = 'ACTIVE' ORDER BY revision DESC", (account, region, family))
    return None if row is None else str(row["arn"])


def next_revision(db: Database, account: str, region: str, family: str) -> int:
    return int(db.scalar("SELECT COALESCE(MAX(revision), 0) FROM ecs_task_definitions WHERE account_id = ? "
                         "AND region = ? AND family = ?", (account, region, family))) + 1


def insert_task_definition(db: Database, *, account: str, region: str, family: str, revision: int, arn: str,
                           body: dict[str, Any], registered_at: datetime, registered_by: str | None) -> None:
    db.execute(
        "INSERT INTO ecs_task_definitions (account_id, region, family, revision, arn, status, body, "
        "registered_at, registered_by) VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?)",
        (account, region, family, revision, arn, dumps(body), iso(registered_at), registered_by),
    )


def deregister(db: Database, account: str, region: str, arn: str, at: datetime) -> None:
    db.execute("UPDATE ecs_task_definitions SET status = 'INACTIVE', deregistered_at = ? "
               "WHERE account_id = ? AND region = ? AND arn = ?", (iso(at), account, region, arn))


def request_delete(db: Database, account: str, region: str, arn: str, at: datetime) -> None:
    db.execute("UPDATE ecs_task_definitions SET status = 'DELETE_IN_PROGRESS', delete_requested_at = ? "
               "WHERE account_id = ? AND region = ? AND arn = ?", (iso(at), account, region, arn))


def revisions_with_status(db: Database, account: str, region: str, status: str) -> list[tuple[str, int, str]]:
    """(family, revision, ARN) of every revision in ``status``, unordered."""
    rows = db.all("SELECT family, revision, arn FROM ecs_task_definitions WHERE account_id = ? AND region = ? "
                  "AND status = ?", (account, region, status))
    return [(str(r["family"]), int(r["revision"]), str(r["arn"])) for r in rows]


def family_statuses(db: Database, account: str, region: str) -> list[tuple[str, str]]:
    """(family, status) of every revision."""
    rows = db.all("SELECT family, status FROM ecs_task_definitions WHERE account_id = ? AND region = ?",
                  (account, region))
    return [(str(r["family"]), str(r["status"])) for r in rows]
