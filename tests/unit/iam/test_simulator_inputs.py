"""The simulator's input handling, function by function: ContextEntries of every type, the context keys of
policies, ARNs and owners, exclusions, the names of policies in MatchedStatements, action checks and paging."""

from __future__ import annotations

import json
from typing import Any

import pytest

from turnout.policy import compile_policy
from turnout.services.iam import simulator
from turnout.services.iam.simulator_context import (
    context_keys,
    context_values,
    entity,
    exclusions,
    missing_keys,
    owner_account,
)
from turnout.wire.errors import ServiceError


def entry(name: str, kind: str, *values: str) -> dict[str, Any]:
    return {"ContextKeyName": name, "ContextKeyType": kind, "ContextKeyValues": list(values)}


def invalid(excinfo: pytest.ExceptionInfo[ServiceError]) -> str:
    assert excinfo.value.code == "InvalidInput"
    assert excinfo.value.status == 400
    return str(excinfo.value.message)


# -- context entries -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "values", "expected"), [
    ("string", [" spaced "], " spaced "),
    ("stringList", ["a", "b", "a"], ["a", "b"]),
    ("numeric", ["42"], "42"),
    ("numeric", ["-1.5"], "-1.5"),
    ("numericList", ["1", "2.5"], ["1", "2.5"]),
    ("boolean", ["TRUE"], "true"),
    ("booleanList", ["false", "True"], ["false", "true"]),
    ("ip", ["203.0.113.7"], "203.0.113.7"),
    ("ip", ["2001:db8::1"], "2001:db8::1"),
    ("ipList", ["10.0.0.1", "10.0.0.2"], ["10.0.0.1", "10.0.0.2"]),
    ("binary", ["aGVsbG8="], "aGVsbG8="),
    ("binaryList", ["aGk=", "eW8="], ["aGk=", "eW8="]),
    ("date", ["2024-01-01T10:00:00Z"], "2024-01-01T10:00:00Z"),
    ("date", ["1700000000"], "1700000000"),
    ("dateList", ["2024-01-01", "2025"], ["2024-01-01", "2025"]),
    ("stringList", [], []),
])
def test_context_values_of_every_type(kind: str, values: list[str], expected: Any) -> None:
    assert context_values([entry("svc:Key", kind, *values)]) == {"svc:Key": expected}


@pytest.mark.parametrize(("kind", "values"), [
    ("numeric", ["ten"]), ("numeric", ["1e5x"]), ("boolean", ["1"]), ("ip", ["10.0.0.0/8"]), ("ip", ["host"]),
    ("binary", ["not base64!"]), ("date", ["2024-13-45"]), ("date", ["tomorrow"]), ("booleanList", ["true", "no"]),
])
def test_values_that_do_not_fit_their_type(kind: str, values: list[str]) -> None:
    with pytest.raises(ServiceError) as excinfo:
        context_values([entry("svc:Key", kind, *values)])
    base = kind.removesuffix("List")
    bad = next(v for v in values if v not in ("true",))
    assert invalid(excinfo) == f"Invalid value '{bad}' for context key svc:Key of type {base}."


def test_single_valued_types_take_one_value() -> None:
    for values in ([], ["a", "b"]):
        with pytest.raises(ServiceError) as excinfo:
            context_values([entry("svc:Key", "string", *values)])
        assert invalid(excinfo) == "The context key svc:Key of type string takes exactly one value."


def test_entries_need_a_name_and_a_type_and_are_unique() -> None:
    with pytest.raises(ServiceError) as excinfo:
        context_values([{"ContextKeyType": "string", "ContextKeyValues": ["a"]}])
    assert invalid(excinfo) == "Each context entry must include a ContextKeyName."
    with pytest.raises(ServiceError) as excinfo:
        context_values([{"ContextKeyName": "svc:Key", "ContextKeyValues": ["a"]}])
    assert invalid(excinfo) == "The context entry svc:Key must include a ContextKeyType."
    with pytest.raises(ServiceError) as excinfo:
        context_values([entry("svc:Key", "string", "a"), entry("SVC:key", "string", "b")])
    assert invalid(excinfo) == "Duplicate context key: SVC:key."


# -- context keys ------------------------------------------------------------------------------------------------


def test_context_keys_in_document_order_with_variables() -> None:
    policy = compile_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/${aws:userid}/*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {
            "Null": {"aws:MultiFactorAuthAge": "true"},
            "StringNotEquals": {"aws:RequestedRegion": ["${aws:PrincipalTag/home, 'us-east-1'}", "${*}"]},
            "DateGreaterThan": {"aws:CurrentTime": "${aws:TokenIssueTime}"},  # Date operators take no variables
        }},
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*", "Condition": {
            "StringEquals": {"AWS:REQUESTEDREGION": "eu-west-1", "aws:USERID": "x"}}},
    ]}))
    assert context_keys([policy]) == ["aws:userid", "aws:MultiFactorAuthAge", "aws:RequestedRegion",
                                      "aws:PrincipalTag/home", "aws:CurrentTime"]


def test_missing_keys_ignore_case() -> None:
    assert missing_keys(["iam:PassedToService", "aws:SourceIp"], {"IAM:passedtoservice": "x"}) == ["aws:SourceIp"]


# -- ARNs, owners, exclusions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("arn", "expected"), [
    ("arn:aws:iam::000000000000:user/alice", ("user", "alice")),
    ("arn:aws:iam::000000000000:user/team/a/alice", ("user", "alice")),
    ("arn:aws:iam::000000000000:group/devs", ("group", "devs")),
    ("arn:aws:iam::000000000000:role/service-role/app", ("role", "app")),
    ("arn:aws:sts::000000000000:assumed-role/app/session", None),
    ("arn:aws:iam::000000000000:root", None),
    ("arn:aws:iam::000000000000:policy/p", None),
    ("arn:aws:iam::000000000000:user/", None),
    ("arn:aws:iam:us-east-1:000000000000:user/alice", None),
    ("user/alice", None),
])
def test_entities(arn: str, expected: tuple[str, str] | None) -> None:
    found = entity(arn)
    assert (None if found is None else (found.kind, found.name)) == expected


def test_resource_owner_forms() -> None:
    assert owner_account(None) is None
    assert owner_account("123456789012") == "123456789012"
    assert owner_account("arn:aws:iam::123456789012:root") == "123456789012"
    for bad in ("1234-5678-9012", "arn:aws:iam::123456789012:user/x", "12345"):
        with pytest.raises(ServiceError) as excinfo:
            owner_account(bad)
        assert invalid(excinfo) == f"'{bad}' is not a valid as a Resource Owner."


def test_exclusions_match_by_type_arn_and_inline_identifier() -> None:
    user = "arn:aws:iam::000000000000:user/alice"
    group = "arn:aws:iam::000000000000:group/dev-team"
    by_type = exclusions([{"PolicyType": "aws-managed"}])
    assert by_type.excludes("arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert not by_type.excludes("arn:aws:iam::000000000000:policy/mine")
    assert not by_type.excludes(f"{user}#inline")
    assert exclusions([{"PolicyType": "inline"}]).excludes(f"{user}#inline")
    assert exclusions([{"PolicyType": "user-managed"}]).excludes("arn:aws:iam::000000000000:policy/mine")
    by_arn = exclusions([{"PolicyArn": "arn:aws:iam::000000000000:policy/team/*-ro?"}])
    assert by_arn.excludes("arn:aws:iam::000000000000:policy/team/s3-ro1")
    assert not by_arn.excludes("arn:aws:iam::000000000000:policy/team/s3-ro")
    inline = exclusions([{"InlinePolicyIdentifier": {"PolicyName": "p", "AttachmentType": "group",
                                                     "AttachmentName": "dev-*"}}])
    assert inline.excludes(f"{group}#p")
    assert not inline.excludes(f"{group}#q")
    assert not inline.excludes(f"{user}#p")
    boundary = exclusions([{"PolicyType": "permission-boundary"}])
    assert boundary.excludes("arn:aws:iam::000000000000:policy/b", boundary=True)
    assert not boundary.excludes("arn:aws:iam::000000000000:policy/b")
    assert not exclusions([{"PolicyType": "scp"}, {"PolicyType": "rcp"}]).excludes(f"{user}#inline")


@pytest.mark.parametrize(("identifier", "message"), [
    ({}, "Each PolicyIdentifier must specify exactly one of PolicyType, PolicyArn, or InlinePolicyIdentifier."),
    ({"PolicyType": "inline", "PolicyArn": "arn:aws:iam::aws:policy/X"},
     "Each PolicyIdentifier must specify exactly one of PolicyType, PolicyArn, or InlinePolicyIdentifier."),
    ({"PolicyArn": "arn:aws:iam::aws:policy/*Read*"}, "Invalid PolicyArn in PolicyExclusionList: "
                                                      "arn:aws:iam::aws:policy/*Read*."),
    ({"PolicyArn": "arn:aws:iam::*:policy/x"}, "Invalid PolicyArn in PolicyExclusionList: arn:aws:iam::*:policy/x."),
    ({"PolicyArn": "arn:aws:iam::000000000000:role/x"},
     "Invalid PolicyArn in PolicyExclusionList: arn:aws:iam::000000000000:role/x."),
    ({"InlinePolicyIdentifier": {"PolicyName": "p", "AttachmentType": "user", "AttachmentName": "*a*"}},
     "Invalid AttachmentName in PolicyExclusionList: *a*."),
])
def test_bad_exclusions(identifier: dict[str, Any], message: str) -> None:
    with pytest.raises(ServiceError) as excinfo:
        exclusions([identifier])
    assert invalid(excinfo) == message


# -- shaping and checks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("policy_id", "expected"), [
    ("arn:aws:iam::000000000000:user/team/alice#read", "user_alice_read"),
    ("arn:aws:iam::000000000000:group/devs#g", "group_devs_g"),
    ("arn:aws:iam::000000000000:role/service-role/app#inline-1", "role_app_inline-1"),
    ("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "ViewOnlyAccess"),
    ("arn:aws:iam::000000000000:policy/path/mine", "mine"),
    ("PolicyInputList.2", "PolicyInputList.2"),
    ("ResourcePolicy", "ResourcePolicy"),
])
def test_source_policy_ids(policy_id: str, expected: str) -> None:
    assert simulator.source_policy_id(policy_id) == expected


@pytest.mark.parametrize(("action", "resources", "expected"), [
    ("iam:PassRole", ["*"], "*"),
    ("iam:PassRole", ["arn:aws:iam::000000000000:role/r"], "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"),
    ("iam:GetUser", ["arn:aws:iam::000000000000:user/u"], "arn:${Partition}:iam::${Account}:user/${UserNameWithPath}"),
    ("iam:ListRoles", ["arn:aws:iam::000000000000:role/r"], "*"),  # no resource type: "*"
    ("s3:GetObject", ["arn:aws:s3:::b/k"], "arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
    ("lambda:InvokeFunction", ["arn:aws:lambda:us-east-1:000000000000:function:f"], "*"),  # a service Turnout's
    # reference does not hold
    ("ec2:RunInstances", ["arn:aws:ec2:us-east-1::image/ami-1", "*"],
     "arn:${Partition}:ec2:${Region}::image/${ImageId}"),
])
def test_resource_names(action: str, resources: list[str], expected: str) -> None:
    assert simulator._resource_name(action, resources) == expected


@pytest.mark.parametrize(("name", "message"), [
    ("PassRole", "Invalid action name: PassRole. An action name must include its service prefix."),
    ("iam:", "Invalid action name: iam:. An action name must include its service prefix."),
    ("iam:Get*", "Invalid action name: iam:Get*. Action names cannot contain wildcards."),
    ("iam:GetRol?", "Invalid action name: iam:GetRol?. Action names cannot contain wildcards."),
])
def test_action_names(name: str, message: str) -> None:
    with pytest.raises(ServiceError) as excinfo:
        simulator._actions([name])
    assert invalid(excinfo) == message


def test_pages() -> None:
    assert simulator._page({}, 250) == (0, 100)
    assert simulator._page({"MaxItems": 10}, 5) == (0, 5)
    for bad in ("not a marker", "MTAwMA==", "MA=="):  # "1000" (past the end), "0" (never handed out)
        with pytest.raises(ServiceError) as excinfo:
            simulator._page({"Marker": bad}, 20)
        assert invalid(excinfo) == "Invalid Marker."
    assert simulator._page({"Marker": "Mw==", "MaxItems": 2}, 20) == (3, 5)  # "3"
