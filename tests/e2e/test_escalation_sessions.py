"""Privilege escalation past the limits on a principal (issue 11, the escalation suite), boto3 against a real
server: a user bounded by a permissions boundary cannot remove or widen it, nor make an unbounded principal; a
session policy caps a session even when it turns to IAM or chains into the same role; role chaining needs each
hop's permission and cannot outlast an hour; a principal deleted and re-created under the same name inherits
neither the old one's credentials nor the trust placed in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Server, error_of
from tests.e2e.escalation_support import (
    ACCOUNT,
    ADMIN_POLICY,
    Actor,
    allow,
    denied,
    deny,
    doc,
    role_arn,
    session,
    trust,
    user_arn,
)

CHAINING_LIMIT = ("ValidationError",
                  "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
                  400)


# -- permissions boundaries --------------------------------------------------------------------------------------

def test_a_bounded_user_cannot_remove_or_widen_its_boundary(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    boundary = iam.create_policy(PolicyName=unique("fence"), PolicyDocument=doc(
        allow(["iam:Get*", "iam:List*", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"])))["Policy"]["Arn"]
    actor = Actor(server, iam, unique("bounded"), allow("*"), boundary=boundary)  # admin within its boundary
    attacker = actor.client("iam")
    assert "iam:DeleteUserPermissionsBoundary" in denied(attacker.delete_user_permissions_boundary,
                                                          UserName=actor.name)
    message = denied(attacker.put_user_permissions_boundary, UserName=actor.name, PermissionsBoundary=ADMIN_POLICY)
    assert message.endswith("because no permissions boundary allows the iam:PutUserPermissionsBoundary action")
    denied(attacker.put_user_policy, UserName=actor.name, PolicyName="more", PolicyDocument=doc(allow("*")))
    denied(attacker.create_user, UserName=unique("unbounded"))
    denied(attacker.create_role, RoleName=unique("unbounded"), AssumeRolePolicyDocument=trust({"AWS": actor.arn}))
    assert iam.get_user(UserName=actor.name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary


def test_widening_the_boundary_policy_itself_is_refused_by_the_delegation_pattern(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    """AWS's delegation pattern: an IAM admin bounded by B may create users only with B as their boundary, and
    may neither change B, nor take B off itself or anyone."""
    boundary = iam.create_policy(PolicyName=unique("delegated"), PolicyDocument=doc(
        allow(["iam:*", "sts:*"])))["Policy"]["Arn"]
    must_keep = {"StringNotEquals": {"iam:PermissionsBoundary": boundary}}
    actor = Actor(
        server, iam, unique("delegate"), allow("iam:*"),
        deny(["iam:CreateUser", "iam:CreateRole", "iam:PutUserPermissionsBoundary",
              "iam:PutRolePermissionsBoundary"], Condition=must_keep),
        deny(["iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary"]),
        deny(["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"], boundary),
        boundary=boundary,
    )
    attacker = actor.client("iam")
    assert "with an explicit deny" in denied(attacker.create_user, UserName=unique("free"))
    denied(attacker.create_user, UserName=unique("other"), PermissionsBoundary=ADMIN_POLICY)
    made = unique("fenced")
    assert attacker.create_user(UserName=made, PermissionsBoundary=boundary)["User"]["PermissionsBoundary"][
        "PermissionsBoundaryArn"] == boundary
    denied(attacker.delete_user_permissions_boundary, UserName=actor.name)
    denied(attacker.delete_user_permissions_boundary, UserName=made)
    denied(attacker.put_user_permissions_boundary, UserName=actor.name, PermissionsBoundary=ADMIN_POLICY)
    denied(attacker.create_policy_version, PolicyArn=boundary, PolicyDocument=doc(allow("*")), SetAsDefault=True)
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=boundary)["Versions"]] == ["v1"]
    assert iam.get_user(UserName=actor.name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary


# -- session policies --------------------------------------------------------------------------------------------

def test_a_session_policy_caps_the_session_even_against_its_own_role(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    role = unique("broad")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN_POLICY)
    actor = Actor(server, iam, unique("capped"), allow("sts:AssumeRole", role_arn(role)))
    creds = actor.client("sts").assume_role(RoleArn=role_arn(role), RoleSessionName="capped",
                                            Policy=doc(allow("iam:ListRoles")))["Credentials"]
    capped = session(server, "iam", creds)
    capped.list_roles(MaxItems=1)
    for call, params in ((capped.put_role_policy, {"RoleName": role, "PolicyName": "x",
                                                   "PolicyDocument": doc(allow("*"))}),
                         (capped.attach_role_policy, {"RoleName": role, "PolicyArn": ADMIN_POLICY}),
                         (capped.create_user, {"UserName": unique("nope")}),
                         (capped.update_assume_role_policy, {"RoleName": role,
                                                             "PolicyDocument": trust({"AWS": actor.arn})})):
        assert "because no session policy allows" in denied(call, **params)
    # Re-assuming the same role without a session policy is itself a call the session policy must allow.
    message = denied(session(server, "sts", creds).assume_role, RoleArn=role_arn(role), RoleSessionName="free")
    assert message.endswith("because no session policy allows the sts:AssumeRole action")
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []


# -- role chaining -----------------------------------------------------------------------------------------------

def test_role_chaining_needs_each_hops_permission_and_stays_within_an_hour(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    low, admin = unique("low"), unique("top")
    actor = Actor(server, iam, unique("chain"), allow("sts:AssumeRole", role_arn(low)))
    iam.create_role(RoleName=low, AssumeRolePolicyDocument=trust({"AWS": actor.arn}))
    iam.create_role(RoleName=admin, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    iam.attach_role_policy(RoleName=admin, PolicyArn=ADMIN_POLICY)
    first = actor.client("sts").assume_role(RoleArn=role_arn(low), RoleSessionName="hop1")["Credentials"]
    hop = session(server, "sts", first)
    # The trust policy delegates to the account: the low role's own policies must allow the hop.
    message = denied(hop.assume_role, RoleArn=role_arn(admin), RoleSessionName="hop2")
    assert message.endswith("because no identity-based policy allows the sts:AssumeRole action")
    # The user cannot skip the low role either.
    denied(actor.client("sts").assume_role, RoleArn=role_arn(admin), RoleSessionName="skip")
    iam.put_role_policy(RoleName=low, PolicyName="hop", PolicyDocument=doc(allow("sts:AssumeRole", role_arn(admin))))
    assert error_of(hop.assume_role, RoleArn=role_arn(admin), RoleSessionName="hop2", DurationSeconds=7200) == (
        CHAINING_LIMIT)
    second = hop.assume_role(RoleArn=role_arn(admin), RoleSessionName="hop2")["Credentials"]
    assert session(server, "sts", second).get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{admin}/hop2")


# -- re-created principals ---------------------------------------------------------------------------------------

def test_a_recreated_user_inherits_neither_credentials_nor_trust(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    name, role = unique("tim"), unique("tims-role")
    first = Actor(server, iam, name)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": user_arn(name)}))
    iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN_POLICY)
    assert first.client("sts").assume_role(RoleArn=role_arn(role), RoleSessionName="first")["Credentials"]
    iam.delete_access_key(UserName=name, AccessKeyId=first.key)
    iam.delete_user(UserName=name)

    second = Actor(server, iam, name)
    code, _, status = error_of(first.client("sts").get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)
    message = denied(second.client("sts").assume_role, RoleArn=role_arn(role), RoleSessionName="second")
    assert message == (f"User: {user_arn(name)} is not authorized to perform: sts:AssumeRole on resource: "
                       f"{role_arn(role)}")
