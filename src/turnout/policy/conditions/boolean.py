"""The Bool operator: ``true``/``false``, case-insensitive; anything else is unreadable. Policy variables are
allowed (``"${aws:SecureTransport}"``)."""

from __future__ import annotations

from turnout.policy.conditions.base import INVALID, Operator, Parsed, text_of
from turnout.policy.variables import Resolved

_BOOLS = {"true": True, "false": False}


def parse_bool(value: str) -> Parsed:
    return _BOOLS.get(value.strip().lower(), INVALID)


def _policy(pieces: Resolved) -> Parsed:
    return parse_bool(text_of(pieces))


def _equals(request: bool, policy: bool) -> bool:
    return request == policy


OPERATORS = (Operator("Bool", _policy, parse_bool, _equals, variables=True),)
