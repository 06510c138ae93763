"""``iam_policies`` and ``iam_policy_versions``: the account's customer managed policies and their versions."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from ....store.codec import iso, when
from ....store.db import Database
from .codec import IN_JSON, json_keys
from .records import ManagedPolicy, PolicyVersion, builder

_COLUMNS = ("account_id, arn, name, name_lower, policy_id, path, description, default_version, next_version, "
            "created_at, updated_at")
_VERSION_COLUMNS = "account_id, policy_arn, version_id, document, created_at"

_make_policy = builder(ManagedPolicy)
_make_version = builder(PolicyVersion)


def _policy(r: Sequence[Any]) -> ManagedPolicy:
    return _make_policy(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], int(r[8]), when(r[9]), when(r[10]))


def _version(r: Sequence[Any]) -> PolicyVersion:
    return _make_version(r[0], r[1], r[2], r[3], when(r[4]))


def get(db: Database, account: str, arn: str) -> ManagedPolicy | None:
    row = db.one(f"SELECT {_COLUMNS} FROM iam_policies WHERE account_id = ? AND arn = ?", (account, arn))
    return None if row is None else _policy(row)


def name_taken(db: Database, account: str, name: str) -> bool:
    """Whether a policy of the account is named ``name`` (any case)."""
    return db.one("SELECT 1 FROM iam_policies WHERE account_id = ? AND name_lower = ?",
                  (account, name.lower())) is not None


def by_name_after(db: Database, account: str, after: str | None) -> Iterator[ManagedPolicy]:
    """The account's policies whose name_lower sorts after ``after`` (all when None), by name_lower; read as the
    caller iterates, so that a caller stopping early reads no further."""
    sql = f"SELECT {_COLUMNS} FROM iam_policies WHERE account_id = ?"
    args: tuple[str, ...] = (account,)
    if after is not None:
        sql += " AND name_lower > ?"
        args += (after,)
    cursor = db.execute(sql + " ORDER BY name_lower", args)
    try:
        for row in cursor:
            yield _policy(row)
    finally:
        cursor.close()


def arns_after(db: Database, account: str, after: str | None, count: int) -> list[str]:
    """The first ``count`` policy ARNs after ``after`` (from the first when None), by ARN."""
    if after is None:
        rows = db.all("SELECT arn FROM iam_policies WHERE account_id = ? ORDER BY arn LIMIT ?", (account, count))
    else:
        rows = db.all("SELECT arn FROM iam_policies WHERE account_id = ? AND arn > ? ORDER BY arn LIMIT ?",
                      (account, after, count))
    return [str(r[0]) for r in rows]


def by_arns(db: Database, account: str, arns: Collection[str]) -> dict[str, ManagedPolicy]:
    rows = db.all(f"SELECT {_COLUMNS} FROM iam_policies WHERE account_id = ? AND arn {IN_JSON}",
                  (account, json_keys(arns)))
    return {policy.arn: policy for policy in map(_policy, rows)}


def count(db: Database, account: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM iam_policies WHERE account_id = ?", (account,)) or 0)


def insert(db: Database, policy: ManagedPolicy, first: PolicyVersion) -> None:
    """A new policy with its first version."""
    db.execute(
        "INSERT INTO iam_policies (account_id, arn, name, name_lower, policy_id, path, description, "
        "default_version, next_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (policy.account_id, policy.arn, policy.name, policy.name_lower, policy.policy_id, policy.path,
         policy.description, policy.default_version, policy.next_version, iso(policy.created_at),
         iso(policy.updated_at)),
    )
    add_version(db, first)


def delete(db: Database, account: str, arn: str) -> None:
    """Delete the policy, its versions and its tags."""
    db.execute("DELETE FROM iam_policy_versions WHERE account_id = ? AND policy_arn = ?", (account, arn))
    db.execute("DELETE FROM iam_policies WHERE account_id = ? AND arn = ?", (account, arn))
    db.execute("DELETE FROM iam_tags WHERE account_id = ? AND resource_type = 'policy' AND resource_key = ?",
               (account, arn))


def set_versions(db: Database, account: str, arn: str, *, default_version: str, next_version: int | None = None,
                 updated_at: datetime | None = None) -> None:
    """Set the default version; with a new version, also the next version's number and UpdateDate."""
    if next_version is None or updated_at is None:
        db.execute("UPDATE iam_policies SET default_version = ? WHERE account_id = ? AND arn = ?",
                   (default_version, account, arn))
        return
    db.execute(
        "UPDATE iam_policies SET next_version = ?, default_version = ?, updated_at = ? "
        "WHERE account_id = ? AND arn = ?",
        (next_version, default_version, iso(updated_at), account, arn),
    )


# -- versions ----------------------------------------------------------------------------------------------


def versions(db: Database, account: str, arn: str) -> list[PolicyVersion]:
    """The policy's versions (in no particular order)."""
    rows = db.all(f"SELECT {_VERSION_COLUMNS} FROM iam_policy_versions WHERE account_id = ? AND policy_arn = ?",
                  (account, arn))
    return [_version(r) for r in rows]


def version(db: Database, account: str, arn: str, version_id: str) -> PolicyVersion | None:
    row = db.one(f"SELECT {_VERSION_COLUMNS} FROM iam_policy_versions WHERE account_id = ? AND policy_arn = ? "
                 "AND version_id = ?", (account, arn, version_id))
    return None if row is None else _version(row)


def version_count(db: Database, account: str, arn: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM iam_policy_versions WHERE account_id = ? AND policy_arn = ?",
                         (account, arn)))


def versions_of(db: Database, account: str, arns: Collection[str]) -> dict[str, list[PolicyVersion]]:
    """Each policy's versions, newest first (v10 after v9: by number, not text), with one query."""
    grouped: dict[str, list[PolicyVersion]] = {arn: [] for arn in arns}
    for r in db.all(f"SELECT {_VERSION_COLUMNS} FROM iam_policy_versions WHERE account_id = ? "
                    f"AND policy_arn {IN_JSON}", (account, json_keys(arns))):
        grouped.setdefault(r[1], []).append(_version(r))
    return {arn: sorted(found, key=lambda v: v.number, reverse=True) for arn, found in grouped.items()}


def add_version(db: Database, version: PolicyVersion) -> None:
    db.execute(
        "INSERT INTO iam_policy_versions (account_id, policy_arn, version_id, document, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (version.account_id, version.policy_arn, version.version_id, version.document, iso(version.created_at)),
    )


def delete_version(db: Database, account: str, arn: str, version_id: str) -> None:
    db.execute("DELETE FROM iam_policy_versions WHERE account_id = ? AND policy_arn = ? AND version_id = ?",
               (account, arn, version_id))
