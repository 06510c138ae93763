"""Access keys of IAM users (and of the root user, when root calls without a UserName)."""

from __future__ import annotations

from typing import Any

from ...auth.credentials import ROOT_KEY_OWNER
from ...core import ids
from ...core.context import RequestContext
from .common import invalid_input, limit_exceeded, no_such_entity, paged
from .store import access_keys as key_store
from .store import users as user_store
from .store.records import AccessKey
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
        return row.name_lower, row.name

    def _owned_key(self, ctx: RequestContext, req: dict[str, Any]) -> AccessKey:
        owner, _ = self._key_owner(ctx, req)
        row = key_store.get(self.db, ctx.account_id, req["AccessKeyId"])
        if row is None or row.user_lower != owner:
            raise no_such_entity(f"The Access Key with id {req['AccessKeyId']} cannot be found.")
        return row

    def create_access_key(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        owner, name = self._key_owner(ctx, req)
        if key_store.count(self.db, account, owner) >= ACCESS_KEYS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
        key_id, secret = ids.access_key_id(), ids.secret_access_key()
        key_store.insert(self.db, AccessKey(key_id, account, owner, secret, "Active", ctx.received_at))
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
        keys = []
        for r in key_store.of_user(self.db, ctx.account_id, owner):
            meta: dict[str, Any] = {"AccessKeyId": r.access_key_id, "Status": r.status, "CreateDate": r.created_at}
            if name is not None:
                meta["UserName"] = name
            # by creation, then id (the stored text of a creation date sorts as the date does)
            keys.append((r.created_at.isoformat() + r.access_key_id, meta))
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
        key_store.set_status(self.db, row.access_key_id, status)

    def delete_access_key(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self._owned_key(ctx, req)
        key_store.delete(self.db, row.access_key_id)

    def get_access_key_last_used(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        key_id = req["AccessKeyId"]
        row = key_store.get(self.db, ctx.account_id, key_id)
        if row is None:
            # The operation models no error; IAM's wording for an unknown key is used.
            raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        last: dict[str, Any]
        if row.last_used_at:
            last = {
                "LastUsedDate": row.last_used_at,
                "ServiceName": row.last_used_service,
                "Region": row.last_used_region,
            }
        else:
            last = {"ServiceName": "N/A", "Region": "N/A"}  # never used, as AWS reports it
        result: dict[str, Any] = {"AccessKeyLastUsed": last}
        owner = user_store.get(self.db, ctx.account_id, row.user_lower)  # None for the root user's keys
        if owner is not None:
            result["UserName"] = owner.name
        return result
