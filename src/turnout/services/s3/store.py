"""The S3 tables (migration 0017): buckets, their tags and policy, objects, multipart uploads and parts.

The only module that reads or writes them; the provider's modules and other services (CloudTrail's delivery and
bucket check, the authorizer's bucket lookup) call these functions. Writes run inside the caller's transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...core.tagging import Tag
from ...store.db import Database


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    account_id: str
    region: str
    created_at: str
    policy: str | None  # as written (GetBucketPolicy renders it, see services/iam/principal_ids.py)
    policy_saved: str | None = None  # its saved form: IAM users and roles bound to their unique ids

    @property
    def evaluated_policy(self) -> str | None:
        """The text the policy engine evaluates: the saved form when the policy names IAM users or roles."""
        return self.policy_saved if self.policy_saved is not None else self.policy


@dataclass(slots=True)
class StoredObject:
    bucket: str
    key: str
    size: int
    etag: str
    content_type: str
    last_modified: str
    attributes: dict[str, Any] = field(default_factory=dict)
    body: bytes | None = None


_BUCKET_COLUMNS = "name, account_id, region, created_at, policy, policy_saved"


def _bucket(row: Any) -> Bucket:
    return Bucket(row[0], row[1], row[2], row[3], row[4], row[5])


# -- buckets -----------------------------------------------------------------------------------------------------


def bucket(db: Database, name: str) -> Bucket | None:
    row = db.one(f"SELECT {_BUCKET_COLUMNS} FROM s3_buckets WHERE name = ?", (name,))
    return _bucket(row) if row is not None else None


def buckets_of(db: Database, account: str) -> list[Bucket]:
    rows = db.all(f"SELECT {_BUCKET_COLUMNS} FROM s3_buckets WHERE account_id = ? ORDER BY name", (account,))
    return [_bucket(row) for row in rows]


def create_bucket(db: Database, name: str, account: str, region: str, now: datetime) -> None:
    db.execute("INSERT INTO s3_buckets (name, account_id, region, created_at, policy) VALUES (?, ?, ?, ?, NULL)",
               (name, account, region, now.isoformat()))


def delete_bucket(db: Database, name: str) -> None:
    db.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))


def set_policy(db: Database, name: str, policy: str | None, saved: str | None = None) -> None:
    """Store the policy as written and its saved form (None: nothing bound, the written text is evaluated)."""
    db.execute("UPDATE s3_buckets SET policy = ?, policy_saved = ? WHERE name = ?", (policy, saved, name))


def policies_without_saved_form(db: Database) -> list[tuple[str, str]]:
    """(bucket, policy) of the bucket policies that have no saved form and may name IAM users or roles."""
    rows = db.all("SELECT name, policy FROM s3_buckets WHERE policy IS NOT NULL AND policy_saved IS NULL "
                  "AND policy LIKE '%arn:%:iam::%'")
    return [(row[0], row[1]) for row in rows]


def set_saved_policy(db: Database, name: str, saved: str) -> None:
    db.execute("UPDATE s3_buckets SET policy_saved = ? WHERE name = ?", (saved, name))


def tags(db: Database, name: str) -> list[Tag]:
    return [Tag(r[0], r[1]) for r in db.all("SELECT tag_key, tag_value FROM s3_bucket_tags WHERE bucket = ? "
                                            "ORDER BY seq", (name,))]


def replace_tags(db: Database, name: str, tags: list[Tag]) -> None:
    db.execute("DELETE FROM s3_bucket_tags WHERE bucket = ?", (name,))
    db.executemany("INSERT INTO s3_bucket_tags (bucket, seq, tag_key, tag_value) VALUES (?, ?, ?, ?)",
                   [(name, seq, tag.key, tag.value) for seq, tag in enumerate(tags)])


# -- objects -----------------------------------------------------------------------------------------------------


_OBJECT_COLUMNS = "bucket, object_key, size, etag, content_type, last_modified, attributes"


def _object(row: Any, body: bytes | None = None) -> StoredObject:
    return StoredObject(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]), body)


def has_objects(db: Database, bucket: str) -> bool:
    return db.one("SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1", (bucket,)) is not None


def get_object(db: Database, bucket: str, key: str, *, with_body: bool = True) -> StoredObject | None:
    columns = _OBJECT_COLUMNS + (", body" if with_body else "")
    row = db.one(f"SELECT {columns} FROM s3_objects WHERE bucket = ? AND object_key = ?", (bucket, key))
    if row is None:
        return None
    return _object(row, bytes(row[7]) if with_body else None)


def put_object(db: Database, obj: StoredObject) -> None:
    assert obj.body is not None
    db.execute(
        "INSERT INTO s3_objects (bucket, object_key, body, size, etag, content_type, last_modified, attributes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bucket, object_key) DO UPDATE SET body = excluded.body, "
        "size = excluded.size, etag = excluded.etag, content_type = excluded.content_type, "
        "last_modified = excluded.last_modified, attributes = excluded.attributes",
        (obj.bucket, obj.key, obj.body, obj.size, obj.etag, obj.content_type, obj.last_modified,
         json.dumps(obj.attributes, sort_keys=True)),
    )


def delete_object(db: Database, bucket: str, key: str) -> bool:
    return db.execute("DELETE FROM s3_objects WHERE bucket = ? AND object_key = ?", (bucket, key)).rowcount > 0


def objects_after(db: Database, bucket: str, prefix: str, after: str | None, limit: int) -> list[StoredObject]:
    """Up to ``limit`` objects whose key starts with ``prefix`` and sorts after ``after``, in key order."""
    sql = f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?"
    args: list[Any] = [bucket]
    if prefix:
        # substr() rather than LIKE: keys may hold % and _; BINARY comparison keeps UTF-8 byte order.
        sql += " AND substr(object_key, 1, ?) = ?"
        args += [len(prefix), prefix]
    if after is not None:
        sql += " AND object_key > ?"
        args.append(after)
    sql += " ORDER BY object_key LIMIT ?"
    args.append(limit)
    return [_object(row) for row in db.all(sql, args)]


# -- multipart uploads -------------------------------------------------------------------------------------------


def create_upload(db: Database, upload_id: str, bucket: str, key: str, content_type: str,
                  attributes: dict[str, Any], now: datetime) -> None:
    db.execute("INSERT INTO s3_uploads (upload_id, bucket, object_key, initiated_at, content_type, attributes) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               (upload_id, bucket, key, now.isoformat(), content_type, json.dumps(attributes, sort_keys=True)))


def upload(db: Database, upload_id: str, bucket: str, key: str) -> tuple[str, dict[str, Any]] | None:
    row = db.one("SELECT content_type, attributes FROM s3_uploads WHERE upload_id = ? AND bucket = ? "
                 "AND object_key = ?", (upload_id, bucket, key))
    return (row[0], json.loads(row[1])) if row is not None else None


def uploads_of(db: Database, bucket: str) -> list[tuple[str, str, str]]:
    """(key, upload id, initiated) of the bucket's uploads in progress, by key then initiation."""
    rows = db.all("SELECT object_key, upload_id, initiated_at FROM s3_uploads WHERE bucket = ? "
                  "ORDER BY object_key, initiated_at", (bucket,))
    return [(r[0], r[1], r[2]) for r in rows]


def put_part(db: Database, upload_id: str, number: int, body: bytes, etag: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO s3_parts (upload_id, part_number, body, size, etag, last_modified) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (upload_id, part_number) DO UPDATE SET body = excluded.body, size = excluded.size, "
        "etag = excluded.etag, last_modified = excluded.last_modified",
        (upload_id, number, body, len(body), etag, now.isoformat()),
    )


def parts(db: Database, upload_id: str, *, with_body: bool = False) -> list[tuple[int, str, int, str, bytes]]:
    """(number, etag, size, last modified, body or b"") of an upload's parts, by number."""
    body = "body" if with_body else "x''"
    rows = db.all(f"SELECT part_number, etag, size, last_modified, {body} FROM s3_parts WHERE upload_id = ? "
                  "ORDER BY part_number", (upload_id,))
    return [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]


def delete_upload(db: Database, upload_id: str) -> None:
    db.execute("DELETE FROM s3_uploads WHERE upload_id = ?", (upload_id,))
