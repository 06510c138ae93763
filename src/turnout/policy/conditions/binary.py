"""BinaryEquals: the request value and the policy value are base64 text, compared byte for byte after
decoding. Policy variables are not substituted."""

from __future__ import annotations

import base64
import binascii

from turnout.policy.conditions.base import INVALID, Operator, Parsed, text_of
from turnout.policy.variables import Resolved


def parse_base64(value: str) -> Parsed:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return INVALID


def _policy(pieces: Resolved) -> Parsed:
    return parse_base64(text_of(pieces))


def _equals(request: bytes, policy: bytes) -> bool:
    return request == policy


OPERATORS = (Operator("BinaryEquals", _policy, parse_base64, _equals, variables=False),)
