"""AssumeRole under enforcement, with real clients against a real server: a root user may never assume a role,
the trust policy must allow the caller, the caller's identity policies must allow it too unless the trust policy
names the caller, a service-only trust policy keeps users and sessions out, both sides must allow across
accounts, and a session acts with the role's policies within its session policy and the role's permissions
boundary."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from tests.conftest import Server, error_of

ACCOUNT = "000000000000"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(principal: dict[str, Any], effect: str = "Allow") -> str:
    return doc({"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"})



def new_account() -> str:
    return f"{secrets.randbelow(9 * 10**11) + 10**11:012d}"


class User:
    def __init__(self, server: Server, iam: Any, name: str, *statements: dict[str, Any]) -> None:
        self.arn: str = iam.create_user(UserName=name)["User"]["Arn"]
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=doc(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])

    def assume(self, role_arn: str, **extra: Any) -> dict[str, Any]:
        creds: dict[str, Any] = self.sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", **extra)["Credentials"]
        return creds


def session_client(server: Server, service: str, creds: dict[str, Any]) -> Any:
    return server.client(service, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                         token=creds["SessionToken"])


def refused(who: str, role_arn: str, reason: str = "") -> tuple[str, str, int]:
    return ("AccessDenied", f"User: {who} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            f"{reason}", 403)


NO_IDENTITY = " because no identity-based policy allows the sts:AssumeRole action"
ROOT_REFUSED = ("AccessDenied", "Roles may not be assumed by root accounts.", 403)


def test_root_may_not_assume_roles(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    root = server.client("sts")
    # Whatever the trust policy says, and before it is read: AWS's exact refusal.
    documents = [
        trust({"AWS": ACCOUNT}),
        trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
        trust({"AWS": "*"}),
        trust({"Service": "ecs.amazonaws.com"}),
        doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}),
    ]
    roles = [iam.create_role(RoleName=unique("no-root"), AssumeRolePolicyDocument=document)["Role"]["Arn"]
             for document in documents]
    for role_arn in roles:
        assert error_of(root.assume_role, RoleArn=role_arn, RoleSessionName="s1") == ROOT_REFUSED
    # With session tags and a source identity too (their checks come after the refusal).
    assert error_of(root.assume_role, RoleArn=roles[0], RoleSessionName="s1", SourceIdentity="admin",
                    Tags=[{"Key": "team", "Value": "red"}]) == ROOT_REFUSED
    # A role of another account that trusts this one.
    other = server.client("iam", key=new_account())
    cross = other.create_role(RoleName=unique("no-root"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    assert error_of(root.assume_role, RoleArn=cross["Arn"], RoleSessionName="s1") == ROOT_REFUSED
    # The root user's own session credentials (GetSessionToken) are still the root user's.
    creds = root.get_session_token()["Credentials"]
    assert error_of(session_client(server, "sts", creds).assume_role, RoleArn=roles[0],
                    RoleSessionName="s1") == ROOT_REFUSED
    # A role that does not exist: AWS does not say; ours is the same refusal, as the rule is about the caller.
    ghost = f"arn:aws:iam::{ACCOUNT}:role/{unique('ghost')}"
    assert error_of(root.assume_role, RoleArn=ghost, RoleSessionName="s1") == ROOT_REFUSED
    # The same roles are open to a user of the account that may assume roles.
    user = User(server, iam, unique("u"), allow("sts:AssumeRole"))
    assert user.assume(roles[0])["AccessKeyId"].startswith("ASIA")
    assert user.assume(cross["Arn"])["AccessKeyId"].startswith("ASIA")


def test_same_account_needs_identity_permission_unless_the_trust_names_the_caller(
    server: Server, iam: Any, unique: Callable[[str], str]
) -> None:
    role = iam.create_role(RoleName=unique("acct"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    without = User(server, iam, unique("plain"))
    assert error_of(without.assume, role["Arn"]) == refused(without.arn, role["Arn"], NO_IDENTITY)
    with_permission = User(server, iam, unique("allowed"), allow("sts:AssumeRole", role["Arn"]))
    assert with_permission.assume(role["Arn"])["AccessKeyId"].startswith("ASIA")

    # A trust policy naming the user's ARN allows it with no identity policy at all.
    named = User(server, iam, unique("named"))
    direct = iam.create_role(RoleName=unique("direct"), AssumeRolePolicyDocument=trust({"AWS": named.arn}))["Role"]
    assert named.assume(direct["Arn"])["AccessKeyId"].startswith("ASIA")
    # ... but not anyone else, whatever their identity policies say.
    assert error_of(with_permission.assume, direct["Arn"]) == refused(with_permission.arn, direct["Arn"])


def test_service_only_trust_policy_keeps_users_out(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    role = iam.create_role(RoleName=unique("ecs-only"),
                           AssumeRolePolicyDocument=trust({"Service": "ecs.amazonaws.com"}))["Role"]
    admin = User(server, iam, unique("admin"), allow("*"))
    # AWS does not explain trust policy denials: no "because" clause.
    assert error_of(admin.assume, role["Arn"]) == refused(admin.arn, role["Arn"])
    # Nor does a role session whose role may do anything get in.
    hub = iam.create_role(RoleName=unique("hub"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    iam.put_role_policy(RoleName=hub["RoleName"], PolicyName="all", PolicyDocument=doc(allow("*")))
    session = session_client(server, "sts", admin.assume(hub["Arn"]))
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{hub['RoleName']}/s1"
    assert error_of(session.assume_role, RoleArn=role["Arn"], RoleSessionName="s2") == refused(
        session_arn, role["Arn"],
    )


def test_explicit_deny_in_trust_policy(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    user = User(server, iam, unique("blocked"), allow("sts:AssumeRole"))
    document = doc(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"},
    )
    role = iam.create_role(RoleName=unique("deny"), AssumeRolePolicyDocument=document)["Role"]
    assert error_of(user.assume, role["Arn"]) == refused(
        user.arn, role["Arn"], " with an explicit deny in the role trust policy",
    )


def test_missing_role_is_refused_like_an_untrusted_one(server: Server, iam: Any,
                                                       unique: Callable[[str], str]) -> None:
    user = User(server, iam, unique("seeker"), allow("sts:AssumeRole"))
    ghost = f"arn:aws:iam::{ACCOUNT}:role/{unique('ghost')}"
    assert error_of(user.assume, ghost) == refused(user.arn, ghost)


def test_cross_account_needs_both_sides(server: Server, unique: Callable[[str], str]) -> None:
    caller_account, role_account = new_account(), new_account()
    caller_iam = server.client("iam", key=caller_account)  # the root of each account, by its 12-digit key
    role_iam = server.client("iam", key=role_account)
    trusting = role_iam.create_role(RoleName=unique("xacct"),
                                    AssumeRolePolicyDocument=trust({"AWS": caller_account}))["Role"]
    untrusting = role_iam.create_role(RoleName=unique("closed"),
                                      AssumeRolePolicyDocument=trust({"AWS": new_account()}))["Role"]
    without = User(server, caller_iam, unique("plain"))
    with_permission = User(server, caller_iam, unique("allowed"), allow("sts:AssumeRole"))

    # The trusting side allows, the caller's side does not.
    assert error_of(without.assume, trusting["Arn"]) == refused(without.arn, trusting["Arn"], NO_IDENTITY)
    # The caller's side allows, the trust policy does not.
    assert error_of(with_permission.assume, untrusting["Arn"]) == refused(with_permission.arn, untrusting["Arn"])
    # Both allow.
    creds = with_permission.assume(trusting["Arn"])
    identity = session_client(server, "sts", creds).get_caller_identity()
    assert identity["Account"] == role_account
    assert identity["Arn"] == f"arn:aws:sts::{role_account}:assumed-role/{trusting['RoleName']}/s1"
    # A trust policy naming the user of the other account directly still needs that user's identity permission.
    direct = role_iam.create_role(RoleName=unique("named"),
                                  AssumeRolePolicyDocument=trust({"AWS": without.arn}))["Role"]
    assert error_of(without.assume, direct["Arn"]) == refused(without.arn, direct["Arn"], NO_IDENTITY)


def test_session_acts_with_the_roles_policies(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    role = iam.create_role(RoleName=unique("worker"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="read",
                        PolicyDocument=doc(allow(["iam:GetRole", "iam:ListRoles"])))
    user = User(server, iam, unique("u"), allow("sts:AssumeRole"))
    client = session_client(server, "iam", user.assume(role["Arn"]))
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/s1"
    assert client.get_role(RoleName=role["RoleName"])["Role"]["Arn"] == role["Arn"]
    code, message, status = error_of(client.list_users)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: {session_arn} is not authorized to perform: iam:ListUsers")
    assert message.endswith("because no identity-based policy allows the iam:ListUsers action")
    # A change to the role's policies reaches its sessions on the next request.
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="read", PolicyDocument=doc(allow("iam:ListUsers")))
    client.list_users(MaxItems=1)
    assert error_of(client.get_role, RoleName=role["RoleName"])[0] == "AccessDenied"


def test_session_policy_limits_the_session(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    role = iam.create_role(RoleName=unique("broad"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all", PolicyDocument=doc(allow("iam:*")))
    user = User(server, iam, unique("u"), allow("sts:AssumeRole"))
    creds = user.assume(role["Arn"], Policy=doc(allow("iam:ListRoles")))
    client = session_client(server, "iam", creds)
    client.list_roles(MaxItems=1)
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/s1"
    assert error_of(client.get_role, RoleName=role["RoleName"]) == (
        "AccessDenied",
        f"User: {session_arn} is not authorized to perform: iam:GetRole on resource: role {role['RoleName']} "
        "because no session policy allows the iam:GetRole action",
        403,
    )
    # Managed session policies (PolicyArns) limit it the same way.
    creds = user.assume(role["Arn"], PolicyArns=[{"arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}])
    client = session_client(server, "iam", creds)
    client.get_role(RoleName=role["RoleName"])
    code, message, _ = error_of(client.create_user, UserName=unique("nope"))
    assert code == "AccessDenied" and message.endswith("because no session policy allows the iam:CreateUser action")


def test_role_boundary_limits_its_sessions(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    bound = iam.create_policy(PolicyName=unique("bound"), PolicyDocument=doc(allow("iam:List*")))["Policy"]["Arn"]
    role = iam.create_role(RoleName=unique("bounded"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}),
                           PermissionsBoundary=bound)["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all", PolicyDocument=doc(allow("iam:*")))
    user = User(server, iam, unique("u"), allow("sts:AssumeRole"))
    client = session_client(server, "iam", user.assume(role["Arn"]))
    client.list_roles(MaxItems=1)
    code, message, _ = error_of(client.get_role, RoleName=role["RoleName"])
    assert code == "AccessDenied"
    assert message.endswith("because no permissions boundary allows the iam:GetRole action")


def test_role_chaining_needs_permission_from_the_first_role(server: Server, iam: Any,
                                                            unique: Callable[[str], str]) -> None:
    second = iam.create_role(RoleName=unique("hop2"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    first = iam.create_role(RoleName=unique("hop1"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    user = User(server, iam, unique("u"), allow("sts:AssumeRole"))
    hop = session_client(server, "sts", user.assume(first["Arn"]))
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{first['RoleName']}/s1"
    assert error_of(hop.assume_role, RoleArn=second["Arn"], RoleSessionName="s2") == refused(
        session_arn, second["Arn"], NO_IDENTITY,
    )
    iam.put_role_policy(RoleName=first["RoleName"], PolicyName="hop",
                        PolicyDocument=doc(allow("sts:AssumeRole", second["Arn"])))
    assert hop.assume_role(RoleArn=second["Arn"], RoleSessionName="s2")["Credentials"]["AccessKeyId"]
