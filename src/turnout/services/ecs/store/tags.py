"""``ecs_tags``: the tags of clusters, task definitions, services and tasks, in the order they were first set."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ....core.tagging import Tag
from ....store.db import Database

__all__ = ["Tag", "delete_tags", "drop_tags", "put_tags", "tags_of"]


def tags_of(db: Database, account: str, region: str, arn: str) -> list[Tag]:
    rows = db.all("SELECT tag_key, tag_value FROM ecs_tags WHERE account_id = ? AND region = ? AND resource_arn = ? "
                  "ORDER BY seq", (account, region, arn))
    return [Tag(r["tag_key"], r["tag_value"]) for r in rows]


def put_tags(db: Database, account: str, region: str, arn: str, tags: Sequence[Tag]) -> None:
    """Add or overwrite ``tags`` (a key set again keeps its place; the caller checked the quota)."""
    seq = int(db.scalar("SELECT COALESCE(MAX(seq), 0) FROM ecs_tags WHERE account_id = ? AND region = ? "
                        "AND resource_arn = ?", (account, region, arn)))
    for tag in tags:
        seq += 1
        db.execute(
            "INSERT INTO ecs_tags (account_id, region, resource_arn, tag_key, tag_value, seq) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, resource_arn, tag_key) "
            "DO UPDATE SET tag_value = excluded.tag_value",
            (account, region, arn, tag.key, tag.value, seq),
        )


def delete_tags(db: Database, account: str, region: str, arn: str, keys: Iterable[str]) -> None:
    for key in keys:
        db.execute("DELETE FROM ecs_tags WHERE account_id = ? AND region = ? AND resource_arn = ? AND tag_key = ?",
                   (account, region, arn, key))


def drop_tags(db: Database, account: str, region: str, arns: Iterable[str]) -> None:
    """Forget every tag of the resources ``arns``."""
    for arn in arns:
        db.execute("DELETE FROM ecs_tags WHERE account_id = ? AND region = ? AND resource_arn = ?",
                   (account, region, arn))
