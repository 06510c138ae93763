"""IAM roles: create, get, list, update, delete, trust policy, tags, boundary."""

from __future__ import annotations

from typing import Any

from ... import arns, ids
from ...gateway.context import RequestContext
from ...store.db import Row
from .common import get_tags, iso, no_such_entity, paged, put_tags, when

DEFAULT_MAX_SESSION = 3600


class RoleOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    # -- lookups -------------------------------------------------------------------------------------

    def role_row(self, account: str, name: str) -> Row:
        row: Row | None = self.db.one(
            "SELECT * FROM iam_roles WHERE account_id = ? AND name_lower = ?", (account, name.lower())
        )
        if row is None:
            raise no_such_entity(f"The role with name {name} cannot be found.")
        return row

    def role_shape(self, row: Row, with_details: bool = False) -> dict[str, Any]:
        role: dict[str, Any] = {
            "Path": row["path"],
            "RoleName": row["name"],
            "RoleId": row["role_id"],
            "Arn": row["arn"],
            "CreateDate": when(row["created_at"]),
            "AssumeRolePolicyDocument": row["trust_policy"],
            "MaxSessionDuration": row["max_session_duration"],
        }
        if row["description"] is not None:
            role["Description"] = row["description"]
        if row["permissions_boundary"]:
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": row["permissions_boundary"],
            }
        tags = get_tags(self.db, row["account_id"], "role", row["name_lower"])
        if tags:
            role["Tags"] = tags
        if with_details:
            last: dict[str, Any] = {}
            if row["last_used_at"]:
                last = {"LastUsedDate": when(row["last_used_at"]), "Region": row["last_used_region"]}
            role["RoleLastUsed"] = last
        return role

    # -- operations ----------------------------------------------------------------------------------

    def create_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        name = req["RoleName"]
        path = req.get("Path", "/")
        existing = self.db.one(
            "SELECT name FROM iam_roles WHERE account_id = ? AND name_lower = ?", (account, name.lower())
        )
        if existing is not None:
            raise self.error("EntityAlreadyExists", f"Role with name {name} already exists.")  # type: ignore[attr-defined]
        self.db.execute(
            "INSERT INTO iam_roles (account_id, name_lower, name, role_id, path, arn, trust_policy, description, "
            "max_session_duration, permissions_boundary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account, name.lower(), name, ids.unique_id("role"), path, arns.role(account, name, path),
                req["AssumeRolePolicyDocument"], req.get("Description"),
                req.get("MaxSessionDuration", DEFAULT_MAX_SESSION), req.get("PermissionsBoundary"),
                iso(ctx.received_at),
            ),
        )
        if req.get("Tags"):
            put_tags(self.db, account, "role", name.lower(), req["Tags"])
        return {"Role": self.role_shape(self.role_row(account, name))}

    def get_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return {"Role": self.role_shape(self.role_row(ctx.account_id, req["RoleName"]), with_details=True)}

    def list_roles(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        prefix = req.get("PathPrefix", "/")
        rows = self.db.all("SELECT * FROM iam_roles WHERE account_id = ?", (ctx.account_id,))
        roles = [self.role_shape(r) for r in rows if r["path"].startswith(prefix)]
        return paged(roles, lambda r: r["RoleName"].lower(), req, "Roles")

    def delete_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self.role_row(ctx.account_id, req["RoleName"])
        self.db.execute(
            "DELETE FROM iam_roles WHERE account_id = ? AND name_lower = ?", (ctx.account_id, row["name_lower"])
        )
