"""Whether one statement applies to a request: Action, Resource, Principal and Condition, in that order.

Principal rules depend on the policy type (``PrincipalRule``): identity, boundary, session policies and SCPs
ignore it; resource-based policies (including trust and key policies) require it, and a statement without
one never applies; RCPs and VPC endpoint policies check it only when present.

Unusable condition clauses (an unknown operator, a malformed block) never grant: an Allow statement holding
one does not apply. In a Deny statement the clause is taken as true, so the Deny still applies (fail closed).
AWS rejects such policies when they are written, so this is our choice for documents that got past that.

AWS: "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a permissions
boundary policy attached, regardless of the values specified in the NotPrincipal element."

``applies`` is the reference statement of these rules, written for reading; evaluations run the statements as
specialised by ``compiled.py`` (tests/policy/test_compiled.py checks that both agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from turnout.policy.conditions import evaluate_clause
from turnout.policy.matching import ERROR, MATCH, NO_MATCH, ResourcePattern, ShortArn
from turnout.policy.model import Request, Statement
from turnout.policy.principals import MatchKind, match_principal


class PrincipalRule(IntEnum):
    IGNORE = 0
    REQUIRED = 1
    IF_PRESENT = 2


@dataclass(slots=True)
class Scope:
    """Per request and policy type: how truncated ARNs read, how Principal is checked, and an output list of
    condition keys the request did not carry."""

    request: Request
    short_arn: ShortArn
    principal_rule: PrincipalRule
    boundary_attached: bool
    missing: list[str]


def applies(statement: Statement, scope: Scope) -> MatchKind:
    """How the statement applies (``MatchKind.NONE``: it does not). Identity-style types get ``DIRECT``."""
    request = scope.request
    if statement.actions.matches(request.service, request.action_lower) == statement.not_action:
        return MatchKind.NONE
    resources = statement.resources
    if resources is not None:
        state = _resources(resources, scope)
        if state == ERROR or (state == MATCH) == statement.not_resource:
            return MatchKind.NONE
    kind = principal_kind(statement, scope)
    if kind is MatchKind.NONE:
        return kind
    if statement.conditions and not _conditions(statement, scope):
        return MatchKind.NONE
    return kind


def _resources(resources: tuple[ResourcePattern, ...], scope: Scope) -> int:
    request = scope.request
    values, resource, mode = request.values, request.resource, scope.short_arn
    state = NO_MATCH
    for pattern in resources:
        found = pattern.state(resource, mode, values)
        if found == MATCH:
            return MATCH
        if found == ERROR:
            state = ERROR
    return state


def principal_kind(statement: Statement, scope: Scope) -> MatchKind:
    """How the statement's Principal element names the caller, under the scope's principal rule."""
    rule = scope.principal_rule
    if rule is PrincipalRule.IGNORE:
        return MatchKind.DIRECT
    spec = statement.principal
    if spec is None:
        return MatchKind.NONE if rule is PrincipalRule.REQUIRED else MatchKind.DIRECT
    request = scope.request
    kind = match_principal(spec, request)
    if not statement.not_principal:
        return kind
    if statement.effect == "Deny" and scope.boundary_attached:  # only IAM users and roles carry a boundary
        return MatchKind.DIRECT
    return MatchKind.DIRECT if kind is MatchKind.NONE else MatchKind.NONE


def _conditions(statement: Statement, scope: Scope) -> bool:
    values = scope.request.values
    missing = scope.missing
    deny = statement.effect == "Deny"
    result = True
    for clause in statement.conditions:
        if clause.error is not None:
            if not deny:
                result = False
            continue
        if not evaluate_clause(clause, values, missing):
            result = False
    return result
