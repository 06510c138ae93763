"""ForAllValues/ForAnyValue, IfExists, Null, multivalued keys, several keys and operators, unknown operators."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.helpers import allow, condition_holds, decide, deny, policy

TAGS = "aws:TagKeys"

SET_CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    ("ForAllValues:StringEquals", ["a", "b"], {TAGS: ["a"]}, True),
    ("ForAllValues:StringEquals", ["a", "b"], {TAGS: ["a", "c"]}, False),
    ("ForAllValues:StringEquals", ["a", "b"], {TAGS: []}, True),
    ("ForAllValues:StringEquals", ["a", "b"], {}, True),
    ("ForAllValues:StringEquals", ["a", "b"], {TAGS: "a"}, True),  # a single value is a one-element set
    ("ForAnyValue:StringEquals", ["a", "b"], {TAGS: ["c", "b"]}, True),
    ("ForAnyValue:StringEquals", ["a", "b"], {TAGS: ["c"]}, False),
    ("ForAnyValue:StringEquals", ["a", "b"], {TAGS: []}, False),
    ("ForAnyValue:StringEquals", ["a", "b"], {}, False),
    ("ForAnyValue:StringEqualsIfExists", ["a"], {}, True),
    ("ForAllValues:StringNotEquals", ["a", "b"], {TAGS: ["c", "d"]}, True),
    ("ForAllValues:StringNotEquals", ["a", "b"], {TAGS: ["c", "a"]}, False),
    ("ForAnyValue:StringNotEquals", ["a", "b"], {TAGS: ["a", "d"]}, True),
    ("ForAnyValue:StringNotEquals", ["a", "b"], {TAGS: ["a", "b"]}, False),
    ("ForAnyValue:StringNotEquals", ["a"], {}, False),
    ("ForAllValues:StringLike", ["a*"], {TAGS: ["ab", "ac"]}, True),
    ("ForAnyValue:NumericLessThan", "5", {TAGS: ["9", "3"]}, True),
    ("StringEquals", "a", {TAGS: ["a", "b"]}, False),  # single-valued operator on a multivalued key
    ("StringNotEquals", "z", {TAGS: ["a", "b"]}, False),
    ("forallvalues:stringequals", ["a"], {TAGS: ["a"]}, True),
]


@pytest.mark.parametrize(("operator", "values", "context", "expected"), SET_CASES)
def test_set_qualifiers(operator: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {TAGS: values}}, context) is expected


NULL_CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    ("Null", "true", {}, True),
    ("Null", "true", {TAGS: "x"}, False),
    ("Null", "false", {TAGS: "x"}, True),
    ("Null", "false", {}, False),
    ("Null", "true", {TAGS: []}, True),
    ("Null", True, {}, True),
    ("Null", ["true", "false"], {TAGS: "x"}, True),
    ("Null", "maybe", {}, False),
    ("ForAllValues:Null", "true", {}, True),
    ("ForAnyValue:Null", "false", {TAGS: ["x"]}, True),
    ("Null", "${aws:username}", {"aws:username": "true"}, False),  # no variables in Null
]


@pytest.mark.parametrize(("operator", "values", "context", "expected"), NULL_CASES)
def test_null(operator: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {TAGS: values}}, context) is expected


def test_keys_and_operators_are_anded_values_ored() -> None:
    condition = {"StringEquals": {"aws:PrincipalTag/a": ["1", "2"], "aws:PrincipalTag/b": "x"},
                 "Bool": {"aws:SecureTransport": "true"}}
    full = {"aws:PrincipalTag/a": "2", "aws:PrincipalTag/b": "x", "aws:SecureTransport": "true"}
    assert condition_holds(condition, full)
    assert not condition_holds(condition, {**full, "aws:PrincipalTag/b": "y"})
    assert not condition_holds(condition, {**full, "aws:SecureTransport": "false"})


def test_negated_if_exists_deny_applies_when_the_key_is_missing() -> None:
    # AWS: with a Deny and StringNotEqualsIfExists "the request is still denied even if the tag is missing".
    statements = policy(allow(), deny(Condition={"StringNotEqualsIfExists": {"aws:ResourceOrgID": "o-mine"}}))
    assert decide(identity=[statements], context={"aws:ResourceOrgID": "o-other"}).effect == "ExplicitDeny"
    assert decide(identity=[statements], context={"aws:ResourceOrgID": "o-mine"}).effect == "Allow"
    assert decide(identity=[statements]).effect == "ExplicitDeny"


def test_if_exists_on_absent_key_makes_the_clause_true() -> None:
    # AWS: "If the key is not present, evaluate the condition element as true": the Deny applies.
    statements = (allow(), deny(Condition={"StringEqualsIfExists": {"aws:ResourceTag/class": "secret"}}))
    assert decide(identity=[policy(*statements)]).effect == "ExplicitDeny"
    assert decide(identity=[policy(*statements)], context={"aws:ResourceTag/class": "public"}).effect == "Allow"


def test_missing_context_keys_are_reported() -> None:
    decision = decide(identity=[policy(allow(Condition={"StringEquals": {"aws:PrincipalTag/Team": "x"},
                                                        "Bool": {"aws:SecureTransport": "true"}}))],
                      context={"aws:securetransport": "true"})
    assert decision.effect == "ImplicitDeny"
    assert decision.missing_context_keys == ["aws:PrincipalTag/Team"]


@pytest.mark.parametrize("operator", ["StringEqualsFoo", "NotAnOperator", "ForSomeValues:StringEquals",
                                      "NullIfExists"])
def test_unknown_operator_never_grants(operator: str) -> None:
    compiled = policy(allow(Condition={operator: {"aws:username": "alice"}}))
    assert compiled.errors
    decision = decide(identity=[compiled], context={"aws:username": "alice"})
    assert decision.effect == "ImplicitDeny"


def test_unknown_operator_in_a_deny_still_denies() -> None:
    compiled = policy(allow(), deny(Condition={"StringEqualsFoo": {"aws:username": "alice"}}))
    decision = decide(identity=[compiled], context={"aws:username": "bob"})
    assert decision.effect == "ExplicitDeny"


def test_malformed_condition_values_never_grant() -> None:
    compiled = policy(allow(Condition={"StringEquals": {"aws:username": {"nested": "object"}}}))
    assert compiled.errors
    assert decide(identity=[compiled], context={"aws:username": "alice"}).effect == "ImplicitDeny"
