"""Service events: what the scheduler and the deployment engine tell the user, newest first in DescribeServices
(which shows the latest 100)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...core import ids
from ...store.db import Database
from .store import events as store

SHOWN = 100


def add(db: Database, account: str, region: str, service_arn: str, message: str, at: datetime) -> None:
    """Append one event: ``message`` in AWS's form, e.g. ``(service web) has reached a steady state.``"""
    store.add_event(db, account, region, service_arn, ids.ecs_event_id(), at, message)


def latest(db: Database, account: str, region: str, service_arn: str, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The latest events, newest first, in botocore's ServiceEvent shape."""
    return [{"id": e.id, "createdAt": e.created_at, "message": e.message}
            for e in store.latest_events(db, account, region, service_arn, limit)]


def drop(db: Database, account: str, region: str, service_arn: str) -> None:
    store.drop_events(db, account, region, service_arn)
