"""String operators, with and without policy variables, on present and missing keys."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.helpers import condition_holds

KEY = "aws:PrincipalTag/team"

CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    ("StringEquals", "blue", {KEY: "blue"}, True),
    ("StringEquals", "blue", {KEY: "Blue"}, False),
    ("StringEquals", ["red", "blue"], {KEY: "blue"}, True),
    ("StringEquals", "b*", {KEY: "blue"}, False),
    ("StringEquals", "b*", {KEY: "b*"}, True),
    ("StringEquals", "blue", {}, False),
    ("StringNotEquals", "blue", {KEY: "red"}, True),
    ("StringNotEquals", "blue", {KEY: "blue"}, False),
    ("StringNotEquals", ["red", "blue"], {KEY: "blue"}, False),
    ("StringNotEquals", "blue", {}, True),
    ("StringEqualsIgnoreCase", "BLUE", {KEY: "blue"}, True),
    ("StringEqualsIgnoreCase", "blue", {KEY: "green"}, False),
    ("StringNotEqualsIgnoreCase", "BLUE", {KEY: "blue"}, False),
    ("StringNotEqualsIgnoreCase", "BLUE", {KEY: "green"}, True),
    ("StringLike", "bl*", {KEY: "blue"}, True),
    ("StringLike", "b??e", {KEY: "blue"}, True),
    ("StringLike", "b?e", {KEY: "blue"}, False),
    ("StringLike", "BL*", {KEY: "blue"}, False),
    ("StringLike", "", {KEY: ""}, True),
    ("StringLike", "*", {}, False),
    ("StringNotLike", "bl*", {KEY: "blue"}, False),
    ("StringNotLike", ["r*", "g*"], {KEY: "blue"}, True),
    ("StringNotLike", "x*", {}, True),
    ("stringequals", "blue", {KEY: "blue"}, True),  # operator names are matched case-insensitively
]


@pytest.mark.parametrize(("operator", "values", "context", "expected"), CASES)
def test_string_operators(operator: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {KEY: values}}, context) is expected


def test_condition_key_names_are_case_insensitive() -> None:
    assert condition_holds({"StringEquals": {"AWS:PRINCIPALTAG/TEAM": "blue"}}, {"aws:principaltag/team": "blue"})


VARIABLES: list[tuple[str, str, dict[str, Any], bool]] = [
    ("StringEquals", "${aws:username}", {KEY: "alice", "aws:username": "alice"}, True),
    ("StringEquals", "${AWS:UserName}", {KEY: "alice", "aws:username": "alice"}, True),
    ("StringEquals", "team-${aws:username}", {KEY: "team-alice", "aws:username": "alice"}, True),
    ("StringEquals", "${aws:username}", {KEY: "alice"}, False),
    ("StringNotEquals", "${aws:username}", {KEY: "alice"}, True),  # AWS: negated operators match a null value
    ("StringNotLike", "x${aws:username}*", {KEY: "alice"}, True),
    ("StringEquals", "${aws:username, 'nobody'}", {KEY: "nobody"}, True),
    ("StringEquals", "${aws:username,'nobody'}", {KEY: "nobody"}, True),
    ("StringLike", "${aws:username}*", {KEY: "a*lice", "aws:username": "a*"}, True),
    ("StringLike", "${aws:username}", {KEY: "alice", "aws:username": "a*"}, False),  # values are literal
    ("StringEquals", "a${*}b", {KEY: "a*b"}, True),
    ("StringLike", "a${*}b", {KEY: "axb"}, False),
    ("StringLike", "a${?}", {KEY: "a?"}, True),
    ("StringEquals", "${$}x", {KEY: "$x"}, True),
    ("StringEquals", "${aws:CalledVia}", {KEY: "x", "aws:CalledVia": ["x"]}, False),  # multivalued: unusable
    ("StringNotEquals", "${aws:CalledVia}", {KEY: "x", "aws:CalledVia": ["y"]}, False),
    ("StringEquals", "${unclosed", {KEY: "${unclosed"}, True),
]


@pytest.mark.parametrize(("operator", "value", "context", "expected"), VARIABLES)
def test_policy_variables(operator: str, value: str, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {KEY: value}}, context) is expected
