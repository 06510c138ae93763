"""Combine the policy types into one decision, in AWS's order (IAM User Guide, policy evaluation logic).

1. ``sts:GetCallerIdentity`` and ``sts:GetSessionToken`` are always allowed (see ``servicerules``).
2. An applicable Deny in any policy type is an explicit deny: SCPs, RCPs, VPC endpoint policies,
   identity-based policies, the resource-based policy (or role trust / key policy), the permissions boundary,
   session policies.
3. Writes to AWS-owned resources are implicitly denied (``servicerules``).
4. Guardrails: every RCP level and every SCP level must allow, and a VPC endpoint policy, when present, must
   allow. SCPs apply to IAM principals of the account (root included; the management-account exemption is
   the caller's to express by passing no SCPs); they do not apply to service principals or anonymous
   callers. RCPs apply to every caller except service principals.
5. Grants:
   * Service principals and anonymous callers: only the resource-based (trust) policy can allow.
   * The account's root user: identity policies are bypassed (it has every permission); boundaries and
     session policies do not apply to it.
   * Same account: a resource-based policy naming the caller's own ARN (user, session, ``*``) allows on its
     own; one naming the role behind a session allows within the boundary and session policy; otherwise the
     identity-based policy must allow, within the boundary and session policy. A role trust policy or KMS
     key policy must allow the caller (directly, via its role, or via its account plus an identity Allow):
     there is no identity-only path.
   * Cross account: the caller's side (identity-based policy, boundary, session policy) and the
     resource-based policy must both allow.
"""

from __future__ import annotations

from turnout.policy.matching import ShortArn
from turnout.policy.model import (
    ALLOW,
    ANONYMOUS,
    AWS_SERVICE,
    EXPLICIT_DENY,
    IAM_PRINCIPAL_TYPES,
    IMPLICIT_DENY,
    ROOT,
    SESSION_TYPES,
    Decision,
    Outcome,
    PolicySet,
    PolicyType,
    Request,
)
from turnout.policy.policytypes import TypeResult, scan, scan_levels, scope_for
from turnout.policy.principals import MatchKind
from turnout.policy.servicerules import always_allowed, protected_resource
from turnout.policy.statement import PrincipalRule, Scope

ALWAYS_ALLOWED_REASON = "the action needs no permission"
_GUARDRAILS = (PolicyType.RCP, PolicyType.SCP, PolicyType.ENDPOINT)
_DENY_ORDER = (
    PolicyType.SCP,
    PolicyType.RCP,
    PolicyType.ENDPOINT,
    PolicyType.IDENTITY,
    PolicyType.RESOURCE,
    PolicyType.TRUST,
    PolicyType.BOUNDARY,
    PolicyType.SESSION,
)


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide one request against the policies that apply to it."""
    if always_allowed(request.action_lower):
        return Decision(ALLOW, reason=ALWAYS_ALLOWED_REASON)
    kind = request.principal_type
    is_iam = kind in IAM_PRINCIPAL_TYPES
    member = is_iam and kind != ROOT
    boundary = policies.boundary if member else None
    missing: list[str] = []
    base = Scope(request, ShortArn.PAD, PrincipalRule.IGNORE, boundary is not None, missing)
    results: dict[PolicyType, TypeResult] = {}
    if policies.scps is not None and is_iam:
        results[PolicyType.SCP] = scan_levels(policies.scps, PolicyType.SCP, scope_for(PolicyType.SCP, base))
    if policies.rcps is not None and kind != AWS_SERVICE:
        results[PolicyType.RCP] = scan_levels(policies.rcps, PolicyType.RCP, scope_for(PolicyType.RCP, base))
    if policies.endpoint:
        results[PolicyType.ENDPOINT] = scan(policies.endpoint, PolicyType.ENDPOINT,
                                            scope_for(PolicyType.ENDPOINT, base))
    if member:
        results[PolicyType.IDENTITY] = scan(policies.identity, PolicyType.IDENTITY,
                                            scope_for(PolicyType.IDENTITY, base))
    resource_type = policies.resource_type
    if policies.resource is not None:
        results[resource_type] = scan((policies.resource,), resource_type, scope_for(resource_type, base))
    if boundary is not None:
        results[PolicyType.BOUNDARY] = scan((boundary,), PolicyType.BOUNDARY, scope_for(PolicyType.BOUNDARY, base))
    if kind in SESSION_TYPES and policies.session:
        results[PolicyType.SESSION] = scan(policies.session, PolicyType.SESSION, scope_for(PolicyType.SESSION, base))

    decision = Decision(IMPLICIT_DENY, missing_context_keys=missing)
    for policy_type, result in results.items():
        decision.type_decisions[policy_type] = result.outcome
        decision.matched.extend(result.matched)
    for policy_type in _DENY_ORDER:
        found = results.get(policy_type)
        if found is not None and found.denied:
            return _deny(decision, EXPLICIT_DENY, policy_type)
    reason = protected_resource(request.action_lower, request.resource)
    if reason is not None:
        decision.reason = reason
        return decision
    for policy_type in _GUARDRAILS:
        found = results.get(policy_type)
        if found is not None and not found.allowed:
            return _deny(decision, IMPLICIT_DENY, policy_type)
    denied_by = _grants(request, policies, results)
    if denied_by is not None:
        return _deny(decision, IMPLICIT_DENY, denied_by)
    decision.effect = ALLOW
    return decision


def _deny(decision: Decision, effect: Outcome, policy_type: PolicyType) -> Decision:
    decision.effect = effect
    decision.denied_by = policy_type
    return decision


def _grants(request: Request, policies: PolicySet, results: dict[PolicyType, TypeResult]) -> PolicyType | None:
    """None when the grant rules allow, else the policy type that failed to allow."""
    resource_type = policies.resource_type
    resource = results.get(resource_type)
    grant = resource.grant if resource is not None and resource.allowed else MatchKind.NONE
    kind = request.principal_type
    if kind in (AWS_SERVICE, ANONYMOUS):
        return None if grant is not MatchKind.NONE else resource_type
    caller_side = _caller_side(kind, results)
    principal_account, resource_account = request.principal_account, request.resource_account
    same_account = principal_account is None or resource_account is None or principal_account == resource_account
    if not same_account:
        if caller_side is not None:
            return caller_side
        return resource_type if grant is MatchKind.NONE else None
    if grant is MatchKind.DIRECT:
        return None
    if grant is MatchKind.ROLE:
        return _limits(results)
    if grant is MatchKind.NONE and policies.resource_kind != "resource":
        return resource_type
    return caller_side


def _caller_side(kind: str, results: dict[PolicyType, TypeResult]) -> PolicyType | None:
    """The first of identity policy, boundary, session policy that does not allow (root: none)."""
    if kind == ROOT:
        return None
    identity = results.get(PolicyType.IDENTITY)
    if identity is None or not identity.allowed:
        return PolicyType.IDENTITY
    return _limits(results)


def _limits(results: dict[PolicyType, TypeResult]) -> PolicyType | None:
    for policy_type in (PolicyType.BOUNDARY, PolicyType.SESSION):
        found = results.get(policy_type)
        if found is not None and not found.allowed:
            return policy_type
    return None
