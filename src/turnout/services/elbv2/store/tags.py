"""``elbv2_tags``: the tags of load balancers, target groups, listeners and rules, in the order they were first
added (a tag overwritten keeps its place)."""

from __future__ import annotations

from collections.abc import Iterable

from ....core.tagging import Tag
from ....store.db import Database

__all__ = ["Tag", "drop_tags", "put_tags", "remove_tag", "tags_of"]


def tags_of(db: Database, account: str, region: str, arn: str) -> list[Tag]:
    rows = db.all("SELECT tag_key, tag_value FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ? "
                  "ORDER BY seq", (account, region, arn))
    return [Tag(row["tag_key"], row["tag_value"]) for row in rows]


def put_tags(db: Database, account: str, region: str, arn: str, tags: Iterable[Tag]) -> None:
    """Add or overwrite tags (a key already there keeps its place; the caller checked the quota)."""
    seq = int(db.scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ?",
        (account, region, arn),
    ))
    for tag in tags:
        seq += 1
        db.execute(
            "INSERT INTO elbv2_tags (account_id, region, resource_arn, tag_key, tag_value, seq) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, resource_arn, tag_key) "
            "DO UPDATE SET tag_value = excluded.tag_value",
            (account, region, arn, tag.key, tag.value, seq),
        )


def remove_tag(db: Database, account: str, region: str, arn: str, key: str) -> None:
    db.execute("DELETE FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ? AND tag_key = ?",
               (account, region, arn, key))


def drop_tags(db: Database, account: str, region: str, arns: Iterable[str]) -> None:
    """Delete every tag of the resources ``arns``."""
    for arn in arns:
        db.execute("DELETE FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ?",
                   (account, region, arn))
