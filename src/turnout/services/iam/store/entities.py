"""The reads every name-keyed entity table shares (``iam_roles``, ``iam_users``, ``iam_groups``,
``iam_instance_profiles``): existence, a page under a path prefix, a set of keys. The entity modules turn the rows
into their records."""

from __future__ import annotations

from collections.abc import Collection

from ....store.db import Database, Row
from .codec import IN_JSON, json_keys


def exists(db: Database, table: str, account: str, name_lower: str) -> bool:
    return db.one(f"SELECT 1 FROM {table} WHERE account_id = ? AND name_lower = ?", (account, name_lower)) is not None


def page(db: Database, table: str, columns: str, account: str, path_prefix: str, after: str | None, count: int
         ) -> list[Row]:
    """At most ``count`` entities whose path starts with ``path_prefix`` and whose key sorts after ``after``, by
    key: a page costs what it holds, not what the account holds."""
    sql = f"SELECT {columns} FROM {table} WHERE account_id = ? AND substr(path, 1, length(?)) = ?"
    args: list[object] = [account, path_prefix, path_prefix]
    if after is not None:
        sql += " AND name_lower > ?"
        args.append(after)
    return db.all(sql + " ORDER BY name_lower LIMIT ?", (*args, count))


def keys_after(db: Database, table: str, account: str, after: str | None, count: int) -> list[str]:
    """The first ``count`` keys after ``after`` (all from the first when None), in order."""
    if after is None:
        rows = db.all(f"SELECT name_lower FROM {table} WHERE account_id = ? ORDER BY name_lower LIMIT ?",
                      (account, count))
    else:
        rows = db.all(f"SELECT name_lower FROM {table} WHERE account_id = ? AND name_lower > ? "
                      "ORDER BY name_lower LIMIT ?", (account, after, count))
    return [str(r[0]) for r in rows]


def by_keys(db: Database, table: str, columns: str, account: str, keys: Collection[str]) -> list[Row]:
    return db.all(f"SELECT {columns} FROM {table} WHERE account_id = ? AND name_lower {IN_JSON}",
                  (account, json_keys(keys)))


def count(db: Database, table: str, account: str) -> int:
    return int(db.scalar(f"SELECT COUNT(*) FROM {table} WHERE account_id = ?", (account,)) or 0)


def rename(db: Database, table: str, account: str, old_lower: str, new_name: str, new_path: str, arn: str,
           keyed: tuple[tuple[str, str, str], ...]) -> None:
    """Rename a user or group and carry every row keyed by its name: ``keyed`` holds (table, column holding the
    entity's name_lower, extra condition)."""
    new_lower = new_name.lower()
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


def delete(db: Database, table: str, account: str, name_lower: str) -> None:
    db.execute(f"DELETE FROM {table} WHERE account_id = ? AND name_lower = ?", (account, name_lower))
