"""Per-policy-type analysis: run every candidate statement of a group of policies against the request.

Each policy type gets a ``Scope`` (how truncated ARNs read, how Principal is checked) and yields a
``TypeResult``: whether any statement allowed or denied, the strongest principal match among the allowing
statements (for resource-based policies), and the matched statements for diagnostics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from turnout.policy.matching import ShortArn
from turnout.policy.model import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, MatchedStatement, Outcome, Policy, PolicyType
from turnout.policy.principals import MatchKind
from turnout.policy.statement import PrincipalRule, Scope, applies

_SHORT_ARN = {
    PolicyType.IDENTITY: ShortArn.PAD,
    PolicyType.SESSION: ShortArn.PAD,
    PolicyType.BOUNDARY: ShortArn.PAD,
    PolicyType.RESOURCE: ShortArn.PAD_IF_WILDCARD,
    PolicyType.TRUST: ShortArn.PAD_IF_WILDCARD,
    PolicyType.ENDPOINT: ShortArn.PAD_IF_WILDCARD,
    PolicyType.SCP: ShortArn.LITERAL,
    PolicyType.RCP: ShortArn.LITERAL,
}
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


@dataclass(slots=True)
class TypeResult:
    allowed: bool = False
    denied: bool = False
    grant: MatchKind = MatchKind.NONE
    matched: list[MatchedStatement] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        return EXPLICIT_DENY if self.denied else ALLOW if self.allowed else IMPLICIT_DENY


def scope_for(policy_type: PolicyType, base: Scope) -> Scope:
    return Scope(base.request, _SHORT_ARN[policy_type], _PRINCIPAL_RULE[policy_type], base.boundary_attached,
                 base.missing)


def scan(policies: Sequence[Policy], policy_type: PolicyType, scope: Scope) -> TypeResult:
    """Evaluate a group of policies of one type (their statements combine as a union)."""
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


def scan_levels(levels: Sequence[Sequence[Policy]], policy_type: PolicyType, scope: Scope) -> TypeResult:
    """SCPs/RCPs: every organisation level must allow; a Deny at any level is an explicit deny."""
    combined = TypeResult(allowed=True)
    for level in levels:
        result = scan(level, policy_type, scope)
        combined.denied = combined.denied or result.denied
        combined.allowed = combined.allowed and result.allowed
        combined.matched.extend(result.matched)
    return combined
