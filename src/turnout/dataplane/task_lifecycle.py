"""The simulated lifecycle of ECS tasks: the timed status steps between launch and STOPPED (launch and stop
requests are the API's: :mod:`turnout.services.ecs.task_states`).

No HTTP and no load-balancer calls here: the deployment engine calls these functions inside its own transaction,
decides when to launch and stop tasks, and registers/deregisters them in target groups when :func:`due` reports
that a task entered ACTIVATING / DEACTIVATING.

Turnout's conventions (AWS does not publish step durations; these are Turnout's choice, in simulated seconds):

* A task passes PROVISIONING (2 s) -> PENDING (4 s, the image pull: ``pull_started_at``/``pull_stopped_at``) ->
  ACTIVATING (1 s) -> RUNNING (``started_at``). ``connectivity_at`` is set when PENDING starts (the task's ENI is
  attached before the pull, as on AWS).
* A stop request moves a registered task to DEACTIVATING, which lasts the ``drain_seconds`` given (the target
  groups' deregistration delay), then STOPPING (2 s) -> DEPROVISIONING (1 s, ``execution_stopped_at`` when it
  starts) -> STOPPED (``stopped_at``). An unregistered task goes to STOPPING at once. ``stopping_at`` is the instant
  of the stop request.
* A task's health (:func:`health`) and an essential container's exit follow its containers' ``turnout.*`` labels
  (:mod:`turnout.services.ecs.task_states`).

Each step starts at the instant the previous one was due (not when :func:`due` happened to run), so however
often :func:`due` is called, a task's timeline is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..core.clock import Clock
from ..services.ec2 import network as ec2_network
from ..services.ecs.store import task_definitions as td_store
from ..services.ecs.store import tasks as store
from ..services.ecs.store.task_definitions import TaskDefinition
from ..services.ecs.store.tasks import Task
from ..services.ecs.task_states import (
    ACTIVATING,
    DEACTIVATING,
    DEPROVISIONING,
    EXIT_CODE,
    EXIT_REASON,
    HEALTH_LABEL,
    PENDING,
    PROVISIONING,
    RUNNING,
    STOPPED,
    STOPPING,
    containers,
    drain_of,
    exit_after,
    labels,
    registrations,
    stop,
    target_group_drain,
)
from ..store.db import Database

# Turnout's choice: simulated seconds each status lasts (DEACTIVATING lasts the drain given to request_stop).
PROVISIONING_SECONDS = 2.0
PENDING_SECONDS = 4.0
ACTIVATING_SECONDS = 1.0
STOPPING_SECONDS = 2.0
DEPROVISIONING_SECONDS = 1.0
_FIXED = {PROVISIONING: PROVISIONING_SECONDS, PENDING: PENDING_SECONDS, ACTIVATING: ACTIVATING_SECONDS,
          STOPPING: STOPPING_SECONDS, DEPROVISIONING: DEPROVISIONING_SECONDS}
_NEXT = {PROVISIONING: PENDING, PENDING: ACTIVATING, ACTIVATING: RUNNING, DEACTIVATING: STOPPING,
         STOPPING: DEPROVISIONING, DEPROVISIONING: STOPPED}


@dataclass(frozen=True, slots=True)
class Transition:
    """One status step of one task: ``task`` is the task after the step."""

    task: Task
    previous: str
    status: str


# -- health -------------------------------------------------------------------------------------------------


def health(task: Task | None, task_definition: TaskDefinition) -> str:
    """``healthy`` or ``unhealthy``: what the task answers to load-balancer and container health checks
    (``unhealthy`` when any container's ``turnout.health`` label says so)."""
    for container in containers(task_definition):
        if str(labels(container).get(HEALTH_LABEL, "healthy")).lower() == "unhealthy":
            return "unhealthy"
    return "healthy"


def health_status(task: Task | None, task_definition: TaskDefinition) -> str:
    """The task's healthStatus once RUNNING: HEALTHY/UNHEALTHY only when a container defines a healthCheck, else
    UNKNOWN (AWS's rule)."""
    if not any(c.get("healthCheck") for c in containers(task_definition)):
        return "UNKNOWN"
    return "HEALTHY" if health(task, task_definition) == "healthy" else "UNHEALTHY"


# -- the clock ------------------------------------------------------------------------------------------------


# Whether a task's containers have started (the data plane runs their processes: turnout.dataplane.runtime); None:
# containers start as the clock says.
Ready = Callable[[Task], bool] | None


def _duration(task: Task, definitions: dict[str, TaskDefinition | None], db: Database, ready: Ready = None
              ) -> float | None:
    """Simulated seconds the task's current status lasts; None: until something else happens. With ``ready``, a
    task stays PENDING until its containers have started, as on AWS (however fast ``--time-scale`` runs the
    clock, a task is never registered in a target group before its process answers)."""
    status = task.last_status
    if status == PENDING and ready is not None and not ready(task):
        return None
    if status in _FIXED:
        return _FIXED[status]
    if status == DEACTIVATING:
        return drain_of(task)
    if status == RUNNING and task.desired_status == RUNNING:
        td = _definition(db, task, definitions)
        found = exit_after(td) if td is not None else None
        return None if found is None else found[1]
    return None


def _definition(db: Database, task: Task, cache: dict[str, TaskDefinition | None]) -> TaskDefinition | None:
    arn = task.task_definition_arn
    if arn not in cache:
        cache[arn] = td_store.task_definition(db, task.account_id, task.region, arn)
    return cache[arn]


def _row(db: Database, account: str, region: str, arn: str) -> Task:
    found = store.task(db, account, region, arn)
    assert found is not None
    return found


def _pending(db: Database, account: str | None, region: str | None) -> list[Task]:
    return store.not_stopped(db, account, region)


def _instant(clock: Clock, since: datetime, seconds: float) -> datetime | None:
    """The wall-clock instant ``seconds`` simulated seconds after ``since``, if it has passed."""
    elapsed = clock.sim_elapsed(since)
    if elapsed < seconds:
        return None
    if elapsed <= 0:
        return since
    return since + (clock.now() - since) * (seconds / elapsed)


def due(db: Database, clock: Clock, account: str | None = None, region: str | None = None, ready: Ready = None
        ) -> list[Transition]:
    """Advance every task whose status has lasted its duration, step after step; one Transition per step, in
    order (a task's steps in its order; tasks in launch order)."""
    out: list[Transition] = []
    definitions: dict[str, TaskDefinition | None] = {}
    for task in _pending(db, account, region):
        while task.last_status != STOPPED:
            seconds = _duration(task, definitions, db, ready)
            at = None if seconds is None else _instant(clock, task.status_since, seconds)
            if at is not None and ready is not None and task.last_status == PENDING:
                at = clock.now()  # the containers started when they did, perhaps after the pull was due
            if at is None:
                break
            previous = task.last_status
            _step(db, task, at, definitions)
            task = _row(db, task.account_id, task.region, task.arn)
            out.append(Transition(task, previous, task.last_status))
    return out


def _step(db: Database, task: Task, at: datetime, definitions: dict[str, TaskDefinition | None]) -> None:
    status = task.last_status
    if status == RUNNING:  # the essential container exited
        regs = registrations(task)
        drain = target_group_drain(db, task.account_id, task.region, regs) if regs else 0.0
        stop(db, task, stop_code=EXIT_CODE, reason=EXIT_REASON, at=at, drain_seconds=drain)
        return
    target = _NEXT[status]
    health: str | None = None
    if target == RUNNING:
        td = _definition(db, task, definitions)
        health = health_status(task, td) if td is not None else "UNKNOWN"
    elif target == STOPPED:
        health = "UNKNOWN"
        ec2_network.release_interfaces(db, task.account_id, task.region, task.arn)
    store.advance(db, task.account_id, task.region, task.arn, target, at, health_status=health)


def next_due(db: Database, clock: Clock, account: str | None = None, region: str | None = None, ready: Ready = None
             ) -> float | None:
    """Simulated seconds until the next step of any task (0: one is due now; None: none is pending)."""
    best: float | None = None
    definitions: dict[str, TaskDefinition | None] = {}
    for task in _pending(db, account, region):
        seconds = _duration(task, definitions, db, ready)
        if seconds is None:
            continue
        left = max(0.0, seconds - clock.sim_elapsed(task.status_since))
        best = left if best is None else min(best, left)
    return best
