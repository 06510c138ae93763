"""IAM users through boto3: create, get, list, rename, delete, tags, permissions boundary."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import assumer, error_of, grant

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                   "Action": "sts:AssumeRole"}],
})

POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
})



def test_create_and_get_user(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("alice")
    before = datetime.now(UTC) - timedelta(seconds=5)
    created = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "Team", "Value": "Blue"}])["User"]
    assert created["UserName"] == name
    assert created["Path"] == "/team/"
    assert created["Arn"] == f"arn:aws:iam::000000000000:user/team/{name}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert before <= created["CreateDate"] <= datetime.now(UTC) + timedelta(seconds=5)
    assert created["Tags"] == [{"Key": "Team", "Value": "Blue"}]

    got = iam.get_user(UserName=name.upper())["User"]  # names are case-insensitive
    assert got["UserName"] == name
    assert got["UserId"] == created["UserId"]
    assert got["Tags"] == [{"Key": "Team", "Value": "Blue"}]
    assert "PermissionsBoundary" not in got


def test_user_errors(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("bob")
    iam.create_user(UserName=name)
    assert error_of(iam.create_user, UserName=name.upper()) == (
        "EntityAlreadyExists", f"User with name {name.upper()} already exists.", 409,
    )
    missing = unique("nobody")
    assert error_of(iam.get_user, UserName=missing) == (
        "NoSuchEntity", f"The user with name {missing} cannot be found.", 404,
    )
    assert error_of(iam.delete_user, UserName=missing)[0] == "NoSuchEntity"
    code, message, status = error_of(iam.create_user, UserName="bad name!")
    assert (code, status) == ("ValidationError", 400)
    assert message == (
        "1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )
    code, message, status = error_of(iam.create_user, UserName=unique("dup"),
                                     Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert (code, message, status) == (
        "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400,
    )


def test_get_user_defaults_to_caller(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("self")
    user = iam.create_user(UserName=name)["User"]
    grant(iam, ["iam:GetUser"], user=name)  # even reading oneself needs the permission
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert as_user.get_user()["User"]["Arn"] == user["Arn"]

    root = iam.get_user()["User"]  # the root user: no name, no path
    assert root["UserId"] == "000000000000"
    assert root["Arn"] == "arn:aws:iam::000000000000:root"
    assert "UserName" not in root

    role = iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=TRUST)["Role"]
    grant(iam, ["iam:GetUser"], role=role["RoleName"])
    creds = assumer(server, iam, unique).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    as_role = server.client("iam", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                            token=creds["SessionToken"])
    assert error_of(as_role.get_user) == (
        "ValidationError", "Must specify userName when calling with non-User credentials", 400,
    )
    assert as_role.get_user(UserName=name)["User"]["UserName"] == name


def test_list_users_path_prefix_and_pages(iam: Any, unique: Callable[[str], str]) -> None:
    path = f"/{unique('p')}/"
    names = sorted(unique("lu") for _ in range(3))
    for name in names:
        iam.create_user(UserName=name, Path=path, Tags=[{"Key": "k", "Value": "v"}])
    listed = iam.list_users(PathPrefix=path)
    assert [u["UserName"] for u in listed["Users"]] == names
    assert listed["IsTruncated"] is False
    assert all("Tags" not in u for u in listed["Users"])  # ListUsers leaves tags out, as AWS does

    first = iam.list_users(PathPrefix=path, MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == names[:2]
    assert first["IsTruncated"] is True
    rest = iam.list_users(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == names[2:]
    assert rest["IsTruncated"] is False

    paginated = iam.get_paginator("list_users").paginate(PathPrefix=path, PaginationConfig={"PageSize": 1})
    assert [u["UserName"] for page in paginated for u in page["Users"]] == names


def test_rename_carries_keys_groups_tags(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    old, new, group = unique("old"), unique("new"), unique("g")
    user_id = iam.create_user(UserName=old, Tags=[{"Key": "Owner", "Value": "me"}])["User"]["UserId"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=old)
    key = iam.create_access_key(UserName=old)["AccessKey"]

    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")

    assert error_of(iam.get_user, UserName=old)[0] == "NoSuchEntity"
    user = iam.get_user(UserName=new)["User"]
    assert user["UserId"] == user_id
    assert user["Arn"] == f"arn:aws:iam::000000000000:user/moved/{new}"
    assert user["Tags"] == [{"Key": "Owner", "Value": "me"}]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=new)["Groups"]] == [group]
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [new]
    keys = iam.list_access_keys(UserName=new)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["UserName"]) for k in keys] == [(key["AccessKeyId"], new)]
    # The key still authenticates, now as the renamed user.
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == user["Arn"]


def test_rename_conflicts(iam: Any, unique: Callable[[str], str]) -> None:
    a, b = unique("a"), unique("b")
    iam.create_user(UserName=a)
    iam.create_user(UserName=b)
    assert error_of(iam.update_user, UserName=a, NewUserName=b.upper()) == (
        "EntityAlreadyExists", f"User with name {b.upper()} already exists.", 409,
    )
    iam.update_user(UserName=a, NewUserName=a.upper())  # a change of case only is a rename to itself
    assert iam.get_user(UserName=a)["User"]["UserName"] == a.upper()


def test_delete_conflicts(iam: Any, unique: Callable[[str], str]) -> None:
    name, group = unique("del"), unique("dg")
    iam.create_user(UserName=name)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    key_id = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    assert error_of(iam.delete_user, UserName=name) == (
        "DeleteConflict", "Cannot delete entity, must delete access keys first.", 409,
    )
    iam.delete_access_key(UserName=name, AccessKeyId=key_id)
    assert error_of(iam.delete_user, UserName=name) == (
        "DeleteConflict", "Cannot delete entity, must remove users from group first.", 409,
    )
    iam.remove_user_from_group(GroupName=group, UserName=name)
    iam.delete_user(UserName=name)
    assert error_of(iam.get_user, UserName=name)[0] == "NoSuchEntity"
    # Its tags went with it: a new user of the same name starts without any.
    iam.create_user(UserName=name)
    assert iam.list_user_tags(UserName=name)["Tags"] == []


def test_delete_and_rename_with_policies(iam: Any, unique: Callable[[str], str]) -> None:
    old, new = unique("pol"), unique("pol2")
    managed = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.create_user(UserName=old)
    iam.put_user_policy(UserName=old, PolicyName="inline", PolicyDocument=POLICY)
    iam.attach_user_policy(UserName=old, PolicyArn=managed)
    iam.update_user(UserName=old, NewUserName=new)
    # The renamed user keeps its inline and attached policies.
    assert iam.list_user_policies(UserName=new)["PolicyNames"] == ["inline"]
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=new)["AttachedPolicies"]] == [managed]
    assert error_of(iam.delete_user, UserName=new) == (
        "DeleteConflict", "Cannot delete entity, must delete policies first.", 409,
    )
    iam.delete_user_policy(UserName=new, PolicyName="inline")
    assert error_of(iam.delete_user, UserName=new) == (
        "DeleteConflict", "Cannot delete entity, must detach all policies first.", 409,
    )
    iam.detach_user_policy(UserName=new, PolicyArn=managed)
    iam.delete_user(UserName=new)


def test_user_tags(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("tags")
    iam.create_user(UserName=name)
    iam.tag_user(UserName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "A", "Value": "3"}, {"Key": "c", "Value": "4"}])
    assert iam.list_user_tags(UserName=name)["Tags"] == [
        {"Key": "A", "Value": "3"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": "4"},
    ]
    page = iam.list_user_tags(UserName=name, MaxItems=2)
    assert page["IsTruncated"] is True and len(page["Tags"]) == 2
    rest = iam.list_user_tags(UserName=name, Marker=page["Marker"])
    assert rest["Tags"] == [{"Key": "c", "Value": "4"}] and rest["IsTruncated"] is False
    iam.untag_user(UserName=name, TagKeys=["a", "missing"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "b", "Value": "2"}, {"Key": "c", "Value": "4"}]
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(49)]
    assert error_of(iam.tag_user, UserName=name, Tags=many) == (
        "LimitExceeded", "Cannot exceed quota for TagsPerResource: 50.", 409,
    )
    assert len(iam.list_user_tags(UserName=name)["Tags"]) == 2  # the failed call wrote nothing
    missing = unique("none")
    assert error_of(iam.list_user_tags, UserName=missing)[1] == f"The user with name {missing} cannot be found."


def test_permissions_boundary(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("pb")
    managed = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    user = iam.create_user(UserName=name, PermissionsBoundary=managed)["User"]
    assert user["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": managed,
    }
    iam.delete_user_permissions_boundary(UserName=name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=name)["User"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=managed)
    assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == managed

    customer = iam.create_policy(PolicyName=unique("boundary"), PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=customer)
    assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == customer

    missing = "arn:aws:iam::000000000000:policy/does-not-exist"
    assert error_of(iam.put_user_permissions_boundary, UserName=name, PermissionsBoundary=missing) == (
        "NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.", 404,
    )
    assert error_of(iam.create_user, UserName=unique("pb2"), PermissionsBoundary=missing)[0] == "NoSuchEntity"
    unknown_aws = "arn:aws:iam::aws:policy/NoSuchManagedPolicyAtAll"
    assert error_of(iam.put_user_permissions_boundary, UserName=name, PermissionsBoundary=unknown_aws) == (
        "NoSuchEntity", f"Scope ARN: {unknown_aws} does not exist or is not attachable.", 404,
    )
    bad = "arn:aws:s3:::some-bucket-name"
    assert error_of(iam.put_user_permissions_boundary, UserName=name, PermissionsBoundary=bad) == (
        "InvalidInput", f"ARN {bad} is not valid.", 400,
    )
