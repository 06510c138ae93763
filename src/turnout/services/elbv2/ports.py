"""What the ELB API needs from the data plane, stated as protocols: ``server.build_gateway`` hands the
implementation to the provider (``Elbv2Provider.health_checks``), so ``services`` never imports ``dataplane``.
"""

from __future__ import annotations

from typing import Protocol

from .target_health import HealthCheck, TargetEvents, TargetHealth


class HealthChecks(Protocol):
    """The health checks a load balancer runs against its registered targets."""

    def target_health(self, events: TargetEvents, check: HealthCheck, in_use: bool) -> TargetHealth | None:
        """A registration's health now; None once a deregistered target has finished draining (it is gone)."""
        ...


class Unwired:
    """A bare gateway's (tests build one without ``server.build_gateway``): no health checks run."""

    def target_health(self, events: TargetEvents, check: HealthCheck, in_use: bool) -> TargetHealth | None:
        raise LookupError("no target health checks are wired (server.build_gateway wires them)")
