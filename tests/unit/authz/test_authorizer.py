"""The authorizer in process: service principals and internal calls, the decision and checks caches staying
exact, AWS's error per protocol, IAM's wording of its resources, and the bounded diagnostics store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from turnout.authz.authorizer import (
    ANNOTATION,
    ROOT_MAY_NOT_ASSUME_ROLES,
    Authorization,
    access_denied,
    iam_resource_wording,
)
from turnout.authz.diagnostics import KEEP, Denial, denial_of, explain, save
from turnout.authz.globalkeys import SOURCE_ACCOUNT, SOURCE_ARN
from turnout.core.principal import Principal
from turnout.policy import PolicySet, compile_policy, evaluate, make_request
from turnout.policy.servicerules import always_allowed

from ..authz_support import InProcess, allow

ACCOUNT = "000000000000"


def trust(principal: dict[str, Any], **condition: Any) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def test_service_principal_is_decided_by_the_trust_policy(env: InProcess) -> None:
    iam = env.client("iam")
    ecs_role = iam.create_role(RoleName="infra", AssumeRolePolicyDocument=trust({"Service": "ecs.amazonaws.com"}))
    account_role = iam.create_role(RoleName="people", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    ecs = Principal.service("ecs.amazonaws.com")
    params = {"RoleSessionName": "ECSNetworkingWithELB"}
    ctx = env.gateway.invoke("sts", "AssumeRole", {**params, "RoleArn": ecs_role["Role"]["Arn"]}, ecs)
    assert ctx.error is None and ctx.result is not None
    assert ctx.result["AssumedRoleUser"]["Arn"].endswith(":assumed-role/infra/ECSNetworkingWithELB")
    authorization = ctx.annotations[ANNOTATION]
    assert isinstance(authorization, Authorization) and authorization.allowed
    assert [e.check.action for e in authorization.evaluated] == ["sts:AssumeRole"]

    ctx = env.gateway.invoke("sts", "AssumeRole", {**params, "RoleArn": account_role["Role"]["Arn"]}, ecs)
    assert ctx.error is not None and (ctx.error.code, ctx.error.status) == ("AccessDenied", 403)
    assert ctx.error.message == (f"User: ecs.amazonaws.com is not authorized to perform: sts:AssumeRole on "
                                 f"resource: {account_role['Role']['Arn']}")
    denial = explain(env.gateway.db, ctx.request_id)
    assert denial is not None and denial.account_id == ACCOUNT and denial.denied_by == "role trust policy"


def test_root_may_not_assume_roles_whatever_the_trust_policy(env: InProcess) -> None:
    iam = env.client("iam")
    role = iam.create_role(RoleName="open", AssumeRolePolicyDocument=trust({"AWS": "*"}))["Role"]
    root_sts = env.client("sts")
    with pytest.raises(ClientError) as info:
        root_sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Tags=[{"Key": "k", "Value": "v"}])
    error = info.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied", ROOT_MAY_NOT_ASSUME_ROLES, 403,
    )
    assert ROOT_MAY_NOT_ASSUME_ROLES == "Roles may not be assumed by root accounts."
    assert env.last is not None
    authorization = env.last.annotations[ANNOTATION]
    # Decided before the trust policy is read, on the first check (the sts:TagSession check never runs).
    assert [e.check.action for e in authorization.evaluated] == ["sts:AssumeRole"]
    denied = authorization.denied
    assert denied is not None and denied.resource is None and denied.considered() == {}
    assert denied.decision.denied_by is None and denied.decision.reason == ROOT_MAY_NOT_ASSUME_ROLES
    # The denial is explained like any other.
    denial = explain(env.gateway.db, error["ResponseMetadata"]["RequestId"])
    assert denial is not None and denial.message == ROOT_MAY_NOT_ASSUME_ROLES
    assert denial.principal_arn == f"arn:aws:iam::{ACCOUNT}:root" and denial.resource == role["Arn"]
    assert f"decided by: {ROOT_MAY_NOT_ASSUME_ROLES}" in denial.describe()
    # Previews through the authorizer see the same decision.
    root = Principal.root(ACCOUNT)
    ctx = env.gateway.invoke("sts", "AssumeRole", {"RoleArn": role["Arn"], "RoleSessionName": "s1"}, root)
    assert ctx.error is not None and ctx.error.message == ROOT_MAY_NOT_ASSUME_ROLES
    check = ctx.annotations[ANNOTATION].evaluated[0].check
    assert env.authorizer.evaluate(ctx, check).decision.reason == ROOT_MAY_NOT_ASSUME_ROLES
    # A user of the account is let in by the same trust policy.
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    user_sts = env.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert user_sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]["AccessKeyId"]


def test_authentication_operations_are_allowed_by_the_engine(env: InProcess) -> None:
    assert always_allowed("sts:getcalleridentity") and always_allowed("sts:getsessiontoken")
    assert not always_allowed("sts:assumerole")
    deny_all = compile_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*"}]}), policy_id="deny")
    for action in ("sts:GetCallerIdentity", "sts:GetSessionToken"):
        decision = evaluate(make_request(f"arn:aws:iam::{ACCOUNT}:user/u", action, "*"),
                            PolicySet(identity=[deny_all]))
        assert decision.allowed and decision.reason and not decision.matched
    # Through the authorizer: the engine's decision, recorded like any other check.
    iam = env.client("iam")
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="deny", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="u")["AccessKey"]
    user_sts = env.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert user_sts.get_session_token()["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert env.last is not None
    evaluated = env.last.annotations[ANNOTATION].evaluated
    assert [(e.check.action, e.decision.allowed) for e in evaluated] == [("sts:GetSessionToken", True)]
    assert user_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/u"
    # Any other STS action is the policies' to decide: the deny-all policy refuses it.
    with pytest.raises(ClientError) as info:
        user_sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/any", RoleSessionName="session")
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    # An STS operation Turnout does not serve is never evaluated: NotImplemented, whoever asks.
    with pytest.raises(ClientError) as info:
        user_sts.get_federation_token(Name="fed")
    assert info.value.response["Error"]["Code"] == "NotImplemented"


def test_confused_deputy_conditions_read_the_source_annotations(env: InProcess) -> None:
    service_arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/web"
    document = trust({"Service": "ecs.amazonaws.com"},
                     StringEquals={"aws:SourceAccount": ACCOUNT}, ArnLike={"aws:SourceArn": service_arn})
    role = env.client("iam").create_role(RoleName="guarded", AssumeRolePolicyDocument=document)["Role"]
    ecs = Principal.service("ecs.amazonaws.com")
    params = {"RoleArn": role["Arn"], "RoleSessionName": "ecs-service-scheduler"}
    assert env.gateway.invoke("sts", "AssumeRole", params, ecs).error is not None
    ctx = env.gateway.invoke("sts", "AssumeRole", params, ecs,
                             annotations={SOURCE_ACCOUNT: ACCOUNT, SOURCE_ARN: service_arn})
    assert ctx.error is None
    other = env.gateway.invoke("sts", "AssumeRole", params, ecs,
                               annotations={SOURCE_ACCOUNT: ACCOUNT, SOURCE_ARN: service_arn + "-other"})
    assert other.error is not None and other.error.code == "AccessDenied"


def test_calls_made_via_a_service_carry_called_via(env: InProcess) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=json.dumps(
        allow("iam:ListRoles", Condition={"ForAnyValue:StringEquals": {"aws:CalledVia": "ecs.amazonaws.com"}})))
    key = iam.create_access_key(UserName="u")["AccessKey"]
    user = env.gateway.credentials.resolve(key["AccessKeyId"]).principal
    assert env.gateway.invoke("iam", "ListRoles", {}, user).error is not None
    assert env.gateway.invoke("iam", "ListRoles", {}, user, invoked_by="ecs.amazonaws.com").error is None


def test_cached_decisions_follow_the_keys_policies_read(env: InProcess) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=json.dumps(
        allow("iam:ListRoles", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}})))
    key = iam.create_access_key(UserName="u")["AccessKey"]
    user = env.gateway.credentials.resolve(key["AccessKeyId"]).principal
    for _ in range(2):
        assert env.gateway.invoke("iam", "ListRoles", {}, user, source_ip="127.0.0.1").error is None
        denied = env.gateway.invoke("iam", "ListRoles", {}, user, source_ip="10.1.2.3")
        assert denied.error is not None and denied.error.code == "AccessDenied"
    caller = env.authorizer.cache.caller(user)
    assert caller.referenced == ("aws:sourceip",) and len(caller.decisions) == 2


def test_checks_of_iam_reads_are_remembered_until_the_next_write(env: InProcess) -> None:
    iam = env.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    user_iam = env.client("iam")  # root; its checks are what is remembered here
    user_iam.get_role(RoleName="r")
    assert env.last is not None
    first = env.last.annotations[ANNOTATION].evaluated[0].check
    user_iam.get_role(RoleName="r")
    assert env.last.annotations[ANNOTATION].evaluated[0].check is first
    iam.tag_role(RoleName="r", Tags=[{"Key": "team", "Value": "red"}])
    user_iam.get_role(RoleName="r")
    again = env.last.annotations[ANNOTATION].evaluated[0].check
    assert again is not first and again.context.get("aws:ResourceTag/team") == "red"


def test_access_denied_per_protocol() -> None:
    message = "User: x is not authorized to perform: ec2:DescribeVpcs because no identity-based policy allows it"
    query, json_error, ec2 = (access_denied(p, message, "rid") for p in ("query", "json", "ec2"))
    assert (query.code, query.status, query.message) == ("AccessDenied", 403, message)
    assert (json_error.code, json_error.status, json_error.message) == ("AccessDeniedException", 400, message)
    assert (ec2.code, ec2.status) == ("UnauthorizedOperation", 403)
    assert ec2.message == (f"You are not authorized to perform this operation. {message}. "
                           "Encoded authorization failure message: rid")


@pytest.mark.parametrize(("resource", "operation", "wording"), [
    (f"arn:aws:iam::{ACCOUNT}:role/r", "GetRole", "role r"),
    (f"arn:aws:iam::{ACCOUNT}:role/app/r", "UpdateRole", "role app/r"),
    (f"arn:aws:iam::{ACCOUNT}:role/r", "CreateRole", f"arn:aws:iam::{ACCOUNT}:role/r"),
    (f"arn:aws:iam::{ACCOUNT}:user/u", "ListAccessKeys", "user u"),
    (f"arn:aws:iam::{ACCOUNT}:group/g", "GetGroup", "group g"),
    (f"arn:aws:iam::{ACCOUNT}:user/u", "CreateUser", f"arn:aws:iam::{ACCOUNT}:user/u"),
    ("arn:aws:iam::aws:policy/ReadOnlyAccess", "DeletePolicy", "policy arn:aws:iam::aws:policy/ReadOnlyAccess"),
    (f"arn:aws:iam::{ACCOUNT}:policy/p", "CreatePolicy", f"arn:aws:iam::{ACCOUNT}:policy/p"),
    (f"arn:aws:iam::{ACCOUNT}:instance-profile/ip", "GetInstanceProfile",
     f"arn:aws:iam::{ACCOUNT}:instance-profile/ip"),
    ("*", "ListRoles", "*"),
    (f"arn:aws:iam::{ACCOUNT}:role/", "ListRoles", f"arn:aws:iam::{ACCOUNT}:role/"),
    (f"arn:aws:iam::{ACCOUNT}:role/app/", "ListRoles", f"arn:aws:iam::{ACCOUNT}:role/app/"),
    (f"arn:aws:iam::{ACCOUNT}:policy/", "ListPolicies", "policy path /"),
    (f"arn:aws:iam::{ACCOUNT}:policy/app/", "ListPolicies", "policy path /app/"),
])
def test_iam_resource_wording(resource: str, operation: str, wording: str) -> None:
    assert iam_resource_wording(resource, operation) == wording


def _denial(request_id: str, account: str = ACCOUNT) -> Denial:
    policy = compile_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "No", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}), policy_id="p1")
    request = make_request(f"arn:aws:iam::{account}:user/u", "iam:GetRole", f"arn:aws:iam::{account}:role/r",
                           context={"aws:SourceIp": "127.0.0.1", "aws:CalledVia": ["ecs.amazonaws.com"]})
    decision = evaluate(request, PolicySet(identity=[policy]))
    return denial_of(request_id, account, datetime(2024, 5, 1, tzinfo=UTC), request, decision,
                     error_code="AccessDenied", message="denied", operation="iam:GetRole",
                     considered={"identity-based policy": ["p1"]})


def test_diagnostics_round_trip_and_bound(env: InProcess) -> None:
    db = env.gateway.db
    save(db, _denial("r0"))
    found = explain(db, "r0")
    assert found == _denial("r0")
    assert found is not None and found.matched[0].sid == "No" and found.matched[0].start == (1, 41)
    assert found.context["aws:CalledVia"] == ["ecs.amazonaws.com"]
    text = found.describe()
    assert "decided by: identity-based policy: explicit deny" in text and "Sid No" in text
    for index in range(1, 6):
        save(db, _denial(f"r{index}"), keep=3)
    save(db, _denial("other-account", "111122223333"), keep=3)
    kept = [row[0] for row in db.all("SELECT request_id FROM authz_denials WHERE account_id = ? ORDER BY seq",
                                     (ACCOUNT,))]
    assert kept == ["r3", "r4", "r5"] and explain(db, "r0") is None
    assert explain(db, "other-account") is not None
    assert KEEP == 10_000


def test_denials_over_http_are_explained(env: InProcess) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    user_iam = env.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as info:
        user_iam.list_users()
    request_id = info.value.response["ResponseMetadata"]["RequestId"]
    denial = explain(env.gateway.db, request_id)
    assert denial is not None and denial.operation == "iam:ListUsers"
    assert denial.considered == {"identity-based policy": []}
    assert "identity-based policy: ImplicitDeny (no policies)" in denial.describe()
