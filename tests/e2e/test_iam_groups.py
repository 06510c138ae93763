"""IAM groups and membership through boto3."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import error_of

POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
})



def test_create_get_list_groups(iam: Any, unique: Callable[[str], str]) -> None:
    path = f"/{unique('gp')}/"
    names = sorted(unique("grp") for _ in range(3))
    created = [iam.create_group(GroupName=n, Path=path)["Group"] for n in names]
    first = created[0]
    assert first["GroupName"] == names[0]
    assert first["Path"] == path
    assert first["Arn"] == f"arn:aws:iam::000000000000:group{path}{names[0]}"
    assert first["GroupId"].startswith("AGPA") and len(first["GroupId"]) == 21

    got = iam.get_group(GroupName=names[0].upper())
    assert got["Group"] == first
    assert got["Users"] == [] and got["IsTruncated"] is False

    listed = iam.list_groups(PathPrefix=path)
    assert [g["GroupName"] for g in listed["Groups"]] == names
    page = iam.list_groups(PathPrefix=path, MaxItems=2)
    assert page["IsTruncated"] is True
    rest = iam.list_groups(PathPrefix=path, Marker=page["Marker"])
    assert [g["GroupName"] for g in page["Groups"] + rest["Groups"]] == names


def test_group_errors(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("ge")
    iam.create_group(GroupName=name)
    assert error_of(iam.create_group, GroupName=name.upper()) == (
        "EntityAlreadyExists", f"Group with name {name.upper()} already exists.", 409,
    )
    missing = unique("nogroup")
    assert error_of(iam.get_group, GroupName=missing) == (
        "NoSuchEntity", f"The group with name {missing} cannot be found.", 404,
    )
    assert error_of(iam.delete_group, GroupName=missing)[0] == "NoSuchEntity"
    assert error_of(iam.add_user_to_group, GroupName=name, UserName=missing) == (
        "NoSuchEntity", f"The user with name {missing} cannot be found.", 404,
    )
    assert error_of(iam.list_groups_for_user, UserName=missing)[0] == "NoSuchEntity"


def test_membership(iam: Any, unique: Callable[[str], str]) -> None:
    group, other = unique("team"), unique("team")
    users = sorted(unique("m") for _ in range(3))
    iam.create_group(GroupName=group)
    iam.create_group(GroupName=other)
    for user in users:
        iam.create_user(UserName=user)
        iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=users[0])  # again: no change, no error
    iam.add_user_to_group(GroupName=other, UserName=users[0])

    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == users
    assert all(u["Arn"].endswith(f":user/{u['UserName']}") for u in got["Users"])
    page = iam.get_group(GroupName=group, MaxItems=2)
    assert page["IsTruncated"] is True and len(page["Users"]) == 2
    rest = iam.get_group(GroupName=group, Marker=page["Marker"])
    assert [u["UserName"] for u in page["Users"] + rest["Users"]] == users
    paginated = iam.get_paginator("get_group").paginate(GroupName=group, PaginationConfig={"PageSize": 1})
    assert [u["UserName"] for p in paginated for u in p["Users"]] == users

    assert sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=users[0])["Groups"]) == sorted(
        [group, other]
    )
    iam.remove_user_from_group(GroupName=group, UserName=users[0])
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=users[0])["Groups"]] == [other]
    assert error_of(iam.remove_user_from_group, GroupName=group, UserName=users[0]) == (
        "NoSuchEntity", f"The user with name {users[0]} cannot be found.", 404,
    )


def test_groups_per_user_quota(iam: Any, unique: Callable[[str], str]) -> None:
    user = unique("joiner")
    iam.create_user(UserName=user)
    groups = [unique("q") for _ in range(11)]
    for group in groups:
        iam.create_group(GroupName=group)
    for group in groups[:10]:
        iam.add_user_to_group(GroupName=group, UserName=user)
    assert error_of(iam.add_user_to_group, GroupName=groups[10], UserName=user) == (
        "LimitExceeded", "Cannot exceed quota for GroupsPerUser: 10", 409,
    )
    assert len(iam.list_groups_for_user(UserName=user)["Groups"]) == 10


def test_update_group(iam: Any, unique: Callable[[str], str]) -> None:
    old, new, taken, user = unique("og"), unique("ng"), unique("tg"), unique("gu")
    group_id = iam.create_group(GroupName=old)["Group"]["GroupId"]
    iam.create_group(GroupName=taken)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=old, UserName=user)
    assert error_of(iam.update_group, GroupName=old, NewGroupName=taken) == (
        "EntityAlreadyExists", f"Group with name {taken} already exists.", 409,
    )
    iam.update_group(GroupName=old, NewGroupName=new, NewPath="/ops/")
    assert error_of(iam.get_group, GroupName=old)[0] == "NoSuchEntity"
    got = iam.get_group(GroupName=new)
    assert got["Group"]["GroupId"] == group_id
    assert got["Group"]["Arn"] == f"arn:aws:iam::000000000000:group/ops/{new}"
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [new]


def test_delete_group(iam: Any, unique: Callable[[str], str]) -> None:
    group, user = unique("dg"), unique("du")
    iam.create_group(GroupName=group)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert error_of(iam.delete_group, GroupName=group) == (
        "DeleteConflict", "Cannot delete entity, must remove users from group first.", 409,
    )
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    assert error_of(iam.get_group, GroupName=group)[0] == "NoSuchEntity"
    assert iam.list_groups_for_user(UserName=user)["Groups"] == []


def test_delete_and_rename_group_with_policies(iam: Any, unique: Callable[[str], str]) -> None:
    group, renamed = unique("pg"), unique("pg2")
    managed = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="inline", PolicyDocument=POLICY)
    iam.attach_group_policy(GroupName=group, PolicyArn=managed)
    iam.update_group(GroupName=group, NewGroupName=renamed)
    assert iam.list_group_policies(GroupName=renamed)["PolicyNames"] == ["inline"]
    assert [p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName=renamed)["AttachedPolicies"]] == [
        managed
    ]
    assert error_of(iam.delete_group, GroupName=renamed) == (
        "DeleteConflict", "Cannot delete entity, must delete policies first.", 409,
    )
    iam.delete_group_policy(GroupName=renamed, PolicyName="inline")
    assert error_of(iam.delete_group, GroupName=renamed) == (
        "DeleteConflict", "Cannot delete entity, must detach all policies first.", 409,
    )
    iam.detach_group_policy(GroupName=renamed, PolicyArn=managed)
    iam.delete_group(GroupName=renamed)
