"""Compilation: normalisation, errors recorded instead of raised, caching, the service index, positions."""

from __future__ import annotations

import json

import pytest

from turnout.policy import PolicySyntaxError, Position, compile_policy
from turnout.policy.positions import statement_spans

DOCUMENT = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "First",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*"
    },
    {"Sid": "Second", "Effect": "Deny", "Action": ["ec2:*", "S3:Put*"], "Resource": "*",
     "Condition": {"StringEquals": {"aws:username": "a}b{\\"c"}}}
  ]
}"""


def test_statements_are_normalised() -> None:
    policy = compile_policy(DOCUMENT, policy_id="doc")
    first, second = policy.statements
    assert (first.sid, first.effect, first.index) == ("First", "Allow", 0)
    assert first.actions.exact == frozenset({"s3:getobject"})
    assert second.actions.services == frozenset({"ec2", "s3"})
    assert second.conditions[0].key_lower == "aws:username"
    assert policy.version == "2012-10-17" and policy.errors == ()


def test_positions_of_each_statement() -> None:
    policy = compile_policy(DOCUMENT, policy_id="doc")
    first, second = policy.statements
    assert (first.start, first.end) == (Position(4, 5), Position(9, 5))
    assert (second.start, second.end) == (Position(10, 5), Position(11, 64))


def test_single_statement_object_and_escapes() -> None:
    text = '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "\\u007b*"}}'
    assert statement_spans(text) == [(Position(1, 15), Position(1, 71))]
    assert compile_policy(text).statements[0].start == Position(1, 15)


def test_compiled_policies_are_cached_by_text() -> None:
    assert compile_policy(DOCUMENT, policy_id="doc") is compile_policy(DOCUMENT, policy_id="doc")
    assert compile_policy(DOCUMENT, policy_id="doc") is not compile_policy(DOCUMENT + " ", policy_id="doc")


def test_mapping_input_has_no_positions() -> None:
    policy = compile_policy(json.loads(DOCUMENT), policy_id="doc")
    assert [st.sid for st in policy.statements] == ["First", "Second"]
    assert policy.statements[0].start is None


def test_index_by_service_keeps_wildcard_statements_everywhere() -> None:
    text = json.dumps({"Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ec2:Describe*", "s3:List*"], "Resource": "*"},
    ]})
    policy = compile_policy(text)
    assert [st.index for st in policy.candidates("s3")] == [0, 1, 2, 3]
    assert [st.index for st in policy.candidates("ec2")] == [1, 2, 3]
    assert [st.index for st in policy.candidates("lambda")] == [1, 2]


@pytest.mark.parametrize(("statement", "problem"), [
    ({"Effect": "allow", "Action": "*", "Resource": "*"}, "invalid Effect"),
    ({"Effect": "Allow", "Resource": "*"}, "missing or invalid Action"),
    ({"Effect": "Allow", "Action": 3, "Resource": "*"}, "missing or invalid Action"),
    ("not an object", "not an object"),
])
def test_unusable_statements_are_dropped_with_an_error(statement: object, problem: str) -> None:
    policy = compile_policy(json.dumps({"Statement": [statement, {"Effect": "Allow", "Action": "*"}]}))
    assert [st.index for st in policy.statements] == [1]
    assert any(problem in error for error in policy.errors)


def test_problems_inside_a_statement_are_recorded() -> None:
    policy = compile_policy(json.dumps({"Statement": {
        "Effect": "Allow", "Action": ["*:Get", "s3:GetObject"], "Resource": "*",
        "Principal": {"Weird": "x"}, "Condition": {"NoSuchOperator": {"k": "v"}},
    }}))
    (statement,) = policy.statements
    assert len(statement.errors) == 3
    assert statement.actions.exact == frozenset({"s3:getobject"})


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "", '"string"'])
def test_non_objects_raise(text: str) -> None:
    with pytest.raises(PolicySyntaxError):
        compile_policy(text)


def test_missing_statement_is_an_error() -> None:
    assert compile_policy('{"Version": "2012-10-17"}').errors == ("missing Statement",)
