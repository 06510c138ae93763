"""``iam_groups`` and ``iam_group_members``: groups, their members, the groups of a user."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from ....store.codec import iso, when
from ....store.db import Database
from . import entities
from .codec import IN_JSON, json_keys
from .records import Group, builder

TABLE = "iam_groups"
_COLUMNS = "account_id, name_lower, name, group_id, path, arn, created_at"

# Tables whose rows name a group by ``name_lower``.
_GROUP_KEYED = (
    ("iam_group_members", "group_lower", ""),
    ("iam_attachments", "entity_lower", " AND entity_type = 'group'"),
    ("iam_inline_policies", "entity_lower", " AND entity_type = 'group'"),
    ("iam_tags", "resource_key", " AND resource_type = 'group'"),
)

_make_group = builder(Group)


def _group(r: Sequence[Any]) -> Group:
    return _make_group(r[0], r[1], r[2], r[3], r[4], r[5], when(r[6]))


_GET = f"SELECT {_COLUMNS} FROM iam_groups WHERE account_id = ? AND name_lower = ?"


def get(db: Database, account: str, name: str) -> Group | None:
    """The group named ``name`` (any case)."""
    row = db.one(_GET, (account, name.lower()))
    return None if row is None else _group(row)


def exists(db: Database, account: str, name: str) -> bool:
    return entities.exists(db, TABLE, account, name.lower())


def page(db: Database, account: str, path_prefix: str, after: str | None, count: int) -> list[Group]:
    return [_group(r) for r in entities.page(db, TABLE, _COLUMNS, account, path_prefix, after, count)]


def keys_after(db: Database, account: str, after: str | None, count: int) -> list[str]:
    return entities.keys_after(db, TABLE, account, after, count)


def by_keys(db: Database, account: str, keys: Collection[str]) -> dict[str, Group]:
    return {group.name_lower: group for group in map(_group, entities.by_keys(db, TABLE, _COLUMNS, account, keys))}


def insert(db: Database, group: Group) -> None:
    db.execute(
        "INSERT INTO iam_groups (account_id, name_lower, name, group_id, path, arn, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (group.account_id, group.name_lower, group.name, group.group_id, group.path, group.arn,
         iso(group.created_at)),
    )


def rename(db: Database, account: str, name_lower: str, new_name: str, new_path: str, arn: str) -> None:
    """Rename or move the group; every row keyed by its name follows (the caller checked the new name is free)."""
    entities.rename(db, TABLE, account, name_lower, new_name, new_path, arn, _GROUP_KEYED)


def delete(db: Database, account: str, name_lower: str) -> None:
    entities.delete(db, TABLE, account, name_lower)


# -- members -----------------------------------------------------------------------------------------------


def of_user(db: Database, account: str, user_lower: str) -> list[Group]:
    """The groups the user is in (in no particular order)."""
    columns = ", ".join(f"g.{c.strip()}" for c in _COLUMNS.split(","))
    rows = db.all(
        f"SELECT {columns} FROM iam_group_members m JOIN iam_groups g "
        "ON g.account_id = m.account_id AND g.name_lower = m.group_lower "
        "WHERE m.account_id = ? AND m.user_lower = ?",
        (account, user_lower),
    )
    return [_group(r) for r in rows]


def names_of_users(db: Database, account: str, user_keys: Collection[str]) -> dict[str, list[str]]:
    """The names of the groups each user is in, ordered by name (one query for all the users)."""
    grouped: dict[str, list[str]] = {key: [] for key in user_keys}
    for r in db.all(
        "SELECT m.user_lower, g.name FROM iam_group_members m JOIN iam_groups g ON g.account_id = m.account_id "
        f"AND g.name_lower = m.group_lower WHERE m.account_id = ? AND m.user_lower {IN_JSON} "
        "ORDER BY m.user_lower, g.name_lower",
        (account, json_keys(user_keys)),
    ):
        grouped.setdefault(r[0], []).append(r[1])
    return grouped


def is_member(db: Database, account: str, group_lower: str, user_lower: str) -> bool:
    return db.one("SELECT 1 FROM iam_group_members WHERE account_id = ? AND group_lower = ? AND user_lower = ?",
                  (account, group_lower, user_lower)) is not None


def has_members(db: Database, account: str, group_lower: str) -> bool:
    return db.one("SELECT 1 FROM iam_group_members WHERE account_id = ? AND group_lower = ?",
                  (account, group_lower)) is not None


def memberships(db: Database, account: str, user_lower: str) -> int:
    """How many groups the user is in."""
    return int(db.scalar("SELECT COUNT(*) FROM iam_group_members WHERE account_id = ? AND user_lower = ?",
                         (account, user_lower)))


def add_member(db: Database, account: str, group_lower: str, user_lower: str, added_at: datetime) -> None:
    db.execute("INSERT INTO iam_group_members (account_id, group_lower, user_lower, added_at) VALUES (?, ?, ?, ?)",
               (account, group_lower, user_lower, iso(added_at)))


def remove_member(db: Database, account: str, group_lower: str, user_lower: str) -> bool:
    """Whether the user was a member."""
    cursor = db.execute("DELETE FROM iam_group_members WHERE account_id = ? AND group_lower = ? AND user_lower = ?",
                        (account, group_lower, user_lower))
    return cursor.rowcount > 0
