"""STS: the role a session is asked of, with its trust policy, and the session's condition keys.

``AssumeRole`` (and the SAML and web identity forms) act on the role the ``RoleArn`` names, in whatever account it
is; the role's trust policy is the resource-based policy that must allow the call. Session tags add an
``sts:TagSession`` check and a source identity an ``sts:SetSourceIdentity`` check on the same role, both
evaluated against the same trust policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core import arns
from .resources_base import Env, Extra, ServiceRules, Spec, Target, custom, has, param, template, value_of
from .resources_iam import entity


def _role(env: Env) -> Iterable[Target]:
    """The role ``RoleArn`` names (its stored ARN, tags and trust policy); as given when it does not exist."""
    role_arn = env.params.get("RoleArn")
    if not isinstance(role_arn, str):
        return ()
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return (Target(role_arn, "role", tags={}, exists=False),)
    found = entity(env, "role", parts[5].rsplit("/", 1)[-1], parts[4])
    if not found.exists:
        return (Target(role_arn, "role", tags={}, exists=False),)
    return (found,)


def _root(env: Env) -> Iterable[str]:
    """AssumeRoot: the root user of the target member account (an account id or an account ARN)."""
    target = env.params.get("TargetPrincipal")
    if not isinstance(target, str):
        return ()
    account = target.split(":")[4] if target.startswith("arn:") and target.count(":") >= 5 else target
    return (arns.root(account),)


ROLE = custom(_role, "role", needs=("RoleArn",))

OPS: dict[str, tuple[Spec, ...]] = {
    "AssumeRole": (ROLE,),
    "AssumeRoleWithSAML": (ROLE,),
    "AssumeRoleWithWebIdentity": (ROLE,),
    "AssumeRoot": (custom(_root, "root-user", needs=("TargetPrincipal",)),),
    "GetFederationToken": (template("federated-user", FederatedUserName=param("Name")),),
}

REQUEST_KEYS = {
    "sts:ExternalId": value_of("ExternalId"),
    "sts:RoleSessionName": value_of("RoleSessionName"),
    "sts:SourceIdentity": value_of("SourceIdentity"),
    "sts:TransitiveTagKeys": value_of("TransitiveTagKeys"),
    "sts:DurationSeconds": value_of("DurationSeconds"),
    "sts:IdentityTokenAudience": value_of("Audience"),
    "sts:SigningAlgorithm": value_of("SigningAlgorithm"),
    "sts:TaskPolicyArn": value_of("TaskPolicyArn.arn"),
}

EXTRAS = {
    "AssumeRole": (
        Extra("TagSession", has("Tags", "TransitiveTagKeys"), same_targets=True),
        Extra("SetSourceIdentity", has("SourceIdentity"), same_targets=True),
    ),
}

# GetScopedCredentials is newer than the reference (2025-12-02): checked as sts:GetScopedCredentials on "*".
UNCATALOGUED = {"GetScopedCredentials": "newer than the reference"}

RULES = ServiceRules(
    prefix="sts",
    ops=OPS,
    request_keys=REQUEST_KEYS,
    extras=EXTRAS,
    trust_ops=frozenset({"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}),
)
