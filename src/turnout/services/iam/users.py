"""IAM users: create, get, list, update (rename, move), delete, tags, permissions boundary."""

from __future__ import annotations

from typing import Any

from ... import arns, ids
from ...gateway.context import RequestContext
from ...store import accounts
from ...store.db import Database, Row
from ...wire.errors import ServiceError
from .common import (
    already_exists,
    check_duplicate_tag_keys,
    drop_tags,
    get_tags,
    iso,
    no_such_entity,
    page_of_entities,
    put_tags,
    refuse_delete_while,
    remove_tags,
    rename_entity,
    tags_page,
    when,
)
from .policy_refs import check_policy_attachable

GROUPS_PER_USER = 10

# Tables whose rows name a user by ``name_lower``: (table, column, extra condition). Renaming a user
# rewrites all of them in the request's single transaction.
_USER_KEYED = (
    ("iam_group_members", "user_lower", ""),
    ("iam_access_keys", "user_lower", ""),
    ("iam_attachments", "entity_lower", " AND entity_type = 'user'"),
    ("iam_inline_policies", "entity_lower", " AND entity_type = 'user'"),
    ("iam_tags", "resource_key", " AND resource_type = 'user'"),
    ("iam_login_profiles", "user_lower", ""),
)


# -- lookups shared with groups and access keys ----------------------------------------------------------


def user_row(db: Database, account: str, name: str) -> Row:
    row = db.one("SELECT * FROM iam_users WHERE account_id = ? AND name_lower = ?", (account, name.lower()))
    if row is None:
        raise no_such_entity(f"The user with name {name} cannot be found.")
    return row


def caller_user_name(ctx: RequestContext) -> str | None:
    """The IAM user making the call (for operations whose UserName defaults to the caller); None for root."""
    principal = ctx.principal
    assert principal is not None
    if principal.type == "IAMUser" and principal.name is not None:
        return principal.name
    if principal.is_root:
        return None
    raise ServiceError("ValidationError", "Must specify userName when calling with non-User credentials", 400)


def user_shape(db: Database, row: Row, details: bool = True) -> dict[str, Any]:
    """A ``User``; list operations leave out PermissionsBoundary and Tags, as AWS's do."""
    user: dict[str, Any] = {
        "Path": row["path"],
        "UserName": row["name"],
        "UserId": row["user_id"],
        "Arn": row["arn"],
        "CreateDate": when(row["created_at"]),
    }
    if details:
        if row["permissions_boundary"]:
            user["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": row["permissions_boundary"],
            }
        tags = get_tags(db, row["account_id"], "user", row["name_lower"])
        if tags:
            user["Tags"] = tags
    return user


class UserOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    def create_user(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        name = req["UserName"]
        path = req.get("Path", "/")
        tags = req.get("Tags") or []
        check_duplicate_tag_keys(tags)
        if self.db.one("SELECT 1 FROM iam_users WHERE account_id = ? AND name_lower = ?", (account, name.lower())):
            raise already_exists(f"User with name {name} already exists.")
        boundary = req.get("PermissionsBoundary")
        if boundary is not None:
            check_policy_attachable(self.db, account, boundary, boundary=True)
        self.db.execute(
            "INSERT INTO iam_users (account_id, name_lower, name, user_id, path, arn, permissions_boundary, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, name.lower(), name, ids.unique_id("user"), path, arns.user(account, name, path), boundary,
             iso(ctx.received_at)),
        )
        if tags:
            put_tags(self.db, account, "user", name.lower(), tags)
        return {"User": user_shape(self.db, user_row(self.db, account, name))}

    def get_user(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        name = req.get("UserName") or caller_user_name(ctx)
        if name is None:
            # The root user: AWS answers with the account's root identity (no name, no path).
            account = accounts.get(self.db, ctx.account_id)
            root: dict[str, Any] = {"UserId": ctx.account_id, "Arn": arns.root(ctx.account_id)}
            if account is not None:
                root["CreateDate"] = account.created_at
            return {"User": root}
        return {"User": user_shape(self.db, user_row(self.db, ctx.account_id, name))}

    def list_users(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        result = page_of_entities(self.db, "iam_users", ctx.account_id, req, "Users")
        result["Users"] = [user_shape(self.db, r, details=False) for r in result["Users"]]
        return result

    def update_user(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        row = user_row(self.db, account, req["UserName"])
        new_name = req.get("NewUserName") or row["name"]
        new_path = req.get("NewPath") or row["path"]
        rename_entity(
            self.db, account, "iam_users", row["name_lower"], new_name, new_path,
            arns.user(account, new_name, new_path), _USER_KEYED, f"User with name {new_name} already exists.",
        )

    def delete_user(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        lower = user_row(self.db, account, req["UserName"])["name_lower"]
        # AWS does not document which conflict it reports first; this order follows its deletion guide.
        checks = (
            ("SELECT 1 FROM iam_login_profiles WHERE account_id = ? AND user_lower = ?",
             "Cannot delete entity, must delete login profile first."),
            ("SELECT 1 FROM iam_access_keys WHERE account_id = ? AND user_lower = ?",
             "Cannot delete entity, must delete access keys first."),
            ("SELECT 1 FROM iam_inline_policies WHERE account_id = ? AND entity_type = 'user' AND entity_lower = ?",
             "Cannot delete entity, must delete policies first."),
            ("SELECT 1 FROM iam_attachments WHERE account_id = ? AND entity_type = 'user' AND entity_lower = ?",
             "Cannot delete entity, must detach all policies first."),
            ("SELECT 1 FROM iam_group_members WHERE account_id = ? AND user_lower = ?",
             "Cannot delete entity, must remove users from group first."),
        )
        refuse_delete_while(self.db, account, lower, checks)
        drop_tags(self.db, account, "user", lower)
        self.db.execute("DELETE FROM iam_users WHERE account_id = ? AND name_lower = ?", (account, lower))

    # -- tags ------------------------------------------------------------------------------------------

    def tag_user(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        check_duplicate_tag_keys(req["Tags"])
        put_tags(self.db, ctx.account_id, "user", row["name_lower"], req["Tags"])

    def untag_user(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        remove_tags(self.db, ctx.account_id, "user", row["name_lower"], req["TagKeys"])

    def list_user_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        return tags_page(get_tags(self.db, ctx.account_id, "user", row["name_lower"]), req)

    # -- permissions boundary --------------------------------------------------------------------------

    def put_user_permissions_boundary(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        check_policy_attachable(self.db, ctx.account_id, req["PermissionsBoundary"], boundary=True)
        self.db.execute(
            "UPDATE iam_users SET permissions_boundary = ? WHERE account_id = ? AND name_lower = ?",
            (req["PermissionsBoundary"], ctx.account_id, row["name_lower"]),
        )

    def delete_user_permissions_boundary(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        self.db.execute(
            "UPDATE iam_users SET permissions_boundary = NULL WHERE account_id = ? AND name_lower = ?",
            (ctx.account_id, row["name_lower"]),
        )
