"""Condition clauses specialised once per clause: ``compile_clause`` returns a function of the request.

The function gives the same answer as ``sets.evaluate_clause`` (the reference, kept readable) and records a
missing key the same way; it only binds what does not change per call: the lower-case key, the parsed policy
values (as a set for the string equality operators), what an absent key gives. Clauses whose values hold
policy variables are resolved per call, through ``evaluate_clause`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from turnout.policy.conditions.base import INVALID, Clause, Operator, Parsed, Qualifier
from turnout.policy.conditions.sets import evaluate_clause
from turnout.policy.model import ContextValue, Request, lower_context

ClauseCheck = Callable[[Request, list[str]], bool]
OneValue = Callable[[str], Any]  # one request value -> whether the clause holds for it (truthy)

_FOR_ALL = Qualifier.FOR_ALL_VALUES
_FOR_ANY = Qualifier.FOR_ANY_VALUE
_SET_OPERATORS = {"StringEquals": False, "StringEqualsIgnoreCase": True}  # name -> compare lower-cased


def values_of(request: Request) -> dict[str, ContextValue]:
    lowered = request.lowered
    return request.values if lowered is None else lowered


def _never(request: Request, missing: list[str]) -> bool:
    return False


def _one_value(operator: Operator, policy: list[Parsed], negated: bool) -> OneValue:
    """``sets._one_value`` with the (usable) policy values bound."""
    if not policy:
        return lambda value: False
    parse, compare = operator.parse_request, operator.compare

    def one(value: str) -> bool:
        parsed = parse(value)
        if parsed is INVALID:
            return False
        for candidate in policy:
            if compare(parsed, candidate):
                return not negated
        return negated

    return one


def _null(clause: Clause) -> ClauseCheck:
    wanted = {value.static for value in clause.values if value.static is not INVALID}
    if_absent, if_present = True in wanted, False in wanted
    key = clause.key_lower

    def null(request: Request, missing: list[str]) -> bool:
        lowered = request.lowered
        if lowered is None:
            lowered = request.lowered = lower_context(request.context)
        raw = lowered.get(key)
        absent = raw is None or (not isinstance(raw, str) and len(raw) == 0)
        return if_absent if absent else if_present

    return null


def _string_set(clause: Clause, members: frozenset[str], lower: bool, if_absent: bool) -> ClauseCheck:
    """StringEquals / StringEqualsIgnoreCase (and their negations) on static values: set membership."""
    key, key_lower, negated, qualifier = clause.key, clause.key_lower, clause.negated, clause.qualifier

    def one(value: str) -> bool:
        return ((value.lower() if lower else value) in members) != negated

    if not lower and not negated:  # StringEquals itself, by far the most common
        def string_in(request: Request, missing: list[str]) -> bool:
            lowered = request.lowered
            if lowered is None:
                # The key spelled as the policy spells it (as every caller builds contexts: the catalogue's
                # spelling) is read without building the lower-cased copy. Keys are case-insensitive and a request
                # holds each once; a context holding one key in two spellings is read here in the policy's.
                raw = request.context.get(key)
                if raw.__class__ is str:
                    return raw in members
                lowered = request.lowered = lower_context(request.context)
            raw = lowered.get(key_lower)
            if raw is None:
                if key not in missing:
                    missing.append(key)
                return if_absent
            if isinstance(raw, str):
                return raw in members
            if qualifier is _FOR_ALL:
                return all(map(members.__contains__, raw))
            return qualifier is _FOR_ANY and any(map(members.__contains__, raw))
        return string_in

    def string_set(request: Request, missing: list[str]) -> bool:
        lowered = request.lowered
        if lowered is None:
            lowered = request.lowered = lower_context(request.context)
        raw = lowered.get(key_lower)
        if raw is None:
            if key not in missing:
                missing.append(key)
            return if_absent
        if isinstance(raw, str):
            return ((raw.lower() if lower else raw) in members) != negated
        if qualifier is _FOR_ALL:
            return all(map(one, raw))
        return qualifier is _FOR_ANY and any(map(one, raw))

    return string_set


def _static(clause: Clause, one: OneValue, if_absent: bool) -> ClauseCheck:
    key, key_lower, qualifier = clause.key, clause.key_lower, clause.qualifier

    def static(request: Request, missing: list[str]) -> bool:
        lowered = request.lowered
        if lowered is None:
            lowered = request.lowered = lower_context(request.context)
        raw = lowered.get(key_lower)
        if raw is None:
            if key not in missing:
                missing.append(key)
            return if_absent
        if isinstance(raw, str):
            return bool(one(raw))
        if qualifier is _FOR_ALL:
            return all(map(one, raw))
        return qualifier is _FOR_ANY and any(map(one, raw))

    return static


def compile_clause(clause: Clause) -> ClauseCheck:
    """The clause as a function of the request (clauses carrying an ``error`` are the caller's concern)."""
    if clause.is_null:
        return _null(clause)
    operator = clause.operator
    if operator is None:
        return _never
    if any(value.dynamic for value in clause.values):
        def dynamic(request: Request, missing: list[str]) -> bool:
            return evaluate_clause(clause, values_of(request), missing)
        return dynamic
    qualifier = clause.qualifier
    if_absent = clause.if_exists or qualifier is _FOR_ALL or (qualifier is Qualifier.NONE and clause.negated)
    policy: list[Parsed] = [value.static for value in clause.values if value.static is not INVALID]
    lower = _SET_OPERATORS.get(operator.name)
    if lower is not None and policy:
        return _string_set(clause, frozenset(policy), lower, if_absent)
    return _static(clause, _one_value(operator, policy, clause.negated), if_absent)
