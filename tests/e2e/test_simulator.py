"""The IAM policy simulator end to end with boto3: the seed's iam:PassRole policy simulated with SimulateCustomPolicy
and with SimulatePrincipalPolicy on a user, explicit denies with their statements' positions, boundaries, several
resources, resource policies, SCPs, pagination, the context-key operations and the errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, grant

ACCOUNT = "000000000000"
OTHER = "123456789012"
INFRA = f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers"
ROLE_TEMPLATE = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"
# The seed's policy, as the seed prints it (one line per JSON line of the seed).
SEED_PASS_ROLE = (
    '{ "Version": "2012-10-17", "Statement": [ { "Action": "iam:PassRole", "Effect": "Allow",\n'
    '  "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],\n'
    '  "Condition": { "StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"} } } ] }'
)
SEED_START = {"Line": 1, "Column": 43}
SEED_END = {"Line": 3, "Column": 81}
# An Allow on line 4 and a Deny spanning lines 5 to 11.
WITH_DENY = (
    '{\n'
    '  "Version": "2012-10-17",\n'
    '  "Statement": [\n'
    '    {"Sid": "AllowAll", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},\n'
    '    {\n'
    '      "Sid": "NoPassToEc2",\n'
    '      "Effect": "Deny",\n'
    '      "Action": "iam:PassRole",\n'
    '      "Resource": "*",\n'
    '      "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}\n'
    '    }\n'
    '  ]\n'
    '}'
)
ALLOW_ALL = {"Line": 4, "Column": 5}, {"Line": 4, "Column": 78}
DENY_EC2 = {"Line": 5, "Column": 5}, {"Line": 11, "Column": 5}


def passed_to(service: str) -> list[dict[str, Any]]:
    return [{"ContextKeyName": "iam:PassedToService", "ContextKeyValues": [service], "ContextKeyType": "string"}]


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = excinfo.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def only(response: dict[str, Any]) -> dict[str, Any]:
    results = response["EvaluationResults"]
    assert len(results) == 1
    assert response["IsTruncated"] is False
    result: dict[str, Any] = results[0]
    return result


@pytest.fixture
def seed_user(iam: Any, unique: Callable[[str], str]) -> str:
    """A user holding the seed's PassRole policy inline; returns its ARN."""
    name = unique("deployer")
    arn: str = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="pass-infra", PolicyDocument=SEED_PASS_ROLE)
    return arn


# -- the seed's PassRole policy ---------------------------------------------------------------------------------


def test_custom_policy_allows_passing_the_role_to_ecs(iam: Any) -> None:
    result = only(iam.simulate_custom_policy(
        PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:PassRole"], ResourceArns=[INFRA],
        ContextEntries=passed_to("ecs.amazonaws.com"),
    ))
    statement = {"SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "IAM Policy",
                 "StartPosition": SEED_START, "EndPosition": SEED_END}
    assert result == {
        "EvalActionName": "iam:PassRole",
        "EvalResourceName": ROLE_TEMPLATE,
        "EvalDecision": "allowed",
        "MatchedStatements": [statement],
        "MissingContextValues": [],
        "EvalDecisionDetails": {},
        "ResourceSpecificResults": [{
            "EvalResourceName": INFRA,
            "EvalResourceDecision": "allowed",
            "MatchedStatements": [statement],
            "MissingContextValues": [],
            "EvalDecisionDetails": {},
        }],
    }


def test_custom_policy_denies_passing_the_role_to_ec2(iam: Any) -> None:
    result = only(iam.simulate_custom_policy(
        PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:PassRole"], ResourceArns=[INFRA],
        ContextEntries=passed_to("ec2.amazonaws.com"),
    ))
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MatchedStatements"] == []
    assert result["MissingContextValues"] == []
    assert result["ResourceSpecificResults"][0]["EvalResourceDecision"] == "implicitDeny"


def test_custom_policy_without_the_key_reports_it_missing(iam: Any) -> None:
    result = only(iam.simulate_custom_policy(PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:PassRole"],
                                             ResourceArns=[INFRA]))
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["iam:PassedToService"]
    assert result["ResourceSpecificResults"][0]["MissingContextValues"] == ["iam:PassedToService"]


def test_custom_policy_on_every_resource(iam: Any) -> None:
    result = only(iam.simulate_custom_policy(PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:PassRole"],
                                             ContextEntries=passed_to("ecs.amazonaws.com")))
    # On "*" (no ResourceArns) the role pattern does not match: nothing to report per resource.
    assert result == {"EvalActionName": "iam:PassRole", "EvalResourceName": "*", "EvalDecision": "implicitDeny",
                      "MatchedStatements": [], "MissingContextValues": []}


@pytest.mark.parametrize(("service", "decision"), [("ecs.amazonaws.com", "allowed"),
                                                    ("ec2.amazonaws.com", "implicitDeny")])
def test_principal_policy_of_a_user_with_the_seed_policy(iam: Any, seed_user: str, service: str,
                                                         decision: str) -> None:
    result = only(iam.simulate_principal_policy(PolicySourceArn=seed_user, ActionNames=["iam:PassRole"],
                                                ResourceArns=[INFRA], ContextEntries=passed_to(service)))
    assert result["EvalDecision"] == decision
    assert result["ResourceSpecificResults"][0]["EvalResourceDecision"] == decision
    if decision == "allowed":
        name = seed_user.rsplit("/", 1)[-1]
        assert result["MatchedStatements"] == [{
            "SourcePolicyId": f"user_{name}_pass-infra", "SourcePolicyType": "IAM Policy",
            "StartPosition": SEED_START, "EndPosition": SEED_END,
        }]
    else:
        assert result["MatchedStatements"] == []


def test_principal_policy_without_the_key(iam: Any, seed_user: str) -> None:
    result = only(iam.simulate_principal_policy(PolicySourceArn=seed_user, ActionNames=["iam:PassRole"],
                                                ResourceArns=[INFRA]))
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["iam:PassedToService"]


def test_principal_policy_includes_group_and_managed_policies(iam: Any, unique: Callable[[str], str]) -> None:
    user, group = unique("member"), unique("team")
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(GroupName=group, PolicyName="seed", PolicyDocument=SEED_PASS_ROLE)
    policy_name = unique("describe")
    policy = iam.create_policy(PolicyName=policy_name, PolicyDocument=doc(allow("ec2:DescribeVpcs")))["Policy"]
    iam.attach_user_policy(UserName=user, PolicyArn=policy["Arn"])
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    response = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["iam:PassRole", "ec2:DescribeVpcs", "iam:GetRole", "iam:DeleteRole"],
        ResourceArns=[INFRA], ContextEntries=passed_to("ecs.amazonaws.com"),
    )
    results = {r["EvalActionName"]: r for r in response["EvaluationResults"]}
    assert [r["EvalActionName"] for r in response["EvaluationResults"]] == [
        "iam:PassRole", "ec2:DescribeVpcs", "iam:GetRole", "iam:DeleteRole"]
    assert results["iam:PassRole"]["MatchedStatements"][0]["SourcePolicyId"] == f"group_{group}_seed"
    assert results["ec2:DescribeVpcs"]["MatchedStatements"][0]["SourcePolicyId"] == policy_name
    assert results["iam:GetRole"]["MatchedStatements"][0]["SourcePolicyId"] == "IAMReadOnlyAccess"
    assert [r["EvalDecision"] for r in response["EvaluationResults"]] == [
        "allowed", "allowed", "allowed", "implicitDeny"]


# -- explicit denies and boundaries -----------------------------------------------------------------------------


def test_explicit_deny_reports_the_deny_statement_only(iam: Any) -> None:
    result = only(iam.simulate_custom_policy(PolicyInputList=[WITH_DENY], ActionNames=["iam:PassRole"],
                                             ContextEntries=passed_to("ec2.amazonaws.com")))
    assert result["EvalDecision"] == "explicitDeny"
    assert result["MatchedStatements"] == [{
        "SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "IAM Policy",
        "StartPosition": DENY_EC2[0], "EndPosition": DENY_EC2[1],
    }]
    allowed = only(iam.simulate_custom_policy(PolicyInputList=[WITH_DENY], ActionNames=["iam:PassRole"],
                                              ContextEntries=passed_to("ecs.amazonaws.com")))
    assert allowed["EvalDecision"] == "allowed"
    assert allowed["MatchedStatements"] == [{
        "SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "IAM Policy",
        "StartPosition": ALLOW_ALL[0], "EndPosition": ALLOW_ALL[1],
    }]


def test_explicit_deny_in_a_principal_policy(iam: Any, seed_user: str) -> None:
    name = seed_user.rsplit("/", 1)[-1]
    iam.put_user_policy(UserName=name, PolicyName="guard", PolicyDocument=WITH_DENY)
    result = only(iam.simulate_principal_policy(PolicySourceArn=seed_user, ActionNames=["iam:PassRole"],
                                                ResourceArns=[INFRA], ContextEntries=passed_to("ec2.amazonaws.com")))
    assert result["EvalDecision"] == "explicitDeny"
    assert result["MatchedStatements"] == [{
        "SourcePolicyId": f"user_{name}_guard", "SourcePolicyType": "IAM Policy",
        "StartPosition": DENY_EC2[0], "EndPosition": DENY_EC2[1],
    }]


def test_boundary_of_the_user_limits_the_grant(iam: Any, seed_user: str, unique: Callable[[str], str]) -> None:
    name = seed_user.rsplit("/", 1)[-1]
    boundary = iam.create_policy(PolicyName=unique("boundary"),
                                 PolicyDocument=doc(allow("iam:Get*")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    result = only(iam.simulate_principal_policy(PolicySourceArn=seed_user, ActionNames=["iam:PassRole"],
                                                ResourceArns=[INFRA], ContextEntries=passed_to("ecs.amazonaws.com")))
    assert result["EvalDecision"] == "implicitDeny"
    assert result["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert result["ResourceSpecificResults"][0]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False}
    # PermissionsBoundaryPolicyInputList overrides the user's boundary.
    widened = only(iam.simulate_principal_policy(
        PolicySourceArn=seed_user, ActionNames=["iam:PassRole"], ResourceArns=[INFRA],
        ContextEntries=passed_to("ecs.amazonaws.com"), PermissionsBoundaryPolicyInputList=[doc(allow("iam:*"))],
    ))
    assert widened["EvalDecision"] == "allowed"
    assert widened["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert {s["SourcePolicyId"] for s in widened["MatchedStatements"]} == {
        f"user_{name}_pass-infra", "PermissionsBoundaryPolicyInputList.1"}


def test_custom_policy_with_a_boundary(iam: Any) -> None:
    result = only(iam.simulate_custom_policy(
        PolicyInputList=[SEED_PASS_ROLE], PermissionsBoundaryPolicyInputList=[doc(allow("ecs:*"))],
        ActionNames=["iam:PassRole"], ResourceArns=[INFRA], ContextEntries=passed_to("ecs.amazonaws.com"),
    ))
    assert result["EvalDecision"] == "implicitDeny"
    assert result["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}


# -- several resources, resource policies, SCPs -----------------------------------------------------------------


def test_several_resources_give_one_result_per_resource(iam: Any) -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/someOtherRole"
    result = only(iam.simulate_custom_policy(
        PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:PassRole"], ResourceArns=[INFRA, other],
        ContextEntries=passed_to("ecs.amazonaws.com"),
    ))
    assert result["EvalResourceName"] == ROLE_TEMPLATE
    assert result["EvalDecision"] == "implicitDeny"  # the most restrictive of the two
    assert [(r["EvalResourceName"], r["EvalResourceDecision"]) for r in result["ResourceSpecificResults"]] == [
        (INFRA, "allowed"), (other, "implicitDeny")]
    assert result["ResourceSpecificResults"][1]["MatchedStatements"] == []
    assert result["MatchedStatements"] == result["ResourceSpecificResults"][0]["MatchedStatements"]


def test_resource_policy_grants_to_the_caller(iam: Any) -> None:
    caller = f"arn:aws:iam::{ACCOUNT}:user/reader"
    bucket = "arn:aws:s3:::reports/q1.csv"
    resource_policy = doc({"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::reports/*"})
    result = only(iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("ec2:DescribeVpcs"))], ResourcePolicy=resource_policy, CallerArn=caller,
        ActionNames=["s3:GetObject"], ResourceArns=[bucket],
    ))
    assert result["EvalDecision"] == "allowed"
    assert result["MatchedStatements"] == [{
        "SourcePolicyId": "ResourcePolicy", "SourcePolicyType": "Resource Policy",
        "StartPosition": {"Line": 1, "Column": 41}, "EndPosition": {"Line": 1, "Column": len(resource_policy) - 2},
    }]
    assert result["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}
    # Cross account: the bucket belongs to another account, so the caller's own policies must allow too.
    cross = only(iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("ec2:DescribeVpcs"))], ResourcePolicy=resource_policy, CallerArn=caller,
        ResourceOwner=f"arn:aws:iam::{OTHER}:root", ActionNames=["s3:GetObject"], ResourceArns=[bucket],
    ))
    assert cross["EvalDecision"] == "implicitDeny"
    assert cross["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}


def test_resource_policy_needs_a_user_as_caller(iam: Any, unique: Callable[[str], str]) -> None:
    policy = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ResourcePolicy=policy,
                                   ActionNames=["s3:GetObject"])
    assert error(excinfo) == ("InvalidInput", "Invalid caller - Caller must be an IAM user in this context.", 400)
    role = iam.create_role(RoleName=unique("sim-role"), AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}))["Role"]
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_principal_policy(PolicySourceArn=role["Arn"], ResourcePolicy=policy,
                                      ActionNames=["s3:GetObject"])
    assert error(excinfo) == ("InvalidInput", "Invalid caller - Caller must be an IAM user in this context.", 400)


def test_service_control_policies(iam: Any) -> None:
    root_level = [doc(allow("*"))]
    account_level = [doc(allow("iam:*"), {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"})]
    response = iam.simulate_custom_policy(
        PolicyInputList=[SEED_PASS_ROLE, doc(allow(["iam:GetRole", "ec2:DescribeVpcs"]))],
        OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": root_level},
                                            {"ServiceControlPolicyInputList": account_level}],
        ActionNames=["iam:PassRole", "iam:GetRole", "ec2:DescribeVpcs"],
        ContextEntries=passed_to("ecs.amazonaws.com"), ResourceArns=[INFRA],
    )
    passrole, getrole, describe = response["EvaluationResults"]
    assert passrole["EvalDecision"] == "explicitDeny"
    assert passrole["MatchedStatements"] == []  # SCP statements are never listed
    assert passrole["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    assert "EvalDecisionDetails" not in passrole
    assert getrole["EvalDecision"] == "allowed"
    assert getrole["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert describe["EvalDecision"] == "implicitDeny"  # the account level allows IAM only
    assert describe["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}


# -- pagination -------------------------------------------------------------------------------------------------


ACTIONS = ["iam:GetRole", "iam:ListRoles", "iam:PassRole", "iam:CreateRole", "iam:DeleteRole", "iam:TagRole",
           "ec2:DescribeVpcs"]


def test_pagination_walks_every_result_once(iam: Any, seed_user: str) -> None:
    seen: list[str] = []
    marker: str | None = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"PolicySourceArn": seed_user, "ActionNames": ACTIONS, "MaxItems": 3}
        if marker:
            kwargs["Marker"] = marker
        response = iam.simulate_principal_policy(**kwargs)
        pages += 1
        seen.extend(r["EvalActionName"] for r in response["EvaluationResults"])
        assert len(response["EvaluationResults"]) <= 3
        if not response["IsTruncated"]:
            assert "Marker" not in response
            break
        marker = response["Marker"]
    assert pages == 3
    assert seen == ACTIONS
    paginated = iam.get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[SEED_PASS_ROLE], ActionNames=ACTIONS, PaginationConfig={"PageSize": 2})
    assert [r["EvalActionName"] for page in paginated for r in page["EvaluationResults"]] == ACTIONS


def test_bad_marker(iam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[SEED_PASS_ROLE], ActionNames=ACTIONS, Marker="not-a-marker")
    assert error(excinfo) == ("InvalidInput", "Invalid Marker.", 400)


# -- context keys -----------------------------------------------------------------------------------------------


def test_context_keys_for_custom_policy(iam: Any) -> None:
    policy = doc(
        allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"),
        allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"},
                                              "Bool": {"aws:SecureTransport": "true"}}),
        allow("iam:GetRole", "*", Condition={"StringLike": {"IAM:passedtoservice": "e*",
                                                            "aws:PrincipalTag/team": "${aws:PrincipalTag/lead}"}}),
    )
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[policy, SEED_PASS_ROLE])["ContextKeyNames"]
    assert keys == ["aws:username", "iam:PassedToService", "aws:SecureTransport", "aws:PrincipalTag/team",
                    "aws:PrincipalTag/lead"]


def test_context_keys_for_principal_policy(iam: Any, seed_user: str) -> None:
    extra = doc(allow("ec2:RunInstances", "*", Condition={"StringEquals": {"ec2:Region": "us-east-1"}}))
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=seed_user, PolicyInputList=[extra])
    assert keys["ContextKeyNames"] == ["iam:PassedToService", "ec2:Region"]


# -- context entries of every type ------------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "key", "kind", "values", "policy_value", "decision"), [
    ("NumericLessThan", "aws:MultiFactorAuthAge", "numeric", ["300"], "3600", "allowed"),
    ("NumericLessThan", "aws:MultiFactorAuthAge", "numeric", ["7200"], "3600", "implicitDeny"),
    ("Bool", "aws:SecureTransport", "boolean", ["TRUE"], "true", "allowed"),
    ("IpAddress", "aws:SourceIp", "ip", ["203.0.113.9"], "203.0.113.0/24", "allowed"),
    ("IpAddress", "aws:SourceIp", "ip", ["198.51.100.1"], "203.0.113.0/24", "implicitDeny"),
    ("DateGreaterThan", "aws:CurrentTime", "date", ["2030-01-01T00:00:00Z"], "2025-01-01T00:00:00Z", "allowed"),
    ("DateGreaterThan", "aws:CurrentTime", "date", ["2020-01-01T00:00:00Z"], "2025-01-01T00:00:00Z", "implicitDeny"),
    ("BinaryEquals", "custom:Blob", "binary", ["aGVsbG8="], "aGVsbG8=", "allowed"),
    ("ForAnyValue:StringEquals", "aws:TagKeys", "stringList", ["env", "team"], "team", "allowed"),
    ("ForAllValues:StringEquals", "aws:TagKeys", "stringList", ["env", "team"], "team", "implicitDeny"),
    ("ForAnyValue:NumericEquals", "custom:Sizes", "numericList", ["1", "2"], "2", "allowed"),
    ("ForAnyValue:IpAddress", "custom:Hops", "ipList", ["10.0.0.1", "192.0.2.1"], "192.0.2.0/24", "allowed"),
])
def test_context_entries_of_every_type(iam: Any, operator: str, key: str, kind: str, values: list[str],
                                       policy_value: str, decision: str) -> None:
    policy = doc(allow("ec2:DescribeVpcs", "*", Condition={operator: {key: policy_value}}))
    result = only(iam.simulate_custom_policy(
        PolicyInputList=[policy], ActionNames=["ec2:DescribeVpcs"],
        ContextEntries=[{"ContextKeyName": key, "ContextKeyValues": values, "ContextKeyType": kind}],
    ))
    assert result["EvalDecision"] == decision
    assert result["MissingContextValues"] == []


@pytest.mark.parametrize(("kind", "values"), [("numeric", ["abc"]), ("boolean", ["yes"]), ("ip", ["300.1.1.1"]),
                                              ("date", ["yesterday"]), ("binary", ["***"]),
                                              ("numericList", ["1", "x"]), ("string", ["a", "b"])])
def test_invalid_context_values(iam: Any, kind: str, values: list[str]) -> None:
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:PassRole"], ContextEntries=[
            {"ContextKeyName": "custom:Key", "ContextKeyValues": values, "ContextKeyType": kind}])
    code, message, status = error(excinfo)
    assert (code, status) == ("InvalidInput", 400)
    assert "custom:Key" in message


# -- errors -----------------------------------------------------------------------------------------------------


def test_unknown_entities(iam: Any) -> None:
    for kind in ("user", "group", "role"):
        with pytest.raises(ClientError) as excinfo:
            iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:{kind}/nobody-here",
                                          ActionNames=["iam:GetRole"])
        assert error(excinfo) == ("NoSuchEntity", f"The {kind} with name nobody-here cannot be found.", 404)
    with pytest.raises(ClientError) as excinfo:
        iam.get_context_keys_for_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody-here")
    assert error(excinfo) == ("NoSuchEntity", "The user with name nobody-here cannot be found.", 404)


def test_source_that_is_not_an_entity(iam: Any) -> None:
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session-1"
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_principal_policy(PolicySourceArn=session, ActionNames=["iam:GetRole"])
    assert error(excinfo) == (
        "InvalidInput", f"Invalid Entity Arn: {session} does not clearly define entity type and name.", 400)


def test_malformed_policies(iam: Any, seed_user: str) -> None:
    cases = [
        ('{"Version": "2012-10-17", "Statement": [', "Syntax errors in policy."),
        (doc({"Effect": "Allow", "Action": "iam:PassRole"}), "Policy statement must contain resources."),
        (doc({"Effect": "Permit", "Action": "iam:PassRole", "Resource": "*"}), "Invalid effect: Permit"),
    ]
    for document, message in cases:
        with pytest.raises(ClientError) as excinfo:
            iam.simulate_custom_policy(PolicyInputList=[document], ActionNames=["iam:PassRole"])
        assert error(excinfo) == ("MalformedPolicyDocument", message, 400)
        with pytest.raises(ClientError) as excinfo:
            iam.simulate_principal_policy(PolicySourceArn=seed_user, PolicyInputList=[document],
                                          ActionNames=["iam:PassRole"])
        assert error(excinfo) == ("MalformedPolicyDocument", message, 400)
    with pytest.raises(ClientError) as excinfo:
        iam.get_context_keys_for_custom_policy(PolicyInputList=["not json"])
    assert error(excinfo) == ("MalformedPolicyDocument", "Syntax errors in policy.", 400)


def test_bad_resource_owner_and_caller(iam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:PassRole"],
                                   ResourceOwner="not-an-account")
    assert error(excinfo) == ("InvalidInput", "'not-an-account' is not a valid as a Resource Owner.", 400)
    caller = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:PassRole"], CallerArn=caller)
    assert error(excinfo) == (
        "InvalidInput", f"Invalid Entity Arn: {caller} does not clearly define entity type and name.", 400)


def test_wildcard_action_names_are_refused(iam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[SEED_PASS_ROLE], ActionNames=["iam:*"])
    assert error(excinfo) == ("InvalidInput", "Invalid action name: iam:*. Action names cannot contain wildcards.",
                              400)


# -- who may simulate -------------------------------------------------------------------------------------------


def test_a_user_needs_permission_to_simulate(server: Server, iam: Any, seed_user: str,
                                             unique: Callable[[str], str]) -> None:
    name = unique("auditor")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    auditor = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError) as excinfo:
        auditor.simulate_principal_policy(PolicySourceArn=seed_user, ActionNames=["iam:PassRole"])
    code, message, status = error(excinfo)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: "
                       f"iam:SimulatePrincipalPolicy on resource: user {seed_user.rsplit('/', 1)[-1]} because no "
                       "identity-based policy allows the iam:SimulatePrincipalPolicy action")
    grant(iam, ["iam:SimulatePrincipalPolicy"], user=name)
    result = only(auditor.simulate_principal_policy(PolicySourceArn=seed_user, ActionNames=["iam:PassRole"],
                                                    ResourceArns=[INFRA],
                                                    ContextEntries=passed_to("ecs.amazonaws.com")))
    assert result["EvalDecision"] == "allowed"


def test_a_source_of_another_account_is_invalid_input_whoever_asks(server: Server, iam: Any,
                                                                   unique: Callable[[str], str]) -> None:
    """IAM answers InvalidInput before it authorizes the call: the root user and a user without any permission
    get the same answer."""
    foreign = "arn:aws:iam::222233334444:user/someone"
    name = unique("nobody")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    nobody = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    expected = ("InvalidInput", f"Invalid Policy Source Arn: caller's account {ACCOUNT} does not have access to "
                "policies in account 222233334444", 400)
    for client in (iam, nobody):
        with pytest.raises(ClientError) as excinfo:
            client.simulate_principal_policy(PolicySourceArn=foreign, ActionNames=["s3:GetObject"])
        assert error(excinfo) == expected
        with pytest.raises(ClientError) as excinfo:
            client.get_context_keys_for_principal_policy(PolicySourceArn=foreign)
        assert error(excinfo) == expected
    with pytest.raises(ClientError) as excinfo:
        nobody.simulate_principal_policy(PolicySourceArn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
                                         ActionNames=["s3:GetObject"])
    assert error(excinfo)[0] == "InvalidInput"
