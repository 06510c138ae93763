"""The ``accounts`` table: every account Turnout holds (one row once any request was made in it).

No service owns accounts, so the database layer does: the gateway creates an account on its first request,
the credential contract asks whether one exists, and IAM reads the root user's creation date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .db import Database


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    created_at: datetime


def ensure(db: Database, account_id: str, now: datetime) -> None:
    """Create ``account_id`` unless it exists (its creation date stays the first request's)."""
    db.execute(
        "INSERT INTO accounts (account_id, created_at) VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING",
        (account_id, now.isoformat()),
    )


def exists(db: Database, account_id: str) -> bool:
    """Whether Turnout holds ``account_id`` (some request was made in it)."""
    return db.one("SELECT 1 FROM accounts WHERE account_id = ?", (account_id,)) is not None


def get(db: Database, account_id: str) -> Account | None:
    row = db.one("SELECT account_id, created_at FROM accounts WHERE account_id = ?", (account_id,))
    return None if row is None else Account(row["account_id"], datetime.fromisoformat(row["created_at"]))
