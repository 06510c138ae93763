"""The operator registry and the compilation of a Condition block into clauses.

Operator names are looked up case-insensitively. ``Not`` operators are derived from their positive operator
(``StringNotEquals`` = not ``StringEquals`` over the same values), so each comparison is written once.
"""

from __future__ import annotations

from typing import Any

from turnout.policy.conditions import arn, binary, boolean, date, ip, numeric, string
from turnout.policy.conditions.base import Clause, Operator, PolicyValue, Qualifier
from turnout.policy.conditions.null import parse_null_value
from turnout.policy.variables import Glob, has_variables, parse_template, static_pieces

_POSITIVE: dict[str, Operator] = {
    op.name.lower(): op
    for family in (string, numeric, date, boolean, binary, ip, arn)
    for op in family.OPERATORS
}
_NEGATIONS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_NEGATED: dict[str, Operator] = {neg.lower(): _POSITIVE[pos.lower()] for neg, pos in _NEGATIONS.items()}
_QUALIFIERS = {"forallvalues": Qualifier.FOR_ALL_VALUES, "foranyvalue": Qualifier.FOR_ANY_VALUE}

OPERATOR_NAMES = tuple(sorted([op.name for op in _POSITIVE.values()] + list(_NEGATIONS) + ["Null"]))


def lookup(name: str) -> tuple[Operator | None, bool, bool, Qualifier, str | None]:
    """Parse an operator name into (operator, negated, if_exists, qualifier, error); Null gives operator None."""
    qualifier = Qualifier.NONE
    base = name
    prefix, colon, rest = name.partition(":")
    if colon:
        found = _QUALIFIERS.get(prefix.lower())
        if found is None:
            return None, False, False, qualifier, f"unknown condition qualifier {prefix!r}"
        qualifier, base = found, rest
    lowered = base.lower()
    if_exists = lowered.endswith("ifexists")
    if if_exists:
        lowered = lowered[: -len("ifexists")]
    if lowered == "null":
        if if_exists:
            return None, False, False, qualifier, "Null cannot be used with IfExists"
        return None, False, False, qualifier, None
    if lowered in _POSITIVE:
        return _POSITIVE[lowered], False, if_exists, qualifier, None
    if lowered in _NEGATED:
        return _NEGATED[lowered], True, if_exists, qualifier, None
    return None, False, False, qualifier, f"unknown condition operator {name!r}"


def _value_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _policy_value(operator: Operator | None, text: str) -> PolicyValue:
    template = parse_template(text) if operator is not None and operator.variables else (Glob(text),)
    if has_variables(template):
        return PolicyValue(template, None, True)
    pieces = static_pieces(template)
    parse = parse_null_value if operator is None else operator.parse_policy
    return PolicyValue(template, parse(pieces), False)


def compile_conditions(block: Any) -> tuple[tuple[Clause, ...], list[str]]:
    """Compile a Condition element; clauses that cannot be used carry an ``error`` (also returned as problems)."""
    if block is None:
        return (), []
    if not isinstance(block, dict):
        return (), [f"invalid Condition element {block!r}"]
    clauses: list[Clause] = []
    for name, keys in block.items():
        operator, negated, if_exists, qualifier, error = lookup(str(name))
        is_null = operator is None and error is None
        if not isinstance(keys, dict) or not keys:
            error = error or f"invalid condition block for {name!r}"
            clauses.append(Clause(str(name), "", "", None, False, False, False, qualifier, (), error))
            continue
        for key, raw in keys.items():
            items = raw if isinstance(raw, list) else [raw]
            texts = [_value_text(item) for item in items]
            value_error = error
            if not texts or any(text is None for text in texts):
                value_error = value_error or f"invalid condition value for {key!r}"
            values = tuple(_policy_value(operator, text) for text in texts if text is not None)
            clauses.append(Clause(
                str(name), str(key), str(key).lower(), operator, is_null, negated, if_exists, qualifier, values,
                value_error,
            ))
    problems: list[str] = []
    for clause in clauses:
        if clause.error and clause.error not in problems:
            problems.append(clause.error)
    return tuple(clauses), problems
