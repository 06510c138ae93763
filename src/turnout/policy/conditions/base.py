"""Shared types for condition operators.

An operator family module defines *positive* operators only, each as an ``Operator``: how to read a policy
value (from resolved template pieces), how to read a request value, and how to compare them. Negated
operators (``StringNotEquals``, ``NotIpAddress``...) are derived from their positive operator in
``registry.py``; ``IfExists`` and the ``ForAllValues:``/``ForAnyValue:`` qualifiers are applied centrally in
``sets.py``. A value that cannot be read (a non-number for a numeric operator, an unparsable date, a bad
IP...) is ``INVALID``: it never matches, for positive and negated operators alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any, Final

from turnout.policy.variables import Resolved, Template


class _Invalid(Enum):
    INVALID = "invalid"


INVALID: Final = _Invalid.INVALID
Parsed = Any  # what an operator's parse functions return (or INVALID)


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    parse_policy: Callable[[Resolved], Parsed]
    parse_request: Callable[[str], Parsed]
    compare: Callable[[Parsed, Parsed], bool]  # (request value, policy value)
    variables: bool  # whether policy variables are substituted (else ${...} is plain text)


class Qualifier(IntEnum):
    NONE = 0
    FOR_ALL_VALUES = 1
    FOR_ANY_VALUE = 2


@dataclass(frozen=True, slots=True)
class PolicyValue:
    """One value of a condition: precompiled when it has no variables, else resolved per request."""

    template: Template
    static: Parsed | None  # the parsed value when the template has no variables (INVALID if unreadable)
    dynamic: bool


@dataclass(frozen=True, slots=True)
class Clause:
    """One ``operator: {key: values}`` pair. ``operator`` None: unknown/invalid operator (an error)."""

    operator_name: str
    key: str
    key_lower: str
    operator: Operator | None
    is_null: bool
    negated: bool
    if_exists: bool
    qualifier: Qualifier
    values: tuple[PolicyValue, ...]
    error: str | None = None


def text_of(pieces: Resolved) -> str:
    return "".join(text for text, _ in pieces)
