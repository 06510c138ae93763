"""Managed policy attachments of roles, users and groups, and the entities a policy is attached to."""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from ...wire.errors import ServiceError
from ..pagination import decode_marker, encode_marker
from .common import after_prefix, invalid_input, limit_exceeded, no_such_entity
from .policy_refs import (
    ATTACHED_POLICIES_QUOTA,
    Entity,
    check_arn,
    check_modifiable,
    entity_row,
    find_policy,
    listing,
    policy_or_404,
    split_arn,
)
from .role_parts import role_row
from .store import attachments as attachment_store
from .store.records import EntityKind, PolicyEntity

_QUOTAS = {"role": "PoliciesPerRole", "user": "PoliciesPerUser", "group": "PoliciesPerGroup"}
_ENTITY_FILTERS: dict[EntityKind, str] = {"group": "Group", "user": "User", "role": "Role"}
_RESULT_KEYS = {"group": ("PolicyGroups", "GroupName", "GroupId"), "user": ("PolicyUsers", "UserName", "UserId"),
                "role": ("PolicyRoles", "RoleName", "RoleId")}


class AttachmentOperations:
    """Mixed into :class:`IamProvider` (through :class:`PolicyOperations`)."""

    db: Any

    def _entity(self, kind: EntityKind, account: str, name: str) -> Entity:
        if kind == "role":
            row: Entity = role_row(self.db, account, name)
            return row
        return entity_row(self.db, account, kind, name)

    def _attach(self, ctx: RequestContext, kind: EntityKind, name: str, arn: str) -> None:
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
        if attachment_store.is_attached(self.db, account, kind, entity.name_lower, arn):
            return  # attaching an attached policy again changes nothing and succeeds, as in IAM
        if attachment_store.count(self.db, account, kind, entity.name_lower) >= ATTACHED_POLICIES_QUOTA:
            raise limit_exceeded(f"Cannot exceed quota for {_QUOTAS[kind]}: {ATTACHED_POLICIES_QUOTA}")
        attachment_store.attach(self.db, account, kind, entity.name_lower, arn)

    def _detach(self, ctx: RequestContext, kind: EntityKind, name: str, arn: str) -> None:
        account = ctx.account_id
        entity = self._entity(kind, account, name)
        check_modifiable(kind, entity)
        check_arn(arn)
        if not attachment_store.detach(self.db, account, kind, entity.name_lower, arn):
            raise no_such_entity(f"Policy {arn} was not found.")

    def _list_attached(self, ctx: RequestContext, kind: EntityKind, name: str, req: dict[str, Any]
                       ) -> dict[str, Any]:
        account = ctx.account_id
        entity = self._entity(kind, account, name)
        prefix = req.get("PathPrefix", "/")
        items: list[dict[str, str]] = []
        keys: list[str] = []
        # in the order the policies were attached
        for attachment in attachment_store.of_entity(self.db, account, kind, entity.name_lower):
            path, policy_name = split_arn(attachment.policy_arn)
            if path.startswith(prefix):
                items.append({"PolicyName": policy_name, "PolicyArn": attachment.policy_arn})
                keys.append(f"{attachment.seq:012d}")
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
        found: list[tuple[str, PolicyEntity]] = []  # (sort key, entity)
        kinds: tuple[EntityKind, ...] = ("group", "user", "role")
        for order, kind in enumerate(kinds):
            # LocalManagedPolicy / AWSManagedPolicy filter out every entity: no entity is a policy.
            if len(found) > limit or (entity_filter is not None and entity_filter != _ENTITY_FILTERS[kind]):
                continue
            any_left, bound = after_prefix(after, f"{order}:")
            if not any_left:
                continue
            entities = attachment_store.entities_for_policy(
                self.db, account, kind, ref.arn, prefix, bound, limit + 1 - len(found),
                attached=usage_filter in (None, "PermissionsPolicy"),
                bounded=usage_filter in (None, "PermissionsBoundary"),
            )
            found += [(f"{order}:{entity.name_lower}", entity) for entity in entities]
        chunk = found[:limit]
        result: dict[str, Any] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
        for _, entity in chunk:
            result_key, name_key, id_key = _RESULT_KEYS[entity.kind]
            result[result_key].append({name_key: entity.name, id_key: entity.entity_id})
        result["IsTruncated"] = len(found) > limit and bool(chunk)
        if result["IsTruncated"]:
            result["Marker"] = encode_marker(chunk[-1][0])
        return result
