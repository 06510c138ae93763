"""IAM groups and their members."""

from __future__ import annotations

from typing import Any

from ... import arns, ids
from ...gateway.context import RequestContext
from ...store.db import Database, Row
from .common import (
    already_exists,
    iso,
    limit_exceeded,
    no_such_entity,
    page_of_entities,
    paged,
    refuse_delete_while,
    rename_entity,
    when,
)
from .users import GROUPS_PER_USER, user_row, user_shape

# Tables whose rows name a group by ``name_lower``; renaming a group rewrites them in the same transaction.
_GROUP_KEYED = (
    ("iam_group_members", "group_lower", ""),
    ("iam_attachments", "entity_lower", " AND entity_type = 'group'"),
    ("iam_inline_policies", "entity_lower", " AND entity_type = 'group'"),
    ("iam_tags", "resource_key", " AND resource_type = 'group'"),
)


def group_row(db: Database, account: str, name: str) -> Row:
    row = db.one("SELECT * FROM iam_groups WHERE account_id = ? AND name_lower = ?", (account, name.lower()))
    if row is None:
        raise no_such_entity(f"The group with name {name} cannot be found.")
    return row


def group_shape(row: Row) -> dict[str, Any]:
    return {
        "Path": row["path"],
        "GroupName": row["name"],
        "GroupId": row["group_id"],
        "Arn": row["arn"],
        "CreateDate": when(row["created_at"]),
    }


class GroupOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    def create_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        name = req["GroupName"]
        path = req.get("Path", "/")
        if self.db.one("SELECT 1 FROM iam_groups WHERE account_id = ? AND name_lower = ?", (account, name.lower())):
            raise already_exists(f"Group with name {name} already exists.")
        self.db.execute(
            "INSERT INTO iam_groups (account_id, name_lower, name, group_id, path, arn, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (account, name.lower(), name, ids.unique_id("group"), path, arns.group(account, name, path),
             iso(ctx.received_at)),
        )
        return {"Group": group_shape(group_row(self.db, account, name))}

    def get_group(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        group = group_row(self.db, account, req["GroupName"])
        rows = self.db.all(
            "SELECT u.* FROM iam_group_members m JOIN iam_users u "
            "ON u.account_id = m.account_id AND u.name_lower = m.user_lower "
            "WHERE m.account_id = ? AND m.group_lower = ?",
            (account, group["name_lower"]),
        )
        users = [user_shape(self.db, r, details=False) for r in rows]
        result = paged(users, lambda u: u["UserName"].lower(), req, "Users")
        result["Group"] = group_shape(group)
        return result

    def list_groups(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        result = page_of_entities(self.db, "iam_groups", ctx.account_id, req, "Groups")
        result["Groups"] = [group_shape(r) for r in result["Groups"]]
        return result

    def list_groups_for_user(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        user = user_row(self.db, account, req["UserName"])
        rows = self.db.all(
            "SELECT g.* FROM iam_group_members m JOIN iam_groups g "
            "ON g.account_id = m.account_id AND g.name_lower = m.group_lower "
            "WHERE m.account_id = ? AND m.user_lower = ?",
            (account, user["name_lower"]),
        )
        return paged([group_shape(r) for r in rows], lambda g: g["GroupName"].lower(), req, "Groups")

    def update_group(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        row = group_row(self.db, account, req["GroupName"])
        new_name = req.get("NewGroupName") or row["name"]
        new_path = req.get("NewPath") or row["path"]
        rename_entity(
            self.db, account, "iam_groups", row["name_lower"], new_name, new_path,
            arns.group(account, new_name, new_path), _GROUP_KEYED, f"Group with name {new_name} already exists.",
        )

    def delete_group(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        lower = group_row(self.db, account, req["GroupName"])["name_lower"]
        checks = (
            ("SELECT 1 FROM iam_group_members WHERE account_id = ? AND group_lower = ?",
             "Cannot delete entity, must remove users from group first."),
            ("SELECT 1 FROM iam_inline_policies WHERE account_id = ? AND entity_type = 'group' AND entity_lower = ?",
             "Cannot delete entity, must delete policies first."),
            ("SELECT 1 FROM iam_attachments WHERE account_id = ? AND entity_type = 'group' AND entity_lower = ?",
             "Cannot delete entity, must detach all policies first."),
        )
        refuse_delete_while(self.db, account, lower, checks)
        self.db.execute("DELETE FROM iam_groups WHERE account_id = ? AND name_lower = ?", (account, lower))

    def add_user_to_group(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        group = group_row(self.db, account, req["GroupName"])
        user = user_row(self.db, account, req["UserName"])
        member = self.db.one(
            "SELECT 1 FROM iam_group_members WHERE account_id = ? AND group_lower = ? AND user_lower = ?",
            (account, group["name_lower"], user["name_lower"]),
        )
        if member:
            return  # adding a member again succeeds and changes nothing, as in IAM
        count = self.db.scalar(
            "SELECT COUNT(*) FROM iam_group_members WHERE account_id = ? AND user_lower = ?",
            (account, user["name_lower"]),
        )
        if count >= GROUPS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
        self.db.execute(
            "INSERT INTO iam_group_members (account_id, group_lower, user_lower, added_at) VALUES (?, ?, ?, ?)",
            (account, group["name_lower"], user["name_lower"], iso(ctx.received_at)),
        )

    def remove_user_from_group(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        group = group_row(self.db, account, req["GroupName"])
        user = user_row(self.db, account, req["UserName"])
        removed = self.db.execute(
            "DELETE FROM iam_group_members WHERE account_id = ? AND group_lower = ? AND user_lower = ?",
            (account, group["name_lower"], user["name_lower"]),
        ).rowcount
        if not removed:
            # AWS documents no message for a user that is not a member; IAM's not-found wording is used.
            raise no_such_entity(f"The user with name {req['UserName']} cannot be found.")
