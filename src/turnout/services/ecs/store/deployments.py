"""``ecs_service_deployments``: one row per service deployment. The API writes it (PENDING) and the deployment
engine owns its progress (status, stage, weights, hooks, rollback, the engine's own ``engine`` state, the wait and
the timestamps after ``created_at``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row
from ..model import ACTIVE
from .codec import dumps_or_none, iso_or_none


@dataclass(frozen=True, slots=True)
class ServiceDeployment:
    account_id: str
    region: str
    arn: str
    service_arn: str
    cluster_arn: str
    legacy_id: str  # Service.deployments[].id (``ecs-svc/<19 digits>``)
    status: str  # ServiceDeploymentStatus
    status_reason: str | None
    lifecycle_stage: str | None
    target_revision_arn: str
    source_revision_arns: list[str]
    desired_count: int
    config: dict[str, Any]  # deploymentConfiguration as at creation
    test_weight: float | None
    production_weight: float | None
    hooks: list[dict[str, Any]]  # lifecycleHookDetails
    rollback: dict[str, Any] | None
    circuit_breaker: dict[str, Any] | None
    alarms: dict[str, Any] | None
    rollout_state: str
    rollout_state_reason: str | None
    engine: dict[str, Any]  # the engine's private progress (engine.state.EngineState's JSON)
    wake_since: datetime | None
    wake_after: float | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None
    stopped_at: datetime | None


def _deployment(row: Row) -> ServiceDeployment:
    return ServiceDeployment(
        account_id=row["account_id"], region=row["region"], arn=row["arn"], service_arn=row["service_arn"],
        cluster_arn=row["cluster_arn"], legacy_id=row["legacy_id"], status=row["status"],
        status_reason=row["status_reason"], lifecycle_stage=row["lifecycle_stage"],
        target_revision_arn=row["target_revision_arn"],
        source_revision_arns=list(loads(row["source_revision_arns"]) or []), desired_count=int(row["desired_count"]),
        config=loads(row["config"]) or {},
        test_weight=None if row["test_weight"] is None else float(row["test_weight"]),
        production_weight=None if row["production_weight"] is None else float(row["production_weight"]),
        hooks=list(loads(row["hooks"]) or []), rollback=loads(row["rollback"]),
        circuit_breaker=loads(row["circuit_breaker"]), alarms=loads(row["alarms"]),
        rollout_state=row["rollout_state"], rollout_state_reason=row["rollout_state_reason"],
        engine=loads(row["engine"]) or {}, wake_since=when(row["wake_since"]),
        wake_after=None if row["wake_after"] is None else float(row["wake_after"]),
        created_at=when(row["created_at"]), started_at=when(row["started_at"]),
        updated_at=when(row["updated_at"]), finished_at=when(row["finished_at"]),
        stopped_at=when(row["stopped_at"]),
    )


def _marks(values: Collection[str]) -> str:
    return ", ".join("?" for _ in values)


# -- reading ------------------------------------------------------------------------------------------------------


def deployment(db: Database, account: str, region: str, arn: str) -> ServiceDeployment | None:
    row = db.one("SELECT * FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn))
    return None if row is None else _deployment(row)


def deployments_of(db: Database, account: str, region: str, service_arn: str) -> list[ServiceDeployment]:
    """The service's deployments, newest first."""
    rows = db.all("SELECT * FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND service_arn = ? "
                  "ORDER BY created_at DESC, arn", (account, region, service_arn))
    return [_deployment(row) for row in rows]


def latest_of(db: Database, account: str, region: str, service_arn: str) -> ServiceDeployment | None:
    """The service's newest deployment."""
    row = db.one("SELECT * FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND service_arn = ? "
                 "ORDER BY created_at DESC LIMIT 1", (account, region, service_arn))
    return None if row is None else _deployment(row)


def latest_target_of(db: Database, account: str, region: str, service_arn: str) -> str | None:
    """The target revision of the service's newest deployment."""
    row = db.one("SELECT target_revision_arn FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND "
                 "service_arn = ? ORDER BY created_at DESC LIMIT 1", (account, region, service_arn))
    return None if row is None else str(row["target_revision_arn"])


def has_deployment(db: Database, account: str, region: str, service_arn: str) -> bool:
    return db.one("SELECT 1 FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND service_arn = ?",
                  (account, region, service_arn)) is not None


def arns_of_service(db: Database, account: str, region: str, service_arn: str, statuses: Collection[str] = ACTIVE,
                    *, besides: str | None = None) -> list[str]:
    """ARNs of the service's deployments in one of ``statuses`` (``besides``: but that one)."""
    sql = (f"SELECT arn FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND service_arn = ? "
           f"AND status IN ({_marks(statuses)})")
    params: list[Any] = [account, region, service_arn, *statuses]
    if besides is not None:
        sql += " AND arn != ?"
        params.append(besides)
    return [str(r["arn"]) for r in db.all(sql, params)]


def active_targets(db: Database, account: str, region: str, service_arn: str) -> list[str]:
    """Target revisions of the service's deployments in an active status, oldest first."""
    rows = db.all(f"SELECT target_revision_arn FROM ecs_service_deployments WHERE account_id = ? AND region = ? "
                  f"AND service_arn = ? AND status IN ({_marks(ACTIVE)}) ORDER BY created_at",
                  (account, region, service_arn, *ACTIVE))
    return [str(r["target_revision_arn"]) for r in rows]


def count_active_of_service(db: Database, account: str, region: str, service_arn: str) -> int:
    return int(db.scalar(f"SELECT COUNT(*) FROM ecs_service_deployments WHERE account_id = ? AND region = ? "
                         f"AND service_arn = ? AND status IN ({_marks(ACTIVE)})",
                         (account, region, service_arn, *ACTIVE)))


def active_deployments(db: Database) -> list[ServiceDeployment]:
    """Every account's deployments in an active status, oldest first (what the engine runs)."""
    rows = db.all(f"SELECT * FROM ecs_service_deployments WHERE status IN ({_marks(ACTIVE)}) ORDER BY created_at",
                  ACTIVE)
    return [_deployment(row) for row in rows]


def active_waits(db: Database) -> list[tuple[str, datetime | None, float | None]]:
    """(ARN, waiting since, seconds to wait) of every account's deployments in an active status."""
    rows = db.all(f"SELECT arn, wake_since, wake_after FROM ecs_service_deployments WHERE status IN "
                  f"({_marks(ACTIVE)})", ACTIVE)
    return [(str(r["arn"]), when(r["wake_since"]),
             None if r["wake_after"] is None else float(r["wake_after"])) for r in rows]


def count_active(db: Database) -> int:
    return int(db.scalar(f"SELECT COUNT(*) FROM ecs_service_deployments WHERE status IN ({_marks(ACTIVE)})", ACTIVE))


def live_revisions(db: Database, account: str, region: str, service_arn: str) -> list[str]:
    """Target revisions of the service's deployments (oldest first) that still have tasks not STOPPED."""
    rows = db.all("SELECT DISTINCT d.target_revision_arn, d.created_at FROM ecs_service_deployments d "
                  "WHERE d.account_id = ? AND d.region = ? AND d.service_arn = ? AND EXISTS (SELECT 1 FROM ecs_tasks "
                  "t WHERE t.account_id = d.account_id AND t.region = d.region AND t.service_arn = d.service_arn "
                  "AND t.revision_arn = d.target_revision_arn AND t.last_status <> 'STOPPED') "
                  "ORDER BY d.created_at", (account, region, service_arn))
    return list(dict.fromkeys(str(r["target_revision_arn"]) for r in rows))


# -- writing ------------------------------------------------------------------------------------------------------


def insert_deployment(db: Database, *, account: str, region: str, arn: str, service_arn: str, cluster_arn: str,
                      legacy_id: str, target_revision_arn: str, source_revision_arns: list[str], desired_count: int,
                      config: dict[str, Any], circuit_breaker: dict[str, Any], alarms: dict[str, Any],
                      rollout_state_reason: str, created_at: datetime) -> None:
    """A PENDING deployment (rollout IN_PROGRESS, no stage, no hooks, empty engine state)."""
    now = iso(created_at)
    db.execute(
        "INSERT INTO ecs_service_deployments (account_id, region, arn, service_arn, cluster_arn, legacy_id, status, "
        "status_reason, lifecycle_stage, target_revision_arn, source_revision_arns, desired_count, config, hooks, "
        "circuit_breaker, alarms, rollout_state, rollout_state_reason, engine, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'PENDING', NULL, NULL, ?, ?, ?, ?, '[]', ?, ?, 'IN_PROGRESS', ?, '{}', ?, ?)",
        (account, region, arn, service_arn, cluster_arn, legacy_id, target_revision_arn, dumps(source_revision_arns),
         desired_count, dumps(config), dumps(circuit_breaker), dumps(alarms), rollout_state_reason, now, now),
    )


def request_rollback(db: Database, account: str, region: str, arn: str, at: datetime, pickup: float) -> None:
    """StopServiceDeployment: ROLLBACK_REQUESTED, stopped at ``at``, the engine's rollback due ``pickup`` simulated
    seconds later."""
    db.execute("UPDATE ecs_service_deployments SET status = 'ROLLBACK_REQUESTED', updated_at = ?, stopped_at = ?, "
               "wake_since = ?, wake_after = ? WHERE account_id = ? AND region = ? AND arn = ?",
               (iso(at), iso(at), iso(at), pickup, account, region, arn))


def save_progress(db: Database, deployment: ServiceDeployment) -> None:
    """Write the members the engine owns (every one after ``created_at``'s, and ``updated_at``)."""
    d = deployment
    db.execute(
        "UPDATE ecs_service_deployments SET status = ?, status_reason = ?, lifecycle_stage = ?, test_weight = ?, "
        "production_weight = ?, hooks = ?, rollback = ?, circuit_breaker = ?, rollout_state = ?, "
        "rollout_state_reason = ?, engine = ?, wake_since = ?, wake_after = ?, started_at = ?, finished_at = ?, "
        "stopped_at = ?, updated_at = ? WHERE account_id = ? AND region = ? AND arn = ?",
        (d.status, d.status_reason, d.lifecycle_stage, d.test_weight, d.production_weight, dumps(d.hooks),
         dumps_or_none(d.rollback), dumps_or_none(d.circuit_breaker), d.rollout_state, d.rollout_state_reason,
         dumps(d.engine), iso_or_none(d.wake_since), d.wake_after, iso_or_none(d.started_at),
         iso_or_none(d.finished_at), iso_or_none(d.stopped_at), iso(d.updated_at), d.account_id, d.region,
         d.arn),
    )


def stop_broken(db: Database, account: str, region: str, arn: str, reason: str, at: datetime,
                hooks: list[dict[str, Any]] | None = None) -> None:
    """A deployment the engine cannot run: STOPPED with ``reason``, its wait cleared (``hooks``: its
    lifecycleHookDetails as they end)."""
    now = iso(at)
    db.execute("UPDATE ecs_service_deployments SET status = 'STOPPED', status_reason = ?, stopped_at = ?, "
               "finished_at = ?, updated_at = ?, wake_since = NULL, wake_after = NULL, hooks = COALESCE(?, hooks) "
               "WHERE account_id = ? AND region = ? AND arn = ?",
               (reason, now, now, now, dumps_or_none(hooks), account, region, arn))


def drop_deployments(db: Database, account: str, region: str, service_arn: str) -> None:
    db.execute("DELETE FROM ecs_service_deployments WHERE account_id = ? AND region = ? AND service_arn = ?",
               (account, region, service_arn))
