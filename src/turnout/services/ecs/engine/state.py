"""One service deployment as the engine works on it: the members of its record the engine changes, loaded once and
written back in one UPDATE at the end of a transition (so every transition is one transaction)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ....store.db import Database
from ..store import deployments as store
from ..store.deployments import ServiceDeployment
from ..store.services import Service


@dataclass
class Deployment:
    record: ServiceDeployment
    service: Service
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
    wake_since: datetime | None = None
    wake_after: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stopped_at: datetime | None = None
    notes: list[str] = field(default_factory=list)  # service events to add

    @classmethod
    def load(cls, record: ServiceDeployment, service: Service) -> Deployment:
        mine = copy.deepcopy  # the engine changes these in place: never the record's own
        return cls(
            record=record, service=service, status=record.status, status_reason=record.status_reason,
            stage=record.lifecycle_stage, test_weight=record.test_weight, production_weight=record.production_weight,
            hooks=mine(record.hooks), rollback=mine(record.rollback), circuit_breaker=mine(record.circuit_breaker),
            rollout_state=record.rollout_state, rollout_state_reason=record.rollout_state_reason,
            state=mine(record.engine), config=mine(record.config), wake_since=record.wake_since,
            wake_after=record.wake_after, started_at=record.started_at, finished_at=record.finished_at,
            stopped_at=record.stopped_at,
        )

    @property
    def arn(self) -> str:
        return self.record.arn

    @property
    def account(self) -> str:
        return self.record.account_id

    @property
    def region(self) -> str:
        return self.record.region

    @property
    def service_arn(self) -> str:
        return self.record.service_arn

    @property
    def service_name(self) -> str:
        return self.service.name

    @property
    def target(self) -> str:
        return self.record.target_revision_arn

    @property
    def sources(self) -> list[str]:
        return list(self.record.source_revision_arns)

    @property
    def legacy_id(self) -> str:
        return self.record.legacy_id

    @property
    def strategy(self) -> str:
        return str(self.config.get("strategy") or "ROLLING")

    def save(self, db: Database, now: datetime) -> None:
        store.save_progress(db, replace(
            self.record, status=self.status, status_reason=self.status_reason, lifecycle_stage=self.stage,
            test_weight=self.test_weight, production_weight=self.production_weight, hooks=self.hooks,
            rollback=self.rollback, circuit_breaker=self.circuit_breaker, rollout_state=self.rollout_state,
            rollout_state_reason=self.rollout_state_reason, engine=self.state, wake_since=self.wake_since,
            wake_after=self.wake_after, started_at=self.started_at, finished_at=self.finished_at,
            stopped_at=self.stopped_at, updated_at=now))
