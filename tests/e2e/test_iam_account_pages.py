"""GetAccountAuthorizationDetails and the IAM lists, page by page, over an account with a bit of everything.

Each page is read on its own (the entities of the page, their parts read together), so these tests check that
every page size walks the same answer, and that every entity's detail is what the operations about that one
entity answer (its inline policies, attachments, tags, groups, instance profiles, policy versions, usage)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Server

ACCOUNT = "000000000000"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


def _doc(action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
                                                                "Resource": "*"}]})


def _trust(*aws: str) -> str:
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    if aws:
        statements.append({"Effect": "Allow", "Principal": {"AWS": list(aws)}, "Action": "sts:AssumeRole"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Policies with several versions, users in groups, roles with profiles, tags, boundaries and trust
    policies naming users (one of them deleted since)."""
    server = Server(tmp_path_factory.mktemp("pages") / "data").start()
    iam = server.client("iam")
    policies = []
    for i in range(5):
        arn = iam.create_policy(PolicyName=f"pol-{i}", Path="/team/" if i % 2 else "/", PolicyDocument=_doc("s3:*"),
                                Description=f"policy {i}" if i != 3 else "")["Policy"]["Arn"]
        for v in range(i % 3):
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(f"sqs:Send{v}"), SetAsDefault=v == 0)
        policies.append(arn)
    for g in range(3):
        iam.create_group(GroupName=f"Group-{g}", Path="/g/" if g else "/")
        iam.put_group_policy(GroupName=f"Group-{g}", PolicyName=f"gi-{g}", PolicyDocument=_doc("ec2:*"))
        iam.attach_group_policy(GroupName=f"Group-{g}", PolicyArn=policies[g])
    for u in range(7):
        name = f"{'ab'[u % 2]}user-{u}"
        extra = {"PermissionsBoundary": READ_ONLY if u == 2 else policies[4]} if u in (2, 5) else {}
        iam.create_user(UserName=name, Path="/people/" if u % 3 else "/",
                        Tags=[{"Key": "n", "Value": str(u)}, {"Key": "team", "Value": "x"}][: u % 3], **extra)
        for g in range(u % 3 + 1):
            iam.add_user_to_group(GroupName=f"Group-{(u + g) % 3}", UserName=name)
        if u % 2:
            iam.put_user_policy(UserName=name, PolicyName="z-inline", PolicyDocument=_doc("sns:*"))
            iam.put_user_policy(UserName=name, PolicyName="a-inline", PolicyDocument=_doc("sqs:*"))
        iam.attach_user_policy(UserName=name, PolicyArn=policies[u % 5])
    iam.attach_user_policy(UserName="buser-5", PolicyArn=policies[4])  # its boundary too
    iam.create_user(UserName="ghost")
    for r in range(11):
        name = f"{'Rr'[r % 2]}ole-{r:02d}"
        named = [f"arn:aws:iam::{ACCOUNT}:user/ghost"] if r == 3 else []
        if r % 4 == 0:
            named.append(f"arn:aws:iam::{ACCOUNT}:user/{'ab'[r % 2]}user-{r % 7}" if r % 7 % 3 == 0
                         else f"arn:aws:iam::{ACCOUNT}:user/people/{'ab'[r % 7 % 2]}user-{r % 7}")
        extra = {"PermissionsBoundary": S3_READ if r % 2 else policies[1]} if r % 5 == 0 else {}
        iam.create_role(RoleName=name, Path="/svc/" if r % 3 == 0 else "/", AssumeRolePolicyDocument=_trust(*named),
                        Tags=[{"Key": "i", "Value": str(r)}, {"Key": "env", "Value": "dev"}][: r % 3], **extra)
        if r % 2 == 0:
            iam.put_role_policy(RoleName=name, PolicyName="second", PolicyDocument=_doc("logs:*"))
            iam.put_role_policy(RoleName=name, PolicyName="first", PolicyDocument=_doc("kms:*"))
        if r % 3 == 1:  # before the customer policy, whose ARN sorts first: the order is the attachments'
            iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
        iam.attach_role_policy(RoleName=name, PolicyArn=policies[(r + 2) % 5])
        if r % 4 == 1:
            for p in ("b", "a"):
                iam.create_instance_profile(InstanceProfileName=f"{p}-profile-{r}",
                                            Tags=[{"Key": "p", "Value": p}] if p == "a" else [])
                iam.add_role_to_instance_profile(InstanceProfileName=f"{p}-profile-{r}", RoleName=name)
    iam.delete_user(UserName="ghost")
    yield iam
    server.stop()


def _walk(iam: Any, operation: str, page_size: int, **params: Any) -> tuple[dict[str, list[Any]], int]:
    """Every page of ``operation`` by hand (Marker), its lists concatenated; and the number of pages."""
    walked: dict[str, list[Any]] = {}
    marker, pages = None, 0
    while True:
        page = getattr(iam, operation)(MaxItems=page_size, **params, **({"Marker": marker} if marker else {}))
        pages += 1
        lists = {key: value for key, value in page.items() if isinstance(value, list)}
        assert sum(len(value) for value in lists.values()) <= page_size
        for key, value in lists.items():
            walked.setdefault(key, []).extend(value)
        if not page["IsTruncated"]:
            assert "Marker" not in page
            return walked, pages
        marker = page["Marker"]


@pytest.mark.parametrize("filters", [[], ["Role"], ["User", "LocalManagedPolicy"], ["AWSManagedPolicy", "Group"]])
def test_every_page_size_walks_the_same_answer(account: Any, filters: list[str]) -> None:
    params = {"Filter": filters} if filters else {}
    whole = account.get_account_authorization_details(MaxItems=1000, **params)
    assert whole["IsTruncated"] is False
    total = sum(len(whole[key]) for key in LISTS)
    assert total > 0
    for size in (1, 2, 7, 100):
        walked, pages = _walk(account, "get_account_authorization_details", size, **params)
        assert {key: walked.get(key, []) for key in LISTS} == {key: whole[key] for key in LISTS}, size
        assert pages == max(1, -(-total // size)), size


def test_the_order_is_users_groups_roles_policies_each_by_sort_key(account: Any) -> None:
    whole = account.get_account_authorization_details(MaxItems=1000)
    users = [u["UserName"] for u in whole["UserDetailList"]]
    roles = [r["RoleName"] for r in whole["RoleDetailList"]]
    assert users == sorted(users, key=str.lower) and len(users) == 7
    assert roles == sorted(roles, key=str.lower) and len(roles) == 11
    arns = [p["Arn"] for p in whole["Policies"]]
    assert arns == sorted(arns)
    assert set(arns) == {f"arn:aws:iam::{ACCOUNT}:policy/{'team/' if i % 2 else ''}pol-{i}" for i in range(5)} | {
        READ_ONLY, S3_READ}


def _tags(answer: dict[str, Any]) -> list[dict[str, str]]:
    return list(answer.get("Tags", []))


def test_each_user_and_group_detail_is_what_their_own_operations_answer(account: Any) -> None:
    iam = account
    whole = iam.get_account_authorization_details(MaxItems=3)  # a first page; the rest are walked below
    walked, _ = _walk(iam, "get_account_authorization_details", 3)
    assert whole["UserDetailList"] == walked["UserDetailList"][:3]
    for user in walked["UserDetailList"]:
        name = user["UserName"]
        own = iam.get_user(UserName=name)["User"]
        for key in ("Path", "UserId", "Arn", "CreateDate", "PermissionsBoundary"):
            assert user.get(key) == own.get(key), (name, key)
        assert user["Tags"] == _tags(own) == iam.list_user_tags(UserName=name)["Tags"]
        groups = [g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]]
        assert user["GroupList"] == sorted(groups, key=str.lower) and user["GroupList"]
        inline = iam.list_user_policies(UserName=name)["PolicyNames"]
        assert [p["PolicyName"] for p in user["UserPolicyList"]] == inline
        for policy in user["UserPolicyList"]:
            got = iam.get_user_policy(UserName=name, PolicyName=policy["PolicyName"])["PolicyDocument"]
            assert policy["PolicyDocument"] == got
        assert user["AttachedManagedPolicies"] == iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
    for group in walked["GroupDetailList"]:
        name = group["GroupName"]
        own = iam.get_group(GroupName=name)["Group"]
        assert {k: group[k] for k in own} == own
        assert [p["PolicyName"] for p in group["GroupPolicyList"]] == iam.list_group_policies(
            GroupName=name)["PolicyNames"]
        assert group["AttachedManagedPolicies"] == iam.list_attached_group_policies(
            GroupName=name)["AttachedPolicies"]


def test_each_role_detail_is_what_its_own_operations_answer(account: Any) -> None:
    iam = account
    walked, _ = _walk(iam, "get_account_authorization_details", 4, Filter=["Role"])
    ghost_shown = 0
    for role in walked["RoleDetailList"]:
        name = role["RoleName"]
        own = iam.get_role(RoleName=name)["Role"]
        for key in ("Path", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument", "PermissionsBoundary",
                    "RoleLastUsed"):
            assert role.get(key) == own.get(key), (name, key)
        principals = [p for s in role["AssumeRolePolicyDocument"]["Statement"]
                      for p in s["Principal"].get("AWS", [])]
        ghost_shown += sum(1 for p in principals if p.startswith("AIDA"))
        assert role["Tags"] == _tags(own)
        assert [p["PolicyName"] for p in role["RolePolicyList"]] == iam.list_role_policies(
            RoleName=name)["PolicyNames"]
        for policy in role["RolePolicyList"]:
            got = iam.get_role_policy(RoleName=name, PolicyName=policy["PolicyName"])["PolicyDocument"]
            assert policy["PolicyDocument"] == got
        assert role["AttachedManagedPolicies"] == iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        profiles = iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]
        assert [p["InstanceProfileName"] for p in role["InstanceProfileList"]] == [
            p["InstanceProfileName"] for p in profiles]
        for profile in role["InstanceProfileList"]:
            assert profile == iam.get_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"])["InstanceProfile"]
            assert [r["RoleName"] for r in profile["Roles"]] == [name]
    assert ghost_shown == 1  # the deleted user shows as its unique id, as AWS shows it
    with_profiles = [r for r in walked["RoleDetailList"] if r["InstanceProfileList"]]
    assert len(with_profiles) == 3 and all(len(r["InstanceProfileList"]) == 2 for r in with_profiles)


def test_each_policy_detail_is_what_its_own_operations_answer(account: Any) -> None:
    iam = account
    walked, _ = _walk(iam, "get_account_authorization_details", 2, Filter=["LocalManagedPolicy", "AWSManagedPolicy"])
    for policy in walked["Policies"]:
        own = iam.get_policy(PolicyArn=policy["Arn"])["Policy"]
        for key in ("PolicyName", "PolicyId", "Path", "DefaultVersionId", "AttachmentCount",
                    "PermissionsBoundaryUsageCount", "IsAttachable", "CreateDate", "UpdateDate"):
            assert policy[key] == own[key], (policy["Arn"], key)
        if own.get("Description"):
            assert policy["Description"] == own["Description"]
        versions = iam.list_policy_versions(PolicyArn=policy["Arn"], MaxItems=1000)["Versions"]
        assert [(v["VersionId"], v["IsDefaultVersion"]) for v in policy["PolicyVersionList"]] == [
            (v["VersionId"], v["IsDefaultVersion"]) for v in versions]
        if policy["Arn"].startswith(f"arn:aws:iam::{ACCOUNT}:"):
            for version in policy["PolicyVersionList"]:
                got = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=version["VersionId"])
                assert version["Document"] == got["PolicyVersion"]["Document"]
    counts = {p["PolicyName"]: (p["AttachmentCount"], p["PermissionsBoundaryUsageCount"]) for p in walked["Policies"]}
    assert counts["ReadOnlyAccess"] == (4, 1) and counts["AmazonS3ReadOnlyAccess"] == (0, 1)


@pytest.mark.parametrize(("operation", "result", "params"), [
    ("list_roles", "Roles", {}),
    ("list_roles", "Roles", {"PathPrefix": "/svc/"}),
    ("list_users", "Users", {}),
    ("list_users", "Users", {"PathPrefix": "/people/"}),
    ("list_groups", "Groups", {}),
    ("list_instance_profiles", "InstanceProfiles", {}),
    ("list_policies", "Policies", {"Scope": "Local"}),
    ("list_policies", "Policies", {"Scope": "Local", "PathPrefix": "/team/"}),
    ("list_policies", "Policies", {"OnlyAttached": True}),
    ("list_policies", "Policies", {"Scope": "All", "PolicyUsageFilter": "PermissionsBoundary"}),
])
def test_list_pages_walk_the_same_answer(account: Any, operation: str, result: str, params: dict[str, Any]) -> None:
    whole = getattr(account, operation)(MaxItems=1000, **params)
    assert whole["IsTruncated"] is False and whole[result]
    for size in (1, 3, 100):
        walked, _ = _walk(account, operation, size, **params)
        assert walked[result] == whole[result], size
    prefix = params.get("PathPrefix", "/")
    assert all(item["Path"].startswith(prefix) for item in whole[result])


def test_aws_managed_policies_walk_in_pages(account: Any) -> None:
    paginator = account.get_paginator("list_policies")
    whole = paginator.paginate(Scope="All", PaginationConfig={"PageSize": 1000}).build_full_result()["Policies"]
    walked = paginator.paginate(Scope="All", PaginationConfig={"PageSize": 97}).build_full_result()["Policies"]
    assert [p["Arn"] for p in walked] == [p["Arn"] for p in whole] and walked == whole
    arns = [p["Arn"] for p in whole]
    assert len(arns) == len(set(arns)) > 1000
    local = [a for a in arns if a.startswith(f"arn:aws:iam::{ACCOUNT}:")]
    assert arns[-len(local):] == local and len(local) == 5  # AWS's first, then the account's own
    attached = {p["Arn"]: p["AttachmentCount"] for p in whole}
    assert attached[READ_ONLY] == 4


ENTITY_LISTS = ("PolicyGroups", "PolicyUsers", "PolicyRoles")


@pytest.mark.parametrize("params", [{}, {"EntityFilter": "Role"}, {"EntityFilter": "User"}, {"PathPrefix": "/svc/"},
                                    {"PolicyUsageFilter": "PermissionsBoundary"},
                                    {"PolicyUsageFilter": "PermissionsPolicy"}])
@pytest.mark.parametrize("policy", ["pol-0", "team/pol-1", "pol-4", "ReadOnlyAccess"])
def test_entities_for_policy_walk_the_same_answer(account: Any, policy: str, params: dict[str, Any]) -> None:
    arn = READ_ONLY if policy == "ReadOnlyAccess" else f"arn:aws:iam::{ACCOUNT}:policy/{policy}"
    whole = account.list_entities_for_policy(PolicyArn=arn, MaxItems=1000, **params)
    assert whole["IsTruncated"] is False
    for size in (1, 2, 100):
        walked, _ = _walk(account, "list_entities_for_policy", size, PolicyArn=arn, **params)
        assert {key: walked.get(key, []) for key in ENTITY_LISTS} == {key: whole[key] for key in ENTITY_LISTS}


def test_entities_for_policy_lists_each_entity_once(account: Any) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/pol-4"
    whole = account.list_entities_for_policy(PolicyArn=arn)
    # buser-5 has the policy both attached and as its boundary; auser-4 has it attached.
    assert [u["UserName"] for u in whole["PolicyUsers"]] == ["auser-4", "buser-5"]
    assert [r["RoleName"] for r in whole["PolicyRoles"]] == ["Role-02", "role-07"]
    bounded = account.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert [u["UserName"] for u in bounded["PolicyUsers"]] == ["buser-5"] and bounded["PolicyRoles"] == []
    read_only = account.list_entities_for_policy(PolicyArn=READ_ONLY, MaxItems=2)
    assert [u["UserName"] for u in read_only["PolicyUsers"]] == ["auser-2"]
    assert [r["RoleName"] for r in read_only["PolicyRoles"]] == ["role-01"] and read_only["IsTruncated"]
