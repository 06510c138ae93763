"""IAM roles: create, get, list, update, delete, trust policy, tags, permissions boundary.

Service-linked roles live in :mod:`.service_linked`; their operations are methods of this mixin too.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...wire.errors import ServiceError
from . import policydoc, principal_ids, service_linked
from .common import (
    check_duplicate_tag_keys,
    delete_conflict,
    get_tags,
    invalid_input,
    no_such_entity,
    page_of_entities,
    put_tags,
    remove_tags,
    tag_dicts,
    tags_page,
)
from .store import attachments as attachment_store
from .store import inline_policies as inline_store
from .store import instance_profiles as profile_store
from .store import roles as role_store
from .store.records import Role, Tag

DEFAULT_MAX_SESSION = 3600
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

    # -- lookups -------------------------------------------------------------------------------------

    def role_row(self, account: str, name: str) -> Role:
        role = role_store.get(self.db, account, name)
        if role is None:
            raise no_such_entity(f"The role with name {name} cannot be found.")
        return role

    def role_shape(self, row: Role, *, tags: bool = True, boundary: bool = True, last_used: bool = False,
                   render: principal_ids.Renderer | None = None, tag_list: list[Tag] | None = None
                   ) -> dict[str, Any]:
        """The ``Role`` structure; ListRoles leaves out tags, boundary and last use, as AWS does. ``render``: the
        request's trust policy renderer, when it shapes many roles; ``tag_list``: the role's tags, when read
        already."""
        role: dict[str, Any] = {
            "Path": row.path,
            "RoleName": row.name,
            "RoleId": row.role_id,
            "Arn": row.arn,
            "CreateDate": row.created_at,
            "AssumeRolePolicyDocument": (
                self.trust_policy_shown(row) if render is None else render(row.trust_policy, row.trust_policy_saved)
            ),
            "MaxSessionDuration": row.max_session_duration,
        }
        if row.description is not None:
            role["Description"] = row.description
        if row.max_signin_session_duration is not None:
            role["MaxSigninSessionDuration"] = row.max_signin_session_duration
        if boundary and row.permissions_boundary:
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": row.permissions_boundary,
            }
        if tags:
            shown = self.role_tags(row.account_id, row.name_lower) if tag_list is None else tag_dicts(tag_list)
            if shown:
                role["Tags"] = shown
        if last_used:
            role["RoleLastUsed"] = self.role_last_used(row)
        return role

    def trust_policy_shown(self, row: Role) -> str:
        """The trust policy as IAM answers it: as written, or with the unique ids of deleted principals."""
        return principal_ids.render(self.db, row.trust_policy, row.trust_policy_saved)

    def role_tags(self, account: str, name_lower: str) -> list[dict[str, str]]:
        return get_tags(self.db, account, "role", name_lower)

    @staticmethod
    def role_last_used(row: Role) -> dict[str, Any]:
        if not row.last_used_at:
            return {}
        last: dict[str, Any] = {"LastUsedDate": row.last_used_at}
        if row.last_used_region:
            last["Region"] = row.last_used_region
        return last

    def principal_checker(self, account: str) -> Any:
        """For trust policies: does an IAM user or role ARN name an existing entity (see
        :func:`principal_ids.principal_exists`)?"""

        def exists(arn: str) -> bool:
            return principal_ids.principal_exists(self.db, arn, account)

        return exists

    def check_trust_policy(self, account: str, document: str) -> None:
        policydoc.check(document, "trust", principal_exists=self.principal_checker(account))

    def check_boundary(self, account: str, arn: str) -> None:
        """A permissions boundary must name an existing managed policy (customer's or AWS's)."""
        from .policy_refs import check_policy_attachable  # policy_refs imports this module

        check_policy_attachable(self.db, account, arn, boundary=True)

    def insert_role(self, ctx: RequestContext, name: str, path: str, trust_policy: str, *,
                    description: str | None = None, max_session: int = DEFAULT_MAX_SESSION,
                    max_signin: int | None = None, boundary: str | None = None,
                    linked_service: str | None = None) -> Role:
        account = ctx.account_id
        role_store.insert(self.db, Role(
            account_id=account, name_lower=name.lower(), name=name, role_id=ids.unique_id("role"), path=path,
            arn=arns.role(account, name, path), trust_policy=trust_policy,
            trust_policy_saved=principal_ids.bind(self.db, trust_policy), description=description,
            max_session_duration=max_session, max_signin_session_duration=max_signin, permissions_boundary=boundary,
            linked_service=linked_service, created_at=ctx.received_at,
        ))
        return self.role_row(account, name)

    def role_exists(self, account: str, name: str) -> bool:
        return role_store.exists(self.db, account, name)

    # -- create, read, list --------------------------------------------------------------------------

    def create_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        name = req["RoleName"]
        path = req.get("Path", "/")
        check_path(path)
        tags = req.get("Tags") or []
        check_duplicate_tag_keys(tags)
        if self.role_exists(account, name):
            raise entity_already_exists(f"Role with name {name} already exists.")
        document = req["AssumeRolePolicyDocument"]
        self.check_trust_policy(account, document)
        boundary = req.get("PermissionsBoundary")
        if boundary is not None:
            self.check_boundary(account, boundary)
        row = self.insert_role(
            ctx, name, path, document, description=req.get("Description"),
            max_session=req.get("MaxSessionDuration", DEFAULT_MAX_SESSION),
            max_signin=req.get("MaxSigninSessionDuration"), boundary=boundary,
        )
        if tags:
            put_tags(self.db, account, "role", name.lower(), tags)
        return {"Role": self.role_shape(row)}

    def get_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        name = req["RoleName"]
        found = role_store.get_with_tags(self.db, ctx.account_id, name)
        if found is None:
            raise no_such_entity(f"The role with name {name} cannot be found.")
        role, tags = found
        return {"Role": self.role_shape(role, last_used=True, tag_list=tags)}

    def list_roles(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        roles, result = page_of_entities(
            lambda prefix, after, count: role_store.page(self.db, account, prefix, after, count),
            lambda role: role.name_lower, req, "Roles",
        )
        render = principal_ids.Renderer(self.db)
        result["Roles"] = [self.role_shape(r, tags=False, boundary=False, render=render) for r in roles]
        return result

    # -- updates -------------------------------------------------------------------------------------

    def update_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self.role_row(ctx.account_id, req["RoleName"])
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
        row = self.role_row(ctx.account_id, req["RoleName"])
        role_store.save(self.db, replace(row, description=req["Description"] or None))
        return {"Role": self.role_shape(self.role_row(ctx.account_id, row.name))}

    def update_assume_role_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self.role_row(ctx.account_id, req["RoleName"])
        if row.linked_service is not None:
            raise protected_role(row.name)
        document = req["PolicyDocument"]
        self.check_trust_policy(ctx.account_id, document)
        role_store.save(self.db, replace(row, trust_policy=document,
                                         trust_policy_saved=principal_ids.bind(self.db, document)))

    # -- delete --------------------------------------------------------------------------------------

    def delete_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        row = self.role_row(account, req["RoleName"])
        if row.linked_service is not None:
            raise protected_role(row.name)
        if attachment_store.any_of(self.db, account, "role", row.name_lower):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if inline_store.any_of(self.db, account, "role", row.name_lower):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if profile_store.role_in_a_profile(self.db, account, row.name_lower):
            # AWS's wording for a role still in an instance profile (DeleteRole, HTTP 409).
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        self.remove_role(account, row.name_lower)

    def remove_role(self, account: str, name_lower: str) -> None:
        """Delete the role and everything hanging off it (callers have checked the conflicts)."""
        role_store.delete(self.db, account, name_lower)

    # -- tags ----------------------------------------------------------------------------------------

    def tag_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self.role_row(ctx.account_id, req["RoleName"])
        check_duplicate_tag_keys(req["Tags"])
        put_tags(self.db, ctx.account_id, "role", row.name_lower, req["Tags"])

    def untag_role(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self.role_row(ctx.account_id, req["RoleName"])
        remove_tags(self.db, ctx.account_id, "role", row.name_lower, req["TagKeys"])

    def list_role_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = self.role_row(ctx.account_id, req["RoleName"])
        return tags_page(get_tags(self.db, ctx.account_id, "role", row.name_lower), req)

    # -- permissions boundary ------------------------------------------------------------------------

    def put_role_permissions_boundary(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self.role_row(ctx.account_id, req["RoleName"])
        if row.linked_service is not None:
            raise protected_role(row.name)
        self.check_boundary(ctx.account_id, req["PermissionsBoundary"])
        role_store.save(self.db, replace(row, permissions_boundary=req["PermissionsBoundary"]))

    def delete_role_permissions_boundary(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = self.role_row(ctx.account_id, req["RoleName"])
        if row.linked_service is not None:
            raise protected_role(row.name)
        role_store.save(self.db, replace(row, permissions_boundary=None))

    # -- service-linked roles (see service_linked.py) ---------------------------------------------------

    def create_service_linked_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return service_linked.create(self, ctx, req)

    def delete_service_linked_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return service_linked.delete(self, ctx, req)

    def get_service_linked_role_deletion_status(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return service_linked.deletion_status(self, ctx, req)
