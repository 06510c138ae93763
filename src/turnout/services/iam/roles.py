"""IAM roles: create, get, list, update, delete, trust policy, tags, permissions boundary.

Service-linked roles live in :mod:`.service_linked`; their operations are methods of this mixin too.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ...core.context import RequestContext
from ...wire.errors import ServiceError
from . import principal_ids, service_linked
from .common import (
    check_duplicate_tag_keys,
    delete_conflict,
    get_tags,
    invalid_input,
    no_such_entity,
    page_of_entities,
    put_tags,
    remove_tags,
    tags_page,
)
from .role_parts import (
    DEFAULT_MAX_SESSION,
    check_boundary,
    check_trust_policy,
    insert_role,
    remove_role,
    role_row,
    role_shape,
)
from .store import attachments as attachment_store
from .store import inline_policies as inline_store
from .store import instance_profiles as profile_store
from .store import roles as role_store

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"

_PATH_MESSAGE = (
    "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric "
    "characters and/or / characters."
)
_POLICY_ARN = re.compile(r"arn:aws:iam::(\d{12}|aws):policy/(?:[^/]+/)*[^/]+")


def entity_already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)



def protected_role(name: str) -> ServiceError:
    return ServiceError(
        "UnmodifiableEntity",
        f"Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS",
        400,
    )


def check_path(path: str) -> None:
    """What the model's pattern lets through but IAM refuses: an empty path segment (``/a//b/``)."""
    if not path.startswith("/") or not path.endswith("/") or "//" in path:
        raise ServiceError("ValidationError", _PATH_MESSAGE, 400)


class RoleOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    # -- create, read, list --------------------------------------------------------------------------

    def create_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        name = req["RoleName"]
        path = req.get("Path", "/")
        check_path(path)
        tags = req.get("Tags") or []
        check_duplicate_tag_keys(tags)
        if role_store.exists(self.db, account, name):
            raise entity_already_exists(f"Role with name {name} already exists.")
        document = req["AssumeRolePolicyDocument"]
        check_trust_policy(self.db, account, document)
        boundary = req.get("PermissionsBoundary")
        if boundary is not None:
            check_boundary(self.db, account, boundary)
        row = insert_role(self.db,
            ctx, name, path, document, description=req.get("Description"),
            max_session=req.get("MaxSessionDuration", DEFAULT_MAX_SESSION),
            max_signin=req.get("MaxSigninSessionDuration"), boundary=boundary,
        )
        if tags:
            put_tags(self.db, account, "role", name.lower(), tags)
        return {"Role": role_shape(self.db, row)}

    def get_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        name = req["RoleName"]
        found = role_store.get_with_tags(self.db, ctx.account_id, name)
        if found is None:
            raise no_such_entity(f"The role with name {name} cannot be found.")
        role, tags = found
        return {"Role": role_shape(self.db, role, last_used=True, tag_list=tags)}

    def list_roles(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        roles, result = page_of_entities(
            lambda prefix, after, count: role_store.page(self.db, account, prefix, after, count),
            lambda role: role.name_lower, req, "Roles",
        )
        render = principal_ids.Renderer(self.db)
        result["Roles"] = [role_shape(self.db, r, tags=False, boundary=False, render=render) for r in roles]
        return result

    # -- updates -------------------------------------------------------------------------------------

    def update_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = role_row(self.db, ctx.account_id, req["RoleName"])
        reset = bool(req.get("ResetMaxSigninSessionDuration"))
        if reset and req.get("MaxSigninSessionDuration") is not None:
            # choice: AWS documents the conflict but not its text
            raise invalid_input("You cannot specify both MaxSigninSessionDuration and ResetMaxSigninSessionDuration.")
        linked = row.linked_service is not None
        if linked and (req.get("MaxSessionDuration") is not None or reset
                       or req.get("MaxSigninSessionDuration") is not None):
            raise protected_role(row.name)
        updated = row
        if "Description" in req:
            # an empty description clears it (choice)
            updated = replace(updated, description=req["Description"] or None)
        if req.get("MaxSessionDuration") is not None:
            updated = replace(updated, max_session_duration=req["MaxSessionDuration"])
        if req.get("MaxSigninSessionDuration") is not None:
            updated = replace(updated, max_signin_session_duration=req["MaxSigninSessionDuration"])
        if reset:
            updated = replace(updated, max_signin_session_duration=None)
        if updated is not row:
            role_store.save(self.db, updated)

    def update_role_description(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = role_row(self.db, ctx.account_id, req["RoleName"])
        role_store.save(self.db, replace(row, description=req["Description"] or None))
        return {"Role": role_shape(self.db, role_row(self.db, ctx.account_id, row.name))}

    def update_assume_role_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = role_row(self.db, ctx.account_id, req["RoleName"])
        if row.linked_service is not None:
            raise protected_role(row.name)
        document = req["PolicyDocument"]
        check_trust_policy(self.db, ctx.account_id, document)
        role_store.save(self.db, replace(row, trust_policy=document,
                                         trust_policy_saved=principal_ids.bind(self.db, document)))

    # -- delete --------------------------------------------------------------------------------------

    def delete_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        row = role_row(self.db, account, req["RoleName"])
        if row.linked_service is not None:
            raise protected_role(row.name)
        if attachment_store.any_of(self.db, account, "role", row.name_lower):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if inline_store.any_of(self.db, account, "role", row.name_lower):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if profile_store.role_in_a_profile(self.db, account, row.name_lower):
            # AWS's wording for a role still in an instance profile (DeleteRole, HTTP 409).
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        remove_role(self.db, account, row.name_lower)

    # -- tags ----------------------------------------------------------------------------------------

    def tag_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = role_row(self.db, ctx.account_id, req["RoleName"])
        check_duplicate_tag_keys(req["Tags"])
        put_tags(self.db, ctx.account_id, "role", row.name_lower, req["Tags"])

    def untag_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = role_row(self.db, ctx.account_id, req["RoleName"])
        remove_tags(self.db, ctx.account_id, "role", row.name_lower, req["TagKeys"])

    def list_role_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = role_row(self.db, ctx.account_id, req["RoleName"])
        return tags_page(get_tags(self.db, ctx.account_id, "role", row.name_lower), req)

    # -- permissions boundary ------------------------------------------------------------------------

    def put_role_permissions_boundary(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = role_row(self.db, ctx.account_id, req["RoleName"])
        if row.linked_service is not None:
            raise protected_role(row.name)
        check_boundary(self.db, ctx.account_id, req["PermissionsBoundary"])
        role_store.save(self.db, replace(row, permissions_boundary=req["PermissionsBoundary"]))

    def delete_role_permissions_boundary(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = role_row(self.db, ctx.account_id, req["RoleName"])
        if row.linked_service is not None:
            raise protected_role(row.name)
        role_store.save(self.db, replace(row, permissions_boundary=None))

    # -- service-linked roles (see service_linked.py) ---------------------------------------------------

    def create_service_linked_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return service_linked.create(self.db, ctx, req)

    def delete_service_linked_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return service_linked.delete(self.db, ctx, req)

    def get_service_linked_role_deletion_status(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return service_linked.deletion_status(self.db, ctx, req)
