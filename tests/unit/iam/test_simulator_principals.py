"""The simulator in process (real boto3 clients against a Gateway): roles and groups as sources, CallerArn, policy
exclusions, EC2 resource handling options, SCP levels, cross-account sources, and the simulator agreeing with the
enforcement of real calls (both are the same engine)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ..authz_support import InProcess, allow

ACCOUNT = "000000000000"
OTHER = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}]})
EC2 = "arn:aws:ec2:us-east-1:000000000000"


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [s for d in statements for s in d["Statement"]]})


def decisions(response: dict[str, Any]) -> list[str]:
    return [r["EvalDecision"] for r in response["EvaluationResults"]]


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_role_source_with_its_boundary_and_another_caller(env: InProcess) -> None:
    iam = env.client("iam")
    role = iam.create_role(RoleName="app", Path="/service/", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="app", PolicyName="ops", PolicyDocument=doc(allow(["iam:GetRole", "iam:ListRoles"])))
    boundary = iam.create_policy(PolicyName="edge", PolicyDocument=doc(allow("iam:GetRole")))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=boundary)
    response = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=["iam:GetRole", "iam:ListRoles"])
    assert decisions(response) == ["allowed", "implicitDeny"]
    get, lst = response["EvaluationResults"]
    assert [s["SourcePolicyId"] for s in get["MatchedStatements"]] == ["role_app_ops", "edge"]
    assert get["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert lst["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    # Bob with the role's policies: the same decisions.
    as_bob = iam.simulate_principal_policy(PolicySourceArn=role, CallerArn=f"arn:aws:iam::{ACCOUNT}:user/bob",
                                           ActionNames=["iam:GetRole", "iam:ListRoles"])
    assert decisions(as_bob) == ["allowed", "implicitDeny"]


def test_group_source(env: InProcess) -> None:
    iam = env.client("iam")
    group = iam.create_group(GroupName="devs")["Group"]["Arn"]
    iam.put_group_policy(GroupName="devs", PolicyName="g", PolicyDocument=doc(allow("ecs:*")))
    response = iam.simulate_principal_policy(PolicySourceArn=group,
                                             ActionNames=["ecs:ListClusters", "ec2:RunInstances"])
    assert decisions(response) == ["allowed", "implicitDeny"]
    assert response["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == "group_devs_g"
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=group)
    assert keys["ContextKeyNames"] == []


def test_policy_exclusions(env: InProcess) -> None:
    iam = env.client("iam")
    user = iam.create_user(UserName="alice")["User"]["Arn"]
    iam.put_user_policy(UserName="alice", PolicyName="inline", PolicyDocument=doc(allow("iam:GetUser")))
    mine = iam.create_policy(PolicyName="team-read", PolicyDocument=doc(allow("iam:ListUsers")))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="alice", PolicyArn=mine)
    iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    boundary = iam.create_policy(PolicyName="edge", PolicyDocument=doc(allow("iam:Get*")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="alice", PermissionsBoundary=boundary)
    actions = ["iam:GetUser", "iam:ListUsers", "iam:ListRoles"]

    def simulate(*excluded: dict[str, Any]) -> list[str]:
        return decisions(iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=actions,
                                                       PolicyExclusionList=list(excluded)))

    assert simulate() == ["allowed", "implicitDeny", "implicitDeny"]  # the boundary allows Get* only
    assert simulate({"PolicyType": "permission-boundary"}) == ["allowed", "allowed", "allowed"]
    assert simulate({"PolicyType": "permission-boundary"}, {"PolicyType": "aws-managed"}) == [
        "allowed", "allowed", "implicitDeny"]
    assert simulate({"PolicyType": "permission-boundary"}, {"PolicyType": "inline"},
                    {"PolicyArn": "arn:aws:iam::aws:policy/IAM*"}) == ["implicitDeny", "allowed", "implicitDeny"]
    assert simulate({"PolicyType": "permission-boundary"}, {"PolicyType": "aws-managed"},
                    {"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/team-*"},
                    {"InlinePolicyIdentifier": {"PolicyName": "inline", "AttachmentType": "user",
                                                "AttachmentName": "alice"}}) == ["implicitDeny"] * 3
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=actions,
                                      PolicyExclusionList=[{"PolicyArn": "arn:aws:iam::aws:policy/*a*"}])
    assert error(excinfo) == ("InvalidInput", "Invalid PolicyArn in PolicyExclusionList: arn:aws:iam::aws:policy/*a*.")


def test_context_keys_of_a_principal_include_its_boundary(env: InProcess) -> None:
    iam = env.client("iam")
    user = iam.create_user(UserName="carol")["User"]["Arn"]
    iam.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=doc(allow(
        "s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")))
    boundary = iam.create_policy(PolicyName="b", PolicyDocument=doc(allow(
        "*", "*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="carol", PermissionsBoundary=boundary)
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=user)["ContextKeyNames"]
    assert keys == ["aws:username", "aws:RequestedRegion"]
    result = iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=["s3:GetObject"],
                                           ResourceArns=["arn:aws:s3:::home/carol/notes.txt"])
    assert result["EvaluationResults"][0]["MissingContextValues"] == ["aws:username", "aws:RequestedRegion"]


def test_resource_handling_options(env: InProcess) -> None:
    iam = env.client("iam")
    policy = doc(allow("ec2:RunInstances"))
    resources = [f"{EC2}:instance/*", "arn:aws:ec2:us-east-1::image/ami-12345678", f"{EC2}:security-group/sg-1",
                 f"{EC2}:network-interface/*"]
    response = iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["ec2:RunInstances"],
                                          ResourceArns=resources, ResourceHandlingOption="EC2-VPC-InstanceStore")
    result = response["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert [r["EvalResourceName"] for r in result["ResourceSpecificResults"]] == resources
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["ec2:RunInstances"],
                                   ResourceArns=resources, ResourceHandlingOption="EC2-VPC-EBS-Subnet")
    assert error(excinfo) == ("InvalidInput", "The ResourceHandlingOption EC2-VPC-EBS-Subnet requires resources of "
                                              "these types: subnet, volume.")
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["ec2:RunInstances"],
                                   ResourceHandlingOption="EC2-Classic-InstanceStore")
    assert error(excinfo) == ("InvalidInput", "Invalid ResourceHandlingOption: EC2-Classic-InstanceStore.")


def test_input_limits(env: InProcess) -> None:
    iam = env.client("iam")
    policy = doc(allow("iam:GetRole"))
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[policy], PermissionsBoundaryPolicyInputList=[policy, policy],
                                   ActionNames=["iam:GetRole"])
    assert error(excinfo) == ("InvalidInput", "PermissionsBoundaryPolicyInputList can contain only one policy.")
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["iam:GetRole"],
                                   OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": [policy]},
                                                                       {"ServiceControlPolicyInputList": []}])
    assert error(excinfo) == ("InvalidInput", "OrderedOrganizationPolicyInputList.2 must include at least one "
                                              "service control policy.")
    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["s3:GetObject"],
                                   ResourcePolicy=bucket_policy, CallerArn=f"arn:aws:iam::{ACCOUNT}:user/u")
    assert error(excinfo) == ("MalformedPolicyDocument", "Missing required field Principal")


def test_scp_conditions_are_not_reported_missing(env: InProcess) -> None:
    iam = env.client("iam")
    scp = doc({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                              "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}}]},
              allow("*"))
    response = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("ec2:*"))], ActionNames=["ec2:DescribeVpcs"],
        OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": [scp]}],
    )
    result = response["EvaluationResults"][0]
    assert result["EvalDecision"] == "explicitDeny"  # the region is absent: StringNotEquals holds
    assert result["MissingContextValues"] == []
    assert result["MatchedStatements"] == []
    ok = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("ec2:*"))], ActionNames=["ec2:DescribeVpcs"],
        OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": [scp]}],
        ContextEntries=[{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["eu-west-1"],
                         "ContextKeyType": "string"}],
    )
    assert decisions(ok) == ["allowed"]
    assert ok["EvaluationResults"][0]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}


def test_cross_account_source_is_refused(tmp_path: Path) -> None:
    env = InProcess(tmp_path / "data", enforce=False)  # enforcing, the authorizer refuses first (AccessDenied)
    iam = env.client("iam")
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{OTHER}:user/alice", ActionNames=["iam:GetRole"])
    assert error(excinfo) == ("InvalidInput", f"Invalid Policy Source Arn: caller's account {ACCOUNT} does not "
                                              f"have access to policies in account {OTHER}")
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/alice/",
                                      ActionNames=["iam:GetRole"])
    assert error(excinfo) == ("InvalidInput", f"Invalid Entity Arn: arn:aws:iam::{ACCOUNT}:user/alice/ does not "
                                              "clearly define entity type and name.")


def test_the_simulator_agrees_with_enforcement(env: InProcess) -> None:
    iam = env.client("iam")
    user = iam.create_user(UserName="dave")["User"]["Arn"]
    iam.create_role(RoleName="visible", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="hidden", AssumeRolePolicyDocument=TRUST)
    iam.put_user_policy(UserName="dave", PolicyName="p", PolicyDocument=doc(
        allow(["iam:GetRole", "iam:ListRoles"]),
        {"Statement": [{"Effect": "Deny", "Action": "iam:GetRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/hidden"}]},
    ))
    key = iam.create_access_key(UserName="dave")["AccessKey"]
    dave = env.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    cases: list[tuple[str, str, Callable[[], Any]]] = [
        ("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/visible", lambda: dave.get_role(RoleName="visible")),
        ("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/hidden", lambda: dave.get_role(RoleName="hidden")),
        ("iam:ListUsers", "*", lambda: dave.list_users()),
        ("iam:ListRoles", "*", lambda: dave.list_roles()),
    ]
    for action, resource, call in cases:
        simulated = iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=[action],
                                                  ResourceArns=[resource])["EvaluationResults"][0]["EvalDecision"]
        try:
            call()
            enforced = "allowed"
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDenied"
            enforced = "explicitDeny" if "explicit deny" in exc.response["Error"]["Message"] else "implicitDeny"
        assert simulated == enforced, (action, resource)
