"""Lifecycle hooks at a deployment stage: PAUSE hooks wait for ContinueServiceDeployment (or their timeout);
AWS_LAMBDA hooks call the function's local endpoint (``turnout serve --lambda NAME=URL``).

All hooks of a stage run together; the stage ends when every one has succeeded (or timed out with action
CONTINUE); any failure, ROLLBACK, or timeout with action ROLLBACK rolls the deployment back (AWS's
"lifecycle-hooks" pages). Each execution gets a fresh hook id (``ecs-pause-...``/``ecs-lambda-...``) and a
``DeploymentLifecycleHookDetail`` in ``lifecycleHookDetails``; the engine's private progress of the current
stage's executions lives in the engine state's ``step_hooks`` (:class:`~.state.HookRun`).

A Lambda hook first needs its role: ECS assumes ``roleArn`` with session ``ECS-Lambda-Execution`` (failure:
"ECS was unable to assume role <arn>"), and the session must be allowed ``lambda:InvokeFunction`` on the
function (evaluated by the IAM engine, as Lambda would). The HTTP call runs off the transaction, on the event
loop; its result is applied at the engine's next transition. After a restart a call that was in flight is made
again (Lambda hooks are invoked at least once).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..authz.authorizer import PolicyAuthorizer
from ..authz.checks import Check
from ..core import arns, ids
from ..core.context import RequestContext
from ..dataplane.lambda_hooks import HookResult
from ..services.ecs.model import ROLLBACK_IN_PROGRESS
from ..store.codec import iso
from .acting import AssumeFailed, Scope
from .runner import DONE, HOOK_REASON, Fail, Outcome, Wait
from .state import HookRun

if TYPE_CHECKING:
    from .engine import Engine
    from .state import Deployment

LAMBDA_SESSION = "ECS-Lambda-Execution"
DEFAULT_TIMEOUT_MINUTES = 1440
LAMBDA_RETRY = 30.0  # "IN_PROGRESS re-invokes after default 30 s"


class Hooks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.clock = engine.gateway.clock
        # (deployment ARN, hook id) -> result of a finished Lambda call, applied at the next transition.
        self._results: dict[tuple[str, str], HookResult] = {}
        self._inflight: set[tuple[str, str]] = set()
        self._calls: set[asyncio.Task[None]] = set()

    def configured(self, dep: Deployment, stage: str) -> list[dict[str, Any]]:
        return [h for h in dep.config.get("lifecycleHooks") or [] if stage in (h.get("lifecycleStages") or [])]

    def run(self, dep: Deployment, now: datetime) -> Outcome:
        stage = str(dep.stage)
        hooks = self.configured(dep, stage)
        if not hooks:
            return DONE
        step = dep.state.step_hooks
        if step is None:
            step = dep.state.step_hooks = self._start(dep, now, hooks)
        waits: list[float] = []
        failure: str | None = None
        for hook_id, run in step.items():
            detail = dep.hook_detail(hook_id)
            if detail is None or detail["status"] in ("SUCCEEDED", "FAILED", "TIMED_OUT"):
                if detail is not None and detail["status"] == "FAILED" and failure is None:
                    failure = run.failure or f"Lifecycle hook {hook_id} failed."
                continue
            elapsed = self.clock.sim_elapsed(run.since)
            if elapsed >= run.timeout:
                detail["status"] = "TIMED_OUT"
                if run.action == "ROLLBACK" and failure is None:
                    kind = "pause hook" if run.type == "PAUSE" else "lifecycle hook"
                    failure = f"@{stage} {kind} timed out."
                continue
            if run.type == "AWS_LAMBDA":
                wait = self._lambda(dep, now, hook_id, run, detail)
                if detail["status"] == "FAILED":
                    failure = failure or run.failure
                    continue
                if detail["status"] == "SUCCEEDED":
                    continue
                # In flight (None): its result wakes the engine; until then the hook's timeout is the limit.
                waits.append(run.timeout - elapsed if wait is None else min(wait, run.timeout - elapsed))
                continue
            waits.append(run.timeout - elapsed)
        if failure is not None:
            if failure.startswith("@"):
                return Fail(f"Service deployment rolled back because {failure[1:]}")
            return Fail(HOOK_REASON.format(stage=stage, detail=failure))
        if waits:
            return Wait(max(0.0, min(waits)))
        return DONE

    def _start(self, dep: Deployment, now: datetime, hooks: list[dict[str, Any]]) -> dict[str, HookRun]:
        step: dict[str, HookRun] = {}
        for index, hook in enumerate(hooks):
            kind = hook.get("targetType") or "AWS_LAMBDA"
            timeout = hook.get("timeoutConfiguration") or {}
            minutes = int(timeout.get("timeoutInMinutes") or DEFAULT_TIMEOUT_MINUTES)
            action = timeout.get("action") or "ROLLBACK"
            hook_id = ids.ecs_hook_id("pause" if kind == "PAUSE" else "lambda")
            detail: dict[str, Any] = {"hookId": hook_id, "targetType": kind,
                                      "status": "AWAITING_ACTION" if kind == "PAUSE" else "IN_PROGRESS",
                                      "expiresAt": iso(now + timedelta(minutes=minutes)), "timeoutAction": action}
            if kind != "PAUSE":
                detail["targetArn"] = hook.get("hookTargetArn")
            dep.hooks.append(detail)
            step[hook_id] = HookRun(type=kind, index=index, since=now, timeout=minutes * 60.0, action=action,
                                    execution=str(uuid.uuid4()), details=hook.get("hookDetails"))
            if kind == "PAUSE":
                # AWS announces this through EventBridge (HOOK_AWAITING_ACTION); Turnout, which has none, adds a
                # service event of its own wording, so that DescribeServices shows why the deployment waits.
                self.engine.note(dep, f"(service {dep.service_name}) (deployment {dep.legacy_id}) lifecycle hook "
                                      f"{hook_id} is awaiting action at {dep.stage}.", now)
        return step

    # -- ContinueServiceDeployment ------------------------------------------------------------------------

    @staticmethod
    def resolve_pause(dep: Deployment, hook_id: str, action: str) -> bool:
        """Apply ContinueServiceDeployment to an AWAITING_ACTION pause hook; False when there is none."""
        run = (dep.state.step_hooks or {}).get(hook_id)
        detail = dep.hook_detail(hook_id)
        if run is None or detail is None or detail.get("status") != "AWAITING_ACTION":
            return False
        if action == "ROLLBACK":
            detail["status"] = "FAILED"
            run.failure = f"Pause hook {hook_id} requested a rollback."  # our wording: AWS documents none
        else:
            detail["status"] = "SUCCEEDED"
        return True

    # -- AWS_LAMBDA -----------------------------------------------------------------------------------------

    def _lambda(self, dep: Deployment, now: datetime, hook_id: str, run: HookRun,
                detail: dict[str, Any]) -> float | None:
        """Progress of one Lambda hook; the seconds to wait before looking again (None: wait for its result)."""
        key = (dep.arn, hook_id)
        result = self._results.pop(key, None)
        if result is not None:
            self._inflight.discard(key)
            if result.failure is not None or result.status == "FAILED":
                detail["status"] = "FAILED"
                run.failure = result.failure or f"Lifecycle hook target {detail.get('targetArn')} returned FAILED " \
                                                "status."
                return None
            if result.hook_details is not None:
                run.details = result.hook_details
            if result.status == "SUCCEEDED":
                detail["status"] = "SUCCEEDED"
                return None
            run.phase, run.next = "wait", now
            run.delay = float(result.callback_delay or LAMBDA_RETRY)
        if run.phase == "wait":
            assert run.next is not None
            remaining = float(run.delay or 0.0) - self.clock.sim_elapsed(run.next)
            if remaining > 0:
                return remaining
            run.phase = "call"
        if run.phase == "calling" and key in self._inflight:
            return None
        hook = (dep.config.get("lifecycleHooks") or [])[run.index]
        failure = self._may_invoke(dep, hook)
        if failure is not None:
            detail["status"] = "FAILED"
            run.failure = failure
            return None
        run.phase = "calling"
        self._inflight.add(key)
        self._call(key, str(hook.get("hookTargetArn")), self._event(dep, run))
        return None

    def _call(self, key: tuple[str, str], function_arn: str, event: dict[str, Any]) -> None:
        """Invoke the function off the transaction, on the event loop; its result wakes the engine."""
        from ..dataplane.lambda_hooks import invoke

        endpoints = getattr(self.engine.gateway, "lambda_endpoints", {}) or {}
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a bare engine in a test): the call is made at the next pass that has one

        async def call() -> None:
            result = await invoke(endpoints, function_arn, event)
            self._results[key] = result
            self.engine.wake(key[0])

        task = loop.create_task(call())
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    def _may_invoke(self, dep: Deployment, hook: dict[str, Any]) -> str | None:
        """None when ECS may invoke the hook's function through its role; else AWS's failure text."""
        function = str(hook.get("hookTargetArn"))
        role = hook.get("roleArn")
        if not role:
            return None
        scope = Scope(dep.account, dep.region, dep.service_arn)
        try:
            principal = self.engine.acting.session(dep.arn, scope, role, LAMBDA_SESSION)
        except AssumeFailed:
            return f"ECS was unable to assume role {role}"
        authorizer = self.engine.gateway.authorizer
        if not isinstance(authorizer, PolicyAuthorizer):
            return None
        ctx = RequestContext(self.engine.gateway, ids.request_id(), self.clock.now(), region=dep.region)
        ctx.principal = principal
        ctx.invoked_by = "ecs.amazonaws.com"
        check = Check("lambda:InvokeFunction", function, arns.account_of(function) or None, {})
        evaluated = authorizer.evaluate(ctx, check)
        if evaluated.decision.allowed:
            return None
        message = authorizer.deny(ctx, evaluated).message
        authorizer.record(ctx)  # the denial is kept by its request id, for `turnout explain` of the deployment
        return f"ECS was unable to invoke hook target {function} due to {message}"

    def _event(self, dep: Deployment, run: HookRun) -> dict[str, Any]:
        from ..dataplane.lambda_hooks import payload

        blue = dep.sources[-1] if dep.sources else None
        green = dep.target
        rolling_back = dep.status == ROLLBACK_IN_PROGRESS
        test: dict[str, float] = {}
        production: dict[str, float] = {}
        if dep.stage == "TEST_TRAFFIC_SHIFT":
            test = {green: 0.0 if rolling_back else 100.0}
            if blue:
                test[blue] = 100.0 if rolling_back else 0.0
        elif dep.stage in ("PRODUCTION_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"):
            share = 0.0 if rolling_back else float(dep.production_weight or 0.0)
            if dep.stage == "PRE_PRODUCTION_TRAFFIC_SHIFT":
                share = float(dep.production_weight or 0.0)
            production = {green: share}
            if blue:
                production[blue] = 100.0 - share
        return payload(execution_id=run.execution, stage=str(dep.stage), deployment_arn=dep.arn,
                       service_arn=dep.service_arn, target_revision_arn=green, test_weights=test,
                       production_weights=production, hook_details=run.details)
