"""Numeric operators: integers, decimals, unreadable values (which never match, negated or not)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.helpers import condition_holds

KEY = "s3:max-keys"

CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    ("NumericEquals", "10", {KEY: "10"}, True),
    ("NumericEquals", "10", {KEY: "10.0"}, True),
    ("NumericEquals", 10, {KEY: "10"}, True),
    ("NumericEquals", "10", {KEY: "11"}, False),
    ("NumericEquals", ["1", "10"], {KEY: "10"}, True),
    ("NumericEquals", "10", {KEY: "ten"}, False),
    ("NumericEquals", "ten", {KEY: "10"}, False),
    ("NumericNotEquals", "10", {KEY: "11"}, True),
    ("NumericNotEquals", "10", {KEY: "10"}, False),
    ("NumericNotEquals", ["10", "11"], {KEY: "11"}, False),
    ("NumericNotEquals", "10", {KEY: "ten"}, False),
    ("NumericNotEquals", ["a", "b"], {KEY: "10"}, False),
    ("NumericNotEquals", "10", {}, True),
    ("NumericLessThan", "10", {KEY: "9.5"}, True),
    ("NumericLessThan", "10", {KEY: "10"}, False),
    ("NumericLessThanEquals", "10", {KEY: "10"}, True),
    ("NumericLessThanEquals", "10", {KEY: "-3"}, True),
    ("NumericGreaterThan", "10", {KEY: "10.01"}, True),
    ("NumericGreaterThan", "10", {KEY: "10"}, False),
    ("NumericGreaterThanEquals", ".5", {KEY: "0.5"}, True),
    ("NumericGreaterThan", "10", {}, False),
    ("NumericLessThanIfExists", "10", {}, True),
    ("NumericLessThanIfExists", "10", {KEY: "20"}, False),
    ("NumericEquals", "${aws:username}", {KEY: "1", "aws:username": "1"}, False),  # no variables here
]


@pytest.mark.parametrize(("operator", "values", "context", "expected"), CASES)
def test_numeric_operators(operator: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {KEY: values}}, context) is expected
