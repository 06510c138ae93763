"""Access keys of IAM users (and of the root user, when root calls without a UserName)."""

from __future__ import annotations

from typing import Any

from ... import ids
from ...auth.credentials import ROOT_KEY_OWNER
from ...gateway.context import RequestContext
from ...store.db import Row
from .common import (
    invalid_input,
    iso,
    limit_exceeded,
    no_such_entity,
    paged,
    when,
)
from .users import caller_user_name, user_row

ACCESS_KEYS_PER_USER = 2


class AccessKeyOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    def _key_owner(self, ctx: RequestContext, req: dict[str, Any]) -> tuple[str, str | None]:
        """(user_lower, user name) of the keys an operation addresses: UserName, else the caller itself."""
        name = req.get("UserName") or caller_user_name(ctx)
        if name is None:
            return ROOT_KEY_OWNER, None
        row = user_row(self.db, ctx.account_id, name)
        return row["name_lower"], row["name"]

    def _owned_key(self, ctx: RequestContext, req: dict[str, Any]) -> Row:
        owner, _ = self._key_owner(ctx, req)
        row: Row | None = self.db.one(
            "SELECT * FROM iam_access_keys WHERE access_key_id = ? AND account_id = ? AND user_lower = ?",
            (req["AccessKeyId"], ctx.account_id, owner),
        )
        if row is None:
            raise no_such_entity(f"The Access Key with id {req['AccessKeyId']} cannot be found.")
        return row

    def create_access_key(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        owner, name = self._key_owner(ctx, req)
        count = self.db.scalar(
            "SELECT COUNT(*) FROM iam_access_keys WHERE account_id = ? AND user_lower = ?", (account, owner)
        )
        if count >= ACCESS_KEYS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
        key_id, secret = ids.access_key_id(), ids.secret_access_key()
        self.db.execute(
            "INSERT INTO iam_access_keys (access_key_id, account_id, user_lower, secret, status, created_at) "
            "VALUES (?, ?, ?, ?, 'Active', ?)",
            (key_id, account, owner, secret, iso(ctx.received_at)),
        )
        key: dict[str, Any] = {
            "AccessKeyId": key_id,
            "Status": "Active",
            "SecretAccessKey": secret,
            "CreateDate": ctx.received_at,
        }
        if name is not None:
            key["UserName"] = name
        return {"AccessKey": key}

    def list_access_keys(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        owner, name = self._key_owner(ctx, req)
        rows = self.db.all(
            "SELECT access_key_id, status, created_at FROM iam_access_keys WHERE account_id = ? AND user_lower = ?",
            (ctx.account_id, owner),
        )
        keys = []
        for r in rows:
            meta: dict[str, Any] = {
                "AccessKeyId": r["access_key_id"], "Status": r["status"], "CreateDate": when(r["created_at"]),
            }
            if name is not None:
                meta["UserName"] = name
            keys.append((r["created_at"] + r["access_key_id"], meta))
        result = paged(keys, lambda item: item[0], req, "AccessKeyMetadata")
        result["AccessKeyMetadata"] = [meta for _, meta in result["AccessKeyMetadata"]]
        return result

    def update_access_key(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self._owned_key(ctx, req)
        status = req["Status"]
        if status not in ("Active", "Inactive"):
            # ``Expired`` is in the model's enum but is a state IAM sets, not one a caller may choose;
            # AWS documents no message for it.
            raise invalid_input(f"Invalid status: {status}. Valid values are Active and Inactive.")
        self.db.execute(
            "UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?", (status, row["access_key_id"])
        )

    def delete_access_key(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self._owned_key(ctx, req)
        self.db.execute("DELETE FROM iam_access_keys WHERE access_key_id = ?", (row["access_key_id"],))

    def get_access_key_last_used(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        key_id = req["AccessKeyId"]
        row = self.db.one(
            "SELECT k.user_lower, k.last_used_at, k.last_used_service, k.last_used_region, u.name "
            "FROM iam_access_keys k LEFT JOIN iam_users u "
            "ON u.account_id = k.account_id AND u.name_lower = k.user_lower "
            "WHERE k.access_key_id = ? AND k.account_id = ?",
            (key_id, ctx.account_id),
        )
        if row is None:
            # The operation models no error; IAM's wording for an unknown key is used.
            raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        last: dict[str, Any]
        if row["last_used_at"]:
            last = {
                "LastUsedDate": when(row["last_used_at"]),
                "ServiceName": row["last_used_service"],
                "Region": row["last_used_region"],
            }
        else:
            last = {"ServiceName": "N/A", "Region": "N/A"}  # never used, as AWS reports it
        result: dict[str, Any] = {"AccessKeyLastUsed": last}
        if row["name"] is not None:
            result["UserName"] = row["name"]
        return result
