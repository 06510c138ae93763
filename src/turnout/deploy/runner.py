"""Runs one service deployment forward by one transition: the steps of its plan (:mod:`.plan`) until one must
wait, fails, or the deployment ends. The caller holds the transaction and saves the :class:`Deployment`.

Each action has one handler (:attr:`Runner.handlers`); a handler answers DONE (the next step runs at once),
:class:`Wait` or :class:`Fail`.

Statuses follow AWS's transitions: PENDING -> IN_PROGRESS -> SUCCESSFUL; a failure -> ROLLBACK_IN_PROGRESS ->
ROLLBACK_SUCCESSFUL or ROLLBACK_FAILED; StopServiceDeployment -> ROLLBACK_REQUESTED (or STOP_REQUESTED) first;
a deployment superseded by a newer one -> STOPPED.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..services.ecs import events
from ..services.ecs.model import (
    FINAL,
    IN_PROGRESS,
    NETWORKING_SESSION,
    PENDING,
    ROLLBACK_FAILED,
    ROLLBACK_IN_PROGRESS,
    ROLLBACK_REQUESTED,
    ROLLBACK_SUCCESSFUL,
    STOP_REQUESTED,
    STOPPED,
    SUCCESSFUL,
    TRAFFIC_STRATEGIES,
)
from ..services.ecs.store import deployments as deployment_store
from ..services.ecs.store import revisions as revision_store
from ..services.ecs.store import services as service_store
from ..services.ecs.store import tasks as task_store
from ..services.ecs.store.tasks import Task
from ..store.codec import iso
from . import plan as plans
from . import traffic
from .acting import AssumeFailed, CallFailed
from .scheduler import RegistrationFailed, scope_of
from .state import Action, Deployment, Step

if TYPE_CHECKING:
    from .engine import Engine

HEALTH_POLL = 10.0  # simulated seconds between ECS's target health polls while it waits
STAGE_TIMEOUT = 24 * 3600.0
WAITING: tuple[Action, ...] = ("await_healthy", "await_stopped", "rolling", "rolling_back")  # bounded by STAGE_TIMEOUT


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


@dataclass(frozen=True, slots=True)
class Fail:
    reason: str


DONE = None
Outcome = Wait | Fail | None
Handler = Callable[[Deployment, datetime, Step], Outcome]

# AWS's statusReason forms (troubleshooting-blue-green, aws-facts 2.11) ...
ROLE_REASON = ("Service deployment rolled back because of invalid networking configuration. ECS was unable to "
               "manage the ELB resources due to missing permissions on ECS Infrastructure Role '{role}'.")
NETWORK_REASON = "Service deployment rolled back because of invalid networking configuration. {detail}"
HOOK_REASON = "Service deployment rolled back because {stage} lifecycle hook(s) failed. {detail}"
CIRCUIT_ROLLOUT = "ECS deployment circuit breaker: tasks failed to start."  # a rolling deployment's rolloutStateReason
# ... and ours, where AWS documents none.
CIRCUIT_REASON = "Service deployment rolled back because the circuit breaker threshold was exceeded."
STAGE_TIMEOUT_REASON = "Service deployment rolled back because the {stage} lifecycle stage timed out after 24 hours."
USER_ROLLBACK_REASON = "Service deployment rolled back because a rollback was requested with StopServiceDeployment."


def rollout_reason(reason: str) -> str:
    """Service.deployments[].rolloutStateReason: AWS's circuit breaker wording, else the deployment's reason."""
    return CIRCUIT_ROLLOUT if "circuit breaker" in reason else reason


class Runner:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.gateway.db
        self.clock = engine.gateway.clock
        self.scheduler = engine.scheduler
        self.acting = engine.acting
        self.handlers: dict[Action, Handler] = {
            "hooks": self._hooks, "wait": self._wait, "scale_up": self._scale_up, "await_healthy": self._await_healthy,
            "shift_test": self._shift, "shift_prod": self._shift, "restore_prod": self._shift,
            "restore_test": self._shift, "stop_blue": self._stop_blue, "stop_green": self._stop_green,
            "await_stopped": self._await_stopped, "rolling": self._rolling, "rolling_back": self._rolling,
        }

    # -- entry ------------------------------------------------------------------------------------------

    def advance(self, dep: Deployment, now: datetime) -> None:
        if dep.status == PENDING:
            self._start(dep, now)
        elif dep.status == ROLLBACK_REQUESTED:
            if dep.wake_since is not None and (dep.wake_after or 0.0) - self.clock.sim_elapsed(dep.wake_since) > 0:
                return  # ROLLBACK_REQUESTED until ECS takes the request up (deployment_ops.ROLLBACK_PICKUP)
            self._begin_rollback(dep, now, USER_ROLLBACK_REASON, requested=True)
        elif dep.status == STOP_REQUESTED:
            self._stop(dep, now, "Service deployment stopped because a stop was requested.")  # our wording
            return
        if dep.status in FINAL:
            return
        for _ in range(200):  # steps that need no wait run in one transition
            step = dep.state.step
            if step is None:
                self._finish(dep, now)
                return
            if dep.stage != step.stage:  # a new stage assumes its roles again
                self.acting.forget(dep.arn)
                self.scheduler.forget_sessions(dep.service_arn)
                dep.stage = step.stage
            outcome = self._run(dep, now, step)
            if isinstance(outcome, Wait):
                dep.wake_since, dep.wake_after = now, max(0.0, outcome.seconds)
                return
            if isinstance(outcome, Fail):
                if dep.status == ROLLBACK_IN_PROGRESS:
                    self._rollback_failed(dep, now, outcome.reason)
                    return
                self._begin_rollback(dep, now, outcome.reason)
                if dep.status in FINAL:
                    return
                continue
            dep.state.next_step()

    def _run(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        if step.action in WAITING:
            # "Each lifecycle stage can last up to 24 hours ... The system times out, fails the deployment, and
            # then initiates a rollback after a stage reaches 24 hours." (hooks have their own timeouts)
            if dep.state.at is None:
                dep.state.at = now
            if self.clock.sim_elapsed(dep.state.at) >= STAGE_TIMEOUT:
                return Fail(STAGE_TIMEOUT_REASON.format(stage=dep.stage))
        return self.handlers[step.action](dep, now, step)

    # -- lifecycle ----------------------------------------------------------------------------------------

    def _start(self, dep: Deployment, now: datetime) -> None:
        # RECONCILE_SERVICE: "when you start a new service deployment with more than 1 service revision in an
        # ACTIVE state" (counted before the deployments this one stops are put in order).
        alive_sources = {t.revision_arn for t in self.scheduler.tasks(dep.service)}
        for older in deployment_store.arns_of_service(
                self.db, dep.account, dep.region, dep.service_arn,
                (PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED), besides=dep.arn):
            self.engine.supersede(older, dep, now)
        dep.status, dep.started_at = IN_PROGRESS, now
        pairs = self._pairs(dep)
        dep.state.begin(plans.forward_plan(dep.strategy, dep.config, pairs, reconcile=len(alive_sources) > 1))
        traffic_deployment = dep.strategy in TRAFFIC_STRATEGIES and bool(pairs)
        if traffic_deployment:
            dep.test_weight, dep.production_weight = 0.0, 0.0
        if dep.circuit_breaker is None:
            breaker = dep.config.get("deploymentCircuitBreaker") or {}
            dep.circuit_breaker = {"status": "MONITORING" if breaker.get("enable") else "DISABLED",
                                   "failureCount": 0, "threshold": self.scheduler.threshold(dep.desired)}
        if traffic_deployment:
            reason = self._preflight(dep)
            if reason is not None:
                self._begin_rollback(dep, now, reason)

    def _preflight(self, dep: Deployment) -> str | None:
        """Read the production and test rules; decide blue and green; AWS's asynchronous checks."""
        blue, green, snapshot = [], [], {}
        for pair in self._pairs(dep):
            try:
                principal = self.acting.session(dep.arn, scope_of(dep.service), pair.role, NETWORKING_SESSION)
            except AssumeFailed:
                return ROLE_REASON.format(role=pair.role)
            try:
                production = traffic.read(self.acting, principal, scope_of(dep.service), pair.production)
                b, g = traffic.sides(pair, production)
                snapshot[pair.production] = list(production.actions)
                if pair.test:
                    test = traffic.read(self.acting, principal, scope_of(dep.service), pair.test)
                    traffic.check_test(pair, test)
                    snapshot[pair.test] = list(test.actions)
            except CallFailed as exc:
                if exc.code in ("AccessDenied", "AccessDeniedException"):
                    # The role cannot read the rules: AWS's missing-permissions reason, and the denial saying why.
                    return f"{ROLE_REASON.format(role=pair.role)} {exc.message}"
                stage = dep.stage or plans.first_stage(dep.state.plan)  # the stage it was to start with
                return HOOK_REASON.format(stage=stage, detail=exc.message)
            except traffic.NetworkInvalid as exc:
                return NETWORK_REASON.format(detail=exc.message)
            blue.append(b)
            green.append(g)
        dep.state.blue, dep.state.green, dep.state.snapshot = blue, green, snapshot
        self._resolve(dep, green)
        return None

    def _resolve(self, dep: Deployment, green: list[str]) -> None:
        """The target revision's ``resolvedConfiguration``: the target groups its tasks serve from, as decided."""
        revision = self.scheduler.revision(dep.account, dep.region, dep.target)
        if revision is None:
            return
        body = dict(revision.body)
        resolved = dict(body.get("resolvedConfiguration") or {})
        resolved["loadBalancers"] = [{"targetGroupArn": tg, "productionListenerRule": pair.production}
                                     for pair, tg in zip(self._pairs(dep), green, strict=False)]
        body["resolvedConfiguration"] = resolved
        revision_store.set_body(self.db, dep.account, dep.region, dep.target, body)

    def _begin_rollback(self, dep: Deployment, now: datetime, reason: str, *, requested: bool = False) -> None:
        breaker = dep.config.get("deploymentCircuitBreaker") or {}
        if dep.strategy not in TRAFFIC_STRATEGIES and not requested and not breaker.get("rollback"):
            # ROLLING without the rollback option: the deployment stops where it is (AWS: "failure without
            # rollback option" -> STOPPED), and says so.
            reason = reason.replace("Service deployment rolled back because", "Service deployment failed because", 1)
            dep.status, dep.status_reason = STOPPED, reason
            dep.stopped_at = dep.finished_at = now
            dep.rollout_state, dep.rollout_state_reason = "FAILED", rollout_reason(reason)
            if dep.circuit_breaker:
                dep.circuit_breaker["status"] = "TRIGGERED"
            dep.clear_wait()
            dep.state.pc = len(dep.state.plan)
            return
        if dep.status == PENDING or not dep.state.plan:
            dep.status, dep.status_reason = STOPPED, reason
            dep.stopped_at, dep.finished_at = dep.stopped_at or now, now
            dep.rollout_state, dep.rollout_state_reason = "FAILED", rollout_reason(reason)
            return
        source = self._rollback_revision(dep)
        dep.close_hooks()  # the stage's hooks still waiting are cut short: the rollback re-runs its own
        dep.status, dep.status_reason = ROLLBACK_IN_PROGRESS, reason
        dep.rollback = {"reason": reason, "startedAt": iso(now), **({"serviceRevisionArn": source} if source else {})}
        dep.rollout_state, dep.rollout_state_reason = "FAILED", rollout_reason(reason)
        if dep.circuit_breaker and "circuit breaker" in reason:
            dep.circuit_breaker["status"] = "TRIGGERED"
        dep.state.begin(plans.rollback_plan_for(dep.strategy, dep.state))
        # Service events in AWS's "(service X) (deployment Y) ..." form; the rollback ones' wording is ours (AWS
        # documents the deployment's statusReason, not these events).
        events.add(self.db, dep.account, dep.region, dep.service_arn,
                   f"(service {dep.service_name}) (deployment {dep.legacy_id}) rolling back: {reason}", now)
        if requested:
            dep.state.requested = True

    def _rollback_revision(self, dep: Deployment) -> str | None:
        """The revision a rollback goes back to: the newest source revision whose tasks still run besides this
        deployment's (a source whose deployment was stopped before it served production has none), else the
        newest source."""
        running = {t.revision_arn for t in self.other_tasks(dep)}
        for arn in reversed(dep.sources):
            if arn in running:
                return arn
        return dep.sources[-1] if dep.sources else None

    def settle_superseded(self, dep: Deployment, now: datetime) -> str | None:
        """A traffic deployment a newer one stops, put in order before the newer one reads the rules: with all
        production traffic on green, green stays (test traffic to green too) and blue's tasks stop; otherwise both
        rules go back to blue and green's tasks stop (docs/ecs-deployments.md, "Listener rules and targets after a
        rollback or a stop"). A failure's text (which rule is left where), or None."""
        if dep.strategy not in TRAFFIC_STRATEGIES or not dep.state.green:
            return None
        reason = f"Scaling activity initiated by (deployment {dep.legacy_id})"
        if dep.state.prod_shifted and float(dep.production_weight or 0.0) >= 100.0:
            keep, moves = dep.state.green, [Step("TEST_TRAFFIC_SHIFT", "shift_test")]
            leaving = self.other_tasks(dep)
        else:
            keep = dep.state.blue
            moves = [Step("PRODUCTION_TRAFFIC_SHIFT", "restore_prod"), Step("TEST_TRAFFIC_SHIFT", "restore_test")]
            leaving = self.green_tasks(dep)
        for step in moves:
            outcome = self._shift(dep, now, step)
            if isinstance(outcome, Fail):
                why = outcome.reason.removeprefix("Service deployment rolled back because ")
                return f"ECS could not put its traffic back because {why} {self.engine.where(dep)}".strip()
        dep.state.serving = list(keep)
        self.scheduler.stop(dep.service, leaving, now, stop_code="ServiceSchedulerInitiated", reason=reason)
        return None

    def _rollback_failed(self, dep: Deployment, now: datetime, detail: str) -> None:
        where = self.engine.where(dep)
        dep.status = ROLLBACK_FAILED
        detail = detail.replace("Service deployment rolled back because", "The rollback failed because", 1)
        dep.status_reason = f"{dep.status_reason or ''} {detail} {where}".strip()
        dep.finished_at = now
        dep.clear_wait()
        events.add(self.db, dep.account, dep.region, dep.service_arn,
                   f"(service {dep.service_name}) (deployment {dep.legacy_id}) rollback failed: {detail} {where}",
                   now)

    def _finish(self, dep: Deployment, now: datetime) -> None:
        dep.finished_at = now
        dep.clear_wait()
        if dep.status == ROLLBACK_IN_PROGRESS:
            dep.status = ROLLBACK_SUCCESSFUL
            if dep.strategy in TRAFFIC_STRATEGIES and dep.state.blue:
                dep.state.serving = dep.state.blue
            self._restore_task_definition(dep, now)
            events.add(self.db, dep.account, dep.region, dep.service_arn,
                       f"(service {dep.service_name}) (deployment {dep.legacy_id}) rollback completed.", now)
        else:
            dep.status = SUCCESSFUL
            dep.rollout_state, dep.rollout_state_reason = "COMPLETED", f"ECS deployment {dep.legacy_id} completed."
            if dep.circuit_breaker and dep.circuit_breaker.get("status") == "MONITORING":
                dep.circuit_breaker["status"] = "MONITORING_COMPLETE"
            if dep.state.green:
                dep.state.serving = dep.state.green
            events.add(self.db, dep.account, dep.region, dep.service_arn,
                       f"(service {dep.service_name}) (deployment {dep.legacy_id}) deployment completed.", now)
        events.add(self.db, dep.account, dep.region, dep.service_arn,
                   f"(service {dep.service_name}) has reached a steady state.", now)

    def _restore_task_definition(self, dep: Deployment, now: datetime) -> None:
        """After a rollback the service runs (and shows) the revision it went back to."""
        revision = self.scheduler.revision(dep.account, dep.region, (dep.rollback or {}).get("serviceRevisionArn"))
        if revision is None:
            return
        config = copy.deepcopy(dep.service.config)
        config["taskDefinition"] = revision.task_definition_arn
        service_store.set_config(self.db, dep.account, dep.region, dep.service_arn, config, now)

    def _stop(self, dep: Deployment, now: datetime, reason: str) -> None:
        dep.status, dep.status_reason = STOPPED, dep.status_reason or reason
        dep.stopped_at, dep.finished_at = dep.stopped_at or now, now
        dep.clear_wait()

    # -- the tasks a deployment works on ------------------------------------------------------------------

    def green_tasks(self, dep: Deployment) -> list[Task]:
        """Tasks this deployment launched (a redeployed revision's earlier tasks are blue, not green)."""
        return [t for t in self.scheduler.tasks(dep.service) if t.deployment_arn == dep.arn]

    def other_tasks(self, dep: Deployment) -> list[Task]:
        return [t for t in self.scheduler.tasks(dep.service) if t.deployment_arn != dep.arn]

    def _pairs(self, dep: Deployment) -> list[traffic.Pair]:
        return self.scheduler.traffic_pairs(dep.service, dep.target)

    # -- step handlers ------------------------------------------------------------------------------------

    def _hooks(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        return self.engine.hooks.run(dep, now)

    def _rolling(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        return self.engine.rolling.run(dep, now, back=step.action == "rolling_back")

    def _wait(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        if dep.state.at is None:
            dep.state.at = now
        remaining = float(step.arg or 0.0) - self.clock.sim_elapsed(dep.state.at)
        return Wait(remaining) if remaining > 1e-6 else DONE

    def _scale_up(self, dep: Deployment, now: datetime, step: Step | None = None) -> Outcome:
        revision = self.scheduler.revision(dep.account, dep.region, dep.target)
        if revision is None:
            return Fail("Service deployment failed because its service revision no longer exists.")
        missing = dep.desired - len(self.green_tasks(dep))
        self.scheduler.launch(dep.service, revision, dep.record, missing, now)
        return DONE

    def _await_healthy(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        desired = dep.desired
        tasks = self.green_tasks(dep)
        failed = self.engine.count_failures(dep)
        if failed:
            return failed
        if len(tasks) < desired:
            return self._scale_up(dep, now) or Wait(1.0)
        running = [t for t in tasks if t.last_status == "RUNNING"]
        if len(running) < desired:
            return Wait(self.engine.next_task_change())
        groups = list(dep.state.green)
        if not groups:
            return DONE
        try:
            states = self.scheduler.target_states(dep.service, groups)
        except RegistrationFailed as exc:
            return Fail(NETWORK_REASON.format(detail=f"service {dep.service_name} failed to describe target health "
                                                     f"on target-group {groups[0].split('/')[-2]} with (error "
                                                     f"{exc.message})"))
        pending = False
        for task in running:
            for reg in task.registrations:
                state = states.get((reg["targetGroupArn"], reg["id"], int(reg["port"])))
                if state == "unhealthy":
                    self.engine.fail_task(dep, task, reg["targetGroupArn"], now)
                    pending = True
                elif state != "healthy":
                    pending = True
            if not task.registrations:
                pending = True
        return Wait(HEALTH_POLL) if pending else DONE

    def _shift(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        action = step.action
        scope = scope_of(dep.service)
        blue_list, green_list = dep.state.blue, dep.state.green
        snapshot = dep.state.snapshot
        for index, pair in enumerate(self._pairs(dep)):
            if index >= len(blue_list):
                break
            blue, green = blue_list[index], green_list[index]
            named = pair.test if action in ("shift_test", "restore_test") else pair.production
            if named is None:
                continue
            try:
                principal = self.acting.session(dep.arn, scope, pair.role, NETWORKING_SESSION)
            except AssumeFailed:
                return Fail(ROLE_REASON.format(role=pair.role))
            try:
                current = traffic.read(self.acting, principal, scope, named)
                if action == "shift_test":
                    actions = traffic.weighted(current.actions, {blue: 0, green: 100})
                elif action == "shift_prod":
                    w_blue, w_green = plans.elb_weights(float(step.arg or 0.0))
                    actions = traffic.weighted(current.actions, {blue: w_blue, green: w_green})
                elif traffic.serves_only(current.actions, blue):
                    continue  # already as blue needs: nothing to put back
                elif action == "restore_test" and traffic.serves_only(snapshot.get(named) or [], blue):
                    actions = traffic.restore(snapshot[named])  # as it was before this deployment
                else:  # back to blue (the rule as it was forwarded elsewhere: a superseded deployment's doing)
                    actions = traffic.weighted(current.actions, {blue: 100, green: 0})
                traffic.write(self.acting, principal, scope, current, actions)
            except CallFailed as exc:
                return Fail(HOOK_REASON.format(stage=dep.stage, detail=exc.message))
        if action == "shift_test":
            dep.test_weight, dep.state.test_shifted = 100.0, True
        elif action == "shift_prod":
            dep.production_weight, dep.state.prod_shifted = float(step.arg or 0.0), True
        elif action == "restore_prod":
            dep.production_weight = 0.0
        else:
            dep.test_weight = 0.0
        return DONE

    def _stop_blue(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        return self._stop_side(dep, now, self.other_tasks(dep))

    def _stop_green(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        return self._stop_side(dep, now, self.green_tasks(dep))

    def _stop_side(self, dep: Deployment, now: datetime, tasks: list[Task]) -> Outcome:
        reason = f"Scaling activity initiated by (deployment {dep.legacy_id})"
        failures = self.scheduler.stop(dep.service, tasks, now, stop_code="ServiceSchedulerInitiated", reason=reason)
        if failures and dep.status != ROLLBACK_IN_PROGRESS:
            return Fail(NETWORK_REASON.format(detail=failures[0]))
        return DONE

    def _await_stopped(self, dep: Deployment, now: datetime, step: Step) -> Outcome:
        green = dep.status == ROLLBACK_IN_PROGRESS
        if dep.strategy not in TRAFFIC_STRATEGIES:
            return DONE
        stopping = task_store.stopping_count(self.db, dep.account, dep.region, dep.service_arn, dep.arn,
                                             launched_by_it=green)
        return Wait(self.engine.next_task_change()) if stopping else DONE
