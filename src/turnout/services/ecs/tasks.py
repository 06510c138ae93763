"""Tasks: ListTasks, DescribeTasks, StopTask.

Tasks are launched and advanced by the deployment engine through :mod:`.task_states` (the data plane moves
them on the clock); these operations read
the ``ecs_tasks`` rows and ask a task to stop. Stopped tasks stay listed (AWS shows them "for at least one hour";
Turnout keeps them). There are no container instances: a ``containerInstance`` filter lists nothing.
"""

from __future__ import annotations

from typing import Any

from ...core import arns
from ...core.context import RequestContext
from ...store.db import Database
from . import task_states as life
from .clusters import find_cluster
from .common import ARN, error, invalid, page
from .ports import DeploymentEngine
from .store import services as service_store
from .store import task_definitions as td_store
from .store import tasks as store
from .store.task_definitions import TaskDefinition
from .store.tasks import Task
from .task_views import task_view

DESCRIBE_LIMIT = 100
REASON_LIMIT = 255
NOT_FOUND = "The referenced task was not found."  # AWS's wording (StopTask on an unknown task)
USER_REASON = "Task stopped by user"  # AWS's stoppedReason when StopTask gives none


def _task_id(value: str, cluster: str, ctx: RequestContext) -> str | None:
    """A task id or ARN of ``cluster`` -> the task's id; None when it cannot name a task of the cluster."""
    if value.startswith("arn:"):
        match = ARN.match(value)
        if match is None or match["kind"] != "task" or match["account"] != ctx.account_id \
                or match["region"] != ctx.region:
            return None
        parts = match["rest"].split("/")
        if len(parts) == 2 and parts[0] == cluster:
            return parts[1]
        return parts[0] if len(parts) == 1 else None  # the old ARN format: task/<id>
    return value


def _find_task(db: Database, ctx: RequestContext, cluster: str, value: str) -> Task | None:
    task_id = _task_id(value, cluster, ctx)
    if not task_id:
        return None
    return store.task_in_cluster(db, ctx.account_id, ctx.region, cluster, task_id)


def _definition(db: Database, task: Task) -> TaskDefinition | None:
    return td_store.task_definition(db, task.account_id, task.region, task.task_definition_arn)


def _family(task_definition_arn: str) -> str:
    return task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


class TaskOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database
    engine: DeploymentEngine

    def list_tasks(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        cluster = find_cluster(self.db, ctx, req.get("cluster")).name
        started_by = req.get("startedBy")
        if started_by is not None and any(req.get(k) for k in ("family", "serviceName", "containerInstance")):
            # Turnout's wording for the documented rule: "When you specify startedBy as the filter, it must be
            # the only filter that you use."
            raise invalid("startedBy cannot be combined with the family, serviceName or containerInstance filters.")
        service = req.get("serviceName")
        service_arn: str | None = None
        if service:
            name = service.rsplit("/", 1)[-1] if service.startswith("arn:") else service
            service_arn = arns.ecs_service(ctx.region, ctx.account_id, cluster, name)
            status = service_store.status_of(self.db, ctx.account_id, ctx.region, service_arn)
            if status is None or status == "INACTIVE":
                raise error("ServiceNotFoundException", "Service not found.")  # AWS's wording
        # "Amazon ECS never sets the desired status of a task to PENDING": that filter lists nothing.
        rows = store.listed(self.db, ctx.account_id, ctx.region, cluster,
                            desired_status=req.get("desiredStatus") or "RUNNING", service_arn=service_arn,
                            started_by=started_by, launch_type=req.get("launchType"))
        family = req.get("family")
        items = [] if req.get("containerInstance") else [
            arn for arn, task_definition_arn in rows if family is None or _family(task_definition_arn) == family]
        chunk, token = page(items, lambda arn: arn, req.get("nextToken"), req.get("maxResults"))
        out: dict[str, Any] = {"taskArns": chunk}
        if token:
            out["nextToken"] = token
        return out

    def describe_tasks(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        cluster = find_cluster(self.db, ctx, req.get("cluster")).name
        values = req.get("tasks") or []
        if not values:
            raise invalid("Tasks cannot be empty.")  # AWS's wording
        if len(values) > DESCRIBE_LIMIT:
            # Turnout's wording for the documented limit ("You can specify up to 100 tasks").
            raise invalid(f"Tasks cannot have more than {DESCRIBE_LIMIT} entries.")
        include_tags = "TAGS" in (req.get("include") or [])
        tasks: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        seen: set[str] = set()
        for value in values:
            task = _find_task(self.db, ctx, cluster, value)
            if task is None:
                arn = value if value.startswith("arn:") else arns.ecs_task(ctx.region, ctx.account_id, cluster, value)
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            if task.arn in seen:
                continue
            seen.add(task.arn)
            tasks.append(task_view(self.db, task, _definition(self.db, task), tags=include_tags))
        return {"tasks": tasks, "failures": failures}

    def stop_task(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        cluster = find_cluster(self.db, ctx, req.get("cluster")).name
        reason = req.get("reason")
        if reason is not None and len(reason) > REASON_LIMIT:
            # Turnout's wording, after AWS's "startedBy longer than 36." for the same kind of limit.
            raise invalid(f"reason longer than {REASON_LIMIT}.")
        task = _find_task(self.db, ctx, cluster, req["task"])
        if task is None:
            raise invalid(NOT_FOUND)
        if task.desired_status != "STOPPED":
            # A registered task drains for its target groups' deregistration delay (0 when no load balancer uses
            # them; read from the ELB tables, as ELB itself applies it).
            drain = life.target_group_drain(self.db, ctx.account_id, ctx.region, life.registrations(task))
            life.request_stop(self.db, task.arn, stop_code="UserInitiated", reason=reason or USER_REASON,
                              now=ctx.received_at, drain_seconds=drain)
            task = _find_task(self.db, ctx, cluster, task.arn)
            assert task is not None
            self.engine.wake()
        return {"task": task_view(self.db, task, _definition(self.db, task))}
