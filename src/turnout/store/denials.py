"""The ``authz_denials`` table: the newest denials of each account, by request id (``turnout explain``).

The authorizer (:mod:`turnout.authz.diagnostics`) decides what a denial holds; this module only stores and reads
rows: a denial's fixed columns, and ``detail``, the rest as JSON (decoded on read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .db import Database


@dataclass(frozen=True, slots=True)
class StoredDenial:
    request_id: str
    account_id: str
    denied_at: str  # ISO 8601, as recorded
    principal_arn: str | None
    action: str
    resource: str
    effect: str
    denied_by: str | None
    error_code: str
    message: str
    detail: dict[str, Any]  # the JSON column, decoded


def save(db: Database, denial: StoredDenial, keep: int) -> None:
    """Store one denial (again for the same request id: replaced) and drop the account's oldest beyond ``keep``,
    in one transaction."""
    account = denial.account_id
    with db.transaction():
        seq = int(db.scalar("SELECT COALESCE(MAX(seq), 0) FROM authz_denials WHERE account_id = ?", (account,))) + 1
        db.execute(
            "INSERT INTO authz_denials (request_id, account_id, seq, denied_at, principal_arn, action, resource, "
            "effect, denied_by, error_code, message, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (request_id) DO UPDATE SET account_id = excluded.account_id, seq = excluded.seq, "
            "denied_at = excluded.denied_at, principal_arn = excluded.principal_arn, action = excluded.action, "
            "resource = excluded.resource, effect = excluded.effect, denied_by = excluded.denied_by, "
            "error_code = excluded.error_code, message = excluded.message, detail = excluded.detail",
            (denial.request_id, account, seq, denial.denied_at, denial.principal_arn, denial.action,
             denial.resource, denial.effect, denial.denied_by, denial.error_code, denial.message,
             json.dumps(denial.detail, separators=(",", ":"))),
        )
        if seq > keep:
            db.execute("DELETE FROM authz_denials WHERE account_id = ? AND seq <= ?", (account, seq - keep))


def get(db: Database, request_id: str) -> StoredDenial | None:
    """The stored denial of ``request_id``, or None."""
    row = db.one("SELECT * FROM authz_denials WHERE request_id = ?", (request_id,))
    return None if row is None else _stored(row)


def _stored(row: Any) -> StoredDenial:
    return StoredDenial(
        request_id=row["request_id"], account_id=row["account_id"], denied_at=row["denied_at"],
        principal_arn=row["principal_arn"], action=row["action"], resource=row["resource"], effect=row["effect"],
        denied_by=row["denied_by"], error_code=row["error_code"], message=row["message"],
        detail=json.loads(row["detail"]),
    )


def of_principals(db: Database, account: str, principals: list[str], limit: int = 1000) -> list[StoredDenial]:
    """The account's newest ``limit`` denials of any of ``principals`` (ARNs or service principal names), oldest
    first (``turnout explain`` of a failed deployment: ECS's calls as the service or through the role's sessions)."""
    if not principals:
        return []
    marks = ", ".join("?" for _ in principals)
    rows = db.all(
        f"SELECT * FROM authz_denials WHERE account_id = ? AND principal_arn IN ({marks}) ORDER BY seq DESC LIMIT ?",
        (account, *principals, limit),
    )
    return [_stored(row) for row in reversed(rows)]
