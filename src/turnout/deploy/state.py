"""One service deployment as the engine works on it, and the engine's own progress of it.

* :class:`Step`: one step of a plan (:mod:`.plan`), a stage and an action with its argument.
* :class:`HookRun`: one execution of a lifecycle hook at the current step.
* :class:`EngineState`: the engine's private progress (the plan, where it is, blue and green...), kept in the
  deployment's ``engine`` JSON column. :meth:`EngineState.from_json` reads what every earlier version wrote (a
  plan of ``[stage, action, argument]`` lists, timestamps as ISO 8601 text), and :meth:`EngineState.to_json` writes
  the same form, so no migration is needed either way.
* :class:`Deployment`: the members of a deployment's record the engine changes, loaded once and written back in one
  UPDATE at the end of a transition (so every transition is one transaction).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, get_args

from ..services.ecs.model import FINAL
from ..services.ecs.store import deployments as store
from ..services.ecs.store.deployments import ServiceDeployment
from ..services.ecs.store.services import Service
from ..store.codec import iso, when
from ..store.db import Database

# What a step does (:mod:`.plan` describes each); the handlers are :class:`.runner.Runner`'s table.
Action = Literal["hooks", "scale_up", "await_healthy", "shift_test", "shift_prod", "restore_prod", "restore_test",
                 "wait", "stop_blue", "stop_green", "await_stopped", "rolling", "rolling_back"]
ACTIONS: tuple[Action, ...] = get_args(Action)
OPEN_HOOK = ("IN_PROGRESS", "AWAITING_ACTION")  # DeploymentLifecycleHookDetail statuses that still wait


def _instant(value: Any) -> datetime | None:
    return when(None if value is None else str(value))


@dataclass(frozen=True, slots=True)
class Step:
    stage: str  # ServiceDeploymentLifecycleStage
    action: Action
    arg: float | None = None  # shift_prod: green's percent of production traffic; wait: simulated seconds

    def to_json(self) -> list[Any]:
        return [self.stage, self.action, self.arg]

    @classmethod
    def from_json(cls, value: Sequence[Any]) -> Step:
        stage, action, arg = value
        if action not in ACTIONS:
            raise ValueError(f"unknown step {action}")
        return cls(str(stage), action, None if arg is None else float(arg))


@dataclass(slots=True)
class HookRun:
    """One execution of a lifecycle hook at the current step (its detail is in ``lifecycleHookDetails``)."""

    type: str  # PAUSE | AWS_LAMBDA
    index: int  # the hook's place in deploymentConfiguration.lifecycleHooks
    since: datetime
    timeout: float  # seconds
    action: str  # what its timeout does: CONTINUE | ROLLBACK
    execution: str  # the executionId the function is given
    details: Any  # hookDetails, as configured then as the function last returned them
    phase: str = "call"  # call | calling (a Lambda call in flight) | wait (until ``next`` + ``delay``)
    next: datetime | None = None
    delay: float | None = None
    failure: str | None = None  # why it failed

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "index": self.index, "since": iso(self.since),
                               "timeout": self.timeout, "action": self.action, "phase": self.phase,
                               "execution": self.execution, "details": self.details,
                               "next": None if self.next is None else iso(self.next)}
        if self.delay is not None:
            out["delay"] = self.delay
        if self.failure is not None:
            out["failure"] = self.failure
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> HookRun:
        since = _instant(value["since"])
        assert since is not None
        return cls(type=str(value["type"]), index=int(value["index"]), since=since, timeout=float(value["timeout"]),
                   action=str(value["action"]), execution=str(value["execution"]), details=value.get("details"),
                   phase=str(value.get("phase") or "call"), next=_instant(value.get("next")),
                   delay=None if value.get("delay") is None else float(value["delay"]), failure=value.get("failure"))


@dataclass(slots=True)
class EngineState:
    """The engine's private progress of one deployment."""

    plan: list[Step] = field(default_factory=list)  # empty until the deployment starts
    pc: int = 0  # the step under way
    at: datetime | None = None  # when the step under way began to wait (its wait, its stage's 24 hours)
    step_hooks: dict[str, HookRun] | None = None  # the hook executions of the step under way, by hook id
    blue: list[str] = field(default_factory=list)  # per load balancer: the target group production used
    green: list[str] = field(default_factory=list)  # per load balancer: the target group the new tasks serve
    snapshot: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # rule/listener -> actions before
    serving: list[str] = field(default_factory=list)  # once finished: the target groups left serving production
    test_shifted: bool = False
    prod_shifted: bool = False
    requested: bool = False  # the rollback was asked for (StopServiceDeployment or a pause hook)

    @property
    def step(self) -> Step | None:
        return self.plan[self.pc] if self.pc < len(self.plan) else None

    def begin(self, plan: list[Step]) -> None:
        """Run ``plan`` from its first step."""
        self.plan, self.pc = plan, 0
        self.next_step(at=0)

    def next_step(self, *, at: int | None = None) -> None:
        """Move on to the next step (``at``: to that one), forgetting the step's wait and hooks."""
        self.pc = self.pc + 1 if at is None else at
        self.at = None
        self.step_hooks = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.plan:
            out["plan"] = [step.to_json() for step in self.plan]
            out["pc"] = self.pc
        if self.at is not None:
            out["at"] = iso(self.at)
        if self.step_hooks is not None:
            out["step_hooks"] = {hook_id: run.to_json() for hook_id, run in self.step_hooks.items()}
        for name, value in (("blue", self.blue), ("green", self.green), ("snapshot", self.snapshot),
                            ("serving", self.serving)):
            if value:
                out[name] = value
        for name, flag in (("test_shifted", self.test_shifted), ("prod_shifted", self.prod_shifted),
                           ("requested", self.requested)):
            if flag:
                out[name] = True
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> EngineState:
        """The state as stored (``{}`` before the deployment starts; earlier versions' keys that nothing reads any
        more, such as ``failed``, are dropped)."""
        value = copy.deepcopy(value or {})
        hooks = value.get("step_hooks")
        return cls(
            plan=[Step.from_json(step) for step in value.get("plan") or []], pc=int(value.get("pc") or 0),
            at=_instant(value.get("at")),
            step_hooks=None if hooks is None else {k: HookRun.from_json(v) for k, v in hooks.items()},
            blue=list(value.get("blue") or []), green=list(value.get("green") or []),
            snapshot=dict(value.get("snapshot") or {}), serving=list(value.get("serving") or []),
            test_shifted=bool(value.get("test_shifted")), prod_shifted=bool(value.get("prod_shifted")),
            requested=bool(value.get("requested")),
        )


@dataclass
class Deployment:
    record: ServiceDeployment
    service: Service
    status: str
    status_reason: str | None
    stage: str | None
    test_weight: float | None
    production_weight: float | None
    hooks: list[dict[str, Any]]
    rollback: dict[str, Any] | None
    circuit_breaker: dict[str, Any] | None
    rollout_state: str
    rollout_state_reason: str | None
    state: EngineState
    config: dict[str, Any]
    wake_since: datetime | None = None
    wake_after: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stopped_at: datetime | None = None

    @classmethod
    def load(cls, record: ServiceDeployment, service: Service) -> Deployment:
        mine = copy.deepcopy  # the engine changes these in place: never the record's own
        return cls(
            record=record, service=service, status=record.status, status_reason=record.status_reason,
            stage=record.lifecycle_stage, test_weight=record.test_weight, production_weight=record.production_weight,
            hooks=mine(record.hooks), rollback=mine(record.rollback), circuit_breaker=mine(record.circuit_breaker),
            rollout_state=record.rollout_state, rollout_state_reason=record.rollout_state_reason,
            state=EngineState.from_json(record.engine), config=mine(record.config), wake_since=record.wake_since,
            wake_after=record.wake_after, started_at=record.started_at, finished_at=record.finished_at,
            stopped_at=record.stopped_at,
        )

    @property
    def arn(self) -> str:
        return self.record.arn

    @property
    def account(self) -> str:
        return self.record.account_id

    @property
    def region(self) -> str:
        return self.record.region

    @property
    def service_arn(self) -> str:
        return self.record.service_arn

    @property
    def service_name(self) -> str:
        return self.service.name

    @property
    def target(self) -> str:
        return self.record.target_revision_arn

    @property
    def sources(self) -> list[str]:
        return list(self.record.source_revision_arns)

    @property
    def legacy_id(self) -> str:
        return self.record.legacy_id

    @property
    def strategy(self) -> str:
        return str(self.config.get("strategy") or "ROLLING")

    @property
    def desired(self) -> int:
        """The service's desired count now (the deployment's at creation when the service has none)."""
        return int(self.service.config.get("desiredCount", self.record.desired_count) or 0)

    def hook_detail(self, hook_id: str) -> dict[str, Any] | None:
        """The ``lifecycleHookDetails`` entry of a hook execution."""
        for detail in self.hooks:
            if detail.get("hookId") == hook_id:
                return detail
        return None

    def clear_wait(self) -> None:
        self.wake_since = self.wake_after = None

    def close_hooks(self) -> None:
        """Hook executions still waiting (``IN_PROGRESS``, ``AWAITING_ACTION``) end ``FAILED``: their stage was cut
        short (a rollback began, a newer deployment or a user stopped this one, it ended). AWS documents the five
        statuses, not which one an abandoned hook gets: ours (docs/ecs-deployments.md, "Hooks when a deployment
        ends")."""
        for detail in self.hooks:
            if detail.get("status") in OPEN_HOOK:
                detail["status"] = "FAILED"

    def save(self, db: Database, now: datetime) -> None:
        if self.status in FINAL:
            self.close_hooks()  # no hook of a finished deployment is left waiting, whichever way it ended
        store.save_progress(db, replace(
            self.record, status=self.status, status_reason=self.status_reason, lifecycle_stage=self.stage,
            test_weight=self.test_weight, production_weight=self.production_weight, hooks=self.hooks,
            rollback=self.rollback, circuit_breaker=self.circuit_breaker, rollout_state=self.rollout_state,
            rollout_state_reason=self.rollout_state_reason, engine=self.state.to_json(), wake_since=self.wake_since,
            wake_after=self.wake_after, started_at=self.started_at, finished_at=self.finished_at,
            stopped_at=self.stopped_at, updated_at=now))
