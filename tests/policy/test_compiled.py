"""The fast roads give the same Decision as the reference ones: effect, denied_by, matched statements, missing
keys, per-type outcomes and reason, compared whole.

* ``evaluate`` (identity-only fast path, specialised statements) against ``evaluate_general`` (every policy type)
  and against ``evaluate_general(reference=True)`` (``statement.applies`` on every candidate): on every
  conformance case (skipped ones included: agreement does not depend on the expected answer) and on generated
  scenarios.
* The specialised pieces one by one: resource tests against ``ResourcePattern.state``, condition clauses
  against ``evaluate_clause``, ``make_request`` against ``Request``'s own derivations.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from tests.policy.helpers import ACCOUNT, USER, allow, deny, policy
from tests.policy.test_conformance import CASES, to_engine
from tests.policy.test_properties import scenarios
from turnout.policy import Decision, PolicySet, PolicyType, Request, compile_policy, evaluate, make_request
from turnout.policy.callers import account_of, principal_type_of
from turnout.policy.compiled import MAX_ACTIONS, condition_check, entries, resource_parts
from turnout.policy.conditions import evaluate_clause
from turnout.policy.conditions.fast import compile_clause
from turnout.policy.evaluate import evaluate_general
from turnout.policy.matching import ERROR, MATCH, ShortArn
from turnout.policy.model import IAM_USER, ContextInput

MEMBERS = {"IAMUser", "AssumedRole", "FederatedUser"}


def takes_fast_path(request: Request, policies: PolicySet) -> bool:
    return (request.principal_type in MEMBERS and policies.resource is None and policies.boundary is None
            and not policies.session and policies.scps is None and policies.rcps is None and not policies.endpoint
            and policies.resource_kind == "resource")


def lazy_copy(request: Request) -> Request:
    """The same request built by the constructor (its lower-cased context is derived on first use)."""
    return Request(request.principal_arn, request.principal_account, request.principal_type, request.action,
                   request.resource, request.resource_account, dict(request.context), request.principal_service,
                   request.role_arn)


def all_roads(request: Request, policies: PolicySet) -> list[Decision]:
    return [
        evaluate(request, policies),
        evaluate(lazy_copy(request), policies),
        evaluate_general(request, policies),
        evaluate_general(lazy_copy(request), policies, reference=True),
    ]


@pytest.mark.skipif(not CASES, reason="conformance vectors not found")
def test_every_road_agrees_on_the_corpus() -> None:
    fast = 0
    for case in CASES:
        request, policies = to_engine(dict(case))
        fast += takes_fast_path(request, policies)
        first, *others = all_roads(request, policies)
        for other in others:
            assert other == first, case["id"]
        again = evaluate(request, policies)  # the tables filled by the first call give the same answer
        assert again == first, case["id"]
    assert fast >= 200  # the fast path is really exercised (it covers most identity-policy cases)


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_every_road_agrees_on_generated_scenarios(scenario: dict[str, Any]) -> None:
    def compiled(statements: list[dict[str, Any]], name: str) -> Any:
        return compile_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}), policy_id=name)

    request = make_request(scenario["principal"], scenario["action"], scenario["resource"],
                           resource_account=scenario["resource_account"], context=scenario["context"])
    boundary, resource, scps = scenario["boundary"], scenario["resource_policy"], scenario["scps"]
    identity = [compiled(doc, f"identity/{i}") for i, doc in enumerate(scenario["identity"])]
    layered = PolicySet(
        identity=identity,
        resource=None if resource is None else compiled(resource, "resource"),
        resource_kind=scenario["resource_kind"],
        boundary=None if boundary is None else compiled(boundary, "boundary"),
        session=[compiled(doc, "session") for doc in scenario["session"]],
        scps=None if scps is None else [[compiled(doc, "scp") for doc in level] for level in scps],
    )
    for policies in (layered, PolicySet(identity=identity)):
        first, *others = all_roads(request, policies)
        for other in others:
            assert other == first


# --- the fast path's own cases -----------------------------------------------------------------------------------

def decide_both(principal: str, action: str, resource: str, policies: PolicySet,
                **keywords: Any) -> Decision:
    request = make_request(principal, action, resource, **keywords)
    assert takes_fast_path(request, policies)
    fast = evaluate(request, policies)
    assert fast == evaluate_general(request, policies, reference=True)
    return fast


def test_fast_path_outcomes() -> None:
    admin = PolicySet(identity=[policy(allow(), name="admin")])
    role = f"arn:aws:iam::{ACCOUNT}:role/r"
    assert decide_both(USER, "iam:GetRole", role, admin).allowed
    cross = decide_both(USER, "iam:GetRole", "arn:aws:iam::999999999999:role/r", admin)
    assert (cross.effect, cross.denied_by) == ("ImplicitDeny", PolicyType.RESOURCE)
    owned = decide_both(USER, "iam:DeletePolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess", admin)
    assert (owned.effect, owned.denied_by, owned.reason is not None) == ("ImplicitDeny", None, True)
    reserved = decide_both(USER, "iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso/x", admin)
    assert reserved.reason is not None
    alias = decide_both(USER, "kms:DeleteAlias", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/s3", admin)
    assert alias.reason is not None
    assert decide_both(USER, "iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess", admin,
                       resource_account=ACCOUNT).allowed
    assert decide_both(USER, "iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/x", admin).allowed
    assert decide_both(USER, "sts:GetCallerIdentity", "*", PolicySet()).reason is not None
    denied = PolicySet(identity=[policy(allow(), deny("iam:*", Condition={"Bool": {"aws:SecureTransport": "false"}}))])
    decision = decide_both(USER, "iam:GetRole", role, denied, context={"aws:SecureTransport": False})
    assert (decision.effect, decision.denied_by, len(decision.matched)) == ("ExplicitDeny", PolicyType.IDENTITY, 2)
    missing = decide_both(USER, "iam:GetRole", role, denied)
    assert missing.allowed and missing.missing_context_keys == ["aws:SecureTransport"]


def test_changing_a_policy_set_after_an_evaluation_is_seen() -> None:
    policies = PolicySet(identity=[policy(allow(), name="admin")])
    request = make_request(USER, "s3:GetObject", "arn:aws:s3:::b/k")
    assert evaluate(request, policies).allowed
    policies.boundary = policy(allow("ec2:*"), name="boundary")
    assert evaluate(request, policies).denied_by is PolicyType.BOUNDARY
    policies.boundary = None
    policies.identity = [policy(deny("s3:*"), name="deny")]
    assert evaluate(request, policies).effect == "ExplicitDeny"


def test_action_tables_start_over_when_full() -> None:
    compiled = policy(allow("s3:Get*"), deny("s3:GetObjectAcl"), name="many")
    for number in range(MAX_ACTIONS + 10):
        found = entries(compiled, PolicyType.IDENTITY, f"s3:getthing{number}")
        assert [m.statement_index for m, *_ in found] == [0]
    assert len(compiled.tables[PolicyType.IDENTITY]) <= MAX_ACTIONS
    assert [m.statement_index for m, *_ in entries(compiled, PolicyType.IDENTITY, "s3:getobjectacl")] == [0, 1]
    assert compiled.tables[PolicyType.IDENTITY] is compiled.identity_table


# --- resource tests ------------------------------------------------------------------------------------------------

PATTERNS = [
    "*", "arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/*", "arn:aws:iam::*:role/app", "arn:aws:s3:::*/key",
    "arn:aws:s3:::b?cket/*", "arn:aws:ec2:*:123456789012:*", "arn:aws:ec2:us-*:123456789012:instance/*",
    "arn:aws:s3", "arn:aws:s3:::", "arn:aws:s3:*", "arn:aws:iam::123456789012", "arn:aws:s3:us-east-1:1",
    "bucket*", "not-an-arn", "arn:aws:s3:::bucket/${aws:username}/*", "arn:aws:iam::*:role/a*b",
    "arn:aws:iam::123456789012:role/app*", "arn:aws:s3:::a*a",
]
RESOURCES = [
    "arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/alice/x", "arn:aws:s3:::other/key", "arn:aws:s3:::bucket",
    "arn:aws:iam::123456789012:role/app", "arn:aws:iam::123456789012:role/appx", "arn:aws:iam::1:2:role/app",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-1", "arn:aws:ec2:eu-west-1:123456789012:instance/i-1",
    "arn:aws:s3:us-east-1:1:x", "bucket-x", "not-an-arn", "*", "arn:aws:iam::123456789012:role/a-b",
    "arn:aws:iam::123456789012", "arn:aws:iam:::role/app", "arn:aws:s3:::bucket/", "arn:aws:s3:::a",
    "arn:aws:s3:::aa", "arn:aws:s3:::a/b:a",
]


@pytest.mark.parametrize("mode", list(ShortArn))
@pytest.mark.parametrize("negated", [False, True])
@pytest.mark.parametrize("patterns", [[p] for p in PATTERNS] + [PATTERNS[1:4], PATTERNS[8:11], PATTERNS[14:17]])
def test_resource_tests_agree_with_the_reference(mode: ShortArn, negated: bool, patterns: list[str]) -> None:
    element = "NotResource" if negated else "Resource"
    statement = policy({"Effect": "Allow", "Action": "*", element: patterns}).statements[0]
    assert statement.resources is not None
    parts = resource_parts(statement, mode)
    for resource in RESOURCES:
        request = make_request(USER, "s3:GetObject", resource, context={"aws:username": "alice"})
        state = _reference_state(statement.resources, resource, mode, request)
        expected = state != ERROR and (state == MATCH) != negated
        if parts is None:
            got = False
        else:
            test, dynamic = parts
            got = (test is None or bool(test(resource))) and (dynamic is None or dynamic(request))
        assert got == expected, (patterns, negated, mode, resource)


def _reference_state(patterns: Any, resource: str, mode: ShortArn, request: Request) -> int:
    """``statement._resources``: MATCH if any entry matches, else ERROR if any is an error, else NO_MATCH."""
    state = 0
    for pattern in patterns:
        found = pattern.state(resource, mode, request.values)
        if found == MATCH:
            return MATCH
        if found == ERROR:
            state = ERROR
    return state


# --- condition clauses -----------------------------------------------------------------------------------------

CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"k:Team": ["blue", "green"]}},
    {"StringNotEquals": {"k:Team": "blue"}},
    {"StringEqualsIgnoreCase": {"k:Team": "BLUE"}},
    {"StringNotEqualsIgnoreCase": {"k:team": ["Blue"]}},
    {"StringEqualsIfExists": {"k:Team": "blue"}},
    {"StringLike": {"k:Team": "bl*"}},
    {"StringNotLikeIfExists": {"k:Team": ["r?d", "gr*"]}},
    {"ForAllValues:StringEquals": {"k:Tags": ["a", "b"]}},
    {"ForAnyValue:StringEquals": {"k:Tags": ["a"]}},
    {"ForAnyValue:StringNotEquals": {"k:Tags": ["a"]}},
    {"ForAllValues:StringLike": {"k:Tags": "*"}},
    {"StringEquals": {"k:Tags": "a"}},
    {"StringEquals": {"k:Team": "${k:Other}"}},
    {"StringNotEquals": {"k:Team": "${k:Missing}"}},
    {"NumericLessThan": {"k:Count": "10"}},
    {"NumericNotEquals": {"k:Count": ["1", "2"]}},
    {"NumericEquals": {"k:Count": "x"}},
    {"DateGreaterThan": {"k:When": "2024-01-01T00:00:00Z"}},
    {"Bool": {"k:Flag": "true"}},
    {"BoolIfExists": {"k:Flag": "false"}},
    {"IpAddress": {"k:Ip": "10.0.0.0/8"}},
    {"NotIpAddress": {"k:Ip": ["10.0.0.0/8", "::1"]}},
    {"ArnLike": {"k:Arn": "arn:aws:iam::*:role/*"}},
    {"ArnNotEquals": {"k:Arn": "arn:aws:iam::1:role/a"}},
    {"Null": {"k:Team": "true"}},
    {"Null": {"k:Tags": "false"}},
    {"ForAllValues:Null": {"k:Team": ["true", "x"]}},
    {"BinaryEquals": {"k:Bin": "aGk="}},
    {"StringEquals": {"k:Team": "blue"}, "StringLike": {"k:Other": "*"}},
    {"StringEquals": {"k:Team": "blue"}, "Bogus": {"k:Other": "x"}},
    {"StringEquals": {"k:Team": "blue", "k:Other": "x"}, "Null": {"k:Gone": "true"}},
]
CONTEXTS: list[dict[str, Any]] = [
    {},
    {"k:team": "blue"},
    {"K:TEAM": "green", "k:other": "blue", "k:count": 5, "k:flag": True, "k:ip": "10.1.2.3"},
    {"k:Team": "red", "k:Tags": ["a", "b"], "k:When": "2025-06-01", "k:Arn": "arn:aws:iam::1:role/a"},
    {"k:Tags": [], "k:Count": "1.0", "k:Flag": "FALSE", "k:Ip": "::1", "k:Bin": "aGk="},
    {"k:Tags": ["c"], "k:Count": "nope", "k:When": "soon", "k:Ip": "bad", "k:Arn": "nope", "k:Other": ["x"]},
]


@pytest.mark.parametrize("effect", ["Allow", "Deny"])
@pytest.mark.parametrize("condition", CONDITIONS, ids=[json.dumps(c) for c in CONDITIONS])
def test_condition_checks_agree_with_the_reference(effect: str, condition: dict[str, Any]) -> None:
    statement = policy({"Effect": effect, "Action": "*", "Resource": "*", "Condition": condition}).statements[0]
    check = condition_check(statement)
    for context in CONTEXTS:
        eager = make_request(USER, "s3:GetObject", "*", context=context)
        lazy = Request(USER, ACCOUNT, IAM_USER, "s3:GetObject", "*", None, context)
        expected_missing: list[str] = []
        results = [evaluate_clause(clause, eager.values, expected_missing) if clause.error is None
                   else effect == "Deny" for clause in statement.conditions]
        expected = all(results)
        for request in (eager, lazy):
            missing: list[str] = []
            got = True if check is None else check(request, missing)
            assert (got, missing) == (expected, expected_missing), (condition, context)
        for clause in statement.conditions:
            if clause.error is None:
                one: list[str] = []
                assert compile_clause(clause)(lazy, one) == evaluate_clause(clause, lazy.values, [])


# --- requests ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("principal", [
    "arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:user/path/alice", "arn:aws:iam::1:user",
    "arn:aws:sts::123456789012:assumed-role/app/s1", "arn:aws-cn:sts::123456789012:assumed-role/app/s1",
    "arn:aws:iam::123456789012:assumed-role/app/s1", "arn:aws:iam::123456789012:role/team/app",
    "arn:aws:sts::123456789012:role/app", "arn:aws:sts::123456789012:federated-user/bob", "arn:aws:iam:::user/x",
    "arn:aws:iam::1", "arn:", "arn", "ecs.amazonaws.com", "", None, "arn:aws:iam::1:rootx", "arn:aws:iam::1:root/x",
])
@pytest.mark.parametrize("resource", ["arn:aws:s3:::b/k", "arn:aws:iam::123456789012:role/r", "*", "arn:a:b:c:d"])
def test_make_request_matches_the_constructor(principal: str | None, resource: str) -> None:
    context: dict[str, ContextInput] = {"IAM:PassedToService": "ecs.amazonaws.com",
                                        "aws:MultiFactorAuthPresent": True, "n": 3, "aws:TagKeys": ("a", "b")}
    built = make_request(principal, "IAM:PassRole", resource, context=context)
    kind = principal_type_of(principal)
    expected = Request(principal, account_of(principal), kind, "IAM:PassRole", resource, account_of(resource),
                       dict(context), principal if kind == "AWSService" else None)
    assert built == expected
    assert (built.action_lower, built.service) == (expected.action_lower, expected.service)
    assert built.values == expected.values
    assert built.context == context and built.context is not context
    given_role = make_request(principal, "s3:GetObject", resource, role_arn="arn:aws:iam::1:role/given",
                              resource_account="999")
    assert (given_role.resource_account, given_role.role_arn) == ("999", "arn:aws:iam::1:role/given")


def test_derived_request_fields_are_read_on_first_use_and_settable() -> None:
    session = "arn:aws:sts::123456789012:assumed-role/app/s1"
    request = make_request(session, "s3:GetObject", "arn:aws:s3:us-east-1:222222222222:b/k")
    assert (request.role_arn, request.resource_account) == ("arn:aws:iam::123456789012:role/app", "222222222222")
    request.role_arn, request.resource_account = "arn:aws:iam::123456789012:role/path/app", None
    assert (request.role_arn, request.resource_account) == ("arn:aws:iam::123456789012:role/path/app", None)
    direct = Request(session, ACCOUNT, "AssumedRole", "s3:GetObject", "*")
    assert direct.role_arn == "arn:aws:iam::123456789012:role/app" and direct.resource_account is None
    assert repr(direct).startswith(f"Request(principal_arn={session!r}, principal_account='123456789012', ")
    assert "role_arn='arn:aws:iam::123456789012:role/app'" in repr(direct)
    assert direct != make_request(session, "s3:GetObject", "*", resource_account="1")
    assert direct == make_request(session, "s3:GetObject", "*")  # "*" has no account
    assert Request(None, None, "Anonymous", "s3:GetObject", "*").role_arn is None


def test_an_explicit_deny_is_named_after_the_first_denying_type_in_aws_order() -> None:
    from turnout.policy.evaluate import _DENY_ORDER

    session = "arn:aws:sts::123456789012:assumed-role/app/s1"
    denying = policy(allow(), deny("s3:GetObject"), name="denying")
    denying_grant = policy({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                           {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})
    layers: dict[PolicyType, dict[str, Any]] = {
        PolicyType.SCP: {"scps": [[denying]]}, PolicyType.RCP: {"rcps": [[denying]]},
        PolicyType.ENDPOINT: {"endpoint": [denying]}, PolicyType.IDENTITY: {"identity": [denying]},
        PolicyType.RESOURCE: {"resource": denying_grant}, PolicyType.BOUNDARY: {"boundary": denying},
        PolicyType.SESSION: {"session": [denying]},
    }
    order = [policy_type for policy_type in _DENY_ORDER if policy_type in layers]
    request = make_request(session, "s3:GetObject", "arn:aws:s3:::b/k", resource_account=ACCOUNT)
    for first, earlier in enumerate(order):
        for later in order[first + 1:]:
            policies = PolicySet(**layers[earlier], **layers[later])
            for decision in (evaluate(request, policies), evaluate_general(request, policies, reference=True)):
                assert (decision.effect, decision.denied_by) == ("ExplicitDeny", earlier), (earlier, later)
