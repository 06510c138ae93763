"""One service deployment as the engine works on it: the row's fields it changes, loaded once and written back
in one UPDATE at the end of a transition (so every transition is one transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ....store.db import Database, Row
from ..store import dumps, iso, loads


@dataclass
class Deployment:
    row: Row
    service: Row
    status: str
    status_reason: str | None
    stage: str | None
    test_weight: float | None
    production_weight: float | None
    hooks: list[dict[str, Any]]
    rollback: dict[str, Any] | None
    circuit_breaker: dict[str, Any] | None
    rollout_state: str
    rollout_state_reason: str | None
    state: dict[str, Any]
    config: dict[str, Any]
    wake_since: str | None = None
    wake_after: float | None = None
    started_at: str | None = None
    finished_at: str | None = None
    stopped_at: str | None = None
    notes: list[str] = field(default_factory=list)  # service events to add

    @classmethod
    def load(cls, row: Row, service: Row) -> Deployment:
        return cls(
            row=row, service=service, status=row["status"], status_reason=row["status_reason"],
            stage=row["lifecycle_stage"], test_weight=row["test_weight"], production_weight=row["production_weight"],
            hooks=loads(row["hooks"]) or [], rollback=loads(row["rollback"]),
            circuit_breaker=loads(row["circuit_breaker"]), rollout_state=row["rollout_state"],
            rollout_state_reason=row["rollout_state_reason"], state=loads(row["engine"]) or {},
            config=loads(row["config"]) or {}, wake_since=row["wake_since"], wake_after=row["wake_after"],
            started_at=row["started_at"], finished_at=row["finished_at"], stopped_at=row["stopped_at"],
        )

    @property
    def arn(self) -> str:
        return str(self.row["arn"])

    @property
    def account(self) -> str:
        return str(self.row["account_id"])

    @property
    def region(self) -> str:
        return str(self.row["region"])

    @property
    def service_arn(self) -> str:
        return str(self.row["service_arn"])

    @property
    def service_name(self) -> str:
        return str(self.service["name"])

    @property
    def target(self) -> str:
        return str(self.row["target_revision_arn"])

    @property
    def sources(self) -> list[str]:
        return list(loads(self.row["source_revision_arns"]) or [])

    @property
    def legacy_id(self) -> str:
        return str(self.row["legacy_id"])

    @property
    def strategy(self) -> str:
        return str(self.config.get("strategy") or "ROLLING")

    def save(self, db: Database, now: datetime) -> None:
        db.execute(
            "UPDATE ecs_service_deployments SET status = ?, status_reason = ?, lifecycle_stage = ?, test_weight = ?, "
            "production_weight = ?, hooks = ?, rollback = ?, circuit_breaker = ?, rollout_state = ?, "
            "rollout_state_reason = ?, engine = ?, wake_since = ?, wake_after = ?, started_at = ?, finished_at = ?, "
            "stopped_at = ?, updated_at = ? WHERE account_id = ? AND region = ? AND arn = ?",
            (self.status, self.status_reason, self.stage, self.test_weight, self.production_weight, dumps(self.hooks),
             None if self.rollback is None else dumps(self.rollback),
             None if self.circuit_breaker is None else dumps(self.circuit_breaker), self.rollout_state,
             self.rollout_state_reason, dumps(self.state), self.wake_since, self.wake_after, self.started_at,
             self.finished_at, self.stopped_at, iso(now), self.account, self.region, self.arn),
        )
