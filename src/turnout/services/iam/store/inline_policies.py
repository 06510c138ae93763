"""``iam_inline_policies``: the inline policies of roles, users and groups."""

from __future__ import annotations

from collections.abc import Collection

from ....store.db import Database
from .codec import IN_JSON, json_keys
from .records import EntityKind, InlinePolicy, builder

_make_policy = builder(InlinePolicy)


def get(db: Database, account: str, kind: EntityKind, entity_lower: str, policy_name: str) -> InlinePolicy | None:
    row = db.one(
        "SELECT policy_name, document FROM iam_inline_policies WHERE account_id = ? AND entity_type = ? "
        "AND entity_lower = ? AND policy_name = ?",
        (account, kind, entity_lower, policy_name),
    )
    return None if row is None else InlinePolicy(account, kind, entity_lower, row[0], row[1])


def of_entity(db: Database, account: str, kind: EntityKind, entity_lower: str) -> list[InlinePolicy]:
    """The entity's inline policies (in no particular order)."""
    rows = db.all(
        "SELECT policy_name, document FROM iam_inline_policies WHERE account_id = ? AND entity_type = ? "
        "AND entity_lower = ?",
        (account, kind, entity_lower),
    )
    return [_make_policy(account, kind, entity_lower, r[0], r[1]) for r in rows]


def names(db: Database, account: str, kind: EntityKind, entity_lower: str) -> list[str]:
    """The names of the entity's inline policies (in no particular order)."""
    rows = db.all(
        "SELECT policy_name FROM iam_inline_policies WHERE account_id = ? AND entity_type = ? AND entity_lower = ?",
        (account, kind, entity_lower),
    )
    return [str(r[0]) for r in rows]


def of_entities(db: Database, account: str, kind: EntityKind, keys: Collection[str]
                ) -> dict[str, list[InlinePolicy]]:
    """Each entity's inline policies by name, with one query (an entity without any: an empty list)."""
    grouped: dict[str, list[InlinePolicy]] = {key: [] for key in keys}
    for r in db.all(
        "SELECT entity_lower, policy_name, document FROM iam_inline_policies WHERE account_id = ? "
        f"AND entity_type = ? AND entity_lower {IN_JSON} ORDER BY entity_lower, policy_name",
        (account, kind, json_keys(keys)),
    ):
        grouped.setdefault(r[0], []).append(_make_policy(account, kind, r[0], r[1], r[2]))
    return grouped


def any_of(db: Database, account: str, kind: EntityKind, entity_lower: str) -> bool:
    return db.one("SELECT 1 FROM iam_inline_policies WHERE account_id = ? AND entity_type = ? AND entity_lower = ?",
                  (account, kind, entity_lower)) is not None


def put(db: Database, policy: InlinePolicy) -> None:
    """Create or replace the inline policy."""
    db.execute(
        "INSERT INTO iam_inline_policies (account_id, entity_type, entity_lower, policy_name, document) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, entity_type, entity_lower, policy_name) "
        "DO UPDATE SET document = excluded.document",
        (policy.account_id, policy.entity_type, policy.entity_lower, policy.policy_name, policy.document),
    )


def delete(db: Database, account: str, kind: EntityKind, entity_lower: str, policy_name: str) -> None:
    db.execute(
        "DELETE FROM iam_inline_policies WHERE account_id = ? AND entity_type = ? AND entity_lower = ? "
        "AND policy_name = ?",
        (account, kind, entity_lower, policy_name),
    )
