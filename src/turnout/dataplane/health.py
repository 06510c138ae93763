"""Target health as a pure function of stored events and the clock: nothing runs in the background.

A registered target's state is computed each time it is read, from

* ``registered_at`` (health checks start then), ``deregistered_at`` and ``drain_seconds`` (the deregistration
  delay in force when it was deregistered);
* ``reported_health``/``reported_at``: what the runtime owning the target last said about it (an ECS task
  reports ``healthy`` once its container is up, ``unhealthy`` when it fails). ``None`` means no runtime owns the
  target (registered by hand): it passes every health check. ``initial`` (``NOT_CHECKED``): real health checks
  run and none has answered yet: the target is ``initial``, whatever the clock says. A report changes the target's
  condition from that instant; before it, the opposite condition held (a task reported healthy at t was not
  answering before t);
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

from ..core.clock import Clock
from ..services.elbv2.target_health import (
    HEALTHY,
    NOT_CHECKED,
    UNHEALTHY,
    HealthCheck,
    TargetEvents,
    TargetHealth,
)


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
    if events.reported_health == NOT_CHECKED:  # real checks run (turnout.dataplane.runtime): none has answered yet
        return TargetHealth("initial", "Elb.RegistrationInProgress" if elapsed < check.interval
                            else "Elb.InitialHealthChecking")
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


class SimulatedHealthChecks:
    """The ELB API's :class:`~turnout.services.elbv2.ports.HealthChecks` on the gateway's clock (wired by
    ``server.build_gateway``)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def target_health(self, events: TargetEvents, check: HealthCheck, in_use: bool) -> TargetHealth | None:
        return target_health(events, check, in_use, self.clock)
