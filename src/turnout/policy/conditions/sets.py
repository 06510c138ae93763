"""Central evaluation of one condition clause: missing keys, IfExists, ForAllValues/ForAnyValue, negation.

The rules, as AWS documents them (reference_policies_elements_condition_operators,
reference_policies_multi-value-conditions, reference_policies_variables):

* Key absent: the clause is false, except that negated operators are true, ``...IfExists`` is true,
  ``ForAllValues:`` is true and ``ForAnyValue:`` is false.
* ``ForAllValues:``: every request value must match; an empty set is true. ``ForAnyValue:``: at least one
  request value must match; an empty set is false. A single-valued key is read as a one-element set.
* No qualifier on a multivalued key: no match (single-valued operators do not take sets; iam-simulate).
* One request value against several policy values: positive operators match if any policy value matches;
  negated operators match if none does (``StringNotEquals [a, b]`` = neither a nor b).
* A policy variable with no value: that policy value matches nothing, so negated operators match it
  (AWS: "Inverted condition operators like StringNotEquals ... do match against a null value").
* An unreadable request value, or a clause whose policy values are all unreadable (or are variables bound to
  multivalued keys), never matches, positive or negated.
"""

from __future__ import annotations

from collections.abc import Mapping

from turnout.policy.conditions.base import INVALID, Clause, Operator, Parsed, PolicyValue, Qualifier
from turnout.policy.conditions.null import null_matches
from turnout.policy.model import ContextValue
from turnout.policy.variables import NO_VALUE, resolve


def _policy_values(
    operator: Operator, values: tuple[PolicyValue, ...], context: Mapping[str, ContextValue]
) -> tuple[list[Parsed], bool]:
    """(usable parsed policy values, whether any value was usable or had no value)."""
    parsed: list[Parsed] = []
    usable = False
    for value in values:
        if not value.dynamic:
            if value.static is not INVALID:
                parsed.append(value.static)
                usable = True
            continue
        pieces = resolve(value.template, context)
        if not isinstance(pieces, tuple):
            usable = usable or pieces is NO_VALUE
            continue
        result = operator.parse_policy(pieces)
        if result is not INVALID:
            parsed.append(result)
            usable = True
    return parsed, usable


def _one_value(operator: Operator, negated: bool, request: str, policy: list[Parsed], usable: bool) -> bool:
    if not usable:
        return False
    value = operator.parse_request(request)
    if value is INVALID:
        return False
    compare = operator.compare
    hit = any(compare(value, candidate) for candidate in policy)
    return not hit if negated else hit


def evaluate_clause(clause: Clause, context: Mapping[str, ContextValue], missing: list[str]) -> bool:
    """Whether one clause holds for the (lower-cased) request context. Errors are the caller's concern."""
    raw = context.get(clause.key_lower)
    if clause.is_null:
        return null_matches(raw, clause.values)
    operator = clause.operator
    if operator is None:
        return False
    qualifier = clause.qualifier
    if raw is None:
        if clause.key not in missing:
            missing.append(clause.key)
        if clause.if_exists or qualifier is Qualifier.FOR_ALL_VALUES:
            return True
        return qualifier is Qualifier.NONE and clause.negated
    policy, usable = _policy_values(operator, clause.values, context)
    negated = clause.negated
    if isinstance(raw, str):
        return _one_value(operator, negated, raw, policy, usable)
    if qualifier is Qualifier.NONE:
        return False
    if qualifier is Qualifier.FOR_ALL_VALUES:
        return all(_one_value(operator, negated, item, policy, usable) for item in raw)
    return any(_one_value(operator, negated, item, policy, usable) for item in raw)
