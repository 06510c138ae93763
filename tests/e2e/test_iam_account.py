"""Account-wide IAM reads through boto3: GetAccountSummary and GetAccountAuthorizationDetails."""

from __future__ import annotations

import json
from typing import Any

ACCOUNT = "000000000000"
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
READ = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                            "Resource": "*"}]})
WRITE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                                             "Resource": "*"}]})
LB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
TASK_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

QUOTAS = {
    "UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500,
    "InstanceProfilesQuota": 1000, "ServerCertificatesQuota": 20, "PolicyVersionsInUseQuota": 10000,
    "VersionsPerPolicyQuota": 5, "GroupsPerUserQuota": 10, "AccessKeysPerUserQuota": 2,
    "SigningCertificatesPerUserQuota": 2, "AttachedPoliciesPerRoleQuota": 10, "AttachedPoliciesPerUserQuota": 10,
    "AttachedPoliciesPerGroupQuota": 10, "AssumeRolePolicySizeQuota": 2048, "PolicySizeQuota": 6144,
    "RolePolicySizeQuota": 10240, "UserPolicySizeQuota": 2048, "GroupPolicySizeQuota": 5120,
}


def test_account_summary_counts_the_tables(fresh_server: Any) -> None:
    iam = fresh_server.client("iam")
    summary = iam.get_account_summary()["SummaryMap"]
    for key, value in QUOTAS.items():
        assert summary[key] == value, key
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["Policies"]) == (0, 0, 0, 0)
    assert summary["PolicyVersionsInUse"] == 0
    assert summary["InstanceProfiles"] == 0 and summary["MFADevices"] == 0
    assert summary["GlobalEndpointTokenVersion"] == 1

    iam.create_role(RoleName="one", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="two", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="devs")
    policy = iam.create_policy(PolicyName="read", PolicyDocument=READ)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="one", PolicyArn=policy)
    iam.attach_role_policy(RoleName="one", PolicyArn=LB_POLICY)
    iam.attach_user_policy(UserName="alice", PolicyArn=policy)
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["Policies"]) == (1, 1, 2, 1)
    assert summary["PolicyVersionsInUse"] == 3
    iam.detach_role_policy(RoleName="one", PolicyArn=LB_POLICY)
    iam.delete_role(RoleName="two")
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Roles"], summary["PolicyVersionsInUse"]) == (1, 2)


def _world(iam: Any) -> str:
    """A user in a group, a role with inline, customer and AWS managed policies, tags and a boundary."""
    policy = iam.create_policy(PolicyName="ReadStuff", Path="/team/", PolicyDocument=READ,
                               Description="reads")["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=WRITE, SetAsDefault=True)
    iam.create_role(RoleName="Infra", Path="/ecs/", AssumeRolePolicyDocument=TRUST,
                    Tags=[{"Key": "Team", "Value": "Blue"}], PermissionsBoundary=TASK_POLICY)
    iam.attach_role_policy(RoleName="Infra", PolicyArn=LB_POLICY)
    iam.attach_role_policy(RoleName="Infra", PolicyArn=policy)
    iam.put_role_policy(RoleName="Infra", PolicyName="inline", PolicyDocument=READ)
    iam.create_user(UserName="alice", Tags=[{"Key": "k", "Value": "v"}])
    iam.put_user_policy(UserName="alice", PolicyName="mine", PolicyDocument=WRITE)
    iam.create_group(GroupName="devs", Path="/eng/")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    iam.attach_group_policy(GroupName="devs", PolicyArn=policy)
    iam.put_group_policy(GroupName="devs", PolicyName="grp", PolicyDocument=READ)
    return str(policy)


def test_authorization_details(fresh_server: Any) -> None:
    iam = fresh_server.client("iam")
    policy = _world(iam)
    details = iam.get_account_authorization_details()
    assert details["IsTruncated"] is False and "Marker" not in details

    [user] = details["UserDetailList"]
    assert user["UserName"] == "alice" and user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert user["UserId"].startswith("AIDA") and user["Path"] == "/"
    assert user["UserPolicyList"] == [{"PolicyName": "mine", "PolicyDocument": json.loads(WRITE)}]
    assert user["GroupList"] == ["devs"]
    assert user["AttachedManagedPolicies"] == []
    assert user["Tags"] == [{"Key": "k", "Value": "v"}]

    [group] = details["GroupDetailList"]
    assert group["GroupName"] == "devs" and group["Path"] == "/eng/"
    assert group["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/eng/devs"
    assert group["GroupPolicyList"] == [{"PolicyName": "grp", "PolicyDocument": json.loads(READ)}]
    assert group["AttachedManagedPolicies"] == [{"PolicyName": "ReadStuff", "PolicyArn": policy}]

    [role] = details["RoleDetailList"]
    assert role["RoleName"] == "Infra" and role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ecs/Infra"
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert role["InstanceProfileList"] == []
    assert role["RolePolicyList"] == [{"PolicyName": "inline", "PolicyDocument": json.loads(READ)}]
    assert role["AttachedManagedPolicies"] == [
        {"PolicyName": "AmazonECSInfrastructureRolePolicyForLoadBalancers", "PolicyArn": LB_POLICY},
        {"PolicyName": "ReadStuff", "PolicyArn": policy},
    ]
    assert role["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": TASK_POLICY,
    }
    assert role["Tags"] == [{"Key": "Team", "Value": "Blue"}]
    assert role["RoleLastUsed"] == {}

    policies = {p["Arn"]: p for p in details["Policies"]}
    # Only the AWS managed policies the account uses appear, next to its own.
    assert set(policies) == {policy, LB_POLICY, TASK_POLICY}
    local = policies[policy]
    assert (local["PolicyName"], local["Path"], local["DefaultVersionId"]) == ("ReadStuff", "/team/", "v2")
    assert (local["AttachmentCount"], local["PermissionsBoundaryUsageCount"], local["IsAttachable"]) == (2, 0, True)
    assert local["Description"] == "reads"
    assert [(v["VersionId"], v["IsDefaultVersion"], v["Document"]) for v in local["PolicyVersionList"]] == [
        ("v2", True, json.loads(WRITE)), ("v1", False, json.loads(READ)),
    ]
    lb = policies[LB_POLICY]
    assert (lb["PolicyName"], lb["Path"], lb["DefaultVersionId"]) == (
        "AmazonECSInfrastructureRolePolicyForLoadBalancers", "/", "v6",
    )
    assert (lb["AttachmentCount"], lb["PermissionsBoundaryUsageCount"]) == (1, 0)
    default = [v for v in lb["PolicyVersionList"] if v["IsDefaultVersion"]]
    assert [v["VersionId"] for v in default] == ["v6"]
    sids = [s["Sid"] for s in default[0]["Document"]["Statement"]]
    assert sids == ["ELBReadOperations", "TargetGroupOperations", "ALBModifyListeners", "NLBModifyListeners",
                    "ALBModifyRules"]
    task = policies[TASK_POLICY]
    assert (task["Path"], task["AttachmentCount"], task["PermissionsBoundaryUsageCount"]) == ("/service-role/", 0, 1)


def test_authorization_details_filter(fresh_server: Any) -> None:
    iam = fresh_server.client("iam")
    policy = _world(iam)
    roles = iam.get_account_authorization_details(Filter=["Role"])
    assert [r["RoleName"] for r in roles["RoleDetailList"]] == ["Infra"]
    assert roles["UserDetailList"] == [] and roles["GroupDetailList"] == [] and roles["Policies"] == []
    local = iam.get_account_authorization_details(Filter=["LocalManagedPolicy"])["Policies"]
    assert [p["Arn"] for p in local] == [policy]
    aws = iam.get_account_authorization_details(Filter=["AWSManagedPolicy", "User"])
    assert sorted(p["Arn"] for p in aws["Policies"]) == sorted([LB_POLICY, TASK_POLICY])
    assert [u["UserName"] for u in aws["UserDetailList"]] == ["alice"]


def test_authorization_details_pagination_walks_everything_once(fresh_server: Any) -> None:
    iam = fresh_server.client("iam")
    _world(iam)
    for name in ("b-role", "a-role", "C-role"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    everything = iam.get_account_authorization_details()
    expected = (
        [u["UserName"] for u in everything["UserDetailList"]]
        + [g["GroupName"] for g in everything["GroupDetailList"]]
        + [r["RoleName"] for r in everything["RoleDetailList"]]
        + [p["Arn"] for p in everything["Policies"]]
    )
    assert len(expected) == 1 + 1 + 4 + 3
    assert [r["RoleName"] for r in everything["RoleDetailList"]] == ["a-role", "b-role", "C-role", "Infra"]
    walked: list[str] = []
    marker = None
    pages = 0
    while True:
        page = iam.get_account_authorization_details(MaxItems=2, **({"Marker": marker} if marker else {}))
        pages += 1
        items = (
            [u["UserName"] for u in page["UserDetailList"]]
            + [g["GroupName"] for g in page["GroupDetailList"]]
            + [r["RoleName"] for r in page["RoleDetailList"]]
            + [p["Arn"] for p in page["Policies"]]
        )
        assert len(items) <= 2
        walked += items
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert walked == expected and pages == 5
    paginated = iam.get_paginator("get_account_authorization_details").paginate(
        PaginationConfig={"PageSize": 4}).build_full_result()
    assert [r["RoleName"] for r in paginated["RoleDetailList"]] == ["a-role", "b-role", "C-role", "Infra"]
