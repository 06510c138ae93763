"""RunTask: standalone tasks (one-off jobs such as database migrations), outside any service.

The tasks are launched in the request's transaction (PROVISIONING, ``group`` ``family:<family>`` unless given,
``startedBy`` as given) and the engine moves them on the clock like a service's tasks, without load balancers:
an essential container with the ``turnout.exit-after`` label exits (with its ``turnout.exit-code``, default 1) and
the task stops, so ``aws ecs wait tasks-stopped`` and ``containers[].exitCode`` work as on AWS.

* Launch: ``launchType`` or ``capacityProviderStrategy``; neither: the cluster's default capacity provider strategy,
  else ``EC2`` (AWS's defaults, as CreateService). The same rules as CreateService apply (launch type against the
  task definition and the cluster's providers, ``networkConfiguration`` required for ``awsvpc`` and checked against
  EC2). A task on a Fargate strategy gets the ``FARGATE`` launch type.
* Roles: the task role and execution role the tasks get (``overrides.taskRoleArn``/``executionRoleArn``, else the
  task definition's) need ``iam:PassRole`` to ``ecs-tasks.amazonaws.com``; a denied caller gets
  AccessDeniedException and nothing is launched. The infrastructure role of managed EBS volumes
  (``volumeConfigurations[].managedEBSVolume.roleArn``) needs ``iam:PassRole`` to ``ecs.amazonaws.com``.
* Tags: ``tags``, the task definition's with ``propagateTags`` ``TASK_DEFINITION`` (the request's win on the same
  key), and ``aws:ecs:clusterName`` with ``enableECSManagedTags``.
* ``clientToken``: the same token with the same parameters answers the tasks it launched; with other parameters,
  ConflictException naming them (``resourceIds``). Token, request digest and overrides are kept on the tasks, so
  this holds across restarts and DescribeTasks shows the overrides.
* ``placementConstraints``, ``placementStrategy``, ``volumeConfigurations``, ``referenceId`` and
  ``enableExecuteCommand`` are accepted and have no effect (Turnout has no container instances or volumes).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from ...authz.passrole import check_pass_role
from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from . import task_states as life
from .capacity import cluster_providers, default_launch
from .clusters import find_cluster
from .common import client, error, invalid
from .model import ECS_PRINCIPAL
from .ports import DeploymentEngine
from .service_rules import check_launch, check_network, is_fargate, volume_roles
from .store import task_definitions as td_store
from .store import tasks as task_store
from .store.clusters import Cluster
from .store.task_definitions import TaskDefinition
from .store.tasks import Task
from .tags import check_new_tags, get_tags, put_tags
from .task_definitions import TASKS_SERVICE, find_revision
from .task_views import task_view

MAX_COUNT = 10  # "You can specify up to 10 tasks for each call."
# The RunTask reference: "Up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and
# underscores (_) are allowed." (older answers quote AWS's "startedBy longer than 36.": the limit was 36 then).
STARTED_BY_MAX = 128
OVERRIDES_MAX = 8192  # "A total of 8192 characters are allowed for overrides ... including the JSON formatting"
MANAGED_CLUSTER_TAG = "aws:ecs:clusterName"
NOT_FOUND = "TaskDefinition not found."  # AWS's ClientException wording (CreateService's; UNCONFIRMED for RunTask)
INACTIVE = "TaskDefinition is inactive"  # AWS's InvalidParameterException for RunTask
# Our wording: the ConflictException shape's documentation (AWS publishes no message for a reused clientToken).
CONFLICT = "The request could not be processed because of conflict in the current state of the resource."


# -- validation ---------------------------------------------------------------------------------------------


def check_count(count: int) -> None:
    if not 1 <= count <= MAX_COUNT:
        # Our wording for the documented limit ("You can specify up to 10 tasks for each call.").
        raise invalid(f"count must be between 1 and {MAX_COUNT}.")


def check_started_by(value: str | None) -> None:
    if value is not None and len(value) > STARTED_BY_MAX:
        raise invalid(f"startedBy longer than {STARTED_BY_MAX}.")  # AWS's wording, with today's limit


def check_overrides(given: dict[str, Any] | None, td_body: dict[str, Any]) -> dict[str, Any] | None:
    """RunTask's ``overrides``: every non-empty container override names a container of the task definition
    (empty ones are dropped, as AWS allows them); at most 8192 characters of JSON."""
    if not given:
        return None
    if len(json.dumps(given, separators=(",", ":"), default=str)) > OVERRIDES_MAX:
        raise invalid(f"Container Overrides length must be at most {OVERRIDES_MAX}")  # AWS's wording
    names = {str(c.get("name")) for c in td_body.get("containerDefinitions") or []}
    kept: list[dict[str, Any]] = []
    for override in given.get("containerOverrides") or []:
        if not override:
            continue
        name = override.get("name")
        if not name:
            raise invalid("name cannot be blank.")  # AWS's wording
        if name not in names:
            raise invalid(f"Override for container named {name} is not a container in the TaskDefinition.")
        kept.append(dict(override))
    out = {k: v for k, v in given.items() if k != "containerOverrides"}
    out["containerOverrides"] = kept
    return out


def launch_config(req: dict[str, Any], cluster: Cluster) -> dict[str, Any]:
    """launchType / capacityProviderStrategy / platformVersion of the request, with AWS's defaults: the cluster's
    default capacity provider strategy, else EC2."""
    config = {k: req[k] for k in ("launchType", "capacityProviderStrategy", "platformVersion") if req.get(k)}
    default_launch(config, cluster)
    return config


def passed_roles(overrides: dict[str, Any] | None, td_body: dict[str, Any]) -> list[str]:
    """The task role and execution role the tasks get (an override replaces the task definition's)."""
    found: list[str] = []
    for member in ("taskRoleArn", "executionRoleArn"):
        role = (overrides or {}).get(member) or td_body.get(member)
        if role:
            found.append(str(role))
    return list(dict.fromkeys(found))


def fingerprint(req: dict[str, Any]) -> str:
    """The request's parameters but its clientToken, as one digest."""
    rest = {k: v for k, v in req.items() if k != "clientToken"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()


def _conflict(task_arns: list[str]) -> ServiceError:
    return error("ConflictException", CONFLICT, resourceIds=task_arns)


# -- the operation --------------------------------------------------------------------------------------------


class RunTaskOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database
    engine: DeploymentEngine

    def _replay(self, ctx: RequestContext, token: str, digest: str) -> dict[str, Any] | None:
        """The answer of the RunTask that used ``token`` (None if none did); ConflictException if its parameters
        differed."""
        rows = task_store.tasks_of_token(self.db, ctx.account_id, ctx.region, token)
        if not rows:
            return None
        if any(row.client_request != digest for row in rows):
            raise _conflict([row.arn for row in rows])
        td = td_store.task_definition(self.db, ctx.account_id, ctx.region, rows[0].task_definition_arn)
        return {"tasks": [self._view(row, td) for row in rows], "failures": []}

    def _view(self, row: Task, td: TaskDefinition | None) -> dict[str, Any]:
        tagged = bool(get_tags(self.db, row.account_id, row.region, row.arn))
        return task_view(self.db, row, td, tags=tagged)

    def run_task(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        cluster = find_cluster(self.db, ctx, req.get("cluster"))
        token = req.get("clientToken")
        digest = fingerprint(req)
        if token:
            replayed = self._replay(ctx, token, digest)
            if replayed is not None:
                return replayed
        td = find_revision(self.db, ctx, req["taskDefinition"])
        if td is None:
            raise client(NOT_FOUND)
        if td.status != "ACTIVE":
            raise invalid(INACTIVE)
        count = req.get("count")
        count = 1 if count is None else int(count)
        check_count(count)
        started_by = req.get("startedBy")
        check_started_by(started_by)
        tags = list(req.get("tags") or [])
        check_new_tags(tags)
        propagate = req.get("propagateTags")
        if propagate == "SERVICE":
            # Our wording: "An error will be received if you specify the SERVICE option when running a task."
            raise invalid("The SERVICE option of propagateTags is not valid for a task that is not part of a service.")
        body: dict[str, Any] = copy.deepcopy(td.body)
        config = launch_config(req, cluster)
        check_launch(config, body, cluster_providers(cluster)[0])
        network = check_network(self.db, ctx, req.get("networkConfiguration"), body, config)
        overrides = check_overrides(req.get("overrides"), body)
        for role in passed_roles(overrides, body):
            check_pass_role(ctx, role, TASKS_SERVICE)
        for role in dict.fromkeys(volume_roles(req)):
            check_pass_role(ctx, role, ECS_PRINCIPAL)  # the managed EBS volumes' infrastructure role
        launch_type = "FARGATE" if is_fargate(config) else str(config.get("launchType") or "EC2")
        account, region = ctx.account_id, ctx.region
        rows: list[Task] = []
        failures: list[dict[str, str]] = []
        for _ in range(count):
            try:
                # One at a time: each placement counts the group's tasks already placed, so they spread
                # round-robin over the subnets, and a task that cannot be placed is a failure, not an error.
                rows += life.launch(
                    self.db, account=account, region=region, cluster=cluster.name, task_definition=td, count=1,
                    now=ctx.received_at, service_arn=None, started_by=started_by, group=req.get("group") or None,
                    launch_type=launch_type, platform_version=config.get("platformVersion"),
                    network=(network or {}).get("awsvpcConfiguration"))
            except life.LaunchError as exc:
                failures.append({"arn": td.arn, "reason": str(exc)})  # our wording (AWS's placement reasons
                # name container-instance resources Turnout does not model)
        td_tags = get_tags(self.db, account, region, td.arn) if propagate == "TASK_DEFINITION" else []
        managed = [{"key": MANAGED_CLUSTER_TAG, "value": cluster.name}] if req.get("enableECSManagedTags") else []
        for row in rows:
            put_tags(self.db, account, region, row.arn, [*td_tags, *tags, *managed])
            task_store.set_run_request(self.db, account, region, row.arn, overrides=overrides, client_token=token,
                                       client_request=digest if token else None)
        if rows:
            self.engine.wake()
        # By ARN, as a replay of the same clientToken lists them (tasks launched together share their createdAt).
        launched = [life.find(self.db, arn) for arn in sorted(row.arn for row in rows)]
        return {"tasks": [self._view(row, td) for row in launched if row is not None], "failures": failures}
