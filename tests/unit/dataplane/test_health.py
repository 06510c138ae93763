"""Target health as a pure function of stored events and a ManualClock, driven step by step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from turnout.core.clock import ManualClock
from turnout.dataplane.health import checked_status, target_health
from turnout.services.elbv2.target_health import NOT_REGISTERED, HealthCheck, TargetEvents, TargetHealth

CHECK = HealthCheck(enabled=True, interval=30, healthy_threshold=5, unhealthy_threshold=2)


def state(health: TargetHealth | None) -> tuple[str, str | None] | None:
    return None if health is None else (health.state, health.reason)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_registered_target_goes_initial_then_healthy_after_interval_times_threshold(clock: ManualClock) -> None:
    events = TargetEvents(registered_at=clock.now())
    assert state(target_health(events, CHECK, True, clock)) == ("initial", "Elb.RegistrationInProgress")
    clock.advance(29)
    assert state(target_health(events, CHECK, True, clock)) == ("initial", "Elb.RegistrationInProgress")
    clock.advance(1)  # the first check at 30 s
    assert state(target_health(events, CHECK, True, clock)) == ("initial", "Elb.InitialHealthChecking")
    clock.advance(119)  # 149 s: four checks passed
    assert state(target_health(events, CHECK, True, clock)) == ("initial", "Elb.InitialHealthChecking")
    clock.advance(1)  # 150 s = 30 s x 5
    assert state(target_health(events, CHECK, True, clock)) == ("healthy", None)
    clock.advance(10_000)
    assert state(target_health(events, CHECK, True, clock)) == ("healthy", None)


def test_thresholds_and_interval_come_from_the_target_group(clock: ManualClock) -> None:
    fast = HealthCheck(enabled=True, interval=5, healthy_threshold=2, unhealthy_threshold=2)
    events = TargetEvents(registered_at=clock.now())
    clock.advance(9)
    assert state(target_health(events, fast, True, clock)) == ("initial", "Elb.InitialHealthChecking")
    clock.advance(1)
    assert state(target_health(events, fast, True, clock)) == ("healthy", None)


def test_healthy_shape_has_no_reason_and_the_others_have_aws_descriptions(clock: ManualClock) -> None:
    assert TargetHealth("healthy").shape() == {"State": "healthy"}
    assert TargetHealth("initial", "Elb.RegistrationInProgress").shape() == {
        "State": "initial", "Reason": "Elb.RegistrationInProgress", "Description": "Target registration is in progress"}
    assert NOT_REGISTERED.shape() == {"State": "unused", "Reason": "Target.NotRegistered",
                                      "Description": "Target is not registered to the target group"}


def test_unused_while_the_group_serves_no_listener_and_unavailable_when_checks_are_disabled(
        clock: ManualClock) -> None:
    events = TargetEvents(registered_at=clock.now())
    clock.advance(1000)
    unused = target_health(events, CHECK, False, clock)
    assert state(unused) == ("unused", "Target.NotInUse")
    assert unused is not None and unused.description == \
        "Target group is not configured to receive traffic from the load balancer"
    disabled = HealthCheck(enabled=False, interval=35, healthy_threshold=5, unhealthy_threshold=5)
    assert state(target_health(events, disabled, True, clock)) == ("unavailable", "Target.HealthCheckDisabled")
    # Once the group is used, the checks that "ran" since registration count: healthy at once.
    assert state(target_health(events, CHECK, True, clock)) == ("healthy", None)


def test_deregistered_target_drains_for_the_delay_then_is_gone(clock: ManualClock) -> None:
    registered = clock.now()
    clock.advance(200)
    events = TargetEvents(registered_at=registered, deregistered_at=clock.now(), drain_seconds=300)
    assert state(target_health(events, CHECK, True, clock)) == ("draining", "Target.DeregistrationInProgress")
    clock.advance(299)
    assert state(target_health(events, CHECK, True, clock)) == ("draining", "Target.DeregistrationInProgress")
    # Draining wins over "unused": the delay runs even if the group stops serving a listener.
    assert state(target_health(events, CHECK, False, clock)) == ("draining", "Target.DeregistrationInProgress")
    clock.advance(1)
    assert target_health(events, CHECK, True, clock) is None


def test_no_delay_means_gone_at_once(clock: ManualClock) -> None:
    events = TargetEvents(registered_at=clock.now(), deregistered_at=clock.now(), drain_seconds=0)
    assert target_health(events, CHECK, True, clock) is None


def test_runtime_reporting_healthy_late_makes_the_target_unhealthy_first(clock: ManualClock) -> None:
    """A task registered at once but answering only after 100 s: its first checks fail."""
    registered = clock.now()
    reported = registered + timedelta(seconds=100)
    events = TargetEvents(registered_at=registered, reported_health="healthy", reported_at=reported)
    clock.advance(59)
    assert state(target_health(events, CHECK, True, clock)) == ("initial", "Elb.InitialHealthChecking")
    clock.advance(1)  # two failed checks (30 s, 60 s)
    assert state(target_health(events, CHECK, True, clock)) == ("unhealthy", "Target.FailedHealthChecks")
    clock.advance(60 + 5 * 30 - 30)  # checks at 120..240 pass; 5 passes at 240 s
    assert clock.sim_elapsed(registered) == 240
    assert state(target_health(events, CHECK, True, clock)) == ("healthy", None)


def test_runtime_reporting_healthy_before_registration_passes_every_check(clock: ManualClock) -> None:
    reported = clock.now()
    clock.advance(5)
    events = TargetEvents(registered_at=clock.now(), reported_health="healthy", reported_at=reported)
    clock.advance(150)
    assert state(target_health(events, CHECK, True, clock)) == ("healthy", None)


def test_runtime_reporting_unhealthy_later_turns_a_healthy_target_unhealthy(clock: ManualClock) -> None:
    registered = clock.now()
    events = TargetEvents(registered_at=registered, reported_health="unhealthy",
                          reported_at=registered + timedelta(seconds=310))
    clock.advance(300)
    assert state(target_health(events, CHECK, True, clock)) == ("healthy", None)
    clock.advance(30)  # one failed check is not enough
    assert state(target_health(events, CHECK, True, clock)) == ("healthy", None)
    clock.advance(30)
    assert state(target_health(events, CHECK, True, clock)) == ("unhealthy", "Target.FailedHealthChecks")


def test_a_target_reported_unhealthy_from_the_start_never_becomes_healthy(clock: ManualClock) -> None:
    events = TargetEvents(registered_at=clock.now(), reported_health="unhealthy", reported_at=clock.now())
    clock.advance(60)
    assert state(target_health(events, CHECK, True, clock)) == ("unhealthy", "Target.FailedHealthChecks")
    clock.advance(100_000)
    assert state(target_health(events, CHECK, True, clock)) == ("unhealthy", "Target.FailedHealthChecks")


def test_the_state_is_the_same_whenever_it_is_computed(clock: ManualClock) -> None:
    """Pure: two clocks at the same instant give the same answer, whatever happened in between."""
    start = clock.now()
    events = TargetEvents(registered_at=start, reported_health="healthy", reported_at=start + timedelta(seconds=45))
    stepped = ManualClock(start)
    for _ in range(40):
        stepped.advance(7)
        target_health(events, CHECK, True, stepped)
    jumped = ManualClock(start)
    jumped.advance(280)
    assert target_health(events, CHECK, True, stepped) == target_health(events, CHECK, True, jumped)


@pytest.mark.parametrize(("elapsed", "offset", "passing", "expected"), [
    (0, None, True, None),
    (150, None, True, "healthy"),
    (60, None, False, "unhealthy"),
    (59.999, None, False, None),
    (90, 31, True, None),  # one failed check (30 s), then two passes (60 s, 90 s): nothing decided yet
    (90, 61, True, "unhealthy"),  # checks at 30 s and 60 s failed
    (240, 61, True, "healthy"),  # ... then five passes, 90 s to 210 s
])
def test_checked_status(elapsed: float, offset: float | None, passing: bool, expected: str | None) -> None:
    assert checked_status(elapsed, offset, passing, CHECK) == expected
