"""IAM instance profiles through boto3 and the AWS CLI: create, get, list, the one role, tags, delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import Server, aws_cli, cli_ok, error_of

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def test_instance_profile_lifecycle(iam: Any, unique: Callable[[str], str]) -> None:
    name, role = unique("profile"), unique("profile-role")
    created = iam.create_instance_profile(InstanceProfileName=name, Path="/ec2/",
                                          Tags=[{"Key": "team", "Value": "web"}])["InstanceProfile"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:instance-profile/ec2/{name}"
    assert created["InstanceProfileId"].startswith("AIPA") and len(created["InstanceProfileId"]) == 21
    assert (created["Path"], created["Roles"], created["Tags"]) == ("/ec2/", [], [{"Key": "team", "Value": "web"}])
    assert error_of(iam.create_instance_profile, InstanceProfileName=name.upper()) == (
        "EntityAlreadyExists", f"Instance Profile {name.upper()} already exists.", 409)

    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [r["Arn"] for r in got["Roles"]] == [role_arn]
    assert got["Roles"][0]["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert got["InstanceProfileId"] == created["InstanceProfileId"]

    # One role per profile, even the same role again.
    other = unique("profile-other")
    iam.create_role(RoleName=other, AssumeRolePolicyDocument=TRUST)
    for candidate in (other, role):
        assert error_of(iam.add_role_to_instance_profile, InstanceProfileName=name, RoleName=candidate) == (
            "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", 409)

    for_role = iam.list_instance_profiles_for_role(RoleName=role)
    assert [p["InstanceProfileName"] for p in for_role["InstanceProfiles"]] == [name]
    assert for_role["IsTruncated"] is False
    assert iam.list_instance_profiles_for_role(RoleName=other)["InstanceProfiles"] == []
    listed = iam.list_instance_profiles(PathPrefix="/ec2/")["InstanceProfiles"]
    assert name in [p["InstanceProfileName"] for p in listed]
    assert name not in [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/other/")[
        "InstanceProfiles"]]

    # Tags.
    iam.tag_instance_profile(InstanceProfileName=name, Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_instance_profile(InstanceProfileName=name, TagKeys=["team"])
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == [{"Key": "env", "Value": "prod"}]

    # Neither the role nor the profile can go while they are together.
    assert error_of(iam.delete_role, RoleName=role) == (
        "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409)
    assert error_of(iam.delete_instance_profile, InstanceProfileName=name) == (
        "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409)
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    assert error_of(iam.remove_role_from_instance_profile, InstanceProfileName=name, RoleName=role)[0] == (
        "NoSuchEntity")
    iam.delete_role(RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=name)
    assert error_of(iam.get_instance_profile, InstanceProfileName=name) == (
        "NoSuchEntity", f"Instance Profile {name} cannot be found.", 404)
    iam.delete_role(RoleName=other)


def test_missing_entities(iam: Any, unique: Callable[[str], str]) -> None:
    ghost = unique("ghost")
    assert error_of(iam.list_instance_profiles_for_role, RoleName=ghost) == (
        "NoSuchEntity", f"The role with name {ghost} cannot be found.", 404)
    assert error_of(iam.delete_instance_profile, InstanceProfileName=ghost)[0] == "NoSuchEntity"
    profile = unique("profile")
    iam.create_instance_profile(InstanceProfileName=profile)
    assert error_of(iam.add_role_to_instance_profile, InstanceProfileName=profile, RoleName=ghost) == (
        "NoSuchEntity", f"The role with name {ghost} cannot be found.", 404)
    assert error_of(iam.create_instance_profile, InstanceProfileName=unique("bad"), Path="/a//b/")[0] == (
        "ValidationError")
    iam.delete_instance_profile(InstanceProfileName=profile)


def test_account_views_count_profiles(fresh_server: Server) -> None:
    iam = fresh_server.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="p")
    iam.add_role_to_instance_profile(InstanceProfileName="p", RoleName="r")
    assert iam.get_account_summary()["SummaryMap"]["InstanceProfiles"] == 1
    [detail] = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    assert [p["InstanceProfileName"] for p in detail["InstanceProfileList"]] == ["p"]


def test_instance_profiles_with_the_cli(server: Server, iam: Any, unique: Callable[[str], str],
                                        tmp_path: Path) -> None:
    name, role = unique("cli-profile"), unique("cli-profile-role")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    created = cli_ok(aws_cli(server, tmp_path, "iam", "create-instance-profile", "--instance-profile-name", name))
    assert created["InstanceProfile"]["InstanceProfileName"] == name
    cli_ok(aws_cli(server, tmp_path, "iam", "add-role-to-instance-profile", "--instance-profile-name", name,
                   "--role-name", role))
    listed = cli_ok(aws_cli(server, tmp_path, "iam", "list-instance-profiles-for-role", "--role-name", role))
    assert [p["InstanceProfileName"] for p in listed["InstanceProfiles"]] == [name]
    assert [r["RoleName"] for r in listed["InstanceProfiles"][0]["Roles"]] == [role]
