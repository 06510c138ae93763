"""``turnout demo`` steps 5 to 8 against scripted clients: every request the demo makes is checked against
botocore's model of the operation, the deployments answer the way AWS documents them, and the demo's output
and decisions (follow a deployment, continue a paused hook, refuse a deployment that should have rolled back)
are checked without a deployment engine."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from turnout.cli import demo, demo_progress
from turnout.cli.demo import Walkthrough
from turnout.cli.demo_progress import DemoError
from turnout.cli.demo_setup import EC2_ONLY_TRUST, TRUST_POLICY, Network

ACCOUNT = "000000000000"
ECS = f"arn:aws:ecs:us-east-1:{ACCOUNT}"
ELB = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}"
BLUE, GREEN = f"{ELB}:targetgroup/demo-blue/1111", f"{ELB}:targetgroup/demo-green/2222"
RULE = f"{ELB}:listener-rule/app/demo-alb/aaaa/bbbb/cccc"
ROLE = f"{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_session = botocore.session.get_session()


class Fake:
    """A client of ``service`` whose calls are validated against botocore's model, then answered by handlers."""

    def __init__(self, service: str, handlers: dict[str, Callable[..., Any]]) -> None:
        model = _session.get_service_model(service)
        self.operations = {xform_name(name): model.operation_model(name) for name in model.operation_names}
        self.handlers = handlers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        operation = self.operations[name]

        def call(**params: Any) -> Any:
            report = ParamValidator().validate(params, operation.input_shape)
            assert not report.has_errors(), report.generate_report()
            self.calls.append((name, params))
            return self.handlers[name](**params)

        return call


def denied(operation: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, operation)


class World:
    """A service and its deployments, scripted: each DescribeServiceDeployments moves a deployment one state on."""

    def __init__(self, third: list[dict[str, Any]]) -> None:
        self.deployments: list[str] = []
        self.scripts: dict[str, list[dict[str, Any]]] = {}
        self.position: dict[str, int] = {}
        self.weights = (100, 0)
        self.created = 0
        self.continued: list[dict[str, Any]] = []
        self.third = third
        self.ecs = Fake("ecs", {
            "create_service": self.create_service, "update_service": self.update_service,
            "list_service_deployments": self.listed, "describe_service_deployments": self.describe,
            "describe_services": self.describe_services, "continue_service_deployment": self.continue_,
        })
        self.elb = Fake("elbv2", {"describe_rules": self.rules})
        self.iam = Fake("iam", {"put_user_policy": lambda **_: {}, "update_assume_role_policy": lambda **_: {}})
        self.trail = Fake("cloudtrail", {"lookup_events": self.lookup})

    def start(self, states: list[dict[str, Any]]) -> str:
        arn = f"{ECS}:service-deployment/demo/web/d{len(self.deployments) + 1}"
        self.deployments.append(arn)
        self.scripts[arn] = states
        self.position[arn] = 0
        return arn

    def create_service(self, **params: Any) -> dict[str, Any]:
        self.created += 1
        if self.created == 1:
            raise denied("CreateService", f"User: arn:aws:iam::{ACCOUNT}:user/demo-deployer is not authorized to "
                         f"perform: iam:PassRole on resource: arn:aws:iam::{ROLE}")
        arn = self.start([state("PENDING"), state("IN_PROGRESS", "SCALE_UP"), state("SUCCESSFUL")])
        return {"service": {"serviceArn": f"{ECS}:service/demo/web", "status": "ACTIVE", "desiredCount": 2,
                            "currentServiceDeployment": arn}}

    def update_service(self, **params: Any) -> dict[str, Any]:
        if len(self.deployments) == 1:
            self.start(BLUE_GREEN)
        else:
            self.start(self.third)
        return {"service": {}}

    def listed(self, **params: Any) -> dict[str, Any]:
        return {"serviceDeployments": [
            {"serviceDeploymentArn": arn, "createdAt": T0 + timedelta(minutes=i)}
            for i, arn in enumerate(self.deployments)]}

    def describe(self, serviceDeploymentArns: list[str]) -> dict[str, Any]:
        arn = serviceDeploymentArns[0]
        script, at = self.scripts[arn], self.position[arn]
        current = dict(script[at])
        self.weights = current.pop("_rule", self.weights)
        blocked = current.get("_wait_for_continue") and not any(
            c["serviceDeploymentArn"] == arn for c in self.continued)
        current.pop("_wait_for_continue", None)
        if at + 1 < len(script) and not blocked:
            self.position[arn] = at + 1
        return {"serviceDeployments": [{"serviceDeploymentArn": arn, **current}], "failures": []}

    def describe_services(self, **params: Any) -> dict[str, Any]:
        return {"services": [{
            "status": "ACTIVE", "runningCount": 2, "desiredCount": 2,
            "taskDefinition": f"{ECS}:task-definition/web:2",
            "currentServiceRevisions": [{"arn": f"{ECS}:service-revision/demo/web/2", "runningTaskCount": 2}],
            "events": [{"createdAt": T0, "message": "(service web) has reached a steady state."}],
        }]}

    def continue_(self, **params: Any) -> dict[str, Any]:
        self.continued.append(params)
        return {"serviceDeploymentArn": params["serviceDeploymentArn"]}

    def rules(self, RuleArns: list[str]) -> dict[str, Any]:
        blue, green = self.weights
        return {"Rules": [{"RuleArn": RuleArns[0], "Actions": [{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": BLUE, "Weight": blue}, {"TargetGroupArn": GREEN, "Weight": green}]}}]}]}

    def lookup(self, **params: Any) -> dict[str, Any]:
        user = params["LookupAttributes"][0]["AttributeValue"]
        if user != "ECSNetworkingWithELB":
            return {"Events": []}
        record = {"userIdentity": {"type": "AssumedRole", "invokedBy": "ecs.amazonaws.com"}}
        return {"Events": [
            {"EventTime": T0 + timedelta(seconds=s), "EventName": name, "Username": user,
             "CloudTrailEvent": json.dumps(record)}
            for s, name in ((2, "ModifyRule"), (1, "DescribeRules"))]}


def state(status: str, stage: str | None = None, **more: Any) -> dict[str, Any]:
    found = {"status": status, **more}
    if stage is not None:
        found["lifecycleStage"] = stage
    return found


def target(test: float, prod: float) -> dict[str, Any]:
    return {"targetServiceRevision": {"arn": f"{ECS}:service-revision/demo/web/2",
                                      "requestedTestTrafficWeight": test, "requestedProductionTrafficWeight": prod}}


TEST_PAUSE = {"hookId": "ecs-pause-test", "targetType": "PAUSE", "status": "AWAITING_ACTION",
              "timeoutAction": "ROLLBACK"}
BLUE_GREEN = [
    state("IN_PROGRESS", "PRE_SCALE_UP", **target(0, 0)),
    state("IN_PROGRESS", "SCALE_UP", **target(0, 0)),
    state("IN_PROGRESS", "TEST_TRAFFIC_SHIFT", **target(100, 0)),
    state("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", lifecycleHookDetails=[TEST_PAUSE], _wait_for_continue=True,
          **target(100, 0)),
    state("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", _rule=(0, 100), **target(100, 100)),
    state("IN_PROGRESS", "BAKE_TIME", **target(100, 100)),
    state("IN_PROGRESS", "CLEAN_UP", **target(100, 100)),
    state("SUCCESSFUL", "CLEAN_UP", **target(100, 100)),
]
PAUSE = {"hookId": "ecs-pause-abc", "targetType": "PAUSE", "status": "AWAITING_ACTION", "timeoutAction": "ROLLBACK"}
REASON = ("Service deployment rolled back because of invalid networking configuration. ECS was unable to manage the "
          f"ELB resources due to missing permissions on ECS Infrastructure Role 'arn:aws:iam::{ROLE}'.")
ROLLED_BACK = [
    state("IN_PROGRESS", "SCALE_UP"),
    state("IN_PROGRESS", "POST_SCALE_UP", lifecycleHookDetails=[PAUSE], _wait_for_continue=True),
    state("IN_PROGRESS", "POST_SCALE_UP", lifecycleHookDetails=[{**PAUSE, "status": "SUCCEEDED"}]),
    state("ROLLBACK_IN_PROGRESS", "TEST_TRAFFIC_SHIFT", statusReason=REASON),
    state("ROLLBACK_SUCCESSFUL", "TEST_TRAFFIC_SHIFT", statusReason=REASON,
          rollback={"reason": REASON, "startedAt": T0, "serviceRevisionArn": f"{ECS}:service-revision/demo/web/2"}),
]


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_progress, "POLL", 0.0)
    # These steps run against fakes: a server without a data plane (the traffic is the e2e test's: test_demo.py).
    monkeypatch.setattr(demo, "dataplane", lambda endpoint: None)


def walkthrough(world: World, tmp_path: Path) -> Walkthrough:
    walk = Walkthrough("http://127.0.0.1:9", tmp_path)
    walk.iam, walk.elb, walk.deployer_ecs = world.iam, world.elb, world.ecs
    walk.clients = type("Clients", (), {"client": staticmethod(lambda service, *a: world.trail),
                                        "endpoint": "http://127.0.0.1:9"})()
    walk.role_arn = f"arn:aws:iam::{ROLE}"
    walk.cluster = f"{ECS}:cluster/demo"
    walk.revisions = [f"{ECS}:task-definition/web:1", f"{ECS}:task-definition/web:2"]
    walk.net = Network("vpc-1", ["subnet-1", "subnet-2"], "sg-1", f"{ELB}:loadbalancer/app/demo-alb/aaaa", "dns",
                       BLUE, GREEN, f"{ELB}:listener/app/demo-alb/aaaa/bbbb", RULE,
                       f"{ELB}:listener/app/demo-alb/aaaa/dddd", f"{ELB}:listener-rule/app/demo-alb/aaaa/dddd/eeee")
    return walk


def test_steps_5_to_8_as_designed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World(ROLLED_BACK)
    walk = walkthrough(world, tmp_path)
    walk.create_service()
    walk.deploy_revision_2()
    walk.cloudtrail()
    walk.broken_role()
    out = capsys.readouterr().out
    assert "without iam:PassRole, CreateService is denied: AccessDeniedException: User: " in out
    assert "traffic through the listeners: skipped (the server has no data plane)" in walk.summary
    assert "the first deployment is SUCCESSFUL: 2 of 2 tasks running" in out
    assert re.search(r"\d\.\d\ds  IN_PROGRESS +PRODUCTION_TRAFFIC_SHIFT +100% +100%  - / blue=0 green=100\n", out)
    assert re.search(r"\d\.\d\ds  IN_PROGRESS +POST_SCALE_UP +- +-  PAUSE:AWAITING_ACTION / blue=0 green=100\n", out)
    assert "production rule now: blue=0 green=100" in out
    assert out.index("DescribeRules") < out.index("ModifyRule")  # oldest first
    assert "  ModifyRule       ECSNetworkingWithELB  invokedBy ecs.amazonaws.com" in out
    assert "paused: hook ecs-pause-abc is AWAITING_ACTION at POST_SCALE_UP" in out
    assert f"status: ROLLBACK_SUCCESSFUL\n    statusReason: {REASON}\n" in out
    assert "test traffic is on the new revision, production is not: test rule" in out
    assert world.continued == [
        {"serviceDeploymentArn": world.deployments[1], "hookId": "ecs-pause-test", "action": "CONTINUE"},
        {"serviceDeploymentArn": world.deployments[2], "hookId": "ecs-pause-abc", "action": "CONTINUE"}]
    trust = [p["PolicyDocument"] for name, p in world.iam.calls if name == "update_assume_role_policy"]
    assert trust == [EC2_ONLY_TRUST, TRUST_POLICY]
    create = [p for name, p in world.ecs.calls if name == "create_service"][1]
    advanced = create["loadBalancers"][0]["advancedConfiguration"]
    assert advanced == {"alternateTargetGroupArn": GREEN, "productionListenerRule": RULE,
                        "testListenerRule": walk.network.test_rule, "roleArn": walk.role_arn}
    first, update = [p for name, p in world.ecs.calls if name == "update_service"]
    assert first["deploymentConfiguration"]["lifecycleHooks"] == [
        {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]
    assert update["deploymentConfiguration"]["lifecycleHooks"] == [
        {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}]
    assert len(walk.summary) == 6


def test_a_deployment_that_does_not_roll_back_is_a_failure(tmp_path: Path) -> None:
    world = World([*ROLLED_BACK[:3], state("SUCCESSFUL", "CLEAN_UP")])
    walk = walkthrough(world, tmp_path)
    world.start(BLUE_GREEN)
    world.position[world.deployments[0]] = len(BLUE_GREEN) - 1
    world.start(BLUE_GREEN)
    with pytest.raises(DemoError, match="the deployment ended SUCCESSFUL although ECS can no longer assume the role"):
        walk.broken_role()


def test_a_deployment_that_never_ends_times_out(tmp_path: Path) -> None:
    world = World([])
    walk = walkthrough(world, tmp_path)
    arn = world.start([state("IN_PROGRESS", "SCALE_UP")])
    with pytest.raises(DemoError, match=rf"timed out after 0.2 s: deployment {arn} is still IN_PROGRESS at SCALE_UP"):
        demo_progress.follow(walk.deployer_ecs, walk.elb, arn, RULE, walk.network.labels(), timeout=0.2)


def test_create_service_allowed_without_pass_role_is_a_failure(tmp_path: Path) -> None:
    world = World([])
    world.created = 1  # the next CreateService succeeds
    walk = walkthrough(world, tmp_path)
    with pytest.raises(DemoError, match="CreateService succeeded for a user without iam:PassRole"):
        walk.create_service()
