"""The deployment engine in process, on a manual clock: a ROLLING service without load balancers steps through
the task lifecycle one simulated second at a time, and a deployment the engine cannot run is stopped, saying why,
without stalling the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from turnout.core.clock import ManualClock
from turnout.core.principal import Principal
from turnout.deploy import Engine
from turnout.gateway.gateway import Gateway
from turnout.server import Settings, build_gateway

ROOT = Principal.root("000000000000")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Gateway, ManualClock, Engine]]:
    clock = ManualClock()
    gateway = build_gateway(Settings(data_dir=tmp_path, enforce_iam=False, cloudtrail=False), clock=clock)
    engine = gateway.providers["ecs"].engine  # type: ignore[attr-defined]
    yield gateway, clock, engine
    gateway.db.close()


def call(gateway: Gateway, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    ctx = gateway.invoke(service, operation, params, ROOT)
    assert ctx.error is None, ctx.error.message
    return ctx.result or {}


def service(gateway: Gateway, name: str, count: int = 2) -> str:
    subnets = [s["SubnetId"] for s in call(gateway, "ec2", "DescribeSubnets", {})["Subnets"]][:2]
    call(gateway, "ecs", "CreateCluster", {"clusterName": "c"})
    td = call(gateway, "ecs", "RegisterTaskDefinition", {
        "family": name, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
        "memory": "512", "containerDefinitions": [{"name": "web", "image": "nginx", "essential": True}]})
    created = call(gateway, "ecs", "CreateService", {
        "cluster": "c", "serviceName": name, "taskDefinition": td["taskDefinition"]["taskDefinitionArn"],
        "desiredCount": count, "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets}}})
    return str(created["service"]["currentServiceDeployment"])


def deployment(gateway: Gateway, arn: str) -> dict[str, Any]:
    found: dict[str, Any] = call(gateway, "ecs", "DescribeServiceDeployments",
                                 {"serviceDeploymentArns": [arn]})["serviceDeployments"][0]
    return found


def statuses(gateway: Gateway) -> list[str]:
    arns = call(gateway, "ecs", "ListTasks", {"cluster": "c"})["taskArns"]
    tasks = call(gateway, "ecs", "DescribeTasks", {"cluster": "c", "tasks": arns})["tasks"] if arns else []
    return sorted(t["lastStatus"] for t in tasks)


def test_rolling_service_steps_through_the_task_lifecycle(world: tuple[Gateway, ManualClock, Engine]) -> None:
    gateway, clock, engine = world
    arn = service(gateway, "web")
    assert engine.tick() == 2.0  # the deployment launched its tasks; the next thing due: PROVISIONING ends
    assert deployment(gateway, arn)["status"] == "IN_PROGRESS"
    assert statuses(gateway) == ["PROVISIONING", "PROVISIONING"]
    seen = []
    for _ in range(20):
        clock.advance(1.0)
        engine.tick()
        seen.append(statuses(gateway)[0])
        if deployment(gateway, arn)["status"] == "SUCCESSFUL":
            break
    assert seen[:7] == ["PROVISIONING", "PENDING", "PENDING", "PENDING", "PENDING", "ACTIVATING", "RUNNING"]
    done = deployment(gateway, arn)
    assert done["status"] == "SUCCESSFUL" and done["targetServiceRevision"]["runningTaskCount"] == 2
    # Nothing left to do: the engine would sleep until something changes.
    assert engine.tick() > 60


def test_a_deployment_the_engine_cannot_run_is_stopped_with_the_reason(
        world: tuple[Gateway, ManualClock, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    gateway, clock, engine = world
    arn = service(gateway, "web")

    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.runner, "advance", broken)
    engine.tick()
    stopped = deployment(gateway, arn)
    assert stopped["status"] == "STOPPED"
    assert stopped["statusReason"].startswith("Turnout could not run this service deployment (RuntimeError: boom)")
    monkeypatch.undo()
    clock.advance(60)
    engine.tick()  # the next pass runs, the stopped deployment stays stopped
    assert deployment(gateway, arn)["status"] == "STOPPED"


def test_a_stage_that_lasts_24_hours_fails_the_deployment(world: tuple[Gateway, ManualClock, Engine],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from turnout.dataplane import task_lifecycle

    gateway, clock, engine = world
    # Image pulls that never end: the tasks stay PENDING, so the deployment waits at SCALE_UP.
    monkeypatch.setitem(task_lifecycle._FIXED, task_lifecycle.PENDING, 10.0**9)
    arn = service(gateway, "web")
    engine.tick()
    for _ in range(25):
        clock.advance(3600)
        engine.tick()
    done = deployment(gateway, arn)
    assert done["status"] == "STOPPED"  # ROLLING without the rollback option stops where it is
    assert done["statusReason"] == ("Service deployment failed because the SCALE_UP lifecycle stage timed out after "
                                    "24 hours.")


def test_a_kept_role_session_is_reassumed_after_15_minutes(world: tuple[Gateway, ManualClock, Engine]) -> None:
    import json

    from turnout.deploy.acting import Scope

    gateway, clock, engine = world
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    role = call(gateway, "iam", "CreateRole", {"RoleName": "infra", "AssumeRolePolicyDocument": json.dumps(trust)})
    scope = Scope("000000000000", "us-east-1", "arn:aws:ecs:us-east-1:000000000000:service/c/web")
    first = engine.acting.session("d", scope, role["Role"]["Arn"], "ECSNetworkingWithELB")
    clock.advance(14 * 60)
    assert engine.acting.session("d", scope, role["Role"]["Arn"], "ECSNetworkingWithELB") is first
    clock.advance(2 * 60)
    again = engine.acting.session("d", scope, role["Role"]["Arn"], "ECSNetworkingWithELB")
    assert again is not first and again.access_key_id != first.access_key_id
    assert again.arn == "arn:aws:sts::000000000000:assumed-role/infra/ECSNetworkingWithELB"
