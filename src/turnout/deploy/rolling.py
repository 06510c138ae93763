"""ROLLING deployments: replace the old revision's tasks with the target revision's, never running more than
``maximumPercent`` of the desired count nor fewer healthy than ``minimumHealthyPercent`` (AWS's rolling update).

A task is healthy when RUNNING and, if the service has target groups, ``healthy`` in each (read with
DescribeTargetHealth through the scheduler session). A target that turns ``unhealthy`` has its task stopped and
replaced; with the deployment circuit breaker enabled, failures reaching the threshold fail the deployment, and
with ``rollback`` the previous revision is rolled forward again the same way (``back``).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from ..services.ecs.store.tasks import Task
from .runner import DONE, HEALTH_POLL, NETWORK_REASON, Fail, Outcome, Wait
from .scheduler import RegistrationFailed

if TYPE_CHECKING:
    from .engine import Engine
    from .state import Deployment


class Rolling:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.scheduler = engine.scheduler

    def run(self, dep: Deployment, now: datetime, *, back: bool) -> Outcome:
        runner = self.engine.runner
        target = dep.target
        if back:
            target = (dep.rollback or {}).get("serviceRevisionArn") or ""
            if not target:  # nothing to go back to: the new tasks just stop
                self.scheduler.stop(dep.service, runner.green_tasks(dep), now, stop_code="ServiceSchedulerInitiated",
                                    reason=f"Scaling activity initiated by (deployment {dep.legacy_id})")
                return DONE
        elif (failed := self.engine.count_failures(dep)) is not None:
            return failed
        config = dep.config
        desired = dep.desired
        maximum = int(config.get("maximumPercent", 200))
        minimum = int(config.get("minimumHealthyPercent", 100))
        alive = self.scheduler.tasks(dep.service)
        # Forward: the tasks this deployment launched (a forced redeployment replaces every task); back: the
        # revision's tasks, whoever launched them.
        def mine(task: Task) -> bool:
            return task.revision_arn == target if back else task.deployment_arn == dep.arn

        new = [t for t in alive if mine(t)]
        old = [t for t in alive if not mine(t)]
        try:
            healthy_new = self._healthy(dep, new, now)
        except RegistrationFailed as exc:
            return Fail(NETWORK_REASON.format(detail=exc.message))
        old_running = [t for t in old if t.last_status == "RUNNING"]
        ceiling = math.floor(desired * maximum / 100)
        floor = math.ceil(desired * minimum / 100)
        room = max(0, ceiling - len(new) - len(old))
        if len(new) < desired and room == 0 and not old:
            room = desired - len(new)
        launch = min(desired - len(new), room)
        if launch > 0:
            revision = self.scheduler.revision(dep.account, dep.region, target)
            if revision is not None:
                self.scheduler.launch(dep.service, revision, dep.record, launch, now)
        stoppable = len(healthy_new) + len(old_running) - floor
        if old and stoppable > 0:
            victims = sorted(old, key=lambda t: (t.last_status == "RUNNING", t.created_at))[:stoppable]
            self.scheduler.stop(dep.service, victims, now, stop_code="ServiceSchedulerInitiated",
                                reason=f"Scaling activity initiated by (deployment {dep.legacy_id})")
        elif old and len(healthy_new) >= desired:
            self.scheduler.stop(dep.service, old, now, stop_code="ServiceSchedulerInitiated",
                                reason=f"Scaling activity initiated by (deployment {dep.legacy_id})")
        if len(healthy_new) >= desired and not [t for t in self.scheduler.tasks(dep.service) if not mine(t)]:
            extra = len(new) - desired
            if extra > 0:
                self.scheduler.stop(dep.service, new[-extra:], now, stop_code="ServiceSchedulerInitiated",
                                    reason=f"Scaling activity initiated by (deployment {dep.legacy_id})")
            return DONE
        return Wait(min(HEALTH_POLL, self.engine.next_task_change()))

    def _healthy(self, dep: Deployment, tasks: list[Task], now: datetime) -> list[Task]:
        running = [t for t in tasks if t.last_status == "RUNNING"]
        groups = sorted({r["targetGroupArn"] for t in running for r in t.registrations})
        if not groups:
            lbs = dep.service.config.get("loadBalancers") or []
            return running if not lbs else [t for t in running if not t.private_ip]
        states = self.scheduler.target_states(dep.service, groups)
        healthy = []
        for task in running:
            regs = task.registrations
            if not regs:
                continue
            verdicts = [states.get((r["targetGroupArn"], r["id"], int(r["port"]))) for r in regs]
            if "unhealthy" in verdicts:
                self.engine.fail_task(dep, task, regs[verdicts.index("unhealthy")]["targetGroupArn"], now)
            elif all(v == "healthy" for v in verdicts):
                healthy.append(task)
        return healthy
