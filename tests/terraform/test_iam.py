"""Replays of the Terraform AWS provider (v6.x) for the IAM resources of the seed's configuration.

For each resource: apply (create and the read after it), a plan with no changes (a refresh whose fields equal the
configuration exactly), an update, and destroy with the provider's check that the resource is gone
(``NoSuchEntity``). Calls, their order and parameters follow the provider's ``internal/service/iam`` (see
``iam_support``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Server, error_of
from tests.terraform import iam_support as tf
from tests.terraform.iam_support import policy_read, user_delete, user_read

ECS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "AllowAccessToECSForInfrastructureManagement",
        "Effect": "Allow",
        "Principal": {"Service": "ecs.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
}
ELB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def document(*actions: str, resource: str = "*") -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}]}


@pytest.fixture
def iam(server: Server) -> Any:
    return tf.raw_iam(server)


# -- data "aws_caller_identity" --------------------------------------------------------------------------------


def test_caller_identity(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    # The data source's Read: sts:GetCallerIdentity -> account_id, arn, user_id (id = account_id).
    root = server.client("sts").get_caller_identity()
    assert (root["Account"], root["Arn"], root["UserId"]) == (
        "000000000000", "arn:aws:iam::000000000000:root", "000000000000")
    # The same for the access key of an aws_iam_user (what a provider configured with it reads).
    name = unique("tf-caller")
    iam.create_user(UserName=name, Path="/ci/")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    me = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
    user = iam.get_user(UserName=name)["User"]
    assert (me["Account"], me["Arn"], me["UserId"]) == ("000000000000", user["Arn"], user["UserId"])
    assert me["Arn"] == f"arn:aws:iam::000000000000:user/ci/{name}"


# -- aws_iam_role + aws_iam_role_policy_attachment -------------------------------------------------------------


def test_infrastructure_role_and_its_managed_policy(iam: Any, unique: Callable[[str], str]) -> None:
    config = {
        "name": unique("ecsInfrastructureRole"),
        "path": "/ecs/",
        "description": "ECS infrastructure role for load balancers",
        "max_session_duration": 7200,
        "assume_role_policy": ECS_TRUST,
        "tags": {"team": "platform", "env": "test"},
    }
    name = config["name"]

    # apply: aws_iam_role, then aws_iam_role_policy_attachment (AttachRolePolicy, then its read).
    tf.role_create(iam, config)
    state = tf.role_read(iam, name)
    assert state is not None
    assert state["arn"] == f"arn:aws:iam::000000000000:role/ecs/{name}"
    assert state["unique_id"].startswith("AROA") and len(state["unique_id"]) == 21
    iam.attach_role_policy(RoleName=name, PolicyArn=ELB_POLICY)
    assert tf.attached(iam, "role", name, ELB_POLICY)

    # plan: the refresh reads back exactly what was configured.
    state = tf.role_read(iam, name)
    assert state is not None
    assert tf.role_plan(config, state) == {}
    assert state["managed_policy_arns"] == [ELB_POLICY]
    # The trust policy comes back as the provider sent it, byte for byte, once URL-decoded.
    raw = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    assert tf.query_unescape(raw) == tf.normalize(ECS_TRUST)

    # update: description, max session duration, tags (one changed, one removed, one added), trust policy.
    updated = dict(config, description="managed by terraform", max_session_duration=3600,
                   tags={"team": "ecs", "owner": "me"},
                   assume_role_policy={**ECS_TRUST, "Statement": [{**ECS_TRUST["Statement"][0], "Sid": "Ecs"}]})
    tf.role_update(iam, config, updated)
    state = tf.role_read(iam, name)
    assert state is not None
    assert tf.role_plan(updated, state) == {}

    # The attachment's policy_arn is ForceNew: replace (detach, then attach the new one).
    iam.detach_role_policy(RoleName=name, PolicyArn=ELB_POLICY)
    assert not tf.attached(iam, "role", name, ELB_POLICY)
    iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
    assert tf.attached(iam, "role", name, READ_ONLY)

    # Something outside Terraform put the role in an instance profile: IAM refuses a bare DeleteRole...
    profile = unique("tf-profile")
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=name)

    # destroy: the attachment first (DetachRolePolicy), then the role.
    iam.detach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
    assert not tf.attached(iam, "role", name, READ_ONLY)
    assert error_of(iam.delete_role, RoleName=name) == (
        "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409)
    # ... and the provider's delete lists the role's instance profiles and removes the role from each first.
    tf.role_delete(iam, name)
    assert tf.role_read(iam, name) is None
    assert error_of(iam.get_role, RoleName=name) == (
        "NoSuchEntity", f"The role with name {name} cannot be found.", 404)
    assert iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"] == []
    # Destroying again (state out of date) is a success: NoSuchEntity.
    tf.role_delete(iam, name)
    iam.delete_instance_profile(InstanceProfileName=profile)


def test_role_with_force_detach_policies(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("tf-forced")
    tf.role_create(iam, {"name": name, "assume_role_policy": ECS_TRUST})
    iam.attach_role_policy(RoleName=name, PolicyArn=ELB_POLICY)
    iam.put_role_policy(RoleName=name, PolicyName="extra", PolicyDocument=tf.normalize(document("s3:ListBucket")))
    assert error_of(iam.delete_role, RoleName=name)[:2] == (
        "DeleteConflict", "Cannot delete entity, must detach all policies first.")
    tf.role_delete(iam, name, force_detach_policies=True)
    assert tf.role_read(iam, name) is None


# -- aws_iam_role + aws_iam_role_policy (the hook role) --------------------------------------------------------


def test_hook_role_and_its_inline_policy(iam: Any, unique: Callable[[str], str]) -> None:
    role = unique("ecs-hook-role")
    tf.role_create(iam, {"name": role, "assume_role_policy": ECS_TRUST, "tags": {"purpose": "hooks"}})
    policy = document("lambda:InvokeFunction", resource="arn:aws:lambda:us-east-1:000000000000:function:hook")

    # apply: resourceRolePolicyPut (PutRolePolicy), id "<role>:<name>", then the read (GetRolePolicy).
    iam.put_role_policy(RoleName=role, PolicyName="invoke-hook", PolicyDocument=tf.normalize(policy))
    read = iam.get_role_policy(RoleName=role, PolicyName="invoke-hook")
    assert (read["RoleName"], read["PolicyName"]) == (role, "invoke-hook")
    # plan: the document reads back as sent.
    assert tf.query_unescape(read["PolicyDocument"]) == tf.normalize(policy)
    # The role's own refresh sees the inline policy (inline_policy is Optional+Computed: no diff).
    state = tf.role_read(iam, role)
    assert state is not None and state["inline_policy"] == {"invoke-hook": tf.normalize(policy)}

    # update: the same Put with the new document.
    wider = document("lambda:InvokeFunction", resource="arn:aws:lambda:us-east-1:000000000000:function:*")
    iam.put_role_policy(RoleName=role, PolicyName="invoke-hook", PolicyDocument=tf.normalize(wider))
    read = iam.get_role_policy(RoleName=role, PolicyName="invoke-hook")
    assert tf.query_unescape(read["PolicyDocument"]) == tf.normalize(wider)

    # destroy: DeleteRolePolicy, then the read answers NotFound; then the role.
    iam.delete_role_policy(RoleName=role, PolicyName="invoke-hook")
    assert tf.find(iam.get_role_policy, RoleName=role, PolicyName="invoke-hook") is None
    assert error_of(iam.get_role_policy, RoleName=role, PolicyName="invoke-hook") == (
        "NoSuchEntity", "The role policy with name invoke-hook cannot be found.", 404)
    tf.ignore_not_found(iam.delete_role_policy, RoleName=role, PolicyName="invoke-hook")  # already gone: done
    tf.role_delete(iam, role)
    assert tf.role_read(iam, role) is None


# -- aws_iam_policy --------------------------------------------------------------------------------------------


def policy_update_document(iam: Any, arn: str, new: dict[str, Any], *, delayed: bool = False) -> None:
    """``resourcePolicyUpdate``: ``policyPruneVersions`` (with five versions, delete the oldest non-default one
    by CreateDate), then CreatePolicyVersion(SetAsDefault=true) (``delayed``: SetAsDefault=false, then
    SetDefaultPolicyVersion)."""
    versions = tf.pages(iam, "list_policy_versions", "Versions", PolicyArn=arn)
    if len(versions) >= 5:
        oldest: dict[str, Any] | None = None
        for version in versions:
            if version["IsDefaultVersion"]:
                continue
            if oldest is None or version["CreateDate"] < oldest["CreateDate"]:
                oldest = version
        assert oldest is not None
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    if not delayed:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=tf.normalize(new), SetAsDefault=True)
        return
    created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=tf.normalize(new), SetAsDefault=False)
    assert created["PolicyVersion"]["IsDefaultVersion"] is False
    iam.set_default_policy_version(PolicyArn=arn, VersionId=created["PolicyVersion"]["VersionId"])


def test_managed_policy_versions_and_tags(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("tf-policy")
    first = document("elasticloadbalancing:Describe*")
    created = iam.create_policy(PolicyName=name, Path="/app/", Description="ELB read",
                                PolicyDocument=tf.normalize(first), Tags=tf.tag_list({"team": "platform"}))["Policy"]
    arn = created["Arn"]
    assert arn == f"arn:aws:iam::000000000000:policy/app/{name}"
    state = policy_read(iam, arn)
    assert state == {
        "arn": arn, "name": name, "path": "/app/", "description": "ELB read", "policy_id": created["PolicyId"],
        "attachment_count": 0, "tags": {"team": "platform"}, "policy": tf.normalize(first),
    }

    # Six updates of the document: versions v2..v7; from the sixth, the prune deletes the oldest each time. The
    # last one as with delay_after_policy_creation_in_ms: CreatePolicyVersion(SetAsDefault=false), then
    # SetDefaultPolicyVersion.
    for number in range(2, 8):
        tf.next_second()
        policy_update_document(iam, arn, document(f"elasticloadbalancing:Describe{number}"), delayed=number == 7)
        versions = {v["VersionId"]: v for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]}
        assert max(versions, key=lambda v: int(v[1:])) == f"v{number}"
        assert versions[f"v{number}"]["IsDefaultVersion"]
        assert sorted(versions, key=lambda v: int(v[1:])) == [f"v{n}" for n in range(max(1, number - 4), number + 1)]
        state = policy_read(iam, arn)
        assert state is not None and state["policy"] == tf.normalize(document(f"elasticloadbalancing:Describe{number}"))

    # Tags only: TagPolicy/UntagPolicy, no new version.
    tf.update_tags(iam, "untag_policy", "tag_policy", {"PolicyArn": arn}, {"team": "platform"}, {"owner": "ecs"})
    state = policy_read(iam, arn)
    assert state is not None and state["tags"] == {"owner": "ecs"}
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 5

    # destroy: delete every non-default version, then the policy; the read answers NotFound.
    for version in tf.pages(iam, "list_policy_versions", "Versions", PolicyArn=arn):
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)
    assert policy_read(iam, arn) is None
    assert error_of(iam.get_policy, PolicyArn=arn) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)
    assert error_of(iam.list_policy_versions, PolicyArn=arn)[0] == "NoSuchEntity"


# -- aws_iam_user, aws_iam_user_policy, aws_iam_user_policy_attachment, aws_iam_access_key ---------------------


def test_user_with_policies_and_access_key(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("deployer")
    config = {"name": name, "path": "/ci/", "tags": {"team": "platform"}}

    # apply: aws_iam_user (CreateUser with tags, then GetUser).
    iam.create_user(UserName=name, Path="/ci/", Tags=tf.tag_list(config["tags"]))
    state = user_read(iam, name)
    assert state is not None
    assert state["arn"] == f"arn:aws:iam::000000000000:user/ci/{name}" and state["unique_id"].startswith("AIDA")

    # aws_iam_user_policy: PutUserPolicy, then GetUserPolicy.
    pass_role = document("iam:PassRole", resource="arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers")
    iam.put_user_policy(UserName=name, PolicyName="pass-infrastructure-role", PolicyDocument=tf.normalize(pass_role))
    read = iam.get_user_policy(UserName=name, PolicyName="pass-infrastructure-role")
    assert tf.query_unescape(read["PolicyDocument"]) == tf.normalize(pass_role)

    # aws_iam_user_policy_attachment: AttachUserPolicy, then the attached list filtered by ARN.
    iam.attach_user_policy(UserName=name, PolicyArn=READ_ONLY)
    assert tf.attached(iam, "user", name, READ_ONLY)

    # aws_iam_access_key: CreateAccessKey; its state comes from the answer (id, create_date, status, user) and
    # the refresh (findAccessKeyByTwoPartKey: ListAccessKeys for the user) must read the same values back.
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    listed = {k["AccessKeyId"]: k for k in tf.pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)}
    refreshed = listed[key["AccessKeyId"]]
    assert (refreshed["Status"], refreshed["UserName"], refreshed["CreateDate"]) == (
        key["Status"], key["UserName"], key["CreateDate"]) == ("Active", name, key["CreateDate"])

    # plan: every refresh reads back what was configured.
    state = user_read(iam, name)
    assert state is not None
    assert (state["name"], state["path"], state["tags"], state["permissions_boundary"]) == (
        name, "/ci/", {"team": "platform"}, "")
    assert tf.query_unescape(iam.get_user_policy(UserName=name, PolicyName="pass-infrastructure-role")[
        "PolicyDocument"]) == tf.normalize(pass_role)
    assert tf.attached(iam, "user", name, READ_ONLY)

    # update: tags of the user, the inline policy's document, the access key's status.
    tf.update_tags(iam, "untag_user", "tag_user", {"UserName": name}, config["tags"], {"team": "ecs", "on": "call"})
    state = user_read(iam, name)
    assert state is not None and state["tags"] == {"team": "ecs", "on": "call"}
    narrower = document("iam:PassRole", resource="arn:aws:iam::000000000000:role/ecs/*")
    iam.put_user_policy(UserName=name, PolicyName="pass-infrastructure-role", PolicyDocument=tf.normalize(narrower))
    assert tf.query_unescape(iam.get_user_policy(UserName=name, PolicyName="pass-infrastructure-role")[
        "PolicyDocument"]) == tf.normalize(narrower)
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    listed = {k["AccessKeyId"]: k for k in tf.pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)}
    assert listed[key["AccessKeyId"]]["Status"] == "Inactive"

    # destroy: the dependents first, each read then answers NotFound; then the user (no force_destroy needed).
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    left = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert key["AccessKeyId"] not in {k["AccessKeyId"] for k in left}
    iam.detach_user_policy(UserName=name, PolicyArn=READ_ONLY)
    assert not tf.attached(iam, "user", name, READ_ONLY)
    iam.delete_user_policy(UserName=name, PolicyName="pass-infrastructure-role")
    assert tf.find(iam.get_user_policy, UserName=name, PolicyName="pass-infrastructure-role") is None
    user_delete(iam, name, force_destroy=False)
    assert user_read(iam, name) is None
    assert error_of(iam.get_user, UserName=name) == ("NoSuchEntity", f"The user with name {name} cannot be found.", 404)


def test_user_force_destroy_removes_what_was_made_outside(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("tf-forced-user")
    iam.create_user(UserName=name)
    # Made outside Terraform: a console password, an access key, an inline and an attached policy, a group.
    iam.create_login_profile(UserName=name, Password="Correct-Horse-9", PasswordResetRequired=True)
    iam.create_access_key(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="manual", PolicyDocument=tf.normalize(document("s3:ListBucket")))
    iam.attach_user_policy(UserName=name, PolicyArn=READ_ONLY)
    group = unique("tf-group")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)

    # Without force_destroy, DeleteUser is refused, first for the login profile (as in AWS's deletion order).
    assert error_of(iam.delete_user, UserName=name) == (
        "DeleteConflict", "Cannot delete entity, must delete login profile first.", 409)

    user_delete(iam, name, force_destroy=True)
    assert user_read(iam, name) is None
    assert iam.get_group(GroupName=group)["Users"] == []
    assert error_of(iam.get_login_profile, UserName=name)[0] == "NoSuchEntity"
    iam.delete_group(GroupName=group)


def test_user_rename_keeps_its_login_profile(iam: Any, unique: Callable[[str], str]) -> None:
    # aws_iam_user's name is updated in place (UpdateUser NewUserName/NewPath): what hangs off it follows.
    old, new = unique("tf-old"), unique("tf-new")
    iam.create_user(UserName=old)
    iam.create_login_profile(UserName=old, Password="Correct-Horse-9")
    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")
    state = user_read(iam, new)
    assert state is not None and (state["name"], state["path"]) == (new, "/moved/")
    assert iam.get_login_profile(UserName=new)["LoginProfile"]["UserName"] == new
    assert user_read(iam, old) is None
    user_delete(iam, new, force_destroy=True)
    assert user_read(iam, new) is None


def test_delete_user_conflicts_name_what_is_left(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("tf-conflicts")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=tf.normalize(document("s3:ListBucket")))
    iam.attach_user_policy(UserName=name, PolicyArn=READ_ONLY)
    group = unique("tf-conflicts-group")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    steps = [
        ("Cannot delete entity, must delete access keys first.",
         lambda: iam.delete_access_key(UserName=name, AccessKeyId=key)),
        ("Cannot delete entity, must delete policies first.",
         lambda: iam.delete_user_policy(UserName=name, PolicyName="p")),
        ("Cannot delete entity, must detach all policies first.",
         lambda: iam.detach_user_policy(UserName=name, PolicyArn=READ_ONLY)),
        ("Cannot delete entity, must remove users from group first.",
         lambda: iam.remove_user_from_group(GroupName=group, UserName=name)),
    ]
    for message, remove in steps:
        assert error_of(iam.delete_user, UserName=name) == ("DeleteConflict", message, 409)
        remove()
    iam.delete_user(UserName=name)
    iam.delete_group(GroupName=group)
    assert user_read(iam, name) is None
    assert json.dumps(iam.list_users(PathPrefix="/")["Users"], default=str).count(name) == 0


# -- aws_iam_instance_profile (served because aws_iam_role's destroy walks a role's profiles) -------------------


def test_instance_profile_with_a_role(iam: Any, unique: Callable[[str], str]) -> None:
    name, first, second = unique("tf-profile"), unique("tf-profile-role"), unique("tf-profile-role2")
    for role in (first, second):
        tf.role_create(iam, {"name": role, "assume_role_policy": ECS_TRUST})
    # apply: CreateInstanceProfile (path, tags), the read until it exists, AddRoleToInstanceProfile, the read.
    created = iam.create_instance_profile(InstanceProfileName=name, Path="/ecs/",
                                          Tags=tf.tag_list({"team": "platform"}))["InstanceProfile"]
    assert tf.find(iam.get_instance_profile, InstanceProfileName=name) is not None
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=first)
    profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    # plan: arn, path, name, unique_id, role and tags read back as configured.
    assert (profile["Arn"], profile["Path"], profile["InstanceProfileId"]) == (
        f"arn:aws:iam::000000000000:instance-profile/ecs/{name}", "/ecs/", created["InstanceProfileId"])
    assert [r["RoleName"] for r in profile["Roles"]] == [first]
    assert tf.tag_map(profile.get("Tags")) == {"team": "platform"}
    # update: another role (remove the old one, add the new one), other tags.
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=first)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=second)
    tf.update_tags(iam, "untag_instance_profile", "tag_instance_profile", {"InstanceProfileName": name},
                   {"team": "platform"}, {"team": "ecs"})
    profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [second]
    assert tf.tag_map(profile.get("Tags")) == {"team": "ecs"}
    # destroy: remove its role, delete it; the read answers NotFound. Then the roles go without conflict.
    for role in profile["Roles"]:
        tf.ignore_not_found(iam.remove_role_from_instance_profile, InstanceProfileName=name,
                            RoleName=role["RoleName"])
    iam.delete_instance_profile(InstanceProfileName=name)
    assert tf.find(iam.get_instance_profile, InstanceProfileName=name) is None
    for role in (first, second):
        tf.role_delete(iam, role)
        assert tf.role_read(iam, role) is None
