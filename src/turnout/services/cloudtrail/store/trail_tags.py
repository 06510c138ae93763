"""``cloudtrail_trail_tags``: the tags of trails, in the order they were first added (a tag given again keeps its
place). A tag may have no value (the model's ``Tag.Value`` is optional): stored as NULL, answered without one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ....store.db import Database


@dataclass(frozen=True, slots=True)
class TrailTag:
    key: str
    value: str | None


def tags_of(db: Database, arn: str) -> list[TrailTag]:
    rows = db.all("SELECT tag_key, tag_value FROM cloudtrail_trail_tags WHERE trail_arn = ? ORDER BY seq", (arn,))
    return [TrailTag(row["tag_key"], row["tag_value"]) for row in rows]


def put_tags(db: Database, arn: str, tags: Iterable[TrailTag]) -> None:
    """Add tags; a key already there takes the new value (the caller checked the quota)."""
    seq = int(db.scalar("SELECT COALESCE(MAX(seq), 0) FROM cloudtrail_trail_tags WHERE trail_arn = ?", (arn,)))
    for tag in tags:
        seq += 1
        db.execute(
            "INSERT INTO cloudtrail_trail_tags (trail_arn, tag_key, tag_value, seq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (trail_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
            (arn, tag.key, tag.value, seq),
        )


def remove_tags(db: Database, arn: str, keys: Iterable[str]) -> None:
    for key in keys:
        db.execute("DELETE FROM cloudtrail_trail_tags WHERE trail_arn = ? AND tag_key = ?", (arn, key))


def drop_all(db: Database, arn: str) -> None:
    """Every tag of the trail (the trail is being deleted)."""
    db.execute("DELETE FROM cloudtrail_trail_tags WHERE trail_arn = ?", (arn,))
