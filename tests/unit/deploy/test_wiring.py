"""server.build_gateway hands the providers what runs beside the API: the deployment engine to ECS."""

from __future__ import annotations

from pathlib import Path

from turnout.core.clock import ManualClock
from turnout.deploy import Engine
from turnout.server import Settings, build_gateway
from turnout.services.ecs.ports import DeploymentEngine
from turnout.services.ecs.provider import EcsProvider


def test_build_gateway_wires_the_engine(tmp_path: Path) -> None:
    gateway = build_gateway(Settings(data_dir=tmp_path, enforce_iam=False, cloudtrail=False), clock=ManualClock())
    provider = gateway.providers["ecs"]
    assert isinstance(provider, EcsProvider) and isinstance(provider.engine, Engine)
    assert provider.engine.gateway is gateway
    engine: DeploymentEngine = provider.engine  # mypy checks that Engine implements the protocol
    assert engine.continue_hook("000000000000", "us-east-1", "arn:aws:ecs:us-east-1:000000000000:service-deployment"
                                "/c1/s1/none", "ecs-pause-1", "CONTINUE", gateway.clock.now()) is False
    gateway.db.close()
