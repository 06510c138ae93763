"""``iam_users``: users by name or unique id, pages, create, rename (carrying every row keyed by the name),
permissions boundary, delete."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from ....store.codec import iso, when
from ....store.db import Database
from . import entities
from .records import User, builder

TABLE = "iam_users"
_COLUMNS = "account_id, name_lower, name, user_id, path, arn, permissions_boundary, created_at"

# Tables whose rows name a user by ``name_lower``: (table, column, extra condition).
_USER_KEYED = (
    ("iam_group_members", "user_lower", ""),
    ("iam_access_keys", "user_lower", ""),
    ("iam_attachments", "entity_lower", " AND entity_type = 'user'"),
    ("iam_inline_policies", "entity_lower", " AND entity_type = 'user'"),
    ("iam_tags", "resource_key", " AND resource_type = 'user'"),
    ("iam_login_profiles", "user_lower", ""),
)

_make_user = builder(User)


def _user(r: Sequence[Any]) -> User:
    return _make_user(r[0], r[1], r[2], r[3], r[4], r[5], r[6], when(r[7]))


_GET = f"SELECT {_COLUMNS} FROM iam_users WHERE account_id = ? AND name_lower = ?"


def get(db: Database, account: str, name: str) -> User | None:
    """The user named ``name`` (any case)."""
    row = db.one(_GET, (account, name.lower()))
    return None if row is None else _user(row)


def exists(db: Database, account: str, name: str) -> bool:
    return entities.exists(db, TABLE, account, name.lower())


def page(db: Database, account: str, path_prefix: str, after: str | None, count: int) -> list[User]:
    return [_user(r) for r in entities.page(db, TABLE, _COLUMNS, account, path_prefix, after, count)]


def keys_after(db: Database, account: str, after: str | None, count: int) -> list[str]:
    return entities.keys_after(db, TABLE, account, after, count)


def by_keys(db: Database, account: str, keys: Collection[str]) -> dict[str, User]:
    return {user.name_lower: user for user in map(_user, entities.by_keys(db, TABLE, _COLUMNS, account, keys))}


def members(db: Database, account: str, group_lower: str) -> list[User]:
    """The users in a group (in no particular order)."""
    columns = ", ".join(f"u.{c.strip()}" for c in _COLUMNS.split(","))
    rows = db.all(
        f"SELECT {columns} FROM iam_group_members m JOIN iam_users u "
        "ON u.account_id = m.account_id AND u.name_lower = m.user_lower "
        "WHERE m.account_id = ? AND m.group_lower = ?",
        (account, group_lower),
    )
    return [_user(r) for r in rows]


def insert(db: Database, user: User) -> None:
    db.execute(
        "INSERT INTO iam_users (account_id, name_lower, name, user_id, path, arn, permissions_boundary, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (user.account_id, user.name_lower, user.name, user.user_id, user.path, user.arn, user.permissions_boundary,
         iso(user.created_at)),
    )


def rename(db: Database, account: str, name_lower: str, new_name: str, new_path: str, arn: str) -> None:
    """Rename or move the user; every row keyed by its name follows (the caller checked the new name is free)."""
    entities.rename(db, TABLE, account, name_lower, new_name, new_path, arn, _USER_KEYED)


def set_boundary(db: Database, account: str, name_lower: str, boundary: str | None) -> None:
    db.execute("UPDATE iam_users SET permissions_boundary = ? WHERE account_id = ? AND name_lower = ?",
               (boundary, account, name_lower))


def delete(db: Database, account: str, name_lower: str) -> None:
    """Delete the user and its tags (the caller has refused while anything else hangs off it)."""
    db.execute("DELETE FROM iam_tags WHERE account_id = ? AND resource_type = 'user' AND resource_key = ?",
               (account, name_lower))
    entities.delete(db, TABLE, account, name_lower)


def arn_and_id(db: Database, account: str, name: str) -> tuple[str, str] | None:
    """(ARN, unique id) of the user named ``name``."""
    row = db.one("SELECT arn, user_id FROM iam_users WHERE account_id = ? AND name_lower = ?", (account, name.lower()))
    return None if row is None else (str(row[0]), str(row[1]))


def arn_of_id(db: Database, user_id: str) -> str | None:
    row = db.one("SELECT arn FROM iam_users WHERE user_id = ?", (user_id,))
    return None if row is None else str(row[0])
