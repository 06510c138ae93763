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

``evaluate`` takes a shorter road when only identity-based policies take part (an IAM user, role or federated
user; no resource-based policy, boundary, session policy, SCP, RCP or endpoint policy): the rules above then
reduce to "a Deny anywhere denies, then the service rules, then any Allow allows (in the resource's account)".
``evaluate_general`` is the whole road; both return the same Decision (tests/policy/test_compiled.py runs every
conformance case through both).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from turnout.policy.compiled import entries
from turnout.policy.matching import ShortArn
from turnout.policy.model import (
    ALLOW,
    ANONYMOUS,
    ASSUMED_ROLE,
    AWS_SERVICE,
    EXPLICIT_DENY,
    FEDERATED_USER,
    FROM_RESOURCE,
    IAM_PRINCIPAL_TYPES,
    IAM_USER,
    IMPLICIT_DENY,
    ROOT,
    SESSION_TYPES,
    Decision,
    MatchedStatement,
    Outcome,
    PolicySet,
    PolicyType,
    Request,
)
from turnout.policy.policytypes import Scanner, TypeResult, scan, scan_levels, scan_reference
from turnout.policy.principals import MatchKind
from turnout.policy.servicerules import ALWAYS_ALLOWED, protected_resource
from turnout.policy.statement import PrincipalRule, Scope

ALWAYS_ALLOWED_REASON = "the action needs no permission"
_GUARDRAILS = (PolicyType.RCP, PolicyType.SCP, PolicyType.ENDPOINT)
_DENY_ORDER = (  # (the order in which ``evaluate_general`` scans)
    PolicyType.SCP,
    PolicyType.RCP,
    PolicyType.ENDPOINT,
    PolicyType.IDENTITY,
    PolicyType.RESOURCE,
    PolicyType.TRUST,
    PolicyType.BOUNDARY,
    PolicyType.SESSION,
)
_MEMBERS = frozenset({IAM_USER, ASSUMED_ROLE, FEDERATED_USER})  # IAM principals other than root
_IDENTITY = PolicyType.IDENTITY
_RESOURCE = PolicyType.RESOURCE
_new = object.__new__
# The identity-only road's per-type outcomes: read-only and shared, rather than a dict built per call.
_ONLY_IDENTITY: dict[Outcome, Mapping[PolicyType, Outcome]] = {
    outcome: MappingProxyType({_IDENTITY: outcome}) for outcome in (ALLOW, IMPLICIT_DENY, EXPLICIT_DENY)
}
_IDENTITY_DENIED = _ONLY_IDENTITY[EXPLICIT_DENY]
_IDENTITY_ALLOWED = _ONLY_IDENTITY[ALLOW]
_IDENTITY_NO_ALLOW = _ONLY_IDENTITY[IMPLICIT_DENY]


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide one request against the policies that apply to it."""
    if (
        request.principal_type not in _MEMBERS
        or policies.resource is not None
        or policies.boundary is not None
        or policies.session
        or policies.scps is not None
        or policies.rcps is not None
        or policies.endpoint
        or policies.resource_kind != "resource"
    ):
        return evaluate_general(request, policies)
    # Only identity-based policies apply (see the module's docstring). Written out, not split into helpers: this
    # is the common case, and a call costs as much as a statement does.
    action = request.action_lower
    if action in ALWAYS_ALLOWED:
        return Decision(ALLOW, reason=ALWAYS_ALLOWED_REASON)
    resource = request.resource
    missing: list[str] = []
    matched: list[MatchedStatement] = []
    allowed = denied = False
    for policy in policies.identity:
        found = policy.identity_table.get(action)
        if found is None:
            found = entries(policy, _IDENTITY, action)
        for statement, deny, test, check, _ in found:
            if (test is None or test(resource)) and (check is None or check(request, missing)):
                if deny:
                    denied = True
                else:
                    allowed = True
                matched.append(statement)
    decision: Decision = _new(Decision)
    decision.matched = matched
    decision.missing_context_keys = missing
    decision.reason = None
    if denied:
        decision.effect = EXPLICIT_DENY
        decision.denied_by = _IDENTITY
        decision.type_decisions = _IDENTITY_DENIED
        return decision
    decision.type_decisions = _IDENTITY_ALLOWED if allowed else _IDENTITY_NO_ALLOW
    # Every AWS-owned resource ``protected_resource`` knows has "aws" past the partition (its account, or in
    # role/aws-reserved/, alias/aws/): a cheap first look, as most ARNs only have it in "arn:aws:".
    reason = protected_resource(action, resource) if resource.find("aws", 8) >= 0 else None
    if reason is not None:
        decision.effect = IMPLICIT_DENY
        decision.denied_by = None
        decision.reason = reason
    elif not allowed:
        decision.effect = IMPLICIT_DENY
        decision.denied_by = _IDENTITY
    else:
        principal_account, resource_account = request.principal_account, request._resource_account
        if resource_account is FROM_RESOURCE:  # ``Request.resource_account``, inline
            parts = resource.split(":", 5)
            resource_account = request._resource_account = (
                parts[4] or None if len(parts) == 6 and parts[0] == "arn" else None
            )
        if principal_account is None or resource_account is None or principal_account == resource_account:
            decision.effect = ALLOW
            decision.denied_by = None
        else:  # another account's resource, and no resource-based policy to allow it
            decision.effect = IMPLICIT_DENY
            decision.denied_by = _RESOURCE
    return decision


def evaluate_general(request: Request, policies: PolicySet, *, reference: bool = False) -> Decision:
    """The whole evaluation, every policy type. ``reference``: run the statements by the reference rules
    (``statement.applies``) rather than as specialised by ``compiled.py`` (for the tests)."""
    if request.action_lower in ALWAYS_ALLOWED:
        return Decision(ALLOW, reason=ALWAYS_ALLOWED_REASON)
    scanner: Scanner = scan_reference if reference else scan
    kind = request.principal_type
    is_iam = kind in IAM_PRINCIPAL_TYPES
    member = is_iam and kind != ROOT
    boundary = policies.boundary if member else None
    missing: list[str] = []
    scope = Scope(request, ShortArn.PAD, PrincipalRule.IGNORE, boundary is not None, missing)
    # Scanned in the order in which an explicit deny is attributed (``_DENY_ORDER``): the first type that
    # denies is the one named.
    results: dict[PolicyType, TypeResult] = {}
    if policies.scps is not None and is_iam:
        results[PolicyType.SCP] = scan_levels(policies.scps, PolicyType.SCP, scope, scanner)
    if policies.rcps is not None and kind != AWS_SERVICE:
        results[PolicyType.RCP] = scan_levels(policies.rcps, PolicyType.RCP, scope, scanner)
    if policies.endpoint:
        results[PolicyType.ENDPOINT] = scanner(policies.endpoint, PolicyType.ENDPOINT, scope)
    if member:
        results[_IDENTITY] = scanner(policies.identity, _IDENTITY, scope)
    resource_type = policies.resource_type
    if policies.resource is not None:
        results[resource_type] = scanner((policies.resource,), resource_type, scope)
    if boundary is not None:
        results[PolicyType.BOUNDARY] = scanner((boundary,), PolicyType.BOUNDARY, scope)
    if kind in SESSION_TYPES and policies.session:
        results[PolicyType.SESSION] = scanner(policies.session, PolicyType.SESSION, scope)

    type_decisions: dict[PolicyType, Outcome] = {}
    decision = Decision(IMPLICIT_DENY, None, [], missing, type_decisions)
    matched = decision.matched
    explicit: PolicyType | None = None
    for policy_type, result in results.items():
        type_decisions[policy_type] = result.outcome
        matched.extend(result.matched)
        if result.denied and explicit is None:
            explicit = policy_type
    if explicit is not None:
        return _deny(decision, EXPLICIT_DENY, explicit)
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
