"""ListRoles, ListUsers, ListGroups and ListInstanceProfiles are authorized on the path they list, and their
denials name it, as AWS's do: "... iam:ListRoles on resource: arn:aws:iam::<account>:role/ because ..."."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import Server, error_of

ACCOUNT = "000000000000"


def caller(server: Server, iam: Any, name: str, *statements: dict[str, Any]) -> tuple[str, Any]:
    arn: str = iam.create_user(UserName=name)["User"]["Arn"]
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="inline",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_denials_name_the_path_listed(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    arn, client = caller(server, iam, unique("lister"))

    def denied(action: str, resource: str) -> tuple[str, str, int]:
        return ("AccessDenied", f"User: {arn} is not authorized to perform: {action} on resource: {resource} "
                f"because no identity-based policy allows the {action} action", 403)

    assert error_of(client.list_roles) == denied("iam:ListRoles", f"arn:aws:iam::{ACCOUNT}:role/")
    assert error_of(client.list_roles, PathPrefix="/prefix/") == denied(
        "iam:ListRoles", f"arn:aws:iam::{ACCOUNT}:role/prefix/")
    assert error_of(client.list_users) == denied("iam:ListUsers", f"arn:aws:iam::{ACCOUNT}:user/")
    assert error_of(client.list_groups, PathPrefix="/ops/") == denied(
        "iam:ListGroups", f"arn:aws:iam::{ACCOUNT}:group/ops/")
    assert error_of(client.list_instance_profiles) == denied(
        "iam:ListInstanceProfiles", f"arn:aws:iam::{ACCOUNT}:instance-profile/")
    assert error_of(client.list_policies) == denied("iam:ListPolicies", "policy path /")
    assert error_of(client.list_policies, PathPrefix="/app/") == denied("iam:ListPolicies", "policy path /app/")


def test_role_resources_allow_list_roles(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    # "arn:aws:iam::*:role/*" matches "role/" (the wildcard matches nothing too): ListRoles is allowed.
    _, everywhere = caller(server, iam, unique("roles-all"),
                           {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "arn:aws:iam::*:role/*"})
    assert "Roles" in everywhere.list_roles()
    assert "Roles" in everywhere.list_roles(PathPrefix="/app/")
    # A policy on one path allows listing that path, not the whole account.
    _, app_only = caller(server, iam, unique("roles-app"),
                           {"Effect": "Allow", "Action": "iam:ListRoles",
                            "Resource": f"arn:aws:iam::{ACCOUNT}:role/app/*"})
    assert "Roles" in app_only.list_roles(PathPrefix="/app/")
    code, message, _ = error_of(app_only.list_roles)
    assert code == "AccessDenied" and f"on resource: arn:aws:iam::{ACCOUNT}:role/ because" in message
    # "Resource": "*" allows every list, and a role's ARN does not allow ListUsers.
    _, star = caller(server, iam, unique("star"), {"Effect": "Allow", "Action": "iam:List*", "Resource": "*"})
    assert "Users" in star.list_users()
    _, roles_only = caller(server, iam, unique("roles-only"),
                           {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "arn:aws:iam::*:role/*"})
    assert error_of(roles_only.list_users)[0] == "AccessDenied"


def test_adding_a_role_to_a_profile_needs_pass_role(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    # "The caller of this operation must be granted the PassRole permission on the IAM role" (API reference).
    role, profile = unique("passed"), unique("passed-profile")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName=profile)
    arn, client = caller(server, iam, unique("profiler"),
                         {"Effect": "Allow", "Action": "iam:AddRoleToInstanceProfile", "Resource": "*"})
    code, message, status = error_of(client.add_role_to_instance_profile, InstanceProfileName=profile, RoleName=role)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: {arn} is not authorized to perform: iam:PassRole on resource: ")
    assert role in message and message.endswith("because no identity-based policy allows the iam:PassRole action")
    assert iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"] == []
    iam.put_user_policy(UserName=arn.rsplit("/", 1)[1], PolicyName="pass", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/*"}]}))
    client.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    assert [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"][
        "Roles"]] == [role]


def test_cloudtrail_records_no_resource_for_a_path(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    # The path a list is authorized on is not a resource the call acts on: its CloudTrail record names none.
    name = unique("trail-lister")
    _, client = caller(server, iam, name, {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"})
    client.list_roles(PathPrefix="/app/")
    trail = server.client("cloudtrail")
    events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": name}])["Events"]
    [listed] = [e for e in events if e["EventName"] == "ListRoles"]
    assert listed["Resources"] == []
    assert json.loads(listed["CloudTrailEvent"]).get("resources", []) == []
