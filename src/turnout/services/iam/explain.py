"""``turnout explain <request-id>``: a stored denial (:mod:`turnout.authz.diagnostics`) with the smallest fix
(:mod:`turnout.authz.remedy`), built against IAM as it is now: the caller's identity policies and boundary, the
documents of the policies that decided, and for ``sts:AssumeRole`` the role's current trust policy."""

from __future__ import annotations

from typing import Any

from ...authz import diagnostics, remedy
from ...authz.diagnostics import Denial
from ...authz.policies import NoSuchEntity, entity_policies, inline_policy_id
from ...core import arns
from ...policy import Policy
from ...store.db import Database
from .store import roles
from .store.views import IdentityViews


def _entity_arn(views: IdentityViews, account: str, principal_arn: str | None) -> str | None:
    """The user or role whose identity policies a caller carries (a session's role), or None."""
    parsed = arns.parse(principal_arn or "")
    if parsed is None:
        return None
    kind, _, rest = parsed.resource.partition("/")
    if parsed.service == "iam" and kind == "user":
        return principal_arn
    if parsed.service == "sts" and kind == "assumed-role":
        role = views.identity(account, "role", rest.split("/", 1)[0])
        return role.arn if role is not None else None
    return None


def _documents(views: IdentityViews, account: str, denial: Denial) -> dict[str, str]:
    """The documents of every policy the denial names (inline by ``<entity ARN>#<name>``, managed by ARN)."""
    wanted = {m.policy_id for m in denial.matched}
    for ids in denial.considered.values():
        wanted.update(ids)
    found: dict[str, str] = {}
    for policy_id in sorted(wanted):
        entity_arn, sep, name = policy_id.partition("#")
        if sep:
            parsed = arns.parse(entity_arn)
            if parsed is None:
                continue
            kind, _, rest = parsed.resource.partition("/")
            entity = views.identity(account, kind, rest.rsplit("/", 1)[-1])
            if entity is None:
                continue
            for inline in views.inline_policies(account, entity):
                if inline_policy_id(entity.arn, inline.name) == policy_id or inline.name == name:
                    found[policy_id] = inline.document
        elif policy_id.startswith("arn:"):
            document = views.managed_policy_document(account, policy_id)
            if document is not None:
                found[policy_id] = document
    return found


def facts_of(db: Database, denial: Denial) -> remedy.Facts:
    """What :func:`turnout.authz.remedy.fix_for` needs, read now."""
    views = IdentityViews(db)
    account = denial.account_id
    identity: list[Policy] = []
    boundary: Policy | None = None
    entity = _entity_arn(views, account, denial.principal_arn)
    if entity is not None:
        try:
            found = entity_policies(views, account, entity)
        except NoSuchEntity:
            pass
        else:
            identity, boundary = list(found.identity), found.boundary
    trust: str | None = None
    exists = True
    if denial.action.lower() == "sts:assumerole":
        parsed = arns.parse(denial.resource)
        role = None
        if parsed is not None and parsed.resource.startswith("role/"):
            role = roles.get(db, parsed.account, parsed.resource.rsplit("/", 1)[-1])
        exists = role is not None
        trust = role.trust_policy if role is not None else None
    return remedy.Facts(identity, boundary, _documents(views, account, denial), trust, exists)


def explain_denial(db: Database, denial: Denial) -> dict[str, Any]:
    """A denial's explanation with its fix (the JSON of ``turnout explain <request-id> --json``)."""
    with db.transaction(write=False):
        facts = facts_of(db, denial)
    return remedy.explanation(denial, facts)


def explain_request(db: Database, request_id: str) -> dict[str, Any] | None:
    """The explanation of the denied request ``request_id``; None when no denial of that id is kept."""
    denial = diagnostics.explain(db, request_id)
    return None if denial is None else explain_denial(db, denial)
