"""The ECS API against a fake deployment engine, through the protocol it declares (services/ecs/ports.py): the
provider runs without any engine module, hands the engine every wake, and leaves ContinueServiceDeployment's hook
to it. ``turnout.deploy`` (and the data plane) are never imported by the API itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from turnout.core.clock import ManualClock
from turnout.core.principal import Principal
from turnout.gateway.gateway import Gateway
from turnout.services.ecs.ports import DeploymentEngine, Unwired
from turnout.services.ecs.provider import EcsProvider
from turnout.services.registry import register_all
from turnout.store.db import Database

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROOT = Principal.root(ACCOUNT)
HOOK = "ecs-pause-0123456789"


class FakeEngine:
    """Records what the API asks of the engine."""

    def __init__(self) -> None:
        self.started = 0
        self.wakes: list[str | None] = []
        self.continued: list[tuple[str, str, str, str, str, datetime]] = []
        self.hook_waits = False

    def start(self) -> None:
        self.started += 1

    def wake(self, deployment_arn: str | None = None) -> None:
        self.wakes.append(deployment_arn)

    def continue_hook(self, account: str, region: str, deployment_arn: str, hook_id: str, action: str,
                      at: datetime) -> bool:
        self.continued.append((account, region, deployment_arn, hook_id, action, at))
        return self.hook_waits


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = ManualClock()
        self.gateway = Gateway(db=Database(tmp_path / "turnout.db"), clock=self.clock)
        register_all(self.gateway)
        provider = self.gateway.providers["ecs"]
        assert isinstance(provider, EcsProvider)
        self.provider = provider
        self.engine = FakeEngine()
        provider.engine = self.engine

    def invoke(self, operation: str, params: dict[str, Any]) -> Any:
        return self.gateway.invoke("ecs", operation, params, ROOT, region=REGION)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        ctx = self.invoke(operation, params)
        assert ctx.error is None, ctx.error
        result: dict[str, Any] = ctx.result
        return result


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    made.call("CreateCluster", {"clusterName": "c1"})
    made.call("RegisterTaskDefinition", {
        "family": "web", "requiresCompatibilities": ["EC2"], "networkMode": "bridge",
        "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "essential": True, "memory": 128}]})
    yield made
    made.gateway.db.close()


def test_the_fake_engine_satisfies_the_protocol() -> None:
    engine: DeploymentEngine = FakeEngine()  # mypy checks the structural match
    assert engine.continue_hook(ACCOUNT, REGION, "arn", HOOK, "CONTINUE", datetime.now()) is False


def test_service_writes_wake_the_engine(world: World) -> None:
    service = world.call("CreateService", {"cluster": "c1", "serviceName": "s1", "taskDefinition": "web",
                                           "desiredCount": 1, "launchType": "EC2"})["service"]
    assert world.engine.wakes == [None]
    # Nothing ran the deployment: the API only wrote it, PENDING, for the engine.
    deployments = world.call("ListServiceDeployments", {"cluster": "c1", "service": "s1"})["serviceDeployments"]
    assert [d["status"] for d in deployments] == ["PENDING"]
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    world.call("UpdateService", {"cluster": "c1", "service": "s1", "desiredCount": 2})
    world.call("DeleteService", {"cluster": "c1", "service": "s1", "force": True})
    assert world.engine.wakes == [None, None, None]
    assert world.engine.started == 0  # only the server's startup starts it


def test_stop_service_deployment_wakes_the_engine_for_a_later_pickup(world: World) -> None:
    world.call("CreateService", {"cluster": "c1", "serviceName": "s1", "taskDefinition": "web", "desiredCount": 1,
                                 "launchType": "EC2"})
    arn = world.call("ListServiceDeployments", {"cluster": "c1", "service": "s1"})["serviceDeployments"][0][
        "serviceDeploymentArn"]
    world.call("StopServiceDeployment", {"serviceDeploymentArn": arn, "stopType": "ROLLBACK"})
    # Not a poke: the deployment stays ROLLBACK_REQUESTED until its pickup wait is over.
    assert world.engine.wakes == [None, None]
    described = world.call("DescribeServiceDeployments", {"serviceDeploymentArns": [arn]})["serviceDeployments"]
    assert described[0]["status"] == "ROLLBACK_REQUESTED" and "stoppedAt" in described[0]


def test_continue_service_deployment_asks_the_engine(world: World) -> None:
    world.call("CreateService", {"cluster": "c1", "serviceName": "s1", "taskDefinition": "web", "desiredCount": 1,
                                 "launchType": "EC2"})
    arn = world.call("ListServiceDeployments", {"cluster": "c1", "service": "s1"})["serviceDeployments"][0][
        "serviceDeploymentArn"]
    ctx = world.invoke("ContinueServiceDeployment", {"serviceDeploymentArn": arn, "hookId": HOOK})
    assert ctx.error is not None
    assert (ctx.error.code, ctx.error.message) == (
        "InvalidParameterException",
        "Provided hookId is either completed, unavailable, or not associated with the given Resource ARN")
    assert world.engine.wakes == [None]  # a hook the engine does not know wakes nothing
    world.engine.hook_waits = True
    done = world.call("ContinueServiceDeployment", {"serviceDeploymentArn": arn, "hookId": HOOK,
                                                    "action": "ROLLBACK"})
    assert done == {"serviceDeploymentArn": arn}
    assert [call[:5] for call in world.engine.continued] == [
        (ACCOUNT, REGION, arn, HOOK, "CONTINUE"), (ACCOUNT, REGION, arn, HOOK, "ROLLBACK")]
    assert world.engine.wakes == [None, arn]


def test_run_and_stop_task_wake_the_engine(world: World) -> None:
    task = world.call("RunTask", {"cluster": "c1", "taskDefinition": "web", "launchType": "EC2"})["tasks"][0]
    assert task["lastStatus"] == "PROVISIONING"  # launched by the API; the data plane never moved it
    world.call("StopTask", {"cluster": "c1", "task": task["taskArn"]})
    assert world.engine.wakes == [None, None]


def test_an_unwired_provider_says_so(tmp_path: Path) -> None:
    gateway = Gateway(db=Database(tmp_path / "turnout.db"), clock=ManualClock())
    register_all(gateway)
    provider = gateway.providers["ecs"]
    assert isinstance(provider, EcsProvider) and isinstance(provider.engine, Unwired)
    with pytest.raises(LookupError, match="no deployment engine is wired"):
        provider.engine.wake()
    gateway.db.close()


def test_the_api_imports_neither_the_engine_nor_the_data_plane(tmp_path: Path) -> None:
    # A fresh interpreter: in this one other tests have imported them.
    script = textwrap.dedent(f"""
        import sys
        from turnout.core.clock import ManualClock
        from turnout.gateway.gateway import Gateway
        from turnout.services.registry import register_all
        from turnout.store.db import Database

        gateway = Gateway(db=Database({str(tmp_path / 'turnout.db')!r}), clock=ManualClock())
        register_all(gateway)
        loaded = sorted(m for m in sys.modules if m.startswith(("turnout.deploy", "turnout.dataplane")))
        print(loaded)
        assert loaded == [], loaded
        assert "ecs" in gateway.providers and "elbv2" in gateway.providers
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
