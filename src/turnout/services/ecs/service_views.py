"""Services as DescribeServices shows them, and finding a service by name or ARN.

Everything about progress is read from the tables: task counts from ``ecs_tasks`` (RUNNING; PROVISIONING,
PENDING and ACTIVATING count as pending), the deployments' rows for ``deployments[]``,
``currentServiceDeployment`` and ``currentServiceRevisions``.

``deployments[]`` is the legacy view of service deployments: the PRIMARY entry is the revision the service runs
with its latest deployment (that deployment's target or, once it rolls back, the revision it goes back to;
docs/ecs-deployments.md, "PRIMARY in DescribeServices after a rollback"); each other revision that still has tasks
not STOPPED is an ACTIVE entry. An entry's ``id`` is the ``ecs-svc/...`` id of the deployment that created its
revision.
"""

from __future__ import annotations

from typing import Any

from ...core import arns
from ...core.context import RequestContext
from ...store.db import Database
from . import events
from .common import ARN, created_when, error
from .model import FINAL
from .revisions import (
    active_deployment_targets,
    counts,
    deployments_of,
    failed_tasks,
    live_revisions,
    platform,
    serving_revision,
)
from .store import revisions as revision_store
from .store import services as service_store
from .store.deployments import ServiceDeployment
from .store.revisions import ServiceRevision
from .store.services import Service
from .tags import get_tags

# Members of the service's config shown as they are stored, when present.
_SHOWN = ("capacityProviderStrategy", "placementConstraints", "placementStrategy", "networkConfiguration",
          "healthCheckGracePeriodSeconds", "serviceConnectConfiguration", "volumeConfigurations",
          "vpcLatticeConfigurations", "roleArn")


def service_not_found() -> Exception:
    return error("ServiceNotFoundException", "Service not found.")


def service_not_active() -> Exception:
    return error("ServiceNotActiveException", "Service was not ACTIVE.")


def service_ref(ctx: RequestContext, cluster: str, value: str) -> tuple[str, str] | None:
    """A service name or ARN -> (cluster name, service name); None for an ARN that cannot be the caller's."""
    if not value.startswith("arn:"):
        return cluster, value
    match = ARN.match(value)
    if match is None or match["kind"] != "service" or match["account"] != ctx.account_id \
            or match["region"] != ctx.region:
        return None
    parts = match["rest"].split("/")
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 1:
        return cluster, parts[0]  # the short ARN format: the cluster parameter's
    return None


def find_service(db: Database, ctx: RequestContext, cluster: str, value: str) -> Service | None:
    """The service named by ``value`` in ``cluster`` (any status), or None."""
    ref = service_ref(ctx, cluster, value)
    if ref is None:
        return None
    return service_store.service(db, ctx.account_id, ctx.region, arns.ecs_service(ctx.region, ctx.account_id, *ref))


def revision_row(db: Database, account: str, region: str, arn: str) -> ServiceRevision | None:
    return revision_store.revision(db, account, region, arn)


def _legacy(db: Database, deployment: ServiceDeployment, status: str, desired: int | None) -> dict[str, Any] | None:
    account, region = deployment.account_id, deployment.region
    revision = revision_row(db, account, region, deployment.target_revision_arn)
    if revision is None:
        return None
    body = revision.body
    tally = counts(db, account, region, "revision_arn", revision.arn)
    out: dict[str, Any] = {
        "id": deployment.legacy_id, "status": status, "taskDefinition": revision.task_definition_arn,
        "desiredCount": tally["requested"] if desired is None else desired,
        "pendingCount": tally["pending"], "runningCount": tally["running"],
        "failedTasks": failed_tasks(db, account, region, deployment.arn),
        "createdAt": created_when(deployment.created_at), "updatedAt": deployment.updated_at,
    }
    for member in ("capacityProviderStrategy", "launchType", "platformVersion", "platformFamily",
                   "networkConfiguration"):
        if body.get(member) is not None:
            out[member] = body[member]
    out["rolloutState"] = deployment.rollout_state
    if deployment.rollout_state_reason:
        out["rolloutStateReason"] = deployment.rollout_state_reason
    return out


def legacy_deployments(db: Database, row: Service, config: dict[str, Any],
                       every: list[ServiceDeployment]) -> list[dict[str, Any]]:
    """``deployments[]``; ``every``: the service's deployments, newest first."""
    account, region = row.account_id, row.region
    if not every:
        return []
    latest = every[0]
    creators: dict[str, ServiceDeployment] = {}
    for deployment in reversed(every):  # the first deployment of each revision created it
        creators.setdefault(deployment.target_revision_arn, deployment)
    serving = serving_revision(latest)
    primary = latest if serving == latest.target_revision_arn else creators.get(serving, latest)
    entry = _legacy(db, primary, "PRIMARY", int(config.get("desiredCount") or 0))
    if entry is not None and primary is not latest:
        # A rollback: the revision it goes back to is PRIMARY, rolling out until the rollback is over; the
        # deployment that failed stays ACTIVE while its tasks drain (docs/ecs-deployments.md, "PRIMARY in
        # DescribeServices after a rollback").
        entry["rolloutState"] = "COMPLETED" if latest.status in FINAL else "IN_PROGRESS"
        entry["rolloutStateReason"] = (f"ECS deployment {primary.legacy_id} completed." if latest.status in FINAL
                                       else f"ECS deployment {latest.legacy_id} is rolling back.")  # our wording
        entry["updatedAt"] = latest.updated_at
    out = [entry]
    for revision in reversed(live_revisions(db, account, region, row.arn)):
        if revision != primary.target_revision_arn and revision in creators:
            owner = latest if revision == latest.target_revision_arn else creators[revision]
            out.append(_legacy(db, owner, "ACTIVE", None))
    return [entry for entry in out if entry is not None]


def current_revisions(db: Database, row: Service, config: dict[str, Any],
                      every: list[ServiceDeployment]) -> list[dict[str, Any]]:
    """currentServiceRevisions: revisions with tasks not STOPPED or being deployed."""
    account, region = row.account_id, row.region
    latest_target = serving_revision(every[0]) if every else None
    chosen = list(dict.fromkeys(live_revisions(db, account, region, row.arn)
                                + active_deployment_targets(db, account, region, row.arn)))
    out: list[dict[str, Any]] = []
    for arn in chosen:
        tally = counts(db, account, region, "revision_arn", arn)
        requested = int(config.get("desiredCount") or 0) if arn == latest_target else tally["requested"]
        out.append({"arn": arn, "requestedTaskCount": requested, "runningTaskCount": tally["running"],
                    "pendingTaskCount": tally["pending"]})
    return out


def service_view(db: Database, row: Service, *, tags: bool = False) -> dict[str, Any]:
    """A service in botocore's Service shape."""
    account, region = row.account_id, row.region
    config: dict[str, Any] = row.config
    tally = counts(db, account, region, "service_arn", row.arn)
    every = deployments_of(db, account, region, row.arn)
    out: dict[str, Any] = {
        "serviceArn": row.arn, "serviceName": row.name,
        "clusterArn": arns.ecs_cluster(region, account, row.cluster),
        "loadBalancers": config.get("loadBalancers") or [], "serviceRegistries": config.get("serviceRegistries") or [],
        "status": row.status, "desiredCount": int(config.get("desiredCount") or 0),
        "runningCount": tally["running"], "pendingCount": tally["pending"],
    }
    if config.get("launchType"):
        out["launchType"] = config["launchType"]
    if platform(config)[0] is not None:
        out["platformVersion"] = config.get("platformVersion") or "LATEST"
        out["platformFamily"] = "Linux"
    if config.get("taskDefinition"):
        out["taskDefinition"] = config["taskDefinition"]
    out["deploymentConfiguration"] = config.get("deploymentConfiguration") or {}
    out["deployments"] = legacy_deployments(db, row, config, every)
    out["events"] = events.latest(db, account, region, row.arn)
    out["createdAt"] = row.created_at
    if row.created_by:
        out["createdBy"] = row.created_by
    for member in _SHOWN:
        if config.get(member) is not None:
            out[member] = config[member]
    out.setdefault("placementConstraints", [])
    out.setdefault("placementStrategy", [])
    out["schedulingStrategy"] = config.get("schedulingStrategy") or "REPLICA"
    out["deploymentController"] = config.get("deploymentController") or {"type": "ECS"}
    out["propagateTags"] = config.get("propagateTags") or "NONE"
    out["enableECSManagedTags"] = bool(config.get("enableECSManagedTags"))
    out["enableExecuteCommand"] = bool(config.get("enableExecuteCommand"))
    out["availabilityZoneRebalancing"] = config.get("availabilityZoneRebalancing") or "DISABLED"
    if every:
        out["currentServiceDeployment"] = every[0].arn
        out["currentServiceRevisions"] = current_revisions(db, row, config, every)
    if tags:
        out["tags"] = get_tags(db, account, region, row.arn)
    return out
