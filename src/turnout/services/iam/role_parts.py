"""The role helpers IAM's operation modules share (roles, instance profiles, policies, service-linked roles): the
role a name names, its ``Role`` shape, the trust policy and permissions boundary checks, and a role's insertion and
removal. Module functions over the request's database, so that no provider carries them as public methods."""

from __future__ import annotations

from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store.db import Database
from . import policydoc, principal_ids
from .common import get_tags, no_such_entity, tag_dicts
from .store import roles as role_store
from .store.records import Role, Tag

DEFAULT_MAX_SESSION = 3600


def role_row(db: Database, account: str, name: str) -> Role:
    """The role ``name``, or IAM's NoSuchEntity for it."""
    role = role_store.get(db, account, name)
    if role is None:
        raise no_such_entity(f"The role with name {name} cannot be found.")
    return role


def role_shape(db: Database, row: Role, *, tags: bool = True, boundary: bool = True, last_used: bool = False,
               render: principal_ids.Renderer | None = None, tag_list: list[Tag] | None = None) -> dict[str, Any]:
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
            trust_policy_shown(db, row) if render is None else render(row.trust_policy, row.trust_policy_saved)
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
        shown = role_tags(db, row.account_id, row.name_lower) if tag_list is None else tag_dicts(tag_list)
        if shown:
            role["Tags"] = shown
    if last_used:
        role["RoleLastUsed"] = role_last_used(row)
    return role


def trust_policy_shown(db: Database, row: Role) -> str:
    """The trust policy as IAM answers it: as written, or with the unique ids of deleted principals."""
    return principal_ids.render(db, row.trust_policy, row.trust_policy_saved)


def role_tags(db: Database, account: str, name_lower: str) -> list[dict[str, str]]:
    return get_tags(db, account, "role", name_lower)


def role_last_used(row: Role) -> dict[str, Any]:
    if not row.last_used_at:
        return {}
    last: dict[str, Any] = {"LastUsedDate": row.last_used_at}
    if row.last_used_region:
        last["Region"] = row.last_used_region
    return last


def check_trust_policy(db: Database, account: str, document: str) -> None:
    """A trust policy's checks; its IAM user and role principals must exist (see
    :func:`principal_ids.principal_exists`)."""

    def exists(arn: str) -> bool:
        return principal_ids.principal_exists(db, arn, account)

    policydoc.check(document, "trust", principal_exists=exists)


def check_boundary(db: Database, account: str, arn: str) -> None:
    """A permissions boundary must name an existing managed policy (customer's or AWS's)."""
    from .policy_refs import check_policy_attachable  # policy_refs imports roles, which imports this module

    check_policy_attachable(db, account, arn, boundary=True)


def insert_role(db: Database, ctx: RequestContext, name: str, path: str, trust_policy: str, *,
                description: str | None = None, max_session: int = DEFAULT_MAX_SESSION,
                max_signin: int | None = None, boundary: str | None = None,
                linked_service: str | None = None) -> Role:
    account = ctx.account_id
    role_store.insert(db, Role(
        account_id=account, name_lower=name.lower(), name=name, role_id=ids.unique_id("role"), path=path,
        arn=arns.role(account, name, path), trust_policy=trust_policy,
        trust_policy_saved=principal_ids.bind(db, trust_policy), description=description,
        max_session_duration=max_session, max_signin_session_duration=max_signin, permissions_boundary=boundary,
        linked_service=linked_service, created_at=ctx.received_at,
    ))
    return role_row(db, account, name)


def remove_role(db: Database, account: str, name_lower: str) -> None:
    """Delete the role and everything hanging off it (callers have checked the conflicts)."""
    role_store.delete(db, account, name_lower)
