"""The deployment guard (issue 14, ``turnout serve --guard``): the seed's three "Important" IAM writes made while a
blue/green deployment runs, under each mode. ``block`` refuses them (409 DeleteConflict naming the deployment) and
the deployment succeeds; ``warn`` lets them through with a service event and the deployment fails as it does on
AWS; ``off`` is AWS's behaviour, with no event."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.e2e.ecs_deploy_support import MANAGED, Setup, build, pause_hooks

EC2_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
CASES = ("trust", "delete", "detach")
GUARD_EVENT = "IAM "


def _server(factory: pytest.TempPathFactory, mode: str) -> Server:
    return Server(factory.mktemp(f"guard-{mode}") / "data", ["--time-scale", "600", "--guard", mode]).start()


@pytest.fixture(scope="module")
def blocking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = _server(tmp_path_factory, "block")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def warning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = _server(tmp_path_factory, "warn")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = _server(tmp_path_factory, "off")
    yield srv
    srv.stop()


def _paused(server: Server, unique: Callable[[str], str]) -> tuple[Setup, str, str]:
    """A service deployed once, and a second deployment paused after its test traffic shift."""
    setup = build(server, unique)
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                           "lifecycleHooks": pause_hooks(["POST_TEST_TRAFFIC_SHIFT"])})
    _, hook = setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT")
    return setup, arn, hook


def _break(setup: Setup, case: str) -> None:
    """The seed's "Important" writes: drop ecs.amazonaws.com from the trust policy, delete the role, detach its
    managed policy."""
    iam = setup.server.client("iam")
    if case == "trust":
        iam.update_assume_role_policy(RoleName=setup.role_name, PolicyDocument=EC2_ONLY)
    elif case == "delete":
        iam.detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
        iam.delete_role(RoleName=setup.role_name)
    else:
        iam.detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)


def _events(setup: Setup) -> list[str]:
    service = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]
    return [str(e["message"]) for e in service["events"]]


def _guard_events(setup: Setup) -> list[str]:
    return [m for m in _events(setup) if f"{GUARD_EVENT}" in m and f"on role {setup.role_name}" in m]


@pytest.mark.parametrize("case", CASES)
def test_block_refuses_the_write_and_the_deployment_succeeds(blocking: Server, unique: Callable[[str], str],
                                                             case: str) -> None:
    setup, arn, hook = _paused(blocking, unique)
    with pytest.raises(ClientError) as caught:
        _break(setup, case)
    error: dict[str, Any] = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error["Code"] == "DeleteConflict"
    assert f"service deployment {arn}" in error["Message"]
    first = "sts:AssumeRole" if case == "trust" else "elasticloadbalancing:"
    assert f"{first}" in error["Message"].split(arn, 1)[1]
    # Nothing was written: the role, its trust policy and its policy are as they were.
    iam = blocking.client("iam")
    role = iam.get_role(RoleName=setup.role_name)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=setup.role_name)[
        "AttachedPolicies"]] == [MANAGED]
    setup.proceed(arn, hook)
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL", done.get("statusReason")
    # The first deployment moved production to green; this one moved it back to blue, to the end.
    assert setup.weights(setup.prod_rule) == {setup.green: 0, setup.blue: 100}
    assert _guard_events(setup) == []


def test_block_names_an_active_service_for_its_next_deployment(blocking: Server,
                                                               unique: Callable[[str], str]) -> None:
    setup = build(blocking, unique)
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    iam = blocking.client("iam")
    with pytest.raises(ClientError) as caught:
        iam.put_role_policy(RoleName=setup.role_name, PolicyName="no-rules", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "elasticloadbalancing:ModifyRule",
                                                    "Resource": setup.prod_rule}]}))
    message = caught.value.response["Error"]["Message"]
    assert caught.value.response["Error"]["Code"] == "DeleteConflict"
    assert f"service {service['serviceArn']}" in message
    assert "elasticloadbalancing:ModifyRule" in message and "explicit deny" in message
    assert iam.list_role_policies(RoleName=setup.role_name)["PolicyNames"] == []
    # A write that breaks nothing ECS does goes through.
    iam.put_role_policy(RoleName=setup.role_name, PolicyName="unrelated", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}))
    # A new policy version on an attached policy is judged for every role it is attached to.
    policy = iam.create_policy(PolicyName=unique("elb"), PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    policy_arn = policy["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=setup.role_name, PolicyArn=policy_arn)
    with pytest.raises(ClientError) as caught:
        iam.create_policy_version(PolicyArn=policy_arn, SetAsDefault=True, PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Action": "elasticloadbalancing:RegisterTargets", "Resource": "*"}]}))
    assert caught.value.response["Error"]["Code"] == "DeleteConflict"
    assert "elasticloadbalancing:RegisterTargets" in caught.value.response["Error"]["Message"]
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]] == ["v1"]


@pytest.mark.parametrize("case", CASES)
def test_warn_lets_the_write_through_with_a_service_event(warning: Server, unique: Callable[[str], str],
                                                          case: str) -> None:
    setup, arn, hook = _paused(warning, unique)
    _break(setup, case)
    found = _guard_events(setup)
    # "delete" is two writes (the detach, then DeleteRole): one event each.
    assert len(found) == (2 if case == "delete" else 1)
    legacy_id = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0][
        "deployments"][0]["id"]
    assert all(m.startswith(f"(service {setup.name}) (deployment {legacy_id}) IAM ") for m in found)
    assert all("the deployment in progress will fail" in m for m in found)
    first = {"trust": "sts:AssumeRole", "detach": "elasticloadbalancing:DescribeRules",
             "delete": "elasticloadbalancing:DescribeRules"}  # the detach, then the role gone: "does not exist"
    assert any(first[case] in m for m in found)
    assert setup.deployment(arn)["status"] == "IN_PROGRESS"
    setup.proceed(arn, hook)
    done = setup.wait_final(arn)
    assert done["status"] in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
    assert "deployment guard" in warning.log()


@pytest.mark.parametrize("case", CASES)
def test_off_is_aws_behaviour(off: Server, unique: Callable[[str], str], case: str) -> None:
    setup, arn, hook = _paused(off, unique)
    _break(setup, case)
    assert _guard_events(setup) == []
    setup.proceed(arn, hook)
    done = setup.wait_final(arn)
    assert done["status"] in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
    assert "deployment guard" not in off.log()


FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:hook"


def _hook_role(server: Server, unique: Callable[[str], str], *, allowed: bool) -> tuple[str, str]:
    iam = server.client("iam")
    name = unique("hookrole")
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"])
    if allowed:
        iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                    "Resource": FUNCTION}]}))
    return name, arn


def _with_hook(server: Server, unique: Callable[[str], str], role_arn: str) -> dict[str, Any]:
    setup = build(server, unique)
    hooks = [{"targetType": "AWS_LAMBDA", "hookTargetArn": FUNCTION, "roleArn": role_arn,
              "lifecycleStages": ["POST_SCALE_UP"]}]
    return dict(setup.ecs.create_service(
        cluster=setup.cluster, serviceName=setup.name, taskDefinition=setup.revisions[0], desiredCount=0,
        launchType="FARGATE", loadBalancers=setup.load_balancers(),
        networkConfiguration={"awsvpcConfiguration": {"subnets": setup.subnets}},
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": hooks}
    )["service"])


def test_block_guards_hook_roles_and_never_refuses_what_breaks_nothing_new(blocking: Server,
                                                                           unique: Callable[[str], str]) -> None:
    iam = blocking.client("iam")
    name, arn = _hook_role(blocking, unique, allowed=True)
    service = _with_hook(blocking, unique, arn)
    with pytest.raises(ClientError) as caught:
        iam.delete_role_policy(RoleName=name, PolicyName="invoke")
    message = caught.value.response["Error"]["Message"]
    assert caught.value.response["Error"]["Code"] == "DeleteConflict"
    # The service (or, while its first deployment runs, that deployment) is named, with the call denied.
    assert f"/{service['serviceName']}" in message
    assert "lambda:InvokeFunction" in message and FUNCTION in message
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["invoke"]
    # A hook role that could never invoke its function: writes on it that change nothing ECS can do go through.
    broken, broken_arn = _hook_role(blocking, unique, allowed=False)
    _with_hook(blocking, unique, broken_arn)
    iam.put_role_policy(RoleName=broken, PolicyName="no-s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}))
    assert iam.list_role_policies(RoleName=broken)["PolicyNames"] == ["no-s3"]


def test_warn_on_an_active_service_names_its_next_deployment(warning: Server, unique: Callable[[str], str]) -> None:
    setup = build(warning, unique)
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    warning.client("iam").detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    found = _guard_events(setup)
    assert len(found) == 1
    assert found[0].startswith(f"(service {setup.name}) IAM DetachRolePolicy on role {setup.role_name}: the next "
                               "deployment will fail.")
    assert "is not authorized to perform: elasticloadbalancing:" in found[0]
