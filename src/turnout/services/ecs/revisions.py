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

from ... import arns, ids
from ...gateway.context import RequestContext
from ...store.db import Database, Row
from .engine.traffic import stored_weights
from .model import ACTIVE
from .service_rules import alarms_view, circuit_breaker_view, is_fargate
from .store import dumps, iso, loads

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

def counts(db: Database, account: str, region: str, column: str, value: str) -> dict[str, int]:
    """Tasks by ``service_arn``/``revision_arn``/``deployment_arn``: running, pending, desired to run."""
    assert column in ("service_arn", "revision_arn", "deployment_arn")
    rows = db.all(f"SELECT last_status, desired_status, COUNT(*) AS n FROM ecs_tasks WHERE account_id = ? "
                  f"AND region = ? AND {column} = ? GROUP BY last_status, desired_status", (account, region, value))
    out = {"running": 0, "pending": 0, "requested": 0, "live": 0}
    for row in rows:
        if row["last_status"] in RUNNING:
            out["running"] += row["n"]
        elif row["last_status"] in PENDING_STATUSES:
            out["pending"] += row["n"]
        if row["desired_status"] == "RUNNING" and row["last_status"] != "STOPPED":
            out["requested"] += row["n"]
        if row["last_status"] != "STOPPED":
            out["live"] += row["n"]
    return out


def failed_tasks(db: Database, account: str, region: str, deployment_arn: str) -> int:
    """Tasks of a deployment that failed to start or whose essential container exited."""
    return int(db.scalar("SELECT COUNT(*) FROM ecs_tasks WHERE account_id = ? AND region = ? AND deployment_arn = ? "
                         "AND last_status = 'STOPPED' AND stop_code IN ('TaskFailedToStart', "
                         "'EssentialContainerExited')", (account, region, deployment_arn)))


def live_revisions(db: Database, account: str, region: str, service_arn: str) -> list[str]:
    """Target revisions of the service's deployments (oldest first) that still have tasks not STOPPED."""
    rows = db.all("SELECT DISTINCT d.target_revision_arn, d.created_at FROM ecs_service_deployments d "
                  "WHERE d.account_id = ? AND d.region = ? AND d.service_arn = ? AND EXISTS (SELECT 1 FROM ecs_tasks "
                  "t WHERE t.account_id = d.account_id AND t.region = d.region AND t.service_arn = d.service_arn "
                  "AND t.revision_arn = d.target_revision_arn AND t.last_status <> 'STOPPED') "
                  "ORDER BY d.created_at", (account, region, service_arn))
    return list(dict.fromkeys(r["target_revision_arn"] for r in rows))


def deployments_of(db: Database, account: str, region: str, service_arn: str) -> list[Row]:
    """The service's deployments, newest first."""
    return db.all("SELECT * FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND service_arn = ? "
                  "ORDER BY created_at DESC, arn", (account, region, service_arn))


def active_deployment_targets(db: Database, account: str, region: str, service_arn: str) -> list[str]:
    marks = ", ".join("?" for _ in ACTIVE)
    rows = db.all(f"SELECT target_revision_arn FROM ecs_service_deployments WHERE account_id = ? AND region = ? "
                  f"AND service_arn = ? AND status IN ({marks}) ORDER BY created_at", (account, region, service_arn,
                                                                                         *ACTIVE))
    return [r["target_revision_arn"] for r in rows]


# -- writing ----------------------------------------------------------------------------------------------------

def _resolved(db: Database, account: str, region: str, lbs: list[dict[str, Any]],
              sources: list[str]) -> list[dict[str, str]]:
    previous: list[dict[str, Any]] = []
    if sources:
        row = db.one("SELECT body FROM ecs_service_revisions WHERE account_id = ? AND region = ? AND arn = ?",
                     (account, region, sources[-1]))
        if row is not None:
            previous = (loads(row["body"]).get("resolvedConfiguration") or {}).get("loadBalancers") or []
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


def write_revision(db: Database, ctx: RequestContext, service: dict[str, str], config: dict[str, Any],
                   td: Row, sources: list[str], number: str) -> str:
    """Insert the service's new revision of id ``number``; return its ARN. ``service``: arn, cluster (name), name,
    cluster_arn."""
    account, region = ctx.account_id, ctx.region
    arn = arns.ecs_service_revision(region, account, service["cluster"], service["name"], number)
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
    body["containerImages"] = container_images(loads(td["body"]))
    body["guardDutyEnabled"] = False
    resolved = _resolved(db, account, region, body["loadBalancers"], sources)
    if resolved:
        body["resolvedConfiguration"] = {"loadBalancers": resolved}
    db.execute("INSERT INTO ecs_service_revisions (account_id, region, arn, service_arn, cluster_arn, "
               "task_definition_arn, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (account, region, arn, service["arn"], service["cluster_arn"], td["arn"], dumps(body),
                iso(ctx.received_at)))
    return arn


def write_deployment(db: Database, ctx: RequestContext, service: dict[str, str], config: dict[str, Any],
                     revision_arn: str, sources: list[str], number: str) -> str:
    """Insert a PENDING deployment of ``revision_arn`` (whose id is ``number``); return its ARN."""
    account, region = ctx.account_id, ctx.region
    arn = arns.ecs_service_deployment(region, account, service["cluster"], service["name"],
                                      ids.ecs_service_deployment_id())
    legacy = "ecs-svc/" + number
    deployment_config = config["deploymentConfiguration"]
    desired = int(config.get("desiredCount") or 0)
    now = iso(ctx.received_at)
    db.execute(
        "INSERT INTO ecs_service_deployments (account_id, region, arn, service_arn, cluster_arn, legacy_id, status, "
        "status_reason, lifecycle_stage, target_revision_arn, source_revision_arns, desired_count, config, hooks, "
        "circuit_breaker, alarms, rollout_state, rollout_state_reason, engine, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'PENDING', NULL, NULL, ?, ?, ?, ?, '[]', ?, ?, 'IN_PROGRESS', ?, '{}', ?, ?)",
        (account, region, arn, service["arn"], service["cluster_arn"], legacy, revision_arn, dumps(sources), desired,
         dumps(deployment_config), dumps(circuit_breaker_view(deployment_config, desired)),
         dumps(alarms_view(deployment_config)), f"ECS deployment {legacy} in progress.", now, now),
    )
    return arn


def start_deployment(db: Database, ctx: RequestContext, service: dict[str, str], config: dict[str, Any],
                     td: Row) -> str:
    """A new revision and its PENDING deployment (the caller wakes the engine); return the deployment's ARN.

    The revision's id and the deployment's ``ecs-svc/<id>`` are one number, as on AWS (the service deployment's
    ARN ends with its own 21-character id, as in AWS's examples). Rows written before they agreed (two unrelated
    numbers) are read as they are: nothing parses either id."""
    sources = live_revisions(db, ctx.account_id, ctx.region, service["arn"])
    number = ids.ecs_number_id()
    revision = write_revision(db, ctx, service, config, td, sources, number)
    return write_deployment(db, ctx, service, config, revision, sources, number)


def drop_history(db: Database, account: str, region: str, service_arn: str) -> None:
    """Forget an INACTIVE service's revisions and deployments (AWS deletes them with the service)."""
    for table in ("ecs_service_deployments", "ecs_service_revisions"):
        db.execute(f"DELETE FROM {table} WHERE account_id = ? AND region = ? AND service_arn = ?",
                   (account, region, service_arn))
