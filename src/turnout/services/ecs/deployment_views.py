"""ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions: read from the deployment and
revision rows the API wrote and the engine keeps up to date.

Task counts of a ServiceRevisionSummary come from the revision's tasks (RUNNING; PROVISIONING, PENDING and
ACTIVATING count as pending). The target revision's requestedTaskCount is the deployment's desired count unless
the deployment rolled back or stopped (then its tasks still meant to run); a source revision's is its tasks meant
to run. Traffic weights come from the deployment's ``test_weight``/``production_weight`` (the target revision's);
source revisions get the rest (100 - the target's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from .clusters import find_cluster
from .common import created_when, invalid, page
from .revisions import counts
from .service_views import find_service, service_not_found
from .store import deployments as deployment_store
from .store import revisions as revision_store
from .store.deployments import ServiceDeployment
from .store.revisions import ServiceRevision

DESCRIBE_MAX = 20
LIST_DEFAULT = 20
_UNDEPLOYED = ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED", "ROLLBACK_IN_PROGRESS")


def _summary(db: Database, row: ServiceDeployment, arn: str, *, target: bool) -> dict[str, Any]:
    tally = counts(db, row.account_id, row.region, "revision_arn", arn)
    requested = row.desired_count if target and row.status not in _UNDEPLOYED else tally["requested"]
    out: dict[str, Any] = {"arn": arn, "requestedTaskCount": requested, "runningTaskCount": tally["running"],
                           "pendingTaskCount": tally["pending"]}
    for weight, member in ((row.test_weight, "requestedTestTrafficWeight"),
                           (row.production_weight, "requestedProductionTrafficWeight")):
        if weight is not None:
            out[member] = weight if target else 100.0 - weight
    return out


def _hook(detail: dict[str, Any]) -> dict[str, Any]:
    out = dict(detail)
    if isinstance(out.get("expiresAt"), str):
        out["expiresAt"] = datetime.fromisoformat(out["expiresAt"])
    return out


def deployment_view(db: Database, row: ServiceDeployment) -> dict[str, Any]:
    """A ServiceDeployment in botocore's shape."""
    out: dict[str, Any] = {
        "serviceDeploymentArn": row.arn, "serviceArn": row.service_arn, "clusterArn": row.cluster_arn,
        "createdAt": created_when(row.created_at),
    }
    for value, member in ((row.started_at, "startedAt"), (row.finished_at, "finishedAt"),
                          (row.stopped_at, "stoppedAt"), (row.updated_at, "updatedAt")):
        if value is not None:
            out[member] = value
    out["sourceServiceRevisions"] = [_summary(db, row, arn, target=False) for arn in row.source_revision_arns]
    out["targetServiceRevision"] = _summary(db, row, row.target_revision_arn, target=True)
    out["status"] = row.status
    if row.status_reason:
        out["statusReason"] = row.status_reason
    if row.lifecycle_stage:
        out["lifecycleStage"] = row.lifecycle_stage
    out["lifecycleHookDetails"] = [_hook(h) for h in row.hooks]
    out["deploymentConfiguration"] = row.config
    if row.rollback is not None:
        rollback = dict(row.rollback)
        if isinstance(rollback.get("startedAt"), str):
            rollback["startedAt"] = datetime.fromisoformat(rollback["startedAt"])
        out["rollback"] = rollback
    if row.circuit_breaker is not None:
        out["deploymentCircuitBreaker"] = row.circuit_breaker
    if row.alarms is not None:
        out["alarms"] = row.alarms
    return out


def brief_view(row: ServiceDeployment) -> dict[str, Any]:
    """A ServiceDeploymentBrief."""
    out: dict[str, Any] = {"serviceDeploymentArn": row.arn, "serviceArn": row.service_arn,
                           "clusterArn": row.cluster_arn}
    if row.started_at is not None:
        out["startedAt"] = row.started_at
    out["createdAt"] = created_when(row.created_at)
    if row.finished_at is not None:
        out["finishedAt"] = row.finished_at
    out["targetServiceRevisionArn"] = row.target_revision_arn
    out["status"] = row.status
    if row.status_reason:
        out["statusReason"] = row.status_reason
    return out


def revision_view(row: ServiceRevision) -> dict[str, Any]:
    """A ServiceRevision in botocore's shape."""
    return {"serviceRevisionArn": row.arn, "serviceArn": row.service_arn, "clusterArn": row.cluster_arn,
            "taskDefinition": row.task_definition_arn, **row.body, "createdAt": row.created_at}


def _arns(values: list[str], member: str) -> list[str]:
    if not values:
        raise invalid(f"{member} can not be empty.")  # our wording
    if len(values) > DESCRIBE_MAX:
        # Our wording, after AWS's "service names can have at most 10 items." of DescribeServices.
        raise invalid(f"{member} can have at most {DESCRIBE_MAX} items.")
    return list(dict.fromkeys(values))


class DeploymentViewOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database

    def list_service_deployments(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        cluster = find_cluster(self.db, ctx, req.get("cluster"), active=False)
        service = find_service(self.db, ctx, cluster.name, req["service"])
        if service is None:
            raise service_not_found()
        rows = deployment_store.deployments_of(self.db, ctx.account_id, ctx.region, service.arn)
        statuses = set(req.get("status") or [])
        created = req.get("createdAt") or {}
        before, after = created.get("before"), created.get("after")
        chosen: list[ServiceDeployment] = []
        for row in rows:
            at = row.created_at
            if statuses and row.status not in statuses:
                continue
            if before is not None and not at < before:
                continue
            if after is not None and not at > after:
                continue
            chosen.append(row)
        chunk, token = page(chosen, lambda r: r.arn, req.get("nextToken"), req.get("maxResults"),
                            default=LIST_DEFAULT)
        out: dict[str, Any] = {"serviceDeployments": [brief_view(r) for r in chunk]}
        if token:
            out["nextToken"] = token
        return out

    def describe_service_deployments(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for arn in _arns(req["serviceDeploymentArns"], "serviceDeploymentArns"):
            row = deployment_store.deployment(self.db, ctx.account_id, ctx.region, arn)
            if row is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(deployment_view(self.db, row))
        return {"serviceDeployments": found, "failures": failures}

    def describe_service_revisions(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for arn in _arns(req["serviceRevisionArns"], "serviceRevisionArns"):
            revision = revision_store.revision(self.db, ctx.account_id, ctx.region, arn)
            if revision is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(revision_view(revision))
        return {"serviceRevisions": found, "failures": failures}
