"""The seed's iam:PassRole policy, end to end: the infrastructure role and the user are made with boto3 against
a real server as the seed describes; no service API takes a role ARN yet, so ``check_pass_role`` is then run
in process, on a Gateway opened on the same data directory, as ECS will run it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Server
from turnout.authz.diagnostics import explain
from turnout.authz.passrole import check_pass_role
from turnout.core import ids
from turnout.core.context import HttpRequest, RequestContext
from turnout.core.principal import Principal
from turnout.gateway.gateway import Gateway
from turnout.server import Settings, build_gateway
from turnout.wire.errors import ServiceError
from turnout.wire.models import SERVICES

ACCOUNT = "000000000000"
OTHER = "135792468013"
INFRA = "ecsInfrastructureRoleForLoadBalancers"
ECS = "ecs.amazonaws.com"
SEED_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Sid": "AllowAccessToECSForInfrastructureManagement", "Effect": "Allow",
    "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
SEED_PASS_ROLE = {"Version": "2012-10-17", "Statement": [{
    "Action": "iam:PassRole", "Effect": "Allow",
    "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],
    "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}}]}
LB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"


def make_role(iam: Any, name: str, path: str = "/") -> str:
    arn: str = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(SEED_TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=LB_POLICY)
    return arn


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, dict[str, Any]]]:
    data = tmp_path_factory.mktemp("passrole") / "data"
    server = Server(data).start()
    try:
        iam = server.client("iam")
        roles = {
            "infra": make_role(iam, INFRA),
            "other": make_role(iam, "ecsOtherRole"),
            "short": make_role(iam, "ecsInfrastructureRole"),
            "foreign": make_role(server.client("iam", key=OTHER), INFRA),
        }
        iam.create_user(UserName="deployer")
        iam.put_user_policy(UserName="deployer", PolicyName="pass-infra", PolicyDocument=json.dumps(SEED_PASS_ROLE))
        roles["deployer"] = iam.create_access_key(UserName="deployer")["AccessKey"]["AccessKeyId"]
        iam.create_user(UserName="fullaccess")
        iam.attach_user_policy(UserName="fullaccess", PolicyArn="arn:aws:iam::aws:policy/AmazonECS_FullAccess")
        roles["fullaccess"] = iam.create_access_key(UserName="fullaccess")["AccessKey"]["AccessKeyId"]
    finally:
        server.stop()
    gateway = build_gateway(Settings(data_dir=data))
    yield gateway, roles
    gateway.db.close()


def ecs_call(gateway: Gateway, principal: Principal) -> RequestContext:
    spec = SERVICES["ecs"]
    ctx = RequestContext(gateway, ids.request_id(), gateway.clock.now(), service=spec,
                         http=HttpRequest("POST", "/", "", {}, b""))
    ctx.operation = spec.operation("CreateService")
    ctx.principal = principal
    return ctx


def user(gateway: Gateway, access_key: str) -> Principal:
    return gateway.credentials.resolve(access_key).principal


def denial(gateway: Gateway, principal: Principal, role_arn: str, service: str) -> ServiceError:
    ctx = ecs_call(gateway, principal)
    with pytest.raises(ServiceError) as info:
        check_pass_role(ctx, role_arn, service)
    gateway.authorizer.record(ctx)  # type: ignore[attr-defined]  # what the gateway does after every call
    found = explain(gateway.db, ctx.request_id)
    assert found is not None and found.message == info.value.message
    assert found.context["iam:PassedToService"] == service
    return info.value


def test_seed_policy_passes_the_infrastructure_role_to_ecs(world: tuple[Gateway, dict[str, Any]]) -> None:
    gateway, roles = world
    passed = check_pass_role(ecs_call(gateway, user(gateway, roles["deployer"])), roles["infra"], ECS)
    assert (passed.arn, passed.name, passed.account_id) == (roles["infra"], INFRA, ACCOUNT)
    assert json.loads(passed.trust_policy) == SEED_TRUST


@pytest.mark.parametrize(("role", "service"), [
    ("infra", "ecs-tasks.amazonaws.com"),
    ("infra", "elasticloadbalancing.amazonaws.com"),
    ("other", ECS),
    ("short", ECS),
])
def test_seed_policy_allows_nothing_else(world: tuple[Gateway, dict[str, Any]], role: str, service: str) -> None:
    gateway, roles = world
    deployer = user(gateway, roles["deployer"])
    error = denial(gateway, deployer, roles[role], service)
    assert (error.code, error.status, error.message) == (
        "AccessDeniedException", 400,
        f"User: arn:aws:iam::{ACCOUNT}:user/deployer is not authorized to perform: iam:PassRole on resource: "
        f"{roles[role]} because no identity-based policy allows the iam:PassRole action",
    )


def test_the_same_role_name_in_another_account_cannot_be_passed(world: tuple[Gateway, dict[str, Any]]) -> None:
    gateway, roles = world
    foreign = roles["foreign"]
    assert foreign == f"arn:aws:iam::{OTHER}:role/{INFRA}"  # matches the policy's arn:aws:iam::*:role/... resource
    error = denial(gateway, user(gateway, roles["deployer"]), foreign, ECS)
    assert error.message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/deployer is not authorized to perform: iam:PassRole on resource: "
        f"{foreign} because no resource-based policy allows the iam:PassRole action"
    )


def test_amazon_ecs_full_access_passes_only_a_role_named_ecs_infrastructure_role(
    world: tuple[Gateway, dict[str, Any]]
) -> None:
    gateway, roles = world
    full = user(gateway, roles["fullaccess"])
    assert check_pass_role(ecs_call(gateway, full), roles["short"], ECS).name == "ecsInfrastructureRole"
    assert denial(gateway, full, roles["infra"], ECS).code == "AccessDeniedException"


def test_root_passes_but_a_missing_role_still_fails(world: tuple[Gateway, dict[str, Any]]) -> None:
    gateway, roles = world
    root = Principal.root(ACCOUNT)
    assert check_pass_role(ecs_call(gateway, root), roles["other"], "anything.amazonaws.com").name == "ecsOtherRole"
    with pytest.raises(ServiceError) as info:
        check_pass_role(ecs_call(gateway, root), f"arn:aws:iam::{ACCOUNT}:role/missing", ECS)
    assert (info.value.code, info.value.status) == ("InvalidParameterException", 400)
