"""``iam_roles`` (and ``iam_slr_deletion_tasks``, the DeleteServiceLinkedRole tasks): roles by name or unique id,
pages, the writes of the role operations, and a role's deletion with everything hanging off it.

GetRole's read (:func:`get_with_tags`) is answered from a cache of each process when nothing changed: reading a
row is the costliest part of a GetRole in the server (some 70 microseconds of its ~390 with two workers, as other
processes' commits make SQLite read its pages again), and roles are read far more often than written. Every write of
a role's row or tags calls :func:`changed` in its transaction, which gives the account's roles a new generation
(:mod:`turnout.store.generations`: every process sees it once the write commits, before the write is answered);
an entry read under another generation is read again. A write transaction never reads from the cache: what it
reads it may write back, and a generation another process has just committed may not be counted yet.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from ....store import generations
from ....store.codec import iso, when
from ....store.db import Database
from . import entities
from .codec import IN_JSON, json_keys
from .records import DeletionTask, Role, Tag, builder

TABLE = "iam_roles"
_COLUMNS = (
    "account_id, name_lower, name, role_id, path, arn, trust_policy, trust_policy_saved, description, "
    "max_session_duration, max_signin_session_duration, permissions_boundary, linked_service, created_at, "
    "last_used_at, last_used_region"
)

_make_role = builder(Role)
_make_tag = builder(Tag)


def _role(r: Sequence[Any]) -> Role:
    return _make_role(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], when(r[13]),
                      when(r[14]), r[15])


_GET = f"SELECT {_COLUMNS} FROM iam_roles WHERE account_id = ? AND name_lower = ?"
_GET_WITH_TAGS = (
    "SELECT " + ", ".join(f"r.{c.strip()}" for c in _COLUMNS.split(",")) + ", t.tag_key, t.tag_value "
    "FROM iam_roles r LEFT JOIN iam_tags t ON t.account_id = r.account_id AND t.resource_type = 'role' "
    "AND t.resource_key = r.name_lower WHERE r.account_id = ? AND r.name_lower = ? ORDER BY t.seq"
)


def get(db: Database, account: str, name: str) -> Role | None:
    """The role named ``name`` (any case)."""
    row = db.one(_GET, (account, name.lower()))
    return None if row is None else _role(row)


def get_with_tags(db: Database, account: str, name: str) -> tuple[Role, list[Tag]] | None:
    """The role named ``name`` (any case) and its tags in the order they were added, read together (GetRole's
    one statement: a row per tag, or one row without a tag); from the cache when the account's roles have not
    changed since it was read (see the module's docstring)."""
    key = (account, name.lower())
    cache = None if db.in_transaction and not db.reading else _Cache.of(db)
    token = 0
    if cache is not None:
        token = cache.generations.token(f"{GENERATION}:{account}")
        hit = cache.entries.get(key)
        if hit is not None and hit.token == token:
            return hit.role, list(hit.tags)
    rows = db.all(_GET_WITH_TAGS, key)
    if not rows:
        return None
    role, tags = _role(rows[0]), [_make_tag(r[16], r[17]) for r in rows if r[16] is not None]
    if cache is not None:
        cache.keep(key, _Entry(token, role, tuple(tags)))
    return role, tags


# -- the cache of GetRole's reads ------------------------------------------------------------------------------

GENERATION = "iam-roles"  # + ":<account>": changes with every write of the account's roles or their tags
CACHE_SIZE = 4096  # entries a process keeps; past it the oldest eighth is dropped


class _Entry(NamedTuple):
    token: int  # the account's roles' generation when read
    role: Role
    tags: tuple[Tag, ...]


class _Cache:
    """One database's cached roles in this process, by (account, name_lower)."""

    def __init__(self, db: Database) -> None:
        self.generations = generations.of(db)
        self.entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, db: Database) -> _Cache:
        return db.shared(cls)

    def keep(self, key: tuple[str, str], entry: _Entry) -> None:
        with self._lock:
            entries = self.entries
            if key not in entries and len(entries) >= CACHE_SIZE:
                for old in list(entries)[: CACHE_SIZE // 8]:  # insertion order is age
                    del entries[old]
            entries[key] = entry


def changed(db: Database, account: str) -> None:
    """A role of ``account`` (its row or its tags) is being written: cached reads of the account's roles are stale
    once this transaction commits, in every process."""
    generations.of(db).bump(f"{GENERATION}:{account}")


def exists(db: Database, account: str, name: str) -> bool:
    return entities.exists(db, TABLE, account, name.lower())


def page(db: Database, account: str, path_prefix: str, after: str | None, count: int) -> list[Role]:
    return [_role(r) for r in entities.page(db, TABLE, _COLUMNS, account, path_prefix, after, count)]


def keys_after(db: Database, account: str, after: str | None, count: int) -> list[str]:
    return entities.keys_after(db, TABLE, account, after, count)


def by_keys(db: Database, account: str, keys: Collection[str]) -> dict[str, Role]:
    return {role.name_lower: role for role in map(_role, entities.by_keys(db, TABLE, _COLUMNS, account, keys))}


def in_profiles(db: Database, account: str, profile_keys: Collection[str]) -> dict[str, list[Role]]:
    """The role each instance profile holds (a list: empty, or one role), by profile key."""
    grouped: dict[str, list[Role]] = {key: [] for key in profile_keys}
    columns = ", ".join(f"ro.{c.strip()}" for c in _COLUMNS.split(","))
    for r in db.all(
        f"SELECT r.profile_lower, {columns} FROM iam_instance_profile_roles r JOIN iam_roles ro "
        "ON ro.account_id = r.account_id AND ro.name_lower = r.role_lower "
        f"WHERE r.account_id = ? AND r.profile_lower {IN_JSON}",
        (account, json_keys(profile_keys)),
    ):
        grouped.setdefault(r[0], []).append(_role(r[1:]))
    return grouped


def insert(db: Database, role: Role) -> None:
    changed(db, role.account_id)
    db.execute(
        "INSERT INTO iam_roles (account_id, name_lower, name, role_id, path, arn, trust_policy, "
        "trust_policy_saved, description, max_session_duration, max_signin_session_duration, "
        "permissions_boundary, linked_service, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (role.account_id, role.name_lower, role.name, role.role_id, role.path, role.arn, role.trust_policy,
         role.trust_policy_saved, role.description, role.max_session_duration, role.max_signin_session_duration,
         role.permissions_boundary, role.linked_service, iso(role.created_at)),
    )


def save(db: Database, role: Role) -> None:
    """Write what the role operations change: description, session durations, boundary, trust policy. (Its last
    use is STS's bookkeeping; name, path and ids never change.)"""
    changed(db, role.account_id)
    db.execute(
        "UPDATE iam_roles SET description = ?, max_session_duration = ?, max_signin_session_duration = ?, "
        "permissions_boundary = ?, trust_policy = ?, trust_policy_saved = ? WHERE account_id = ? AND name_lower = ?",
        (role.description, role.max_session_duration, role.max_signin_session_duration, role.permissions_boundary,
         role.trust_policy, role.trust_policy_saved, role.account_id, role.name_lower),
    )


def delete(db: Database, account: str, name_lower: str) -> None:
    """Delete the role and everything hanging off it: attachments, inline policies, tags, its place in instance
    profiles (the caller has checked the conflicts it cares about)."""
    changed(db, account)
    key = (account, name_lower)
    db.execute("DELETE FROM iam_attachments WHERE account_id = ? AND entity_type = 'role' AND entity_lower = ?", key)
    db.execute("DELETE FROM iam_inline_policies WHERE account_id = ? AND entity_type = 'role' AND entity_lower = ?",
               key)
    db.execute("DELETE FROM iam_tags WHERE account_id = ? AND resource_type = 'role' AND resource_key = ?", key)
    db.execute("DELETE FROM iam_instance_profile_roles WHERE account_id = ? AND role_lower = ?", key)
    entities.delete(db, TABLE, account, name_lower)


# -- unique ids and trust policies' saved forms ------------------------------------------------------------


def arn_and_id(db: Database, account: str, name: str) -> tuple[str, str] | None:
    """(ARN, unique id) of the role named ``name``."""
    row = db.one("SELECT arn, role_id FROM iam_roles WHERE account_id = ? AND name_lower = ?", (account, name.lower()))
    return None if row is None else (str(row[0]), str(row[1]))


def arn_of_id(db: Database, role_id: str) -> str | None:
    row = db.one("SELECT arn FROM iam_roles WHERE role_id = ?", (role_id,))
    return None if row is None else str(row[0])


def unbound_trust_policies(db: Database) -> list[tuple[str, str, str]]:
    """(account, name_lower, trust policy) of the roles that have no saved form yet and may name principals."""
    rows = db.all("SELECT account_id, name_lower, trust_policy FROM iam_roles WHERE trust_policy_saved IS NULL "
                  "AND linked_service IS NULL AND trust_policy LIKE '%arn:%:iam::%'")
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


def note_used(db: Database, account: str, name_lower: str, when: str, region: str) -> None:
    """STS's bookkeeping of the role's last use (GetRole's ``RoleLastUsed``)."""
    changed(db, account)
    db.execute("UPDATE iam_roles SET last_used_at = ?, last_used_region = ? WHERE account_id = ? AND name_lower = ?",
               (when, region, account, name_lower))


def set_trust_policy_saved(db: Database, account: str, name_lower: str, saved: str) -> None:
    changed(db, account)
    db.execute("UPDATE iam_roles SET trust_policy_saved = ? WHERE account_id = ? AND name_lower = ?",
               (saved, account, name_lower))


# -- service-linked role deletion tasks --------------------------------------------------------------------


def add_deletion_task(db: Database, task: DeletionTask) -> None:
    db.execute(
        "INSERT INTO iam_slr_deletion_tasks (account_id, task_id, role_name, status, reason, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (task.account_id, task.task_id, task.role_name, task.status, task.reason, iso(task.created_at)),
    )


def deletion_task(db: Database, account: str, task_id: str) -> DeletionTask | None:
    row = db.one("SELECT account_id, task_id, role_name, status, reason, created_at FROM iam_slr_deletion_tasks "
                 "WHERE account_id = ? AND task_id = ?", (account, task_id))
    return None if row is None else DeletionTask(row[0], row[1], row[2], row[3], row[4], when(row[5]))
