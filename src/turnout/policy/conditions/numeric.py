"""Numeric operators: NumericEquals, NumericLessThan(Equals), NumericGreaterThan(Equals); integers and decimals
(``10`` equals ``10.0``). Policy variables are not substituted (AWS does not allow them here)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from decimal import Decimal

from turnout.policy.conditions.base import INVALID, Operator, Parsed, text_of
from turnout.policy.variables import Resolved

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


def parse_number(value: str) -> Parsed:
    text = value.strip()
    return Decimal(text) if _NUMBER.match(text) else INVALID


def _policy(pieces: Resolved) -> Parsed:
    return parse_number(text_of(pieces))


def _operator(name: str, compare: Callable[[Decimal, Decimal], bool]) -> Operator:
    return Operator(name, _policy, parse_number, compare, variables=False)


OPERATORS = (
    _operator("NumericEquals", operator.eq),
    _operator("NumericLessThan", operator.lt),
    _operator("NumericLessThanEquals", operator.le),
    _operator("NumericGreaterThan", operator.gt),
    _operator("NumericGreaterThanEquals", operator.ge),
)
