"""The authorization questions one API call asks: the interface between request context and enforcement.

:func:`turnout.authz.context.checks_for` turns a parsed request into a list of :class:`Check`; the authorizer
evaluates each with the caller's policies (plus the global condition keys of the caller) and denies the call at
the first denied check, as AWS does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ContextValue = str | list[str]


@dataclass(frozen=True, slots=True)
class Check:
    """One (action, resource) AWS evaluates for a call, with its request-specific condition keys.

    ``context`` holds the keys this call adds (service keys such as ``iam:PassedToService``, ``aws:RequestTag/*``,
    ``aws:TagKeys``, ``aws:ResourceTag/*`` of the resource, ``sts:ExternalId``...); the authorizer adds the
    caller's global keys (``aws:PrincipalArn``, ``aws:SourceIp``, ``aws:CurrentTime``...).
    ``unresolved`` marks the check that stands in for a call whose resources could not be derived.
    ``resource_policy`` is the resource-based policy that applies (a role's trust policy for ``sts:AssumeRole``),
    with ``resource_policy_kind`` ``"trust"`` or ``"resource"``.
    """

    action: str  # "iam:GetRole"
    resource: str  # an ARN, or "*" when the action takes no resource
    resource_account: str | None = None
    context: dict[str, ContextValue] = field(default_factory=dict)
    resource_policy: str | None = None
    resource_policy_id: str | None = None
    resource_policy_kind: str = "resource"
    # Why the call's resources could not be worked out (a diagnostic); such a check is denied whatever the
    # policies say (fail closed: checking "*" instead would slip past a Deny scoped to the real resource).
    unresolved: str | None = None
