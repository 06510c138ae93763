"""Privilege escalation through IAM itself (issue 11, the escalation suite), boto3 against a real server: each
known path is refused (AccessDenied, 403) and leaves nothing changed unless the caller holds the permission it
needs on that very resource: a new default policy version (CreatePolicyVersion, SetDefaultPolicyVersion),
attaching or putting policies on oneself, one's group or a role one can assume, joining a privileged group, an
access key or console password for another user, and rewriting a privileged role's trust policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, error_of
from tests.e2e.escalation_support import (
    ACCOUNT,
    ADMIN_POLICY,
    Actor,
    allow,
    denied,
    doc,
    role_arn,
    trust,
    user_arn,
)

ADMIN_DOC = doc(allow("*"))
HARMLESS_DOC = doc(allow("iam:GetUser"))


def is_admin(actor: Actor, unique: Callable[[str], str]) -> bool:
    """Whether the actor can now do what only an administrator may (create a user)."""
    try:
        actor.client("iam").create_user(UserName=unique("proof"))
    except ClientError:
        return False
    return True


# -- policy versions ---------------------------------------------------------------------------------------------

def test_create_policy_version_on_ones_own_policy_needs_the_permission(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    policy = iam.create_policy(PolicyName=unique("mine"), PolicyDocument=HARMLESS_DOC)["Policy"]["Arn"]
    actor = Actor(server, iam, unique("pv"), allow(["iam:GetPolicy", "iam:GetPolicyVersion"], policy))
    iam.attach_user_policy(UserName=actor.name, PolicyArn=policy)
    attacker = actor.client("iam")
    message = denied(attacker.create_policy_version, PolicyArn=policy, PolicyDocument=ADMIN_DOC, SetAsDefault=True)
    assert f"iam:CreatePolicyVersion on resource: policy {policy}" in message
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=policy)["Versions"]] == ["v1"]
    assert not is_admin(actor, unique)
    # A grant on another policy does not reach this one.
    iam.put_user_policy(UserName=actor.name, PolicyName="own", PolicyDocument=doc(
        allow("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/other")))
    denied(attacker.create_policy_version, PolicyArn=policy, PolicyDocument=ADMIN_DOC, SetAsDefault=True)
    # Granted on this policy, AWS allows it (SetAsDefault needs no iam:SetDefaultPolicyVersion).
    iam.put_user_policy(UserName=actor.name, PolicyName="own", PolicyDocument=doc(
        allow("iam:CreatePolicyVersion", policy)))
    attacker.create_policy_version(PolicyArn=policy, PolicyDocument=ADMIN_DOC, SetAsDefault=True)
    assert is_admin(actor, unique)


def test_set_default_policy_version_to_a_dormant_admin_version_needs_the_permission(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    policy = iam.create_policy(PolicyName=unique("dormant"), PolicyDocument=HARMLESS_DOC)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=ADMIN_DOC, SetAsDefault=False)
    actor = Actor(server, iam, unique("sd"), allow("iam:ListPolicyVersions", policy))
    iam.attach_user_policy(UserName=actor.name, PolicyArn=policy)
    attacker = actor.client("iam")
    message = denied(attacker.set_default_policy_version, PolicyArn=policy, VersionId="v2")
    assert "iam:SetDefaultPolicyVersion" in message
    assert iam.get_policy(PolicyArn=policy)["Policy"]["DefaultVersionId"] == "v1"
    assert not is_admin(actor, unique)


# -- attachments, inline policies, groups ------------------------------------------------------------------------

@pytest.fixture
def target(server: Server, iam: Any, unique: Callable[[str], str]) -> dict[str, str]:
    """The attacker, a group it belongs to, a role it may assume (its trust names the attacker), an admin
    group it is not in."""
    name = unique("att")
    actor = Actor(server, iam, name, allow(["iam:Get*", "iam:List*", "sts:AssumeRole"]))
    group = unique("grp")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    role = unique("assumable")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": actor.arn}))
    admins = unique("admins")
    iam.create_group(GroupName=admins)
    iam.attach_group_policy(GroupName=admins, PolicyArn=ADMIN_POLICY)
    return {"user": name, "group": group, "role": role, "admins": admins, "key": actor.key, "secret": actor.secret}


CALLS: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, Any]], Callable[[dict[str, str]], str]]] = {
    "AttachUserPolicy": ("attach_user_policy", lambda t: {"UserName": t["user"], "PolicyArn": ADMIN_POLICY},
                         lambda t: user_arn(t["user"])),
    "AttachGroupPolicy": ("attach_group_policy", lambda t: {"GroupName": t["group"], "PolicyArn": ADMIN_POLICY},
                          lambda t: f"arn:aws:iam::{ACCOUNT}:group/{t['group']}"),
    "AttachRolePolicy": ("attach_role_policy", lambda t: {"RoleName": t["role"], "PolicyArn": ADMIN_POLICY},
                         lambda t: role_arn(t["role"])),
    "PutUserPolicy": ("put_user_policy", lambda t: {"UserName": t["user"], "PolicyName": "x",
                                                    "PolicyDocument": ADMIN_DOC}, lambda t: user_arn(t["user"])),
    "PutGroupPolicy": ("put_group_policy", lambda t: {"GroupName": t["group"], "PolicyName": "x",
                                                      "PolicyDocument": ADMIN_DOC},
                       lambda t: f"arn:aws:iam::{ACCOUNT}:group/{t['group']}"),
    "PutRolePolicy": ("put_role_policy", lambda t: {"RoleName": t["role"], "PolicyName": "x",
                                                    "PolicyDocument": ADMIN_DOC}, lambda t: role_arn(t["role"])),
    "AddUserToGroup": ("add_user_to_group", lambda t: {"GroupName": t["admins"], "UserName": t["user"]},
                       lambda t: f"arn:aws:iam::{ACCOUNT}:group/{t['admins']}"),
}


def admin_reached(server: Server, iam: Any, t: dict[str, str], unique: Callable[[str], str]) -> bool:
    """Whether the attacker (or a session of its role) can now create a user."""
    user = server.client("iam", key=t["key"], secret=t["secret"])
    creds = server.client("sts", key=t["key"], secret=t["secret"]).assume_role(
        RoleArn=role_arn(t["role"]), RoleSessionName="probe")["Credentials"]
    role = server.client("iam", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                         token=creds["SessionToken"])
    for client in (user, role):
        try:
            client.create_user(UserName=unique("proof"))
            return True
        except ClientError:
            continue
    return False


@pytest.mark.parametrize("action", sorted(CALLS))
def test_granting_oneself_more_needs_the_permission_on_that_entity(
    server: Server, iam: Any, unique: Callable[[str], str], target: dict[str, str], action: str,
) -> None:
    method, params, resource = CALLS[action]
    attacker = server.client("iam", key=target["key"], secret=target["secret"])
    message = denied(getattr(attacker, method), **params(target))
    assert f"iam:{action}" in message
    # Allowed on some other entity only: still refused.
    iam.put_user_policy(UserName=target["user"], PolicyName="own", PolicyDocument=doc(
        allow(["iam:Get*", "iam:List*", "sts:AssumeRole"]), allow(f"iam:{action}", resource(target) + "-other")))
    denied(getattr(attacker, method), **params(target))
    assert not admin_reached(server, iam, target, unique)
    assert iam.list_attached_user_policies(UserName=target["user"])["AttachedPolicies"] == []
    assert iam.list_attached_role_policies(RoleName=target["role"])["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=target["role"])["PolicyNames"] == []
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=target["user"])["Groups"]] == [target["group"]]


# -- credentials of another user ---------------------------------------------------------------------------------

SELF_ONLY = f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"


def test_an_access_key_for_another_user_is_refused(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    victim = unique("victim")
    iam.create_user(UserName=victim)
    iam.attach_user_policy(UserName=victim, PolicyArn=ADMIN_POLICY)
    actor = Actor(server, iam, unique("keys"), allow(["iam:CreateAccessKey", "iam:ListAccessKeys"], SELF_ONLY))
    attacker = actor.client("iam")
    assert attacker.create_access_key(UserName=actor.name)["AccessKey"]["UserName"] == actor.name
    message = denied(attacker.create_access_key, UserName=victim)
    assert f"iam:CreateAccessKey on resource: user {victim}" in message
    assert iam.list_access_keys(UserName=victim)["AccessKeyMetadata"] == []


@pytest.mark.parametrize("operation", ["create_login_profile", "update_login_profile"])
def test_a_console_password_for_another_user_is_refused(
    server: Server, iam: Any, unique: Callable[[str], str], operation: str,
) -> None:
    victim = unique("victim")
    iam.create_user(UserName=victim)
    iam.attach_user_policy(UserName=victim, PolicyArn=ADMIN_POLICY)
    if operation == "update_login_profile":
        iam.create_login_profile(UserName=victim, Password="Original-Passw0rd!")
    actor = Actor(server, iam, unique("pw"),
                  allow(["iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:GetLoginProfile"], SELF_ONLY))
    attacker = actor.client("iam")
    action = "CreateLoginProfile" if operation == "create_login_profile" else "UpdateLoginProfile"
    message = denied(getattr(attacker, operation), UserName=victim, Password="Attacker-Passw0rd!")
    assert f"iam:{action} on resource: user {victim}" in message
    if operation == "create_login_profile":
        assert error_of(iam.get_login_profile, UserName=victim)[0] == "NoSuchEntity"
    # On itself the same policy allows it.
    attacker.create_login_profile(UserName=actor.name, Password="Own-Passw0rd!")


# -- trust policies ----------------------------------------------------------------------------------------------

def test_rewriting_a_privileged_roles_trust_policy_is_refused(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    admin_role = unique("admin-role")
    iam.create_role(RoleName=admin_role, AssumeRolePolicyDocument=trust({"Service": "ecs-tasks.amazonaws.com"}))
    iam.attach_role_policy(RoleName=admin_role, PolicyArn=ADMIN_POLICY)
    decoy = unique("decoy")
    iam.create_role(RoleName=decoy, AssumeRolePolicyDocument=trust({"Service": "ecs-tasks.amazonaws.com"}))
    actor = Actor(server, iam, unique("trust"), allow("sts:AssumeRole"),
                  allow("iam:UpdateAssumeRolePolicy", role_arn(decoy)))
    attacker = actor.client("iam")
    opened = trust({"AWS": actor.arn})
    message = denied(attacker.update_assume_role_policy, RoleName=admin_role, PolicyDocument=opened)
    assert f"iam:UpdateAssumeRolePolicy on resource: role {admin_role}" in message
    shown = iam.get_role(RoleName=admin_role)["Role"]["AssumeRolePolicyDocument"]
    assert shown["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    denied(actor.client("sts").assume_role, RoleArn=role_arn(admin_role), RoleSessionName="esc")
    # The role it may edit: allowed, and only that one.
    attacker.update_assume_role_policy(RoleName=decoy, PolicyDocument=opened)
    assert actor.client("sts").assume_role(RoleArn=role_arn(decoy), RoleSessionName="ok1")["Credentials"]
