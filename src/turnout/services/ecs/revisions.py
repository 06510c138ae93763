"""Service revisions and service deployments as the API writes them, and the task counts every view reads.

A new deployment (CreateService, or an UpdateService that needs one) writes, in the request's transaction, one
immutable ``ecs_service_revisions`` row and one ``ecs_service_deployments`` row in status PENDING (rollout state
IN_PROGRESS, no lifecycle stage, engine state ``{}``); the deployment engine takes it from there. An earlier
deployment still in an active status is left alone: the engine supersedes it.

Turnout conventions:

* ``containerImages[].imageDigest`` is ``sha256:`` and the SHA-256 of the image string (no registry is asked).
* ``platformVersion`` ``LATEST`` of a Fargate service resolves to ``1.4.0`` in its revisions and in
  ``Service.deployments[]``, as AWS reports the version in use there.
* ``resolvedConfiguration.loadBalancers[].targetGroupArn`` of a load balancer with advancedConfiguration is the
  target group the revision's tasks serve from: the one of the pair production does not forward to (the
  deployment engine decides the same when the deployment starts, and writes it again then); when production does
  not forward to exactly one of them, the one the newest earlier revision does not use.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store.db import Database
from ..elbv2.actions import stored_weights
from .model import ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, STOPPED
from .service_rules import alarms_view, circuit_breaker_view, is_fargate
from .store import deployments as deployment_store
from .store import revisions as revision_store
from .store import tasks as task_store
from .store.services import Service
from .store.task_definitions import TaskDefinition
from .store.tasks import TaskColumn

LATEST_FARGATE_PLATFORM = "1.4.0"
RUNNING = ("RUNNING",)
PENDING_STATUSES = ("PROVISIONING", "PENDING", "ACTIVATING")


def image_digest(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def container_images(td_body: dict[str, Any]) -> list[dict[str, str]]:
    return [{"containerName": c.get("name", ""), "imageDigest": image_digest(str(c.get("image", ""))),
             "image": str(c.get("image", ""))} for c in td_body.get("containerDefinitions") or []]


def platform(config: dict[str, Any]) -> tuple[str | None, str | None]:
    """(platformVersion, platformFamily) in use: Fargate's LATEST resolved; None for EC2."""
    if not is_fargate(config):
        return None, None
    version = config.get("platformVersion") or "LATEST"
    return (LATEST_FARGATE_PLATFORM if version == "LATEST" else version), "Linux"


# -- task counts ------------------------------------------------------------------------------------------------

def counts(db: Database, account: str, region: str, column: TaskColumn, value: str) -> dict[str, int]:
    """Tasks by ``service_arn``/``revision_arn``/``deployment_arn``: running, pending, desired to run."""
    assert column in ("service_arn", "revision_arn", "deployment_arn")
    out = {"running": 0, "pending": 0, "requested": 0, "live": 0}
    for last_status, desired_status, n in task_store.tallies(db, account, region, column, value):
        if last_status in RUNNING:
            out["running"] += n
        elif last_status in PENDING_STATUSES:
            out["pending"] += n
        if desired_status == "RUNNING" and last_status != "STOPPED":
            out["requested"] += n
        if last_status != "STOPPED":
            out["live"] += n
    return out


def serving_revision(deployment: deployment_store.ServiceDeployment) -> str:
    """The revision the service runs with ``deployment`` as its latest: the one a rollback (under way or done) goes
    back to, else the deployment's target. (A failed rollback leaves things as they are: its target.)"""
    rolled_back = deployment.status in (ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL) or (
        deployment.status == STOPPED and deployment.rollback is not None)
    back = (deployment.rollback or {}).get("serviceRevisionArn") if rolled_back else None
    return str(back) if back else deployment.target_revision_arn


def failed_tasks(db: Database, account: str, region: str, deployment_arn: str) -> int:
    """Tasks of a deployment that failed to start or whose essential container exited."""
    return task_store.failed_count(db, account, region, deployment_arn)


def live_revisions(db: Database, account: str, region: str, service_arn: str) -> list[str]:
    """Target revisions of the service's deployments (oldest first) that still have tasks not STOPPED."""
    return deployment_store.live_revisions(db, account, region, service_arn)


def deployments_of(db: Database, account: str, region: str,
                   service_arn: str) -> list[deployment_store.ServiceDeployment]:
    """The service's deployments, newest first."""
    return deployment_store.deployments_of(db, account, region, service_arn)


def active_deployment_targets(db: Database, account: str, region: str, service_arn: str) -> list[str]:
    return deployment_store.active_targets(db, account, region, service_arn)


# -- writing ----------------------------------------------------------------------------------------------------

def _resolved(db: Database, account: str, region: str, lbs: list[dict[str, Any]],
              sources: list[str]) -> list[dict[str, str]]:
    previous: list[dict[str, Any]] = []
    if sources:
        found = revision_store.revision(db, account, region, sources[-1])
        if found is not None:
            previous = (found.body.get("resolvedConfiguration") or {}).get("loadBalancers") or []
    out: list[dict[str, str]] = []
    for lb in lbs:
        config = lb.get("advancedConfiguration")
        if config is None:
            continue
        pair = (lb["targetGroupArn"], config["alternateTargetGroupArn"])
        serving = _serving(db, account, region, config["productionListenerRule"])
        if len(serving & set(pair)) == 1:  # green is the group production is not on (the engine decides the same)
            chosen = pair[1] if pair[0] in serving else pair[0]
        else:
            used = {item.get("targetGroupArn") for item in previous}
            chosen = pair[1] if pair[0] in used else pair[0]
        out.append({"targetGroupArn": chosen, "productionListenerRule": config["productionListenerRule"]})
    return out


def _serving(db: Database, account: str, region: str, rule_or_listener: str) -> set[str]:
    """The target groups a production rule (or listener) sends traffic to now (weight above 0)."""
    return {tg for tg, weight in (stored_weights(db, account, region, rule_or_listener) or {}).items() if weight > 0}


def write_revision(db: Database, ctx: RequestContext, service: Service, config: dict[str, Any],
                   td: TaskDefinition, sources: list[str], number: str) -> str:
    """Insert the service's new revision of id ``number``; return its ARN."""
    account, region = ctx.account_id, ctx.region
    arn = arns.ecs_service_revision(region, account, service.cluster, service.name, number)
    version, family = platform(config)
    body: dict[str, Any] = {}
    if config.get("capacityProviderStrategy"):
        body["capacityProviderStrategy"] = config["capacityProviderStrategy"]
    elif config.get("launchType"):
        body["launchType"] = config["launchType"]
    if version is not None:
        body["platformVersion"] = version
        body["platformFamily"] = family
    body["loadBalancers"] = config.get("loadBalancers") or []
    body["serviceRegistries"] = config.get("serviceRegistries") or []
    if config.get("networkConfiguration"):
        body["networkConfiguration"] = config["networkConfiguration"]
    body["containerImages"] = container_images(td.body)
    body["guardDutyEnabled"] = False
    resolved = _resolved(db, account, region, body["loadBalancers"], sources)
    if resolved:
        body["resolvedConfiguration"] = {"loadBalancers": resolved}
    revision_store.insert_revision(db, account=account, region=region, arn=arn, service_arn=service.arn,
                                   cluster_arn=cluster_arn(service), task_definition_arn=td.arn, body=body,
                                   created_at=ctx.received_at)
    return arn


def cluster_arn(service: Service) -> str:
    return arns.ecs_cluster(service.region, service.account_id, service.cluster)


def write_deployment(db: Database, ctx: RequestContext, service: Service, config: dict[str, Any],
                     revision_arn: str, sources: list[str], number: str) -> str:
    """Insert a PENDING deployment of ``revision_arn`` (whose id is ``number``); return its ARN."""
    account, region = ctx.account_id, ctx.region
    arn = arns.ecs_service_deployment(region, account, service.cluster, service.name,
                                      ids.ecs_service_deployment_id())
    legacy = "ecs-svc/" + number
    deployment_config = config["deploymentConfiguration"]
    desired = int(config.get("desiredCount") or 0)
    deployment_store.insert_deployment(
        db, account=account, region=region, arn=arn, service_arn=service.arn, cluster_arn=cluster_arn(service),
        legacy_id=legacy, target_revision_arn=revision_arn, source_revision_arns=sources, desired_count=desired,
        config=deployment_config, circuit_breaker=circuit_breaker_view(deployment_config, desired),
        alarms=alarms_view(deployment_config), rollout_state_reason=f"ECS deployment {legacy} in progress.",
        created_at=ctx.received_at)
    return arn


def start_deployment(db: Database, ctx: RequestContext, service: Service, config: dict[str, Any],
                     td: TaskDefinition) -> str:
    """A new revision and its PENDING deployment (the caller wakes the engine); return the deployment's ARN.

    The revision's id and the deployment's ``ecs-svc/<id>`` are one number, as on AWS (the service deployment's
    ARN ends with its own 21-character id, as in AWS's examples). Rows written before they agreed (two unrelated
    numbers) are read as they are: nothing parses either id."""
    sources = live_revisions(db, ctx.account_id, ctx.region, service.arn)
    number = ids.ecs_number_id()
    revision = write_revision(db, ctx, service, config, td, sources, number)
    return write_deployment(db, ctx, service, config, revision, sources, number)


def drop_history(db: Database, account: str, region: str, service_arn: str) -> None:
    """Forget an INACTIVE service's revisions and deployments (AWS deletes them with the service)."""
    deployment_store.drop_deployments(db, account, region, service_arn)
    revision_store.drop_revisions(db, account, region, service_arn)
