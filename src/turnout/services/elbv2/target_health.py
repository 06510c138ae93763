"""What a registered target's health is: the records the ELB API stores and reads (:class:`TargetEvents`,
:class:`HealthCheck`), the state it reports (:class:`TargetHealth`) and AWS's reason codes. Computing the state
from the events and the clock is the data plane's job (:mod:`turnout.dataplane.health`), reached through
:class:`~.ports.HealthChecks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
NOT_CHECKED = "initial"  # reported by a runtime that checks the target for real, before its first check answered

# AWS's reason codes and the descriptions DescribeTargetHealth returns with them.
REASONS = {
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.NotRegistered": "Target is not registered to the target group",
    "Target.NotInUse": "Target group is not configured to receive traffic from the load balancer",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
    "Target.HealthCheckDisabled": "Health checks disabled",  # our wording: AWS's description is not published
}


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """The target group's settings the state machine reads."""

    enabled: bool
    interval: int
    healthy_threshold: int
    unhealthy_threshold: int


@dataclass(frozen=True, slots=True)
class TargetEvents:
    """What is stored about one registration."""

    registered_at: datetime
    deregistered_at: datetime | None = None
    drain_seconds: int = 0
    reported_health: str | None = None
    reported_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TargetHealth:
    state: str
    reason: str | None = None

    @property
    def description(self) -> str | None:
        return REASONS.get(self.reason) if self.reason else None

    def shape(self) -> dict[str, str]:
        """The ``TargetHealth`` structure (healthy has neither reason nor description)."""
        out = {"State": self.state}
        if self.reason:
            out["Reason"] = self.reason
            out["Description"] = REASONS[self.reason]
        return out


NOT_REGISTERED = TargetHealth("unused", "Target.NotRegistered")
