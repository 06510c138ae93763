"""``iam_tags``: the tags of roles, users, managed policies and instance profiles, in the order they were added.

A resource is (``resource_type``, ``resource_key``): role / user / instance-profile keyed by name_lower, policy
by ARN. Tag keys are unique case-insensitively, as in IAM.
"""

from __future__ import annotations

from collections.abc import Collection

from ....store.db import Database
from . import roles
from .codec import IN_JSON, json_keys
from .records import Tag, builder

_make_tag = builder(Tag)


def of(db: Database, account: str, resource_type: str, key: str) -> list[Tag]:
    rows = db.all(
        "SELECT tag_key, tag_value FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ? "
        "ORDER BY seq",
        (account, resource_type, key),
    )
    return [_make_tag(r[0], r[1]) for r in rows]


def of_many(db: Database, account: str, resource_type: str, keys: Collection[str]) -> dict[str, list[Tag]]:
    """Each resource's tags, as :func:`of` answers them, with one query (a key without tags: an empty list)."""
    grouped: dict[str, list[Tag]] = {key: [] for key in keys}
    for r in db.all(
        "SELECT resource_key, tag_key, tag_value FROM iam_tags WHERE account_id = ? AND resource_type = ? "
        f"AND resource_key {IN_JSON} ORDER BY resource_key, seq",
        (account, resource_type, json_keys(keys)),
    ):
        grouped.setdefault(r[0], []).append(_make_tag(r[1], r[2]))
    return grouped


def put(db: Database, account: str, resource_type: str, key: str, tags: Collection[Tag]) -> None:
    """Add or overwrite tags (a key already there keeps its place and takes the new casing; the caller checked the
    quota)."""
    _writing(db, account, resource_type)
    seq = int(
        db.scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM iam_tags WHERE account_id = ? AND resource_type = ? "
            "AND resource_key = ?",
            (account, resource_type, key),
        )
    )
    for tag in tags:
        seq += 1
        db.execute(
            "INSERT INTO iam_tags (account_id, resource_type, resource_key, tag_key_lower, tag_key, tag_value, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, resource_type, resource_key, tag_key_lower) "
            "DO UPDATE SET tag_key = excluded.tag_key, tag_value = excluded.tag_value",
            (account, resource_type, key, tag.key.lower(), tag.key, tag.value, seq),
        )


def remove(db: Database, account: str, resource_type: str, key: str, tag_keys: Collection[str]) -> None:
    _writing(db, account, resource_type)
    for tag_key in tag_keys:
        db.execute(
            "DELETE FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ? "
            "AND tag_key_lower = ?",
            (account, resource_type, key, tag_key.lower()),
        )


def drop(db: Database, account: str, resource_type: str, key: str) -> None:
    _writing(db, account, resource_type)
    db.execute(
        "DELETE FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ?",
        (account, resource_type, key),
    )


def _writing(db: Database, account: str, resource_type: str) -> None:
    if resource_type == "role":  # GetRole's cache holds a role's tags
        roles.changed(db, account)
