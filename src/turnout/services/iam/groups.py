"""IAM groups and their members."""

from __future__ import annotations

from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store.db import Database
from .common import already_exists, delete_conflict, limit_exceeded, no_such_entity, page_of_entities, paged
from .store import attachments as attachment_store
from .store import groups as group_store
from .store import inline_policies as inline_store
from .store import users as user_store
from .store.records import Group
from .users import GROUPS_PER_USER, user_row, user_shape


def group_row(db: Database, account: str, name: str) -> Group:
    row = group_store.get(db, account, name)
    if row is None:
        raise no_such_entity(f"The group with name {name} cannot be found.")
    return row


def group_shape(row: Group) -> dict[str, Any]:
    return {
        "Path": row.path,
        "GroupName": row.name,
        "GroupId": row.group_id,
        "Arn": row.arn,
        "CreateDate": row.created_at,
    }


class GroupOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    def create_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        name = req["GroupName"]
        path = req.get("Path", "/")
        if group_store.exists(self.db, account, name):
            raise already_exists(f"Group with name {name} already exists.")
        group_store.insert(self.db, Group(account, name.lower(), name, ids.unique_id("group"), path,
                                          arns.group(account, name, path), ctx.received_at))
        return {"Group": group_shape(group_row(self.db, account, name))}

    def get_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        group = group_row(self.db, account, req["GroupName"])
        users = [user_shape(self.db, r, details=False) for r in user_store.members(self.db, account, group.name_lower)]
        result = paged(users, lambda u: u["UserName"].lower(), req, "Users")
        result["Group"] = group_shape(group)
        return result

    def list_groups(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        groups, result = page_of_entities(
            lambda prefix, after, count: group_store.page(self.db, account, prefix, after, count),
            lambda group: group.name_lower, req, "Groups",
        )
        result["Groups"] = [group_shape(r) for r in groups]
        return result

    def list_groups_for_user(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        user = user_row(self.db, account, req["UserName"])
        rows = group_store.of_user(self.db, account, user.name_lower)
        return paged([group_shape(r) for r in rows], lambda g: g["GroupName"].lower(), req, "Groups")

    def update_group(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        row = group_row(self.db, account, req["GroupName"])
        new_name = req.get("NewGroupName") or row.name
        new_path = req.get("NewPath") or row.path
        if new_name.lower() != row.name_lower and group_store.exists(self.db, account, new_name):
            raise already_exists(f"Group with name {new_name} already exists.")
        group_store.rename(self.db, account, row.name_lower, new_name, new_path,
                           arns.group(account, new_name, new_path))

    def delete_group(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        lower = group_row(self.db, account, req["GroupName"]).name_lower
        if group_store.has_members(self.db, account, lower):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        if inline_store.any_of(self.db, account, "group", lower):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if attachment_store.any_of(self.db, account, "group", lower):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        group_store.delete(self.db, account, lower)

    def add_user_to_group(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        group = group_row(self.db, account, req["GroupName"])
        user = user_row(self.db, account, req["UserName"])
        if group_store.is_member(self.db, account, group.name_lower, user.name_lower):
            return  # adding a member again succeeds and changes nothing, as in IAM
        if group_store.memberships(self.db, account, user.name_lower) >= GROUPS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
        group_store.add_member(self.db, account, group.name_lower, user.name_lower, ctx.received_at)

    def remove_user_from_group(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        group = group_row(self.db, account, req["GroupName"])
        user = user_row(self.db, account, req["UserName"])
        if not group_store.remove_member(self.db, account, group.name_lower, user.name_lower):
            # AWS documents no message for a user that is not a member; IAM's not-found wording is used.
            raise no_such_entity(f"The user with name {req['UserName']} cannot be found.")
