"""Instance profiles: create, get, list, delete, tags, and the one role each may hold.

The Terraform provider lists a role's instance profiles (``ListInstanceProfilesForRole``) and removes the role
from each before ``DeleteRole``; IAM refuses to delete a role still in a profile, or a profile still holding a
role.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store.db import Database
from . import entity_parts
from .common import (
    already_exists,
    check_duplicate_tag_keys,
    delete_conflict,
    get_tags,
    limit_exceeded,
    no_such_entity,
    page_of_entities,
    paged,
    put_tags,
    remove_tags,
    tags_page,
)
from .principal_ids import Renderer
from .role_parts import role_row, role_shape
from .roles import check_path
from .store import instance_profiles as profile_store
from .store import roles as role_store
from .store.records import InstanceProfile, Role

TAG_TYPE = profile_store.TAG_TYPE  # iam_tags.resource_type of a profile (keyed by its name_lower)
ROLES_PER_PROFILE = 1  # quota InstanceSessionsPerInstanceProfile


def profile_row(db: Database, account: str, name: str) -> InstanceProfile:
    row = profile_store.get(db, account, name)
    if row is None:
        raise no_such_entity(f"Instance Profile {name} cannot be found.")
    return row


def profiles_of_role(db: Database, account: str, role_lower: str) -> list[InstanceProfile]:
    """The instance profiles holding the role, by name."""
    return profile_store.of_role(db, account, role_lower)


def role_in_a_profile(db: Database, account: str, role_lower: str) -> bool:
    return profile_store.role_in_a_profile(db, account, role_lower)


def count(db: Database, account: str) -> int:
    return profile_store.count(db, account)


def profile_shape(db: Database, row: InstanceProfile, *, tags: bool = True, render: Renderer | None = None
                  ) -> dict[str, Any]:
    """An ``InstanceProfile``; its role as ListRoles shows a role. Lists leave the profile's tags out.
    ``render``: the request's trust policy renderer, when it shapes many profiles."""
    account = row.account_id
    roles = role_store.in_profiles(db, account, (row.name_lower,))[row.name_lower]
    tag_list = get_tags(db, account, TAG_TYPE, row.name_lower) if tags else None
    return _instance_profile(db, row, roles, tag_list, render)


def _instance_profile(db: Database, row: InstanceProfile, roles: list[Role], tag_list: list[dict[str, str]] | None,
                      render: Renderer | None) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "Path": row.path,
        "InstanceProfileName": row.name,
        "InstanceProfileId": row.profile_id,
        "Arn": row.arn,
        "CreateDate": row.created_at,
        "Roles": [role_shape(db, r, tags=False, boundary=False, render=render) for r in roles],
    }
    if tag_list:
        profile["Tags"] = tag_list
    return profile


def profiles_of_roles(db: Database, account: str, role_keys: Collection[str], render: Renderer
                      ) -> dict[str, list[dict[str, Any]]]:
    """Each role's instance profiles, by name, as :func:`profile_shape` shapes them (tags included): three
    queries for any number of roles (GetAccountAuthorizationDetails)."""
    held = profile_store.of_roles(db, account, role_keys)
    profile_keys = {p.name_lower for found in held.values() for p in found}
    if not profile_keys:
        return {key: [] for key in held}
    roles_in = role_store.in_profiles(db, account, profile_keys)
    tag_lists = entity_parts.tags(db, account, TAG_TYPE, profile_keys)
    return {
        key: [_instance_profile(db, p, roles_in[p.name_lower], tag_lists[p.name_lower], render) for p in found]
        for key, found in held.items()
    }


class InstanceProfileOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    def create_instance_profile(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        name = req["InstanceProfileName"]
        path = req.get("Path", "/")
        check_path(path)
        tags = req.get("Tags") or []
        check_duplicate_tag_keys(tags)
        if profile_store.exists(self.db, account, name):
            raise already_exists(f"Instance Profile {name} already exists.")
        profile_store.insert(self.db, InstanceProfile(
            account, name.lower(), name, ids.unique_id("instance_profile"), path,
            arns.instance_profile(account, name, path), ctx.received_at,
        ))
        if tags:
            put_tags(self.db, account, TAG_TYPE, name.lower(), tags)
        return {"InstanceProfile": profile_shape(self.db, profile_row(self.db, account, name))}

    def get_instance_profile(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        profile = profile_row(self.db, ctx.account_id, req["InstanceProfileName"])
        return {"InstanceProfile": profile_shape(self.db, profile)}

    def list_instance_profiles(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        profiles, result = page_of_entities(
            lambda prefix, after, count: profile_store.page(self.db, account, prefix, after, count),
            lambda profile: profile.name_lower, req, "InstanceProfiles",
        )
        render = Renderer(self.db)
        result["InstanceProfiles"] = [profile_shape(self.db, r, tags=False, render=render) for r in profiles]
        return result

    def list_instance_profiles_for_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        role = role_row(self.db, ctx.account_id, req["RoleName"])
        rows = profiles_of_role(self.db, ctx.account_id, role.name_lower)
        profiles = [profile_shape(self.db, r, tags=False) for r in rows]
        return paged(profiles, lambda p: p["InstanceProfileName"].lower(), req, "InstanceProfiles")

    def delete_instance_profile(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        row = profile_row(self.db, account, req["InstanceProfileName"])
        if profile_store.role_of(self.db, account, row.name_lower) is not None:
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        profile_store.delete(self.db, account, row.name_lower)

    # -- the role ------------------------------------------------------------------------------------------

    def add_role_to_instance_profile(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        profile = profile_row(self.db, account, req["InstanceProfileName"])
        role = role_row(self.db, account, req["RoleName"])
        if profile_store.role_of(self.db, account, profile.name_lower) is not None:
            # An instance profile holds one role, even the same one again (AWS's quota error either way).
            raise limit_exceeded(f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}")
        profile_store.add_role(self.db, account, profile.name_lower, role.name_lower)

    def remove_role_from_instance_profile(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        profile = profile_row(self.db, account, req["InstanceProfileName"])
        role = role_row(self.db, account, req["RoleName"])
        if not profile_store.remove_role(self.db, account, profile.name_lower, role.name_lower):
            # AWS documents NoSuchEntity without a message for a role the profile does not hold; this one is ours.
            raise no_such_entity(
                f"The role with name {role.name} cannot be found in instance profile {profile.name}."
            )

    # -- tags ----------------------------------------------------------------------------------------------

    def tag_instance_profile(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = profile_row(self.db, ctx.account_id, req["InstanceProfileName"])
        check_duplicate_tag_keys(req["Tags"])
        put_tags(self.db, ctx.account_id, TAG_TYPE, row.name_lower, req["Tags"])

    def untag_instance_profile(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        row = profile_row(self.db, ctx.account_id, req["InstanceProfileName"])
        remove_tags(self.db, ctx.account_id, TAG_TYPE, row.name_lower, req["TagKeys"])

    def list_instance_profile_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = profile_row(self.db, ctx.account_id, req["InstanceProfileName"])
        return tags_page(get_tags(self.db, ctx.account_id, TAG_TYPE, row.name_lower), req)
