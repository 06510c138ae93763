"""The ELB API reads target health from the health checks it is handed (services/elbv2/ports.py), not from a module
of its own: DescribeTargetHealth and the purge of drained registrations both go through the port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from turnout.core.clock import ManualClock
from turnout.core.principal import Principal
from turnout.dataplane.health import SimulatedHealthChecks
from turnout.gateway.gateway import Gateway
from turnout.server import Settings, build_gateway
from turnout.services.ec2 import network
from turnout.services.elbv2.ports import HealthChecks, Unwired
from turnout.services.elbv2.provider import Elbv2Provider
from turnout.services.elbv2.target_health import HealthCheck, TargetEvents, TargetHealth
from turnout.services.registry import register_all
from turnout.store.db import Database

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROOT = Principal.root(ACCOUNT)


class FakeChecks:
    """Answers a fixed health for every target, and None (gone) for those in ``gone``."""

    def __init__(self) -> None:
        self.asked: list[tuple[TargetEvents, HealthCheck, bool]] = []
        self.gone: set[str] = set()
        self.answer = TargetHealth("unhealthy", "Target.FailedHealthChecks")

    def target_health(self, events: TargetEvents, check: HealthCheck, in_use: bool) -> TargetHealth | None:
        self.asked.append((events, check, in_use))
        return None if self.gone else self.answer


def call(gateway: Gateway, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    ctx = gateway.invoke("elbv2", operation, params, ROOT, region=REGION)
    assert ctx.error is None, ctx.error
    result: dict[str, Any] = ctx.result
    return result


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Gateway, FakeChecks, str]]:
    clock = ManualClock()
    gateway = Gateway(db=Database(tmp_path / "turnout.db"), clock=clock)
    register_all(gateway)
    provider = gateway.providers["elbv2"]
    assert isinstance(provider, Elbv2Provider) and isinstance(provider.health_checks, Unwired)
    checks = FakeChecks()
    provider.health_checks = checks
    with gateway.db.transaction():
        vpc = network.default_vpc(gateway.db, ACCOUNT, REGION, clock.now())
    assert vpc is not None
    tg = call(gateway, "CreateTargetGroup", {"Name": "tg", "Protocol": "HTTP", "Port": 80, "VpcId": vpc.vpc_id,
                                             "TargetType": "ip"})["TargetGroups"][0]["TargetGroupArn"]
    yield gateway, checks, tg
    gateway.db.close()


def test_describe_target_health_answers_what_the_port_says(world: tuple[Gateway, FakeChecks, str]) -> None:
    gateway, checks, tg = world
    call(gateway, "RegisterTargets", {"TargetGroupArn": tg, "Targets": [{"Id": "172.31.0.10", "Port": 8080}]})
    described = call(gateway, "DescribeTargetHealth", {"TargetGroupArn": tg})["TargetHealthDescriptions"]
    # The simulation would say unused (Target.NotInUse): no load balancer uses the group.
    assert [d["TargetHealth"] for d in described] == [
        {"State": "unhealthy", "Reason": "Target.FailedHealthChecks", "Description": "Health checks failed"}]
    events, check, in_use = checks.asked[-1]
    assert (in_use, check.interval, check.healthy_threshold, check.unhealthy_threshold) == (False, 30, 5, 2)
    assert events.deregistered_at is None and events.reported_health is None


def test_a_target_the_port_calls_gone_is_purged(world: tuple[Gateway, FakeChecks, str]) -> None:
    gateway, checks, tg = world
    call(gateway, "RegisterTargets", {"TargetGroupArn": tg, "Targets": [{"Id": "172.31.0.10", "Port": 8080}]})
    checks.gone.add("172.31.0.10")
    assert call(gateway, "DescribeTargetHealth", {"TargetGroupArn": tg})["TargetHealthDescriptions"] == []


def test_the_fake_and_the_simulation_satisfy_the_protocol() -> None:
    checks: list[HealthChecks] = [FakeChecks(), SimulatedHealthChecks(ManualClock())]  # mypy checks the match
    assert len(checks) == 2


def test_the_server_wires_the_simulated_checks(tmp_path: Path) -> None:
    gateway = build_gateway(Settings(data_dir=tmp_path, enforce_iam=False, cloudtrail=False), clock=ManualClock())
    provider = gateway.providers["elbv2"]
    assert isinstance(provider, Elbv2Provider) and isinstance(provider.health_checks, SimulatedHealthChecks)
    gateway.db.close()
