"""Target health as a pure function of stored events and the clock: nothing runs in the background.

A registered target's state is computed each time it is read, from

* ``registered_at`` (health checks start then), ``deregistered_at`` and ``drain_seconds`` (the deregistration
  delay in force when it was deregistered);
* ``reported_health``/``reported_at``: what the runtime owning the target last said about it (an ECS task
  reports ``healthy`` once its container is up, ``unhealthy`` when it fails). ``None`` means no runtime owns the
  target (registered by hand): it passes every health check. A report changes the target's condition from that
  instant; before it, the opposite condition held (a task reported healthy at t was not answering before t);
* whether the target group serves a listener or rule, and its health check settings;
* the simulated seconds elapsed (``clock.sim_elapsed``), so ``--time-scale`` speeds everything up and a restart
  changes nothing.

Health checks are sent every ``interval`` simulated seconds after registration (check *k* at ``k * interval``).
A target is ``initial`` until ``healthy_threshold`` consecutive checks pass (``healthy``) or
``unhealthy_threshold`` consecutive checks fail (``unhealthy``); later transitions take the same streaks.
Simplification: the checks' clock starts at registration even if the target group starts serving a listener
later (AWS starts it when the load balancer first routes to the group).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ..core.clock import Clock

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"

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


def _apply(status: str | None, passing: bool, checks: int, check: HealthCheck) -> str | None:
    """The status after ``checks`` consecutive checks with the same outcome (None: not determined yet)."""
    if checks <= 0:
        return status
    if passing:
        return HEALTHY if checks >= check.healthy_threshold else status
    return UNHEALTHY if checks >= check.unhealthy_threshold else status


def checked_status(elapsed: float, report_offset: float | None, passing_after: bool, check: HealthCheck) -> str | None:
    """``healthy``/``unhealthy``/None (undetermined) after ``elapsed`` simulated seconds of health checks.

    ``report_offset``: seconds after registration at which the condition became ``passing_after`` (None: it
    always was). Checks before it had the opposite outcome.
    """
    interval = max(1, check.interval)
    sent = math.floor(elapsed / interval + 1e-9)  # checks k = 1..sent have been sent
    # The first check that sees the new condition: the first sent at or after the report.
    first_after = 1 if report_offset is None else max(1, math.ceil(report_offset / interval - 1e-9))
    before = max(0, min(sent, first_after - 1))
    after = max(0, sent - first_after + 1)
    status = _apply(None, not passing_after, before, check)
    return _apply(status, passing_after, after, check)


def target_health(events: TargetEvents, check: HealthCheck, in_use: bool, clock: Clock) -> TargetHealth | None:
    """The target's health now; None once a deregistered target has finished draining (it is gone)."""
    if events.deregistered_at is not None:
        if clock.sim_elapsed(events.deregistered_at) >= events.drain_seconds:
            return None
        return TargetHealth("draining", "Target.DeregistrationInProgress")
    if not in_use:
        return TargetHealth("unused", "Target.NotInUse")
    if not check.enabled:
        return TargetHealth("unavailable", "Target.HealthCheckDisabled")
    elapsed = max(0.0, clock.sim_elapsed(events.registered_at))
    passing_after = events.reported_health in (None, HEALTHY)
    offset: float | None = None
    if events.reported_health is not None and events.reported_at is not None:
        offset = max(0.0, elapsed - clock.sim_elapsed(events.reported_at))
    status = checked_status(elapsed, offset, passing_after, check)
    if status == HEALTHY:
        return TargetHealth(HEALTHY)
    if status == UNHEALTHY:
        return TargetHealth(UNHEALTHY, "Target.FailedHealthChecks")
    if elapsed < check.interval:
        return TargetHealth("initial", "Elb.RegistrationInProgress")
    return TargetHealth("initial", "Elb.InitialHealthChecking")
