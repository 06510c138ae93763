"""``iam_instance_profiles`` and ``iam_instance_profile_roles`` (the one role a profile may hold)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from ....store.codec import iso, when
from ....store.db import Database
from . import entities
from .codec import IN_JSON, json_keys
from .records import InstanceProfile, builder

TABLE = "iam_instance_profiles"
TAG_TYPE = "instance-profile"  # iam_tags.resource_type of a profile (keyed by its name_lower)
_COLUMNS = "account_id, name_lower, name, profile_id, path, arn, created_at"

_make_profile = builder(InstanceProfile)


def _profile(r: Sequence[Any]) -> InstanceProfile:
    return _make_profile(r[0], r[1], r[2], r[3], r[4], r[5], when(r[6]))


_GET = f"SELECT {_COLUMNS} FROM iam_instance_profiles WHERE account_id = ? AND name_lower = ?"


def get(db: Database, account: str, name: str) -> InstanceProfile | None:
    """The instance profile named ``name`` (any case)."""
    row = db.one(_GET, (account, name.lower()))
    return None if row is None else _profile(row)


def exists(db: Database, account: str, name: str) -> bool:
    return entities.exists(db, TABLE, account, name.lower())


def page(db: Database, account: str, path_prefix: str, after: str | None, count: int) -> list[InstanceProfile]:
    return [_profile(r) for r in entities.page(db, TABLE, _COLUMNS, account, path_prefix, after, count)]


def count(db: Database, account: str) -> int:
    return entities.count(db, TABLE, account)


def insert(db: Database, profile: InstanceProfile) -> None:
    db.execute(
        "INSERT INTO iam_instance_profiles (account_id, name_lower, name, profile_id, path, arn, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (profile.account_id, profile.name_lower, profile.name, profile.profile_id, profile.path, profile.arn,
         iso(profile.created_at)),
    )


def delete(db: Database, account: str, name_lower: str) -> None:
    """Delete the profile and its tags (the caller has refused while it holds a role)."""
    db.execute("DELETE FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ?",
               (account, TAG_TYPE, name_lower))
    entities.delete(db, TABLE, account, name_lower)


# -- the role of a profile ---------------------------------------------------------------------------------


def role_of(db: Database, account: str, profile_lower: str) -> str | None:
    """The key (name_lower) of the role the profile holds."""
    row = db.one("SELECT role_lower FROM iam_instance_profile_roles WHERE account_id = ? AND profile_lower = ?",
                 (account, profile_lower))
    return None if row is None else str(row[0])


def of_role(db: Database, account: str, role_lower: str) -> list[InstanceProfile]:
    """The instance profiles holding the role, by name."""
    columns = ", ".join(f"p.{c.strip()}" for c in _COLUMNS.split(","))
    rows = db.all(
        f"SELECT {columns} FROM iam_instance_profile_roles r JOIN iam_instance_profiles p "
        "ON p.account_id = r.account_id AND p.name_lower = r.profile_lower "
        "WHERE r.account_id = ? AND r.role_lower = ? ORDER BY p.name_lower",
        (account, role_lower),
    )
    return [_profile(r) for r in rows]


def of_roles(db: Database, account: str, role_keys: Collection[str]) -> dict[str, list[InstanceProfile]]:
    """:func:`of_role` for many roles with one query (a role in no profile: an empty list)."""
    grouped: dict[str, list[InstanceProfile]] = {key: [] for key in role_keys}
    columns = ", ".join(f"p.{c.strip()}" for c in _COLUMNS.split(","))
    for r in db.all(
        f"SELECT r.role_lower, {columns} FROM iam_instance_profile_roles r JOIN iam_instance_profiles p "
        "ON p.account_id = r.account_id AND p.name_lower = r.profile_lower "
        f"WHERE r.account_id = ? AND r.role_lower {IN_JSON} ORDER BY r.role_lower, p.name_lower",
        (account, json_keys(role_keys)),
    ):
        grouped.setdefault(r[0], []).append(_profile(r[1:]))
    return grouped


def role_in_a_profile(db: Database, account: str, role_lower: str) -> bool:
    return db.one("SELECT 1 FROM iam_instance_profile_roles WHERE account_id = ? AND role_lower = ?",
                  (account, role_lower)) is not None


def add_role(db: Database, account: str, profile_lower: str, role_lower: str) -> None:
    db.execute("INSERT INTO iam_instance_profile_roles (account_id, profile_lower, role_lower) VALUES (?, ?, ?)",
               (account, profile_lower, role_lower))


def remove_role(db: Database, account: str, profile_lower: str, role_lower: str) -> bool:
    """Whether the profile held the role."""
    cursor = db.execute(
        "DELETE FROM iam_instance_profile_roles WHERE account_id = ? AND profile_lower = ? AND role_lower = ?",
        (account, profile_lower, role_lower),
    )
    return cursor.rowcount > 0
