"""A blue/green deployment driven with the AWS CLI: a user with the seed's PassRole policy creates the service,
a PAUSE hook is continued with ``aws ecs continue-service-deployment``, and ``aws cloudtrail lookup-events`` finds
ECS's calls by the session name."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLI_CLIENT_ERROR, Server, aws_cli, cli_ok
from tests.e2e.ecs_deploy_support import build

PASS_ROLE = {"Version": "2012-10-17", "Statement": [{
    "Action": "iam:PassRole", "Effect": "Allow",
    "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],
    "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}}]}
WORK = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "ecs:*", "elasticloadbalancing:Describe*", "ec2:Describe*"]}]}


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("ecs-cli") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


def _user(fast: Server, unique: Callable[[str], str], *, pass_role: bool) -> tuple[str, str]:
    iam = fast.client("iam")
    name = unique("deployer")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="work", PolicyDocument=json.dumps(WORK))
    if pass_role:
        iam.put_user_policy(UserName=name, PolicyName="pass", PolicyDocument=json.dumps(PASS_ROLE))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_blue_green_with_the_cli(fast: Server, unique: Callable[[str], str], tmp_path: Path) -> None:
    # The seed's role name, so that the seed's PassRole policy (which names it) applies.
    setup = build(fast, unique, role_name="ecsInfrastructureRoleForLoadBalancers")
    role_arn = setup.role_arn
    service: dict[str, Any] = {
        "cluster": setup.cluster, "serviceName": setup.name, "taskDefinition": setup.revisions[0],
        "desiredCount": 1, "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": setup.subnets}},
        "loadBalancers": setup.load_balancers(role=role_arn),
        "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [
            {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]},
    }
    (tmp_path / "service.json").write_text(json.dumps(service))

    key, secret = _user(fast, unique, pass_role=False)
    denied = aws_cli(fast, tmp_path, "ecs", "create-service", "--cli-input-json", "file://service.json",
                     key=key, secret=secret)
    assert denied.returncode == CLI_CLIENT_ERROR
    assert "(AccessDeniedException)" in denied.stderr and "iam:PassRole" in denied.stderr

    key, secret = _user(fast, unique, pass_role=True)
    created = cli_ok(aws_cli(fast, tmp_path, "ecs", "create-service", "--cli-input-json", "file://service.json",
                             key=key, secret=secret))["service"]
    arn = created["currentServiceDeployment"]
    hook = None
    deadline = time.monotonic() + 60
    while hook is None and time.monotonic() < deadline:
        shown = cli_ok(aws_cli(fast, tmp_path, "ecs", "describe-service-deployments", "--service-deployment-arns",
                               arn, key=key, secret=secret))["serviceDeployments"][0]
        waiting = [h for h in shown.get("lifecycleHookDetails") or [] if h["status"] == "AWAITING_ACTION"]
        hook = waiting[0]["hookId"] if waiting else None
    assert hook is not None and shown["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    cli_ok(aws_cli(fast, tmp_path, "ecs", "continue-service-deployment", "--service-deployment-arn", arn,
                   "--hook-id", hook, "--action", "CONTINUE", key=key, secret=secret))
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL"
    listed = cli_ok(aws_cli(fast, tmp_path, "ecs", "list-service-deployments", "--cluster", setup.cluster,
                            "--service", setup.name, key=key, secret=secret))["serviceDeployments"]
    assert [d["serviceDeploymentArn"] for d in listed] == [arn] and listed[0]["status"] == "SUCCESSFUL"
    events = cli_ok(aws_cli(fast, tmp_path, "cloudtrail", "lookup-events", "--lookup-attributes",
                            "AttributeKey=Username,AttributeValue=ECSNetworkingWithELB"))["Events"]
    mine = [json.loads(e["CloudTrailEvent"]) for e in events]
    assert any(r["eventName"] == "ModifyRule" and r["requestParameters"]["ruleArn"] == setup.prod_rule for r in mine)
