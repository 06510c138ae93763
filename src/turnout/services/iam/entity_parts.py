"""The parts of many IAM entities at once (inline policies, attached policies, tags, groups, policy versions,
usage counts): one query per table for a whole set of entities, for the account-wide reads that shape a page of
entities (GetAccountAuthorizationDetails). Each function answers what the one-entity query of the same name
answers, in the same order, for every key it is given (a key without rows gets an empty list)."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from ...store.db import Database, Row

# ``column IN`` the JSON array bound to the parameter: one statement whatever the number of keys.
IN_JSON = "IN (SELECT value FROM json_each(?))"


def json_keys(keys: Collection[str]) -> str:
    return json.dumps(list(keys))


def rows_by_key(db: Database, sql: str, params: tuple[Any, ...], keys: Collection[str]) -> dict[str, list[Row]]:
    """Rows of ``sql`` (its first column is the key; ORDER BY it decides the order within a key) grouped by key."""
    grouped: dict[str, list[Row]] = {key: [] for key in keys}
    for row in db.all(sql, params):
        grouped.setdefault(row[0], []).append(row)
    return grouped


def entity_rows(db: Database, table: str, account: str, keys: Collection[str]) -> dict[str, Row]:
    """``SELECT *`` of the entities of ``table`` (users, groups, roles) named by ``name_lower``."""
    rows = db.all(f"SELECT * FROM {table} WHERE account_id = ? AND name_lower {IN_JSON}", (account, json_keys(keys)))
    return {row["name_lower"]: row for row in rows}


def inline_policies(db: Database, account: str, entity_type: str, keys: Collection[str]
                    ) -> dict[str, list[dict[str, str]]]:
    """Each entity's inline policies, by name: ``[{PolicyName, PolicyDocument}]``."""
    grouped = rows_by_key(
        db,
        "SELECT entity_lower, policy_name, document FROM iam_inline_policies WHERE account_id = ? "
        f"AND entity_type = ? AND entity_lower {IN_JSON} ORDER BY entity_lower, policy_name",
        (account, entity_type, json_keys(keys)), keys,
    )
    return {key: [{"PolicyName": r[1], "PolicyDocument": r[2]} for r in rows] for key, rows in grouped.items()}


def attached_policies(db: Database, account: str, entity_type: str, keys: Collection[str]
                      ) -> dict[str, list[dict[str, str]]]:
    """Each entity's attached managed policies, in the order they were attached: ``[{PolicyName, PolicyArn}]``."""
    grouped = rows_by_key(
        db,
        "SELECT entity_lower, policy_arn FROM iam_attachments WHERE account_id = ? AND entity_type = ? "
        f"AND entity_lower {IN_JSON} ORDER BY entity_lower, seq",
        (account, entity_type, json_keys(keys)), keys,
    )
    return {
        key: [{"PolicyName": r[1].rsplit("/", 1)[-1], "PolicyArn": r[1]} for r in rows]
        for key, rows in grouped.items()
    }


def tags(db: Database, account: str, resource_type: str, keys: Collection[str]) -> dict[str, list[dict[str, str]]]:
    """Each resource's tags in the order they were added: ``[{Key, Value}]`` (as :func:`common.get_tags`)."""
    grouped = rows_by_key(
        db,
        "SELECT resource_key, tag_key, tag_value FROM iam_tags WHERE account_id = ? AND resource_type = ? "
        f"AND resource_key {IN_JSON} ORDER BY resource_key, seq",
        (account, resource_type, json_keys(keys)), keys,
    )
    return {key: [{"Key": r[1], "Value": r[2]} for r in rows] for key, rows in grouped.items()}


def group_names(db: Database, account: str, user_keys: Collection[str]) -> dict[str, list[str]]:
    """The names of the groups each user is in, ordered by name."""
    grouped = rows_by_key(
        db,
        "SELECT m.user_lower, g.name FROM iam_group_members m JOIN iam_groups g ON g.account_id = m.account_id "
        f"AND g.name_lower = m.group_lower WHERE m.account_id = ? AND m.user_lower {IN_JSON} "
        "ORDER BY m.user_lower, g.name_lower",
        (account, json_keys(user_keys)), user_keys,
    )
    return {key: [r[1] for r in rows] for key, rows in grouped.items()}


def policy_rows(db: Database, account: str, arns: Collection[str]) -> dict[str, Row]:
    """``SELECT *`` of the account's customer managed policies named by ARN."""
    rows = db.all(f"SELECT * FROM iam_policies WHERE account_id = ? AND arn {IN_JSON}", (account, json_keys(arns)))
    return {row["arn"]: row for row in rows}


def policy_versions(db: Database, account: str, arns: Collection[str]) -> dict[str, list[Row]]:
    """Each customer managed policy's versions, newest first (v10 after v9: by number, not text)."""
    grouped = rows_by_key(
        db,
        "SELECT policy_arn, version_id, document, created_at FROM iam_policy_versions WHERE account_id = ? "
        f"AND policy_arn {IN_JSON}",
        (account, json_keys(arns)), arns,
    )
    return {
        key: sorted(rows, key=lambda v: int(str(v["version_id"]).lstrip("v") or 0), reverse=True)
        for key, rows in grouped.items()
    }


def usage_counts(db: Database, account: str, arns: Collection[str]) -> dict[str, tuple[int, int]]:
    """(attachments, permissions boundary uses) of each managed policy ARN."""
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
