"""ARN operators: ArnEquals and ArnLike behave identically (negations are derived). Both sides must be
ARNs of six colon-separated segments; each segment is matched separately (``*``/``?`` do not cross ``:``,
except in the resource segment). Case-sensitive. Policy variables are allowed."""

from __future__ import annotations

import re

from turnout.policy.conditions.base import INVALID, Operator, Parsed
from turnout.policy.matching import arn_like_regex
from turnout.policy.variables import Resolved


def _policy(pieces: Resolved) -> Parsed:
    regex = arn_like_regex(pieces)
    return INVALID if regex is None else regex


def parse_arn(value: str) -> Parsed:
    parts = value.split(":", 5)
    return value if len(parts) == 6 and parts[0] == "arn" else INVALID


def _like(request: str, policy: re.Pattern[str]) -> bool:
    return policy.fullmatch(request) is not None


OPERATORS = (
    Operator("ArnEquals", _policy, parse_arn, _like, variables=True),
    Operator("ArnLike", _policy, parse_arn, _like, variables=True),
)
