"""Managed policy attachments of roles, users and groups, and the entities a policy is attached to."""

from __future__ import annotations

from typing import Any

from ...gateway.context import RequestContext
from ...store.db import Row
from ...wire.errors import ServiceError
from ..pagination import decode_marker, encode_marker
from .common import after_prefix, invalid_input, limit_exceeded, no_such_entity
from .policy_refs import (
    ATTACHED_POLICIES_QUOTA,
    ENTITY_ID_COLUMNS,
    ENTITY_TABLES,
    check_arn,
    check_modifiable,
    entity_row,
    find_policy,
    listing,
    policy_or_404,
    split_arn,
)

_QUOTAS = {"role": "PoliciesPerRole", "user": "PoliciesPerUser", "group": "PoliciesPerGroup"}
_ENTITY_FILTERS = {"group": "Group", "user": "User", "role": "Role"}
_RESULT_KEYS = {"group": ("PolicyGroups", "GroupName", "GroupId"), "user": ("PolicyUsers", "UserName", "UserId"),
                "role": ("PolicyRoles", "RoleName", "RoleId")}


class AttachmentOperations:
    """Mixed into :class:`IamProvider` (through :class:`PolicyOperations`)."""

    db: Any

    def _entity(self, kind: str, account: str, name: str) -> Row:
        if kind == "role":
            row: Row = self.role_row(account, name)  # type: ignore[attr-defined]
            return row
        return entity_row(self.db, account, kind, name)

    def _attach(self, ctx: RequestContext, kind: str, name: str, arn: str) -> None:
        account = ctx.account_id
        entity = self._entity(kind, account, name)
        check_modifiable(kind, entity)
        check_arn(arn)
        ref = find_policy(self.db, account, arn)
        if ref is None or not ref.attachable:
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
        if ref.is_aws and ref.path.startswith("/aws-service-role/"):
            # Only a service-linked role (which its service alone changes) carries a service role policy.
            # AWS's wording for roles; it is not documented for users and groups, which get the same answer.
            raise ServiceError("PolicyNotAttachable", "Cannot attach a Service Role Policy to a Customer Role.", 400)
        where = (account, kind, entity["name_lower"])
        if self.db.one(
            "SELECT seq FROM iam_attachments WHERE account_id = ? AND entity_type = ? AND entity_lower = ? "
            "AND policy_arn = ?",
            (*where, arn),
        ):
            return  # attaching an attached policy again changes nothing and succeeds, as in IAM
        count, top = self.db.one(
            "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM iam_attachments WHERE account_id = ? AND entity_type = ? "
            "AND entity_lower = ?",
            where,
        )
        if count >= ATTACHED_POLICIES_QUOTA:
            raise limit_exceeded(f"Cannot exceed quota for {_QUOTAS[kind]}: {ATTACHED_POLICIES_QUOTA}")
        self.db.execute(
            "INSERT INTO iam_attachments (account_id, entity_type, entity_lower, policy_arn, seq) "
            "VALUES (?, ?, ?, ?, ?)",
            (*where, arn, int(top) + 1),
        )

    def _detach(self, ctx: RequestContext, kind: str, name: str, arn: str) -> None:
        account = ctx.account_id
        entity = self._entity(kind, account, name)
        check_modifiable(kind, entity)
        check_arn(arn)
        cursor = self.db.execute(
            "DELETE FROM iam_attachments WHERE account_id = ? AND entity_type = ? AND entity_lower = ? "
            "AND policy_arn = ?",
            (account, kind, entity["name_lower"], arn),
        )
        if cursor.rowcount == 0:
            raise no_such_entity(f"Policy {arn} was not found.")

    def _list_attached(self, ctx: RequestContext, kind: str, name: str, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        entity = self._entity(kind, account, name)
        prefix = req.get("PathPrefix", "/")
        rows = self.db.all(
            "SELECT policy_arn, seq FROM iam_attachments WHERE account_id = ? AND entity_type = ? "
            "AND entity_lower = ? ORDER BY seq",
            (account, kind, entity["name_lower"]),
        )
        items: list[dict[str, str]] = []
        keys: list[str] = []
        for row in rows:  # in the order the policies were attached
            path, policy_name = split_arn(row["policy_arn"])
            if path.startswith(prefix):
                items.append({"PolicyName": policy_name, "PolicyArn": row["policy_arn"]})
                keys.append(f"{int(row['seq']):012d}")
        return listing(items, keys, req, "AttachedPolicies", lambda item: item)

    # -- roles ---------------------------------------------------------------------------------------------

    def attach_role_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._attach(ctx, "role", req["RoleName"], req["PolicyArn"])

    def detach_role_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._detach(ctx, "role", req["RoleName"], req["PolicyArn"])

    def list_attached_role_policies(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._list_attached(ctx, "role", req["RoleName"], req)

    # -- users ---------------------------------------------------------------------------------------------

    def attach_user_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._attach(ctx, "user", req["UserName"], req["PolicyArn"])

    def detach_user_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._detach(ctx, "user", req["UserName"], req["PolicyArn"])

    def list_attached_user_policies(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._list_attached(ctx, "user", req["UserName"], req)

    # -- groups --------------------------------------------------------------------------------------------

    def attach_group_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._attach(ctx, "group", req["GroupName"], req["PolicyArn"])

    def detach_group_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._detach(ctx, "group", req["GroupName"], req["PolicyArn"])

    def list_attached_group_policies(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._list_attached(ctx, "group", req["GroupName"], req)

    # -- the other way round -------------------------------------------------------------------------------

    def list_entities_for_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        ref = policy_or_404(self.db, account, req["PolicyArn"])
        entity_filter = req.get("EntityFilter")
        prefix = req.get("PathPrefix", "/")
        usage_filter = req.get("PolicyUsageFilter")
        marker = req.get("Marker")
        after = decode_marker(marker, invalid_input) if marker else None
        limit = req.get("MaxItems") or 100
        # Groups, users, then roles, each by name_lower (the marker is "<order>:<name_lower>"); each kind's rows
        # are read from the marker on, at most one past the page: a page costs what it holds.
        found: list[tuple[str, str, str, str]] = []  # (sort key, kind, name, id)
        for order, kind in enumerate(("group", "user", "role")):
            # LocalManagedPolicy / AWSManagedPolicy filter out every entity: no entity is a policy.
            if len(found) > limit or (entity_filter is not None and entity_filter != _ENTITY_FILTERS[kind]):
                continue
            any_left, bound = after_prefix(after, f"{order}:")
            if not any_left:
                continue
            table, id_column = ENTITY_TABLES[kind], ENTITY_ID_COLUMNS[kind]
            count = limit + 1 - len(found)
            after_attached = "" if bound is None else " AND a.entity_lower > ?"
            after_bounded = "" if bound is None else " AND e.name_lower > ?"
            from_bound = [] if bound is None else [bound]
            sources: list[str] = []
            params: list[Any] = []
            # Each source reads its rows in name order from the marker on and stops after ``count``.
            if usage_filter in (None, "PermissionsPolicy"):
                sources.append(
                    f"SELECT * FROM (SELECT e.name, e.name_lower, e.{id_column} AS entity_id FROM iam_attachments a "
                    f"JOIN {table} e ON e.account_id = a.account_id AND e.name_lower = a.entity_lower "
                    "WHERE a.account_id = ? AND a.entity_type = ? AND a.policy_arn = ? "
                    f"AND substr(e.path, 1, length(?)) = ?{after_attached} ORDER BY a.entity_lower LIMIT ?)"
                )
                params += [account, kind, ref.arn, prefix, prefix, *from_bound, count]
            if usage_filter in (None, "PermissionsBoundary") and kind != "group":
                sources.append(
                    f"SELECT * FROM (SELECT e.name, e.name_lower, e.{id_column} AS entity_id FROM {table} e "
                    "WHERE e.account_id = ? AND e.permissions_boundary = ? "
                    f"AND substr(e.path, 1, length(?)) = ?{after_bounded} ORDER BY e.name_lower LIMIT ?)"
                )
                params += [account, ref.arn, prefix, prefix, *from_bound, count]
            if not sources:
                continue
            # UNION: an entity both attached and bounded by the policy is listed once.
            rows = self.db.all(
                f"SELECT name, name_lower, entity_id FROM ({' UNION '.join(sources)}) ORDER BY name_lower LIMIT ?",
                (*params, count),
            )
            found += [(f"{order}:{row[1]}", kind, row[0], row[2]) for row in rows]
        chunk = found[:limit]
        result: dict[str, Any] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
        for _, kind, name, entity_id in chunk:
            result_key, name_key, id_key = _RESULT_KEYS[kind]
            result[result_key].append({name_key: name, id_key: entity_id})
        result["IsTruncated"] = len(found) > limit and bool(chunk)
        if result["IsTruncated"]:
            result["Marker"] = encode_marker(chunk[-1][0])
        return result
