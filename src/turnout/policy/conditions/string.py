"""String operators: StringEquals, StringEqualsIgnoreCase, StringLike (negations are derived).

Matching is case-sensitive except for the IgnoreCase pair. ``StringEquals`` treats ``*`` literally;
``StringLike`` takes ``*`` and ``?`` anywhere. Policy variables are allowed; a substituted value is literal
text (its own ``*`` is not a wildcard).
"""

from __future__ import annotations

import re

from turnout.policy.conditions.base import Operator, text_of
from turnout.policy.matching import like_regex
from turnout.policy.variables import Resolved


def _identity(value: str) -> str:
    return value


def _lower(value: str) -> str:
    return value.lower()


def _equals(request: str, policy: str) -> bool:
    return request == policy


def _like(request: str, policy: re.Pattern[str]) -> bool:
    return policy.fullmatch(request) is not None


def _policy_text(pieces: Resolved) -> str:
    return text_of(pieces)


def _policy_lower(pieces: Resolved) -> str:
    return text_of(pieces).lower()


OPERATORS = (
    Operator("StringEquals", _policy_text, _identity, _equals, variables=True),
    Operator("StringEqualsIgnoreCase", _policy_lower, _lower, _equals, variables=True),
    Operator("StringLike", like_regex, _identity, _like, variables=True),
)
