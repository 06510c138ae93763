"""``iam_access_keys``: the access keys of IAM users (and of the root user, owner ``ROOT_KEY_OWNER``).

Their last use is the gateway's bookkeeping (a deferred write, ``Database.defer``); this module reads it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ....store.codec import iso, when
from ....store.db import Database
from .records import AccessKey, builder

_COLUMNS = ("access_key_id, account_id, user_lower, secret, status, created_at, last_used_at, last_used_service, "
            "last_used_region")

_make_key = builder(AccessKey)


def _key(r: Sequence[Any]) -> AccessKey:
    return _make_key(r[0], r[1], r[2], r[3], r[4], when(r[5]), when(r[6]), r[7], r[8])


def get(db: Database, account: str, access_key_id: str) -> AccessKey | None:
    row = db.one(f"SELECT {_COLUMNS} FROM iam_access_keys WHERE access_key_id = ? AND account_id = ?",
                 (access_key_id, account))
    return None if row is None else _key(row)


def of_user(db: Database, account: str, user_lower: str) -> list[AccessKey]:
    """The user's keys (in no particular order)."""
    rows = db.all(f"SELECT {_COLUMNS} FROM iam_access_keys WHERE account_id = ? AND user_lower = ?",
                  (account, user_lower))
    return [_key(r) for r in rows]


def count(db: Database, account: str, user_lower: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM iam_access_keys WHERE account_id = ? AND user_lower = ?",
                         (account, user_lower)))


def any_of(db: Database, account: str, user_lower: str) -> bool:
    return db.one("SELECT 1 FROM iam_access_keys WHERE account_id = ? AND user_lower = ?",
                  (account, user_lower)) is not None


def insert(db: Database, key: AccessKey) -> None:
    db.execute(
        "INSERT INTO iam_access_keys (access_key_id, account_id, user_lower, secret, status, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (key.access_key_id, key.account_id, key.user_lower, key.secret, key.status, iso(key.created_at)),
    )


def set_status(db: Database, access_key_id: str, status: str) -> None:
    db.execute("UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?", (status, access_key_id))


def delete(db: Database, access_key_id: str) -> None:
    db.execute("DELETE FROM iam_access_keys WHERE access_key_id = ?", (access_key_id,))
