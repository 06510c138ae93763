"""Collecting the policies that apply to a principal: users (with groups), roles, sessions; the cache and its
invalidation by IAM writes; the entity collector of the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from turnout.authz.policies import (
    SESSION_POLICY_ID,
    NoSuchEntity,
    PolicyCache,
    entity_policies,
    inline_policy_id,
    load_caller,
    referenced_keys,
)
from turnout.core.principal import Principal, Session
from turnout.policy import compile_policy

from ..authz_support import InProcess, allow

ACCOUNT = "000000000000"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}]})
READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def ids(policies: Any) -> list[str]:
    return [p.policy_id for p in policies]


def make_policy(iam: Any, name: str, document: dict[str, Any]) -> str:
    arn: str = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    return arn


def test_user_with_groups_inline_attached_and_boundary(env: InProcess) -> None:
    iam = env.client("iam")
    user = iam.create_user(UserName="alice", Path="/team/")["User"]
    iam.put_user_policy(UserName="alice", PolicyName="own", PolicyDocument=json.dumps(allow("iam:GetRole")))
    mine = make_policy(iam, "mine", allow("iam:ListRoles"))
    iam.attach_user_policy(UserName="alice", PolicyArn=mine)
    iam.attach_user_policy(UserName="alice", PolicyArn=READ_ONLY)
    group = iam.create_group(GroupName="devs")["Group"]
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    iam.put_group_policy(GroupName="devs", PolicyName="g", PolicyDocument=json.dumps(allow("ecs:*")))
    shared = make_policy(iam, "shared", allow("elasticloadbalancing:*"))
    iam.attach_group_policy(GroupName="devs", PolicyArn=shared)
    iam.create_group(GroupName="others")
    iam.put_group_policy(GroupName="others", PolicyName="x", PolicyDocument=json.dumps(allow("ec2:*")))
    bound = make_policy(iam, "bound", allow(["iam:*", "ecs:*"]))
    iam.put_user_permissions_boundary(UserName="alice", PermissionsBoundary=bound)

    found = entity_policies(env.gateway.identities, ACCOUNT, user["Arn"])
    assert ids(found.identity) == [
        inline_policy_id(user["Arn"], "own"), mine, READ_ONLY, inline_policy_id(group["Arn"], "g"), shared,
    ]
    assert found.identity[0].statements[0].effect == "Allow"
    assert found.boundary is not None and found.boundary.policy_id == bound
    assert ids(entity_policies(env.gateway.identities, ACCOUNT, group["Arn"]).identity) == [
        inline_policy_id(group["Arn"], "g"), shared,
    ]
    assert entity_policies(env.gateway.identities, ACCOUNT, group["Arn"]).boundary is None

    # The caller collector reads the same for the user's principal, with its tags.
    iam.tag_user(UserName="alice", Tags=[{"Key": "team", "Value": "blue"}])
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    principal = env.gateway.credentials.resolve(key).principal
    caller = load_caller(env.gateway.identities, principal)
    assert ids(caller.identity) == ids(found.identity)
    assert caller.boundary is not None and caller.boundary.policy_id == bound
    assert caller.session == () and caller.tags == {"team": "blue"}


def test_policy_versions_use_the_default(env: InProcess) -> None:
    iam = env.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]
    arn = make_policy(iam, "versioned", allow("iam:GetRole"))
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(allow("iam:ListRoles")), SetAsDefault=True)
    found = entity_policies(env.gateway.identities, ACCOUNT, role["Arn"])
    assert [s.actions.exact for s in found.identity[0].statements] == [frozenset({"iam:listroles"})]


def test_entity_lookup_failures(env: InProcess) -> None:
    iam = env.client("iam")
    iam.create_role(RoleName="r", Path="/a/", AssumeRolePolicyDocument=TRUST)
    identities = env.gateway.identities
    assert identities is not None
    for arn in (
        f"arn:aws:iam::{ACCOUNT}:role/missing",
        f"arn:aws:iam::{ACCOUNT}:role/r",  # the role's ARN has its path
        "arn:aws:iam::111122223333:role/a/r",  # another account
        f"arn:aws:iam::{ACCOUNT}:policy/r",
        "not-an-arn",
    ):
        with pytest.raises(NoSuchEntity):
            entity_policies(identities, ACCOUNT, arn)
    assert entity_policies(identities, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/a/r").identity == []


def _session(role: dict[str, Any], **extra: Any) -> Principal:
    session = Session(
        issuer_type="Role", issuer_arn=role["Arn"], issuer_id=role["RoleId"], issuer_name=role["RoleName"],
        session_name="s1", issued_at="2024-05-01T10:00:00+00:00", expires_at="2024-05-01T11:00:00+00:00", **extra,
    )
    return Principal(ACCOUNT, "AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/s1",
                     f"{role['RoleId']}:s1", "s1", None, session)


def test_role_session_has_role_policies_boundary_and_session_policies(env: InProcess) -> None:
    iam = env.client("iam")
    bound = make_policy(iam, "bound", allow("iam:*"))
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=bound,
                           Tags=[{"Key": "team", "Value": "red"}])["Role"]
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=json.dumps(allow("iam:GetRole")))
    iam.attach_role_policy(RoleName="app", PolicyArn=READ_ONLY)
    session_managed = make_policy(iam, "session-managed", allow("iam:ListRoles"))
    principal = _session(role, policy=json.dumps(allow("iam:GetRole")), policy_arns=(session_managed, READ_ONLY))
    caller = load_caller(env.gateway.identities, principal)
    assert ids(caller.identity) == [inline_policy_id(role["Arn"], "inline"), READ_ONLY]
    assert caller.boundary is not None and caller.boundary.policy_id == bound
    assert ids(caller.session) == [SESSION_POLICY_ID, session_managed, READ_ONLY]
    assert caller.tags == {"team": "red"}

    # Without session policies there is no session layer at all.
    assert load_caller(env.gateway.identities, _session(role)).session == ()
    # A deleted role grants nothing (found by unique id, so a new role of the same name is another role).
    iam.detach_role_policy(RoleName="app", PolicyArn=READ_ONLY)
    iam.delete_role_policy(RoleName="app", PolicyName="inline")
    iam.delete_role_permissions_boundary(RoleName="app")
    iam.delete_role(RoleName="app")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=json.dumps(allow("*")))
    gone = load_caller(env.gateway.identities, _session(role))
    assert gone.identity == () and gone.boundary is None


def test_get_session_token_session_has_the_users_policies(env: InProcess) -> None:
    iam = env.client("iam")
    user = iam.create_user(UserName="bob")["User"]
    iam.put_user_policy(UserName="bob", PolicyName="p", PolicyDocument=json.dumps(allow("iam:GetRole")))
    session = Session(issuer_type="IAMUser", issuer_arn=user["Arn"], issuer_id=user["UserId"], issuer_name="bob",
                      session_name="bob", issued_at="2024-05-01T10:00:00+00:00",
                      expires_at="2024-05-01T22:00:00+00:00")
    principal = Principal(ACCOUNT, "IAMUser", user["Arn"], user["UserId"], "bob", "ASIAX", session)
    caller = load_caller(env.gateway.identities, principal)
    assert ids(caller.identity) == [inline_policy_id(user["Arn"], "p")] and caller.session == ()


def test_root_and_services_carry_no_identity_policies(env: InProcess) -> None:
    for principal in (Principal.root(ACCOUNT), Principal.service("ecs.amazonaws.com")):
        caller = load_caller(env.gateway.identities, principal)
        assert caller.identity == () and caller.boundary is None and caller.session == ()


def test_cache_reuses_until_the_account_changes(env: InProcess) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]["AccessKeyId"]
    principal = env.gateway.credentials.resolve(key).principal
    cache = PolicyCache(env.gateway.db, env.gateway.identities)
    first = cache.caller(principal)
    assert cache.caller(principal) is first and first.identity == ()
    cache.invalidate("111122223333")
    assert cache.caller(principal) is first  # another account's change
    # The write is seen by every cache over the database (this one is not the gateway's): the generation is
    # stored with the write, as another server process would see it.
    iam.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=json.dumps(allow("iam:GetRole")))
    second = cache.caller(principal)
    assert second is not first and len(second.identity) == 1
    assert cache.caller(principal) is second
    unseen = cache.generation("999999999999")
    cache.invalidate(None)  # an IAM write by a service principal: every account may have changed
    assert cache.caller(principal) is not second
    assert cache.generation("999999999999") != unseen


def test_a_generation_bumped_in_a_rolled_back_transaction_is_never_seen_again(env: InProcess) -> None:
    cache = PolicyCache(env.gateway.db, env.gateway.identities)
    other = PolicyCache(env.gateway.db, env.gateway.identities)  # stands for another process's cache
    before = cache.generation(ACCOUNT)
    with pytest.raises(RuntimeError), env.gateway.db.transaction():
        cache.invalidate(ACCOUNT)
        phantom = cache.generation(ACCOUNT)
        assert phantom != before
        raise RuntimeError("rolled back")
    assert cache.generation(ACCOUNT) == before
    other.invalidate(ACCOUNT)
    assert cache.generation(ACCOUNT) not in (before, phantom)


def test_cache_is_bounded(env: InProcess) -> None:
    cache = PolicyCache(env.gateway.db, env.gateway.identities, size=8)
    for index in range(20):
        cache.caller(Principal.root(f"{index:012d}"))
    assert len(cache._entries) <= 8


def test_the_gateway_invalidates_after_iam_writes_only(env: InProcess) -> None:
    cache = env.authorizer.cache
    before = cache.generation(ACCOUNT)
    iam = env.client("iam")
    iam.list_roles()
    iam.get_account_summary()
    assert cache.generation(ACCOUNT) == before
    iam.create_user(UserName="dave")
    after = cache.generation(ACCOUNT)
    assert after != before
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="dave")  # a failed write changed nothing
    assert cache.generation(ACCOUNT) == after


def test_referenced_keys() -> None:
    policy = compile_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "${aws:PrincipalTag/Dept}"},
                       "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}},
    ]}))
    assert referenced_keys([policy]) == (
        "aws:multifactorauthpresent", "aws:principaltag/dept", "aws:principaltag/team", "aws:sourceip",
        "aws:username",
    )
    assert referenced_keys([compile_policy(json.dumps(allow("iam:*")))]) == ()
