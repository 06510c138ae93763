"""Per-policy-type analysis: run every candidate statement of a group of policies against the request.

Each policy type gets a ``Scope`` (how truncated ARNs read, how Principal is checked) and yields a
``TypeResult``: whether any statement allowed or denied, the strongest principal match among the allowing
statements (for resource-based policies), and the matched statements for diagnostics.

``scan`` runs the statements as specialised by ``compiled.py``; ``scan_reference`` runs ``statement.applies``
on every candidate (the readable statement of the rules; the tests check that both agree).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from turnout.policy.compiled import SHORT_ARN, entries
from turnout.policy.model import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, MatchedStatement, Outcome, Policy, PolicyType
from turnout.policy.principals import MatchKind
from turnout.policy.statement import PrincipalRule, Scope, applies, principal_kind

Scanner = Callable[[Sequence[Policy], PolicyType, Scope], "TypeResult"]

_PRINCIPAL_RULE = {
    PolicyType.IDENTITY: PrincipalRule.IGNORE,
    PolicyType.SESSION: PrincipalRule.IGNORE,
    PolicyType.BOUNDARY: PrincipalRule.IGNORE,
    PolicyType.SCP: PrincipalRule.IGNORE,
    PolicyType.RESOURCE: PrincipalRule.REQUIRED,
    PolicyType.TRUST: PrincipalRule.REQUIRED,
    PolicyType.RCP: PrincipalRule.IF_PRESENT,
    PolicyType.ENDPOINT: PrincipalRule.IF_PRESENT,
}


@dataclass(slots=True, init=False)
class TypeResult:
    allowed: bool = False
    denied: bool = False
    grant: MatchKind = MatchKind.NONE
    matched: list[MatchedStatement] = field(default_factory=list)

    def __init__(self, allowed: bool = False, denied: bool = False, grant: MatchKind = MatchKind.NONE,
                 matched: list[MatchedStatement] | None = None) -> None:
        self.allowed = allowed
        self.denied = denied
        self.grant = grant
        self.matched = [] if matched is None else matched

    @property
    def outcome(self) -> Outcome:
        return EXPLICIT_DENY if self.denied else ALLOW if self.allowed else IMPLICIT_DENY


def scope_for(policy_type: PolicyType, base: Scope) -> Scope:
    return Scope(base.request, SHORT_ARN[policy_type], _PRINCIPAL_RULE[policy_type], base.boundary_attached,
                 base.missing)


def scan(policies: Sequence[Policy], policy_type: PolicyType, scope: Scope) -> TypeResult:
    """Evaluate a group of policies of one type (their statements combine as a union). ``scope`` gives the
    request, whether a boundary is attached and the list of missing keys; the rest follows from the type."""
    result = TypeResult()
    request = scope.request
    action, resource, missing = request.action_lower, request.resource, scope.missing
    ignore = _PRINCIPAL_RULE[policy_type] is PrincipalRule.IGNORE
    if not ignore:
        scope = scope_for(policy_type, scope)
    matched = result.matched
    for policy in policies:
        for found, deny, test, check, statement in entries(policy, policy_type, action):
            if test is not None and not test(resource):
                continue
            kind = MatchKind.DIRECT if ignore else principal_kind(statement, scope)
            if kind is MatchKind.NONE:
                continue
            if check is not None and not check(request, missing):
                continue
            if deny:
                result.denied = True
            else:
                result.allowed = True
                if kind > result.grant:
                    result.grant = kind
            matched.append(found)
    return result


def scan_reference(policies: Sequence[Policy], policy_type: PolicyType, scope: Scope) -> TypeResult:
    """``scan`` by the reference rules: ``applies`` on every candidate statement of the service."""
    scope = scope_for(policy_type, scope)
    result = TypeResult()
    service = scope.request.service
    matched = result.matched
    for policy in policies:
        for statement in policy.candidates(service):
            kind = applies(statement, scope)
            if kind is MatchKind.NONE:
                continue
            if statement.effect == "Deny":
                result.denied = True
            else:
                result.allowed = True
                if kind > result.grant:
                    result.grant = kind
            matched.append(MatchedStatement(
                policy_type, policy.policy_id, statement.index, statement.sid, statement.effect, statement.start,
                statement.end,
            ))
    return result


def scan_levels(
    levels: Sequence[Sequence[Policy]], policy_type: PolicyType, scope: Scope, scanner: Scanner = scan
) -> TypeResult:
    """SCPs/RCPs: every organisation level must allow; a Deny at any level is an explicit deny."""
    combined = TypeResult(allowed=True)
    for level in levels:
        result = scanner(level, policy_type, scope)
        combined.denied = combined.denied or result.denied
        combined.allowed = combined.allowed and result.allowed
        combined.matched.extend(result.matched)
    return combined
