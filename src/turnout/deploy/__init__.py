"""The ECS deployment engine: an actor on the clock that runs service deployments and reconciles services, acting
through the gateway as the assumed infrastructure role. Above ``dataplane`` and ``services``: the ECS API reaches it
only through :class:`turnout.services.ecs.ports.DeploymentEngine`, wired by ``server.build_gateway``."""

from __future__ import annotations

from .engine import Engine

__all__ = ["Engine"]
