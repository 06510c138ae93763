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

from ...gateway.context import RequestContext
from ...store.db import Database, Row
from .clusters import find_cluster
from .revisions import counts
from .service_views import find_service, service_not_found
from .store import created_when, invalid, loads, page, when

DESCRIBE_MAX = 20
LIST_DEFAULT = 20
_UNDEPLOYED = ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED", "ROLLBACK_IN_PROGRESS")


def _summary(db: Database, row: Row, arn: str, *, target: bool) -> dict[str, Any]:
    tally = counts(db, row["account_id"], row["region"], "revision_arn", arn)
    requested = row["desired_count"] if target and row["status"] not in _UNDEPLOYED else tally["requested"]
    out: dict[str, Any] = {"arn": arn, "requestedTaskCount": requested, "runningTaskCount": tally["running"],
                           "pendingTaskCount": tally["pending"]}
    for column, member in (("test_weight", "requestedTestTrafficWeight"),
                           ("production_weight", "requestedProductionTrafficWeight")):
        if row[column] is not None:
            weight = float(row[column])
            out[member] = weight if target else 100.0 - weight
    return out


def _hook(detail: dict[str, Any]) -> dict[str, Any]:
    out = dict(detail)
    if isinstance(out.get("expiresAt"), str):
        out["expiresAt"] = datetime.fromisoformat(out["expiresAt"])
    return out


def deployment_view(db: Database, row: Row) -> dict[str, Any]:
    """A ServiceDeployment in botocore's shape."""
    out: dict[str, Any] = {
        "serviceDeploymentArn": row["arn"], "serviceArn": row["service_arn"], "clusterArn": row["cluster_arn"],
        "createdAt": created_when(row["created_at"]),
    }
    for column, member in (("started_at", "startedAt"), ("finished_at", "finishedAt"), ("stopped_at", "stoppedAt"),
                           ("updated_at", "updatedAt")):
        if row[column]:
            out[member] = when(row[column])
    out["sourceServiceRevisions"] = [_summary(db, row, arn, target=False)
                                     for arn in loads(row["source_revision_arns"]) or []]
    out["targetServiceRevision"] = _summary(db, row, row["target_revision_arn"], target=True)
    out["status"] = row["status"]
    if row["status_reason"]:
        out["statusReason"] = row["status_reason"]
    if row["lifecycle_stage"]:
        out["lifecycleStage"] = row["lifecycle_stage"]
    out["lifecycleHookDetails"] = [_hook(h) for h in loads(row["hooks"]) or []]
    out["deploymentConfiguration"] = loads(row["config"])
    if row["rollback"]:
        rollback = dict(loads(row["rollback"]))
        if isinstance(rollback.get("startedAt"), str):
            rollback["startedAt"] = datetime.fromisoformat(rollback["startedAt"])
        out["rollback"] = rollback
    if row["circuit_breaker"]:
        out["deploymentCircuitBreaker"] = loads(row["circuit_breaker"])
    if row["alarms"]:
        out["alarms"] = loads(row["alarms"])
    return out


def brief_view(row: Row) -> dict[str, Any]:
    """A ServiceDeploymentBrief."""
    out: dict[str, Any] = {"serviceDeploymentArn": row["arn"], "serviceArn": row["service_arn"],
                           "clusterArn": row["cluster_arn"]}
    if row["started_at"]:
        out["startedAt"] = when(row["started_at"])
    out["createdAt"] = created_when(row["created_at"])
    if row["finished_at"]:
        out["finishedAt"] = when(row["finished_at"])
    out["targetServiceRevisionArn"] = row["target_revision_arn"]
    out["status"] = row["status"]
    if row["status_reason"]:
        out["statusReason"] = row["status_reason"]
    return out


def revision_view(row: Row) -> dict[str, Any]:
    """A ServiceRevision in botocore's shape."""
    return {"serviceRevisionArn": row["arn"], "serviceArn": row["service_arn"], "clusterArn": row["cluster_arn"],
            "taskDefinition": row["task_definition_arn"], **loads(row["body"]), "createdAt": when(row["created_at"])}


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
        service = find_service(self.db, ctx, cluster["name"], req["service"])
        if service is None:
            raise service_not_found()
        rows = self.db.all("SELECT * FROM ecs_service_deployments WHERE account_id = ? AND region = ? "
                           "AND service_arn = ? ORDER BY created_at DESC, arn",
                           (ctx.account_id, ctx.region, service["arn"]))
        statuses = set(req.get("status") or [])
        created = req.get("createdAt") or {}
        before, after = created.get("before"), created.get("after")
        chosen: list[Row] = []
        for row in rows:
            at = when(row["created_at"])
            assert at is not None
            if statuses and row["status"] not in statuses:
                continue
            if before is not None and not at < before:
                continue
            if after is not None and not at > after:
                continue
            chosen.append(row)
        chunk, token = page(chosen, lambda r: str(r["arn"]), req.get("nextToken"), req.get("maxResults"),
                            default=LIST_DEFAULT)
        out: dict[str, Any] = {"serviceDeployments": [brief_view(r) for r in chunk]}
        if token:
            out["nextToken"] = token
        return out

    def describe_service_deployments(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for arn in _arns(req["serviceDeploymentArns"], "serviceDeploymentArns"):
            row = self.db.one("SELECT * FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND arn = ?",
                              (ctx.account_id, ctx.region, arn))
            if row is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(deployment_view(self.db, row))
        return {"serviceDeployments": found, "failures": failures}

    def describe_service_revisions(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for arn in _arns(req["serviceRevisionArns"], "serviceRevisionArns"):
            row = self.db.one("SELECT * FROM ecs_service_revisions WHERE account_id = ? AND region = ? AND arn = ?",
                              (ctx.account_id, ctx.region, arn))
            if row is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(revision_view(row))
        return {"serviceRevisions": found, "failures": failures}
