"""IAM enforcement on every call, with real clients against a real server: AWS's denial codes, statuses and
messages per protocol, explicit denies, permissions boundaries, policy changes taking effect at once, root,
global condition keys, ``--no-enforce-iam`` and the explanation of a denial by request id."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, allow, deny, doc, error_of
from turnout.authz.diagnostics import explain
from turnout.store.db import Database

ACCOUNT = "000000000000"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"



def request_id_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    request_id: str = info.value.response["ResponseMetadata"]["RequestId"]
    return request_id


class Caller:
    """An IAM user with access keys, and clients signed with them."""

    def __init__(self, server: Server, iam: Any, name: str, *statements: dict[str, Any]) -> None:
        self.name = name
        self.arn: str = iam.create_user(UserName=name)["User"]["Arn"]
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=doc(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self._server, self._key = server, key

    def client(self, service: str) -> Any:
        return self._server.client(service, key=self._key["AccessKeyId"], secret=self._key["SecretAccessKey"])

    def denied(self, action: str, resource: str | None = None, reason: str | None = None) -> str:
        where = f" on resource: {resource}" if resource else ""
        because = reason if reason is not None else f"because no identity-based policy allows the {action} action"
        return f"User: {self.arn} is not authorized to perform: {action}{where} {because}"


@pytest.fixture
def make_caller(server: Server, iam: Any, unique: Callable[[str], str]) -> Callable[..., Caller]:
    def make(*statements: dict[str, Any]) -> Caller:
        return Caller(server, iam, unique("caller"), *statements)

    return make


@pytest.fixture
def role(iam: Any, unique: Callable[[str], str]) -> dict[str, Any]:
    found: dict[str, Any] = iam.create_role(RoleName=unique("target"), Path="/app/",
                                            AssumeRolePolicyDocument=TRUST)["Role"]
    return found


def test_iam_call_without_permission(make_caller: Callable[..., Caller], role: dict[str, Any]) -> None:
    caller = make_caller()
    iam = caller.client("iam")
    # IAM names its own entities "role <path/name>" in these messages (a create names the new ARN).
    assert error_of(iam.get_role, RoleName=role["RoleName"]) == (
        "AccessDenied", caller.denied("iam:GetRole", f"role app/{role['RoleName']}"), 403,
    )
    code, message, status = error_of(iam.list_roles)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: {caller.arn} is not authorized to perform: iam:ListRoles")
    assert message.endswith("because no identity-based policy allows the iam:ListRoles action")
    # Even a role that does not exist is refused for lack of permission, not found.
    assert error_of(iam.get_role, RoleName=role["RoleName"] + "-ghost") == (
        "AccessDenied", caller.denied("iam:GetRole", f"role {role['RoleName']}-ghost"), 403,
    )
    new = f"arn:aws:iam::{ACCOUNT}:role/{role['RoleName']}-new"
    assert error_of(iam.create_role, RoleName=role["RoleName"] + "-new", AssumeRolePolicyDocument=TRUST) == (
        "AccessDenied", caller.denied("iam:CreateRole", new), 403,
    )
    assert error_of(iam.get_policy, PolicyArn=READ_ONLY) == (
        "AccessDenied", caller.denied("iam:GetPolicy", f"policy {READ_ONLY}"), 403,
    )


def test_iam_call_with_permission(make_caller: Callable[..., Caller], role: dict[str, Any]) -> None:
    caller = make_caller(allow("iam:GetRole", "arn:aws:iam::*:role/*"))
    iam = caller.client("iam")
    assert iam.get_role(RoleName=role["RoleName"])["Role"]["Arn"] == role["Arn"]
    code, _, _ = error_of(iam.list_roles)
    assert code == "AccessDenied"
    # Allowed but missing: now the caller may learn it does not exist.
    assert error_of(iam.get_role, RoleName=role["RoleName"] + "-ghost")[0] == "NoSuchEntity"


def test_elb_is_authorized_before_dispatch(make_caller: Callable[..., Caller]) -> None:
    caller = make_caller()
    action = "elasticloadbalancing:DescribeLoadBalancers"
    assert error_of(caller.client("elbv2").describe_load_balancers) == ("AccessDenied", caller.denied(action), 403)
    allowed = make_caller(allow("elasticloadbalancing:Describe*"))
    assert "LoadBalancers" in allowed.client("elbv2").describe_load_balancers()


def test_json_protocol_denial(make_caller: Callable[..., Caller]) -> None:
    caller = make_caller()
    assert error_of(caller.client("ecs").list_clusters) == (
        "AccessDeniedException", caller.denied("ecs:ListClusters", "*"), 400,
    )
    assert "clusterArns" in make_caller(allow("ecs:List*")).client("ecs").list_clusters()


def test_ec2_denial(make_caller: Callable[..., Caller]) -> None:
    caller = make_caller()
    ec2 = caller.client("ec2")
    with pytest.raises(ClientError) as info:
        ec2.describe_vpcs()
    response = info.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "UnauthorizedOperation", 403,
    )
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["Error"]["Message"] == (
        f"You are not authorized to perform this operation. {caller.denied('ec2:DescribeVpcs')}. "
        f"Encoded authorization failure message: {request_id}"
    )


def test_explicit_deny(iam: Any, make_caller: Callable[..., Caller], role: dict[str, Any],
                       unique: Callable[[str], str]) -> None:
    caller = make_caller(allow("iam:*"), deny("iam:GetRole", role["Arn"]))
    client = caller.client("iam")
    assert error_of(client.get_role, RoleName=role["RoleName"]) == (
        "AccessDenied",
        caller.denied("iam:GetRole", f"role app/{role['RoleName']}",
                      "with an explicit deny in an identity-based policy"),
        403,
    )
    client.list_roles(MaxItems=1)
    # A group's deny applies to its members.
    group = unique("deniers")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="no-list", PolicyDocument=doc(deny("iam:List*")))
    iam.add_user_to_group(GroupName=group, UserName=caller.name)
    code, message, _ = error_of(client.list_roles)
    assert code == "AccessDenied" and message.endswith("with an explicit deny in an identity-based policy")


def test_permissions_boundary(iam: Any, make_caller: Callable[..., Caller], role: dict[str, Any],
                              unique: Callable[[str], str]) -> None:
    caller = make_caller(allow("iam:*"))
    bound = iam.create_policy(PolicyName=unique("bound"), PolicyDocument=doc(allow("iam:Get*")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=caller.name, PermissionsBoundary=bound)
    client = caller.client("iam")
    assert client.get_role(RoleName=role["RoleName"])["Role"]["RoleName"] == role["RoleName"]
    code, message, status = error_of(client.list_roles)
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith("because no permissions boundary allows the iam:ListRoles action")
    # An explicit deny in the boundary reads as such.
    iam.create_policy_version(PolicyArn=bound, SetAsDefault=True,
                              PolicyDocument=doc(allow("iam:*"), deny("iam:GetRole")))
    assert error_of(client.get_role, RoleName=role["RoleName"])[1] == caller.denied(
        "iam:GetRole", f"role app/{role['RoleName']}", "with an explicit deny in a permissions boundary",
    )


def test_policy_changes_take_effect_on_the_next_request(
    iam: Any, make_caller: Callable[..., Caller], role: dict[str, Any], unique: Callable[[str], str]
) -> None:
    caller = make_caller()
    client = caller.client("iam")
    name = role["RoleName"]
    assert error_of(client.get_role, RoleName=name)[0] == "AccessDenied"
    iam.put_user_policy(UserName=caller.name, PolicyName="inline", PolicyDocument=doc(allow("iam:GetRole")))
    client.get_role(RoleName=name)
    iam.delete_user_policy(UserName=caller.name, PolicyName="inline")
    assert error_of(client.get_role, RoleName=name)[0] == "AccessDenied"
    iam.attach_user_policy(UserName=caller.name, PolicyArn=READ_ONLY)  # an AWS managed policy
    client.get_role(RoleName=name)
    iam.detach_user_policy(UserName=caller.name, PolicyArn=READ_ONLY)
    assert error_of(client.get_role, RoleName=name)[0] == "AccessDenied"
    group = unique("readers")
    iam.create_group(GroupName=group)
    managed = iam.create_policy(PolicyName=unique("read"), PolicyDocument=doc(allow("iam:GetRole")))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName=group, PolicyArn=managed)
    iam.add_user_to_group(GroupName=group, UserName=caller.name)
    client.get_role(RoleName=name)
    iam.create_policy_version(PolicyArn=managed, PolicyDocument=doc(allow("iam:ListRoles")), SetAsDefault=True)
    assert error_of(client.get_role, RoleName=name)[0] == "AccessDenied"
    iam.set_default_policy_version(PolicyArn=managed, VersionId="v1")
    client.get_role(RoleName=name)
    iam.remove_user_from_group(GroupName=group, UserName=caller.name)
    assert error_of(client.get_role, RoleName=name)[0] == "AccessDenied"


def test_root_is_allowed_everything(server: Server, iam: Any, role: dict[str, Any]) -> None:
    assert iam.get_role(RoleName=role["RoleName"])["Role"]["Arn"] == role["Arn"]
    iam.list_users(MaxItems=1)
    assert "LoadBalancers" in server.client("elbv2").describe_load_balancers()
    assert "Vpcs" in server.client("ec2").describe_vpcs()
    assert "clusterArns" in server.client("ecs").list_clusters()
    # A 12-digit root key is the root of that account: allowed in its own account.
    other = server.client("iam", key="246813579024")
    other.create_user(UserName="root-made")
    other.delete_user(UserName="root-made")


def test_caller_identity_and_session_token_need_no_permission(make_caller: Callable[..., Caller]) -> None:
    caller = make_caller(deny("*"))
    sts = caller.client("sts")
    assert sts.get_caller_identity()["Arn"] == caller.arn
    assert sts.get_session_token()["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert error_of(caller.client("iam").list_roles)[1].endswith("with an explicit deny in an identity-based policy")


def test_policy_variables_and_global_keys(make_caller: Callable[..., Caller], iam: Any) -> None:
    caller = make_caller(
        allow("iam:GetUser", "arn:aws:iam::*:user/${aws:username}"),
        allow("iam:ListRoles", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"},
                                          "StringEquals": {"aws:RequestedRegion": "us-east-1",
                                                           "aws:PrincipalType": "User"}}),
        allow("iam:ListUsers", Condition={"Bool": {"aws:SecureTransport": "true"}}),
        allow("iam:ListGroups", Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}),
    )
    client = caller.client("iam")
    assert client.get_user(UserName=caller.name)["User"]["Arn"] == caller.arn
    assert error_of(client.get_user, UserName="someone-else") == (
        "AccessDenied", caller.denied("iam:GetUser", "user someone-else"), 403,
    )
    client.list_roles(MaxItems=1)
    assert error_of(client.list_users)[0] == "AccessDenied"  # Turnout serves plain HTTP
    assert error_of(client.list_groups)[0] == "AccessDenied"
    iam.tag_user(UserName=caller.name, Tags=[{"Key": "team", "Value": "blue"}])
    client.list_groups(MaxItems=1)


def test_denial_is_explained_by_request_id(server: Server, make_caller: Callable[..., Caller],
                                           role: dict[str, Any]) -> None:
    caller = make_caller(
        allow("iam:*"),
        {"Sid": "NoRoleReads", "Effect": "Deny", "Action": "iam:GetRole", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}},
    )
    request_id = request_id_of(caller.client("iam").get_role, RoleName=role["RoleName"])
    allowed_id = caller.client("iam").list_roles(MaxItems=1)["ResponseMetadata"]["RequestId"]
    db = Database(server.data_dir / "turnout.db")
    try:
        denial = explain(db, request_id)
        assert explain(db, allowed_id) is None
    finally:
        db.close()
    assert denial is not None
    assert (denial.principal_arn, denial.action, denial.resource) == (caller.arn, "iam:GetRole", role["Arn"])
    assert (denial.effect, denial.denied_by, denial.error_code) == (
        "ExplicitDeny", "identity-based policy", "AccessDenied",
    )
    assert denial.message == caller.denied("iam:GetRole", f"role app/{role['RoleName']}",
                                           "with an explicit deny in an identity-based policy")
    assert denial.operation == "iam:GetRole"
    inline = f"{caller.arn}#inline"
    deny_statement = next(m for m in denial.matched if m.effect == "Deny")
    assert (deny_statement.policy_type, deny_statement.policy_id, deny_statement.statement_index,
            deny_statement.sid) == ("identity-based policy", inline, 1, "NoRoleReads")
    assert deny_statement.start is not None and deny_statement.start[0] == 1  # a one-line document
    assert any(m.effect == "Allow" and m.statement_index == 0 for m in denial.matched)
    assert [key.lower() for key in denial.missing_context_keys] == ["aws:sourcevpc"]
    assert denial.considered == {"identity-based policy": [inline]}
    assert denial.context["aws:PrincipalArn"] == caller.arn and denial.context["aws:SourceIp"] == "127.0.0.1"
    assert "NoRoleReads" in denial.describe()


@pytest.fixture
def unenforced(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", extra_args=["--no-enforce-iam"]).start()
    yield srv
    srv.stop()


def test_no_enforce_iam_allows_a_user_without_policies(unenforced: Server) -> None:
    iam = unenforced.client("iam")
    iam.create_role(RoleName="open", AssumeRolePolicyDocument=TRUST)
    caller = Caller(unenforced, iam, "nobody")
    client = caller.client("iam")
    assert client.get_role(RoleName="open")["Role"]["RoleName"] == "open"
    client.create_user(UserName="made-by-nobody")
    assert "LoadBalancers" in caller.client("elbv2").describe_load_balancers()
    # Even a role whose trust policy names only ECS can be assumed: nothing is enforced.
    role_arn = iam.get_role(RoleName="open")["Role"]["Arn"]
    assert caller.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]


def test_get_session_token_session_has_the_users_permissions(server: Server, make_caller: Callable[..., Caller]
                                                             ) -> None:
    caller = make_caller(allow("elasticloadbalancing:Describe*"))
    creds = caller.client("sts").get_session_token()["Credentials"]

    def as_session(service: str) -> Any:
        return server.client(service, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                             token=creds["SessionToken"])

    # The session is the user (same ARN, same policies); IAM itself refuses such sessions without MFA.
    assert "LoadBalancers" in as_session("elbv2").describe_load_balancers()
    assert error_of(as_session("ecs").list_clusters) == (
        "AccessDeniedException", caller.denied("ecs:ListClusters", "*"), 400,
    )


def test_x_forwarded_for_cannot_change_the_source_ip(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    """aws:SourceIp is the address that connected; a client's X-Forwarded-For header does not change it."""
    name = unique("xff")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="from-10", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
                       "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}],
    }))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    client = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    client.meta.events.register(
        "before-sign.iam.ListRoles", lambda request, **_: request.headers.add_header("X-Forwarded-For", "10.1.2.3")
    )
    assert error_of(client.list_roles)[0] == "AccessDenied"
