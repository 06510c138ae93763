"""Service events: what the scheduler and the deployment engine tell the user, newest first in DescribeServices
(which shows the latest 100)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ... import ids
from ...store.db import Database
from .store import iso, when

SHOWN = 100


def add(db: Database, account: str, region: str, service_arn: str, message: str, at: datetime) -> None:
    """Append one event: ``message`` in AWS's form, e.g. ``(service web) has reached a steady state.``"""
    seq = int(db.scalar("SELECT COALESCE(MAX(seq), 0) FROM ecs_service_events WHERE account_id = ? AND region = ? "
                        "AND service_arn = ?", (account, region, service_arn))) + 1
    db.execute("INSERT INTO ecs_service_events (account_id, region, service_arn, seq, id, created_at, message) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (account, region, service_arn, seq, ids.ecs_event_id(), iso(at), message))


def latest(db: Database, account: str, region: str, service_arn: str, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The latest events, newest first, in botocore's ServiceEvent shape."""
    rows = db.all("SELECT id, created_at, message FROM ecs_service_events WHERE account_id = ? AND region = ? "
                  "AND service_arn = ? ORDER BY seq DESC LIMIT ?", (account, region, service_arn, limit))
    return [{"id": r["id"], "createdAt": when(r["created_at"]), "message": r["message"]} for r in rows]


def drop(db: Database, account: str, region: str, service_arn: str) -> None:
    db.execute("DELETE FROM ecs_service_events WHERE account_id = ? AND region = ? AND service_arn = ?",
               (account, region, service_arn))
