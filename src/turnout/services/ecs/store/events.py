"""``ecs_service_events``: a service's events, numbered in the order they happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ....store.codec import iso, when
from ....store.db import Database


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    id: str
    created_at: datetime
    message: str


def add_event(db: Database, account: str, region: str, service_arn: str, event_id: str, at: datetime,
              message: str) -> None:
    seq = int(db.scalar("SELECT COALESCE(MAX(seq), 0) FROM ecs_service_events WHERE account_id = ? AND region = ? "
                        "AND service_arn = ?", (account, region, service_arn))) + 1
    db.execute("INSERT INTO ecs_service_events (account_id, region, service_arn, seq, id, created_at, message) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", (account, region, service_arn, seq, event_id, iso(at), message))


def latest_events(db: Database, account: str, region: str, service_arn: str, limit: int) -> list[ServiceEvent]:
    """The latest ``limit`` events, newest first."""
    rows = db.all("SELECT id, created_at, message FROM ecs_service_events WHERE account_id = ? AND region = ? "
                  "AND service_arn = ? ORDER BY seq DESC LIMIT ?", (account, region, service_arn, limit))
    return [ServiceEvent(r["id"], when(r["created_at"]), r["message"]) for r in rows]


def drop_events(db: Database, account: str, region: str, service_arn: str) -> None:
    db.execute("DELETE FROM ecs_service_events WHERE account_id = ? AND region = ? AND service_arn = ?",
               (account, region, service_arn))
