"""Helpers shared by IAM's operation modules: timestamps, tags, pagination, entity lookups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...store.db import Database
from ...wire.errors import ServiceError
from ..pagination import decode_marker, encode_marker, page


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


# -- users and groups: rename and delete --------------------------------------------------------------------

KeyedTables = tuple[tuple[str, str, str], ...]  # (table, column holding the entity's name_lower, extra condition)


def rename_entity(
    db: Database, account: str, table: str, old_lower: str, new_name: str, new_path: str, arn: str,
    keyed: KeyedTables, taken_message: str,
) -> None:
    """Rename a user or group (names are unique case-insensitively) and carry every row keyed by its name."""
    new_lower = new_name.lower()
    if new_lower != old_lower and db.one(
        f"SELECT 1 FROM {table} WHERE account_id = ? AND name_lower = ?", (account, new_lower)
    ):
        raise already_exists(taken_message)
    db.execute(
        f"UPDATE {table} SET name_lower = ?, name = ?, path = ?, arn = ? WHERE account_id = ? AND name_lower = ?",
        (new_lower, new_name, new_path, arn, account, old_lower),
    )
    if new_lower != old_lower:
        for keyed_table, column, extra in keyed:
            db.execute(
                f"UPDATE {keyed_table} SET {column} = ? WHERE account_id = ? AND {column} = ?{extra}",
                (new_lower, account, old_lower),
            )


def refuse_delete_while(db: Database, account: str, lower: str, checks: tuple[tuple[str, str], ...]) -> None:
    """``DeleteConflict`` with the message of the first (query, message) whose query finds a row."""
    for sql, message in checks:
        if db.one(sql, (account, lower)):
            raise delete_conflict(message)


def paged(
    items: list[Any], key: Any, params: dict[str, Any], result_key: str
) -> dict[str, Any]:
    """IAM's list result: ``{result_key: [...], IsTruncated, Marker?}``."""
    chunk, marker = page(
        items, key, params.get("Marker"), params.get("MaxItems"), error=invalid_input
    )
    result: dict[str, Any] = {result_key: chunk, "IsTruncated": marker is not None}
    if marker is not None:
        result["Marker"] = marker
    return result


def page_of_entities(db: Database, table: str, account: str, params: dict[str, Any], result_key: str
                     ) -> dict[str, Any]:
    """:func:`paged` over the rows of an entity table (users, groups, roles, instance profiles) under
    ``PathPrefix``, keyed by ``name_lower``, read by SQL: the page's rows only (MaxItems + 1 at most), so that a
    page costs what it holds, not what the account holds. The result holds the rows, for the caller to shape."""
    prefix = params.get("PathPrefix", "/")
    sql = f"SELECT * FROM {table} WHERE account_id = ? AND substr(path, 1, length(?)) = ?"
    args: list[Any] = [account, prefix, prefix]
    marker = params.get("Marker")
    if marker:
        sql += " AND name_lower > ?"
        args.append(decode_marker(marker, invalid_input))
    max_items = params.get("MaxItems")
    limit = max_items if max_items is not None else 100
    rows = db.all(sql + " ORDER BY name_lower LIMIT ?", (*args, limit + 1))
    chunk = rows[:limit]
    result: dict[str, Any] = {result_key: chunk, "IsTruncated": len(rows) > limit and bool(chunk)}
    if result["IsTruncated"]:
        result["Marker"] = encode_marker(chunk[-1]["name_lower"])
    return result


def after_prefix(after: str | None, prefix: str) -> tuple[bool, str | None]:
    """For listings keyed by ``prefix + sort key`` and a marker key ``after``: whether any such key sorts after
    ``after``, and the sort key theirs must exceed (None: every one does)."""
    if after is None or after < prefix:
        return True, None
    if after.startswith(prefix):
        return True, after[len(prefix):]
    return False, None


# -- tags ------------------------------------------------------------------------------------------------


def tags_page(tags: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
    """A ``List*Tags`` result: the tags in the order they were added, paged by ``Marker``/``MaxItems``."""
    numbered = [(f"{index:06d}", tag) for index, tag in enumerate(tags)]
    result = paged(numbered, lambda item: item[0], params, "Tags")
    result["Tags"] = [tag for _, tag in result["Tags"]]
    return result


def get_tags(db: Database, account: str, resource_type: str, key: str) -> list[dict[str, str]]:
    rows = db.all(
        "SELECT tag_key, tag_value FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ? "
        "ORDER BY seq",
        (account, resource_type, key),
    )
    return [{"Key": r["tag_key"], "Value": r["tag_value"]} for r in rows]


def put_tags(db: Database, account: str, resource_type: str, key: str, tags: list[dict[str, str]]) -> None:
    """Add or overwrite tags (keys are case-insensitive, as in IAM), enforcing the 50-tag quota."""
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
            (account, resource_type, key, tag["Key"].lower(), tag["Key"], tag["Value"], seq),
        )
    count = db.scalar(
        "SELECT COUNT(*) FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ?",
        (account, resource_type, key),
    )
    if count > 50:
        raise ServiceError("LimitExceeded", "Cannot exceed quota for TagsPerResource: 50.", 409)


def remove_tags(db: Database, account: str, resource_type: str, key: str, tag_keys: list[str]) -> None:
    for tag_key in tag_keys:
        db.execute(
            "DELETE FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ? "
            "AND tag_key_lower = ?",
            (account, resource_type, key, tag_key.lower()),
        )


def drop_tags(db: Database, account: str, resource_type: str, key: str) -> None:
    db.execute(
        "DELETE FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ?",
        (account, resource_type, key),
    )


def check_duplicate_tag_keys(tags: list[dict[str, str]]) -> None:
    seen: set[str] = set()
    for tag in tags:
        lowered = tag["Key"].lower()
        if lowered in seen:
            raise invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        seen.add(lowered)
