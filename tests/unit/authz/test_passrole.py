"""check_pass_role: conditions, cross-account roles, missing roles, root, errors per protocol, diagnostics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from turnout.authz.authorizer import ANNOTATION, Authorization
from turnout.authz.diagnostics import explain
from turnout.authz.passrole import PassedRole, check_pass_role
from turnout.core import ids
from turnout.core.context import HttpRequest, RequestContext
from turnout.core.principal import Principal
from turnout.wire.errors import ServiceError
from turnout.wire.models import SERVICES

from ..authz_support import InProcess

ACCOUNT = "000000000000"
OTHER = "210987654321"
ECS_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def pass_policy(resource: str, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def user_principal(env: InProcess, name: str, *documents: str) -> Principal:
    iam = env.client("iam")
    iam.create_user(UserName=name)
    for index, document in enumerate(documents):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    return env.gateway.credentials.resolve(key).principal


def call(env: InProcess, principal: Principal, service: str = "ecs", operation: str = "CreateService"
         ) -> RequestContext:
    spec = SERVICES[service]
    ctx = RequestContext(env.gateway, ids.request_id(), env.gateway.clock.now(), service=spec,
                         http=HttpRequest("POST", "/", "", {}, b""))
    ctx.operation = spec.operation(operation)
    ctx.principal = principal
    return ctx


def refused(ctx: RequestContext, *args: Any, **kwargs: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        check_pass_role(ctx, *args, **kwargs)
    return info.value


def test_conditions_on_service_and_associated_resource(env: InProcess) -> None:
    role = env.client("iam").create_role(RoleName="worker", Path="/svc/", AssumeRolePolicyDocument=ECS_TRUST)["Role"]
    service_arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/web"
    principal = user_principal(env, "u", pass_policy(
        f"arn:aws:iam::{ACCOUNT}:role/svc/*",
        {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"},
         "ArnLike": {"iam:AssociatedResourceARN": f"arn:aws:ecs:*:{ACCOUNT}:service/prod/*"}},
    ))
    passed = check_pass_role(call(env, principal), role["Arn"], "ecs.amazonaws.com", service_arn)
    assert passed == PassedRole(role["Arn"], "worker", role["RoleId"], ACCOUNT, ECS_TRUST)
    message = (f"User: arn:aws:iam::{ACCOUNT}:user/u is not authorized to perform: iam:PassRole on resource: "
               f"{role['Arn']} because no identity-based policy allows the iam:PassRole action")
    for args in (
        (role["Arn"], "ecs.amazonaws.com", f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/test/web"),
        (role["Arn"], "ecs.amazonaws.com"),  # no associated resource: the ArnLike condition cannot match
        (role["Arn"], "ecs-tasks.amazonaws.com", service_arn),
    ):
        error = refused(call(env, principal), *args)
        assert (error.code, error.status, error.message) == ("AccessDeniedException", 400, message)


def test_errors_follow_the_protocol_and_are_recorded(env: InProcess) -> None:
    role = env.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=ECS_TRUST)["Role"]
    principal = user_principal(env, "nobody")
    query_ctx = call(env, principal, "elbv2", "CreateLoadBalancer")
    error = refused(query_ctx, role["Arn"], "elasticloadbalancing.amazonaws.com")
    assert (error.code, error.status) == ("AccessDenied", 403)
    assert "iam:PassRole on resource: " + role["Arn"] in error.message
    authorization = query_ctx.annotations[ANNOTATION]
    assert isinstance(authorization, Authorization) and authorization.denied is not None
    assert authorization.denied.check.context == {"iam:PassedToService": "elasticloadbalancing.amazonaws.com"}
    # Stored once the call is recorded (after its transaction), then explained by request id.
    assert explain(env.gateway.db, query_ctx.request_id) is None
    env.authorizer.record(query_ctx)
    denial = explain(env.gateway.db, query_ctx.request_id)
    assert denial is not None and denial.action == "iam:PassRole" and denial.resource == role["Arn"]
    assert denial.context["iam:PassedToService"] == "elasticloadbalancing.amazonaws.com"
    assert denial.message == error.message and denial.error_code == "AccessDenied"


def test_roles_of_another_account_cannot_be_passed(env: InProcess) -> None:
    other = env.client("iam", key=OTHER)
    role = other.create_role(RoleName="shared", AssumeRolePolicyDocument=ECS_TRUST)["Role"]
    principal = user_principal(env, "wide", pass_policy("*"))
    reason = "because no resource-based policy allows the iam:PassRole action"
    for who in (principal, Principal.root(ACCOUNT)):
        error = refused(call(env, who), role["Arn"], "ecs.amazonaws.com")
        assert error.code == "AccessDeniedException"
        assert error.message == (f"User: {who.arn} is not authorized to perform: iam:PassRole on resource: "
                                 f"{role['Arn']} {reason}")


def test_missing_roles(env: InProcess) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:role/ghost"
    # Root passes the permission check (identity bypass), then the role must exist.
    error = refused(call(env, Principal.root(ACCOUNT)), missing, "ecs.amazonaws.com")
    assert (error.code, error.status, error.message) == (
        "InvalidParameterException", 400, "The role with name ghost cannot be found.",
    )
    error = refused(call(env, Principal.root(ACCOUNT), "elbv2", "CreateLoadBalancer"), missing, "x")
    assert error.code == "ValidationError"
    # A caller without permission learns nothing about existence.
    error = refused(call(env, user_principal(env, "nobody")), missing, "ecs.amazonaws.com")
    assert error.code == "AccessDeniedException"
    # A caller with permission gets the service's own error, which it may choose.
    allowed = user_principal(env, "wide", pass_policy("*"))
    custom = ServiceError("InvalidParameterException", "Unable to assume role", 400)
    error = refused(call(env, allowed), missing, "ecs.amazonaws.com", missing=lambda ctx, arn: custom)
    assert error is custom
    # A role named with the wrong path is not the role.
    env.client("iam").create_role(RoleName="pathed", Path="/a/", AssumeRolePolicyDocument=ECS_TRUST)
    error = refused(call(env, allowed), f"arn:aws:iam::{ACCOUNT}:role/pathed", "ecs.amazonaws.com")
    assert error.message == "The role with name pathed cannot be found."
    assert refused(call(env, allowed), "not-an-arn", "ecs.amazonaws.com").code == "InvalidParameterException"


def test_root_may_pass_its_roles(env: InProcess) -> None:
    role = env.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=ECS_TRUST)["Role"]
    assert check_pass_role(call(env, Principal.root(ACCOUNT)), role["Arn"], "ecs.amazonaws.com").name == "r"


def test_explicit_deny_and_boundary(env: InProcess) -> None:
    iam = env.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=ECS_TRUST)["Role"]
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*",
         "Condition": {"StringNotEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}}]})
    principal = user_principal(env, "u", pass_policy("*"), deny)
    assert check_pass_role(call(env, principal), role["Arn"], "ecs.amazonaws.com").name == "r"
    error = refused(call(env, principal), role["Arn"], "ec2.amazonaws.com")
    assert error.message.endswith("with an explicit deny in an identity-based policy")
    boundary = iam.create_policy(PolicyName="b", PolicyDocument=pass_policy("arn:aws:iam::*:role/other"))
    iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=boundary["Policy"]["Arn"])
    env.authorizer.cache.invalidate(ACCOUNT)  # these writes went through the gateway, but be explicit
    error = refused(call(env, principal), role["Arn"], "ecs.amazonaws.com")
    assert error.message.endswith("because no permissions boundary allows the iam:PassRole action")


def test_without_enforcement_only_existence_is_checked(tmp_path: Path) -> None:
    env = InProcess(tmp_path / "data", enforce=False)
    role = env.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=ECS_TRUST)["Role"]
    principal = user_principal(env, "nobody")
    assert check_pass_role(call(env, principal), role["Arn"], "ecs.amazonaws.com").role_id == role["RoleId"]
    error = refused(call(env, principal), f"arn:aws:iam::{ACCOUNT}:role/ghost", "ecs.amazonaws.com")
    assert error.code == "InvalidParameterException"
