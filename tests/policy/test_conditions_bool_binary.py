"""Bool and BinaryEquals."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.policy.helpers import condition_holds

SECURE = "aws:SecureTransport"
BLOB = "aws:PrincipalTag/blob"
ENCODED = base64.b64encode(b"binary value").decode()

CASES: list[tuple[str, str, Any, dict[str, Any], bool]] = [
    ("Bool", SECURE, "true", {SECURE: "true"}, True),
    ("Bool", SECURE, "true", {SECURE: "TRUE"}, True),
    ("Bool", SECURE, True, {SECURE: "true"}, True),
    ("Bool", SECURE, "false", {SECURE: "true"}, False),
    ("Bool", SECURE, "false", {SECURE: False}, True),
    ("Bool", SECURE, "true", {SECURE: "yes"}, False),
    ("Bool", SECURE, "maybe", {SECURE: "true"}, False),
    ("Bool", SECURE, "false", {}, False),
    ("BoolIfExists", SECURE, "false", {}, True),
    ("Bool", SECURE, "${aws:MultiFactorAuthPresent}", {SECURE: "true", "aws:MultiFactorAuthPresent": "True"}, True),
    ("BinaryEquals", BLOB, ENCODED, {BLOB: ENCODED}, True),
    ("BinaryEquals", BLOB, [base64.b64encode(b"x").decode(), ENCODED], {BLOB: ENCODED}, True),
    ("BinaryEquals", BLOB, ENCODED, {BLOB: base64.b64encode(b"other").decode()}, False),
    ("BinaryEquals", BLOB, ENCODED, {BLOB: "not base64!"}, False),
    ("BinaryEquals", BLOB, ENCODED, {}, False),
]


@pytest.mark.parametrize(("operator", "key", "values", "context", "expected"), CASES)
def test_bool_and_binary(operator: str, key: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {key: values}}, context) is expected
