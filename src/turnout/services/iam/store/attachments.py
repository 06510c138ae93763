"""``iam_attachments``: managed policies attached to roles, users and groups; and the usage counts of managed
policies (attachments, and permissions boundaries of roles and users)."""

from __future__ import annotations

from collections.abc import Collection

from ....store.db import Database
from .codec import IN_JSON, json_keys
from .records import Attachment, EntityKind, PolicyEntity, builder

_ENTITY_TABLES = {"role": ("iam_roles", "role_id"), "user": ("iam_users", "user_id"),
                  "group": ("iam_groups", "group_id")}


_make_attachment = builder(Attachment)


def of_entity(db: Database, account: str, kind: EntityKind, entity_lower: str) -> list[Attachment]:
    """The entity's attachments, in the order they were attached."""
    rows = db.all(
        "SELECT policy_arn, seq FROM iam_attachments WHERE account_id = ? AND entity_type = ? "
        "AND entity_lower = ? ORDER BY seq",
        (account, kind, entity_lower),
    )
    return [_make_attachment(account, kind, entity_lower, r[0], int(r[1])) for r in rows]


def of_entities(db: Database, account: str, kind: EntityKind, keys: Collection[str]) -> dict[str, list[Attachment]]:
    """:func:`of_entity` for many entities with one query (an entity without attachments: an empty list)."""
    grouped: dict[str, list[Attachment]] = {key: [] for key in keys}
    for r in db.all(
        "SELECT entity_lower, policy_arn, seq FROM iam_attachments WHERE account_id = ? AND entity_type = ? "
        f"AND entity_lower {IN_JSON} ORDER BY entity_lower, seq",
        (account, kind, json_keys(keys)),
    ):
        grouped.setdefault(r[0], []).append(_make_attachment(account, kind, r[0], r[1], int(r[2])))
    return grouped


def is_attached(db: Database, account: str, kind: EntityKind, entity_lower: str, arn: str) -> bool:
    return db.one(
        "SELECT 1 FROM iam_attachments WHERE account_id = ? AND entity_type = ? AND entity_lower = ? "
        "AND policy_arn = ?",
        (account, kind, entity_lower, arn),
    ) is not None


def any_of(db: Database, account: str, kind: EntityKind, entity_lower: str) -> bool:
    return db.one("SELECT 1 FROM iam_attachments WHERE account_id = ? AND entity_type = ? AND entity_lower = ?",
                  (account, kind, entity_lower)) is not None


def count(db: Database, account: str, kind: EntityKind, entity_lower: str) -> int:
    return int(db.scalar(
        "SELECT COUNT(*) FROM iam_attachments WHERE account_id = ? AND entity_type = ? AND entity_lower = ?",
        (account, kind, entity_lower),
    ))


def attach(db: Database, account: str, kind: EntityKind, entity_lower: str, arn: str) -> None:
    """Attach the policy after the entity's others (the caller checked it is not attached yet)."""
    top = db.scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM iam_attachments WHERE account_id = ? AND entity_type = ? "
        "AND entity_lower = ?",
        (account, kind, entity_lower),
    )
    db.execute(
        "INSERT INTO iam_attachments (account_id, entity_type, entity_lower, policy_arn, seq) VALUES (?, ?, ?, ?, ?)",
        (account, kind, entity_lower, arn, int(top) + 1),
    )


def detach(db: Database, account: str, kind: EntityKind, entity_lower: str, arn: str) -> bool:
    """Whether the policy was attached."""
    cursor = db.execute(
        "DELETE FROM iam_attachments WHERE account_id = ? AND entity_type = ? AND entity_lower = ? AND policy_arn = ?",
        (account, kind, entity_lower, arn),
    )
    return cursor.rowcount > 0


# -- usage of managed policies -------------------------------------------------------------------------------


def attachment_counts(db: Database, account: str, arn: str | None = None) -> dict[str, int]:
    """Attachments per policy ARN in ``account`` (of one policy when ``arn`` is given)."""
    sql = "SELECT policy_arn, COUNT(*) FROM iam_attachments WHERE account_id = ?"
    params: tuple[str, ...] = (account,)
    if arn is not None:
        sql += " AND policy_arn = ?"
        params += (arn,)
    return {r[0]: int(r[1]) for r in db.all(sql + " GROUP BY policy_arn", params)}


def boundary_counts(db: Database, account: str, arn: str | None = None) -> dict[str, int]:
    """Roles and users using each policy as their permissions boundary (one policy's when ``arn`` is given)."""
    counts: dict[str, int] = {}
    for table in ("iam_roles", "iam_users"):
        sql = f"SELECT permissions_boundary, COUNT(*) FROM {table} WHERE account_id = ? AND permissions_boundary"
        params: tuple[str, ...] = (account,)
        if arn is not None:
            sql += " = ?"
            params += (arn,)
        else:
            sql += " IS NOT NULL"
        for row in db.all(sql + " GROUP BY permissions_boundary", params):
            counts[row[0]] = counts.get(row[0], 0) + int(row[1])
    return counts


def usage_of(db: Database, account: str, arns: Collection[str]) -> dict[str, tuple[int, int]]:
    """(attachments, permissions boundary uses) of each policy ARN, with three queries for all of them."""
    keys = json_keys(arns)
    attached = {r[0]: int(r[1]) for r in db.all(
        f"SELECT policy_arn, COUNT(*) FROM iam_attachments WHERE account_id = ? AND policy_arn {IN_JSON} "
        "GROUP BY policy_arn", (account, keys))}
    bounded: dict[str, int] = {}
    for table in ("iam_roles", "iam_users"):
        for r in db.all(
            f"SELECT permissions_boundary, COUNT(*) FROM {table} WHERE account_id = ? "
            f"AND permissions_boundary {IN_JSON} GROUP BY permissions_boundary", (account, keys),
        ):
            bounded[r[0]] = bounded.get(r[0], 0) + int(r[1])
    return {arn: (attached.get(arn, 0), bounded.get(arn, 0)) for arn in arns}


def policies_in_use(db: Database, account: str) -> set[str]:
    """Every policy ARN the account attaches or sets as a permissions boundary."""
    rows = db.all(
        "SELECT policy_arn AS arn FROM iam_attachments WHERE account_id = ? "
        "UNION SELECT permissions_boundary FROM iam_roles WHERE account_id = ? "
        "UNION SELECT permissions_boundary FROM iam_users WHERE account_id = ?",
        (account, account, account),
    )
    return {str(r[0]) for r in rows if r[0]}


def attachment_total(db: Database, account: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM iam_attachments WHERE account_id = ?", (account,)) or 0)


def entities_for_policy(db: Database, account: str, kind: EntityKind, arn: str, path_prefix: str,
                        after: str | None, count: int, *, attached: bool, bounded: bool) -> list[PolicyEntity]:
    """At most ``count`` entities of ``kind`` under ``path_prefix``, by name_lower after ``after``, that the policy
    is attached to (``attached``) or is the permissions boundary of (``bounded``; not for groups). Each source is
    read from ``after`` on and stops after ``count``: a page costs what it holds."""
    table, id_column = _ENTITY_TABLES[kind]
    after_attached = "" if after is None else " AND a.entity_lower > ?"
    after_bounded = "" if after is None else " AND e.name_lower > ?"
    from_after = [] if after is None else [after]
    sources: list[str] = []
    params: list[object] = []
    if attached:
        sources.append(
            f"SELECT * FROM (SELECT e.name, e.name_lower, e.{id_column} AS entity_id FROM iam_attachments a "
            f"JOIN {table} e ON e.account_id = a.account_id AND e.name_lower = a.entity_lower "
            "WHERE a.account_id = ? AND a.entity_type = ? AND a.policy_arn = ? "
            f"AND substr(e.path, 1, length(?)) = ?{after_attached} ORDER BY a.entity_lower LIMIT ?)"
        )
        params += [account, kind, arn, path_prefix, path_prefix, *from_after, count]
    if bounded and kind != "group":
        sources.append(
            f"SELECT * FROM (SELECT e.name, e.name_lower, e.{id_column} AS entity_id FROM {table} e "
            "WHERE e.account_id = ? AND e.permissions_boundary = ? "
            f"AND substr(e.path, 1, length(?)) = ?{after_bounded} ORDER BY e.name_lower LIMIT ?)"
        )
        params += [account, arn, path_prefix, path_prefix, *from_after, count]
    if not sources:
        return []
    # UNION: an entity both attached and bounded by the policy is listed once.
    rows = db.all(
        f"SELECT name, name_lower, entity_id FROM ({' UNION '.join(sources)}) ORDER BY name_lower LIMIT ?",
        (*params, count),
    )
    return [PolicyEntity(kind, r[0], r[1], r[2]) for r in rows]
