"""IAM users: create, get, list, update (rename, move), delete, tags, permissions boundary."""

from __future__ import annotations

from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store import accounts
from ...store.db import Database
from ...wire.errors import ServiceError
from .common import (
    already_exists,
    check_duplicate_tag_keys,
    delete_conflict,
    get_tags,
    no_such_entity,
    page_of_entities,
    put_tags,
    remove_tags,
    tags_page,
)
from .policy_refs import check_policy_attachable
from .store import access_keys as key_store
from .store import attachments as attachment_store
from .store import groups as group_store
from .store import inline_policies as inline_store
from .store import login_profiles as login_store
from .store import users as user_store
from .store.records import User

GROUPS_PER_USER = 10


# -- lookups shared with groups and access keys ----------------------------------------------------------


def user_row(db: Database, account: str, name: str) -> User:
    row = user_store.get(db, account, name)
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


def user_shape(db: Database, row: User, details: bool = True) -> dict[str, Any]:
    """A ``User``; list operations leave out PermissionsBoundary and Tags, as AWS's do."""
    user: dict[str, Any] = {
        "Path": row.path,
        "UserName": row.name,
        "UserId": row.user_id,
        "Arn": row.arn,
        "CreateDate": row.created_at,
    }
    if details:
        if row.permissions_boundary:
            user["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": row.permissions_boundary,
            }
        tags = get_tags(db, row.account_id, "user", row.name_lower)
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
        if user_store.exists(self.db, account, name):
            raise already_exists(f"User with name {name} already exists.")
        boundary = req.get("PermissionsBoundary")
        if boundary is not None:
            check_policy_attachable(self.db, account, boundary, boundary=True)
        user_store.insert(self.db, User(account, name.lower(), name, ids.unique_id("user"), path,
                                        arns.user(account, name, path), boundary, ctx.received_at))
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
        account = ctx.account_id
        users, result = page_of_entities(
            lambda prefix, after, count: user_store.page(self.db, account, prefix, after, count),
            lambda user: user.name_lower, req, "Users",
        )
        result["Users"] = [user_shape(self.db, r, details=False) for r in users]
        return result

    def update_user(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        row = user_row(self.db, account, req["UserName"])
        new_name = req.get("NewUserName") or row.name
        new_path = req.get("NewPath") or row.path
        if new_name.lower() != row.name_lower and user_store.exists(self.db, account, new_name):
            raise already_exists(f"User with name {new_name} already exists.")
        user_store.rename(self.db, account, row.name_lower, new_name, new_path, arns.user(account, new_name, new_path))

    def delete_user(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        lower = user_row(self.db, account, req["UserName"]).name_lower
        # AWS does not document which conflict it reports first; this order follows its deletion guide.
        if login_store.get(self.db, account, lower) is not None:
            raise delete_conflict("Cannot delete entity, must delete login profile first.")
        if key_store.any_of(self.db, account, lower):
            raise delete_conflict("Cannot delete entity, must delete access keys first.")
        if inline_store.any_of(self.db, account, "user", lower):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if attachment_store.any_of(self.db, account, "user", lower):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if group_store.memberships(self.db, account, lower):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        user_store.delete(self.db, account, lower)

    # -- tags ------------------------------------------------------------------------------------------

    def tag_user(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        check_duplicate_tag_keys(req["Tags"])
        put_tags(self.db, ctx.account_id, "user", row.name_lower, req["Tags"])

    def untag_user(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        remove_tags(self.db, ctx.account_id, "user", row.name_lower, req["TagKeys"])

    def list_user_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        return tags_page(get_tags(self.db, ctx.account_id, "user", row.name_lower), req)

    # -- permissions boundary --------------------------------------------------------------------------

    def put_user_permissions_boundary(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        check_policy_attachable(self.db, ctx.account_id, req["PermissionsBoundary"], boundary=True)
        user_store.set_boundary(self.db, ctx.account_id, row.name_lower, req["PermissionsBoundary"])

    def delete_user_permissions_boundary(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = user_row(self.db, ctx.account_id, req["UserName"])
        user_store.set_boundary(self.db, ctx.account_id, row.name_lower, None)
