"""The ECS store: typed records in, typed records out (JSON decoded, timestamps as datetimes), written as the
provider always wrote them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from turnout.services.ecs.store import clusters, deployments, events, revisions, services, tags, task_definitions, tasks
from turnout.store.db import Database

ACCOUNT, REGION = "123456789012", "us-east-1"
NOW = datetime(2026, 12, 6, 22, 0, 0, 123456, tzinfo=UTC)
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/c1"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c1/web"
TD_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:1"
REVISION_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/c1/web/111"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "t.db")
    with database.transaction():
        yield database
    database.close()


def test_cluster_round_trip_and_partial_update(db: Database) -> None:
    clusters.create_cluster(db, account=ACCOUNT, region=REGION, name="c1", arn=CLUSTER_ARN,
                            settings=[{"name": "containerInsights", "value": "disabled"}], configuration=None,
                            service_connect={"namespace": "ns"}, created_at=NOW, capacity_providers=["FARGATE"],
                            default_strategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    found = clusters.cluster(db, ACCOUNT, REGION, "c1")
    assert found == clusters.Cluster(ACCOUNT, REGION, "c1", CLUSTER_ARN, "ACTIVE",
                                     [{"name": "containerInsights", "value": "disabled"}], None, {"namespace": "ns"},
                                     NOW, ["FARGATE"], [{"capacityProvider": "FARGATE", "weight": 1}])
    assert clusters.cluster_by_arn(db, ACCOUNT, REGION, CLUSTER_ARN) == found
    clusters.update_cluster(db, ACCOUNT, REGION, "c1", configuration={"executeCommandConfiguration": {}})
    updated = clusters.cluster(db, ACCOUNT, REGION, "c1")
    assert updated is not None
    assert updated.configuration == {"executeCommandConfiguration": {}}
    assert updated.settings == found.settings and updated.service_connect == {"namespace": "ns"}
    clusters.set_cluster_inactive(db, ACCOUNT, REGION, "c1")
    assert clusters.active_cluster_arns(db, ACCOUNT, REGION) == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.status = "INACTIVE"  # type: ignore[misc]


def test_tags_keep_their_first_place(db: Database) -> None:
    tags.put_tags(db, ACCOUNT, REGION, CLUSTER_ARN, [tags.Tag("a", "1"), tags.Tag("b", "2")])
    assert tags.tags_of(db, ACCOUNT, REGION, CLUSTER_ARN) == [tags.Tag("a", "1"), tags.Tag("b", "2")]
    tags.put_tags(db, ACCOUNT, REGION, CLUSTER_ARN, [tags.Tag("a", "3"), tags.Tag("c", "")])
    assert tags.tags_of(db, ACCOUNT, REGION, CLUSTER_ARN) == [tags.Tag("a", "3"), tags.Tag("b", "2"),
                                                              tags.Tag("c", "")]
    tags.delete_tags(db, ACCOUNT, REGION, CLUSTER_ARN, ["b"])
    assert [t.key for t in tags.tags_of(db, ACCOUNT, REGION, CLUSTER_ARN)] == ["a", "c"]
    tags.drop_tags(db, ACCOUNT, REGION, [CLUSTER_ARN])
    assert tags.tags_of(db, ACCOUNT, REGION, CLUSTER_ARN) == []


def test_task_definition_revisions(db: Database) -> None:
    body = {"containerDefinitions": [{"name": "web", "image": "nginx"}], "networkMode": "awsvpc"}
    for revision in (1, 2):
        assert task_definitions.next_revision(db, ACCOUNT, REGION, "web") == revision
        task_definitions.insert_task_definition(
            db, account=ACCOUNT, region=REGION, family="web", revision=revision,
            arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:{revision}", body=body, registered_at=NOW,
            registered_by=None)
    latest = task_definitions.latest_active(db, ACCOUNT, REGION, "web")
    assert latest is not None and latest.revision == 2 and latest.body == body
    assert latest.containers == [{"name": "web", "image": "nginx"}]
    later = NOW + timedelta(seconds=5)
    task_definitions.deregister(db, ACCOUNT, REGION, latest.arn, later)
    gone = task_definitions.task_definition(db, ACCOUNT, REGION, latest.arn)
    assert gone is not None and gone.status == "INACTIVE" and gone.deregistered_at == later
    assert task_definitions.latest_active_arn(db, ACCOUNT, REGION, "web") == TD_ARN
    assert sorted(task_definitions.family_statuses(db, ACCOUNT, REGION)) == [("web", "ACTIVE"), ("web", "INACTIVE")]


def _service(db: Database) -> services.Service:
    services.insert_service(db, account=ACCOUNT, region=REGION, cluster="c1", name="web", arn=SERVICE_ARN,
                            config={"desiredCount": 2, "taskDefinition": TD_ARN}, created_at=NOW, created_by=None)
    found = services.service(db, ACCOUNT, REGION, SERVICE_ARN)
    assert found is not None
    return found


def test_service_lifecycle(db: Database) -> None:
    found = _service(db)
    assert (found.status, found.desired_count, found.created_at, found.updated_at, found.deleted_at) == \
        ("ACTIVE", 2, NOW, NOW, None)
    later = NOW + timedelta(minutes=1)
    services.set_draining(db, ACCOUNT, REGION, SERVICE_ARN, {**found.config, "desiredCount": 0}, later)
    draining = services.service(db, ACCOUNT, REGION, SERVICE_ARN)
    assert draining is not None
    assert (draining.status, draining.desired_count, draining.deleted_at) == ("DRAINING", 0, later)
    assert services.any_live(db, ACCOUNT, REGION, "c1") and services.count_active(db, ACCOUNT, REGION, "c1") == 0
    assert [s.arn for s in services.live_services(db, [SERVICE_ARN])] == [SERVICE_ARN]
    services.set_inactive(db, ACCOUNT, REGION, SERVICE_ARN, later)
    assert services.status_of(db, ACCOUNT, REGION, SERVICE_ARN) == "INACTIVE"
    assert services.services_in_cluster(db, ACCOUNT, REGION, "c1") == []


def _deployment(db: Database) -> deployments.ServiceDeployment:
    revisions.insert_revision(db, account=ACCOUNT, region=REGION, arn=REVISION_ARN, service_arn=SERVICE_ARN,
                              cluster_arn=CLUSTER_ARN, task_definition_arn=TD_ARN,
                              body={"loadBalancers": [], "containerImages": []}, created_at=NOW)
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/c1/web/abc"
    deployments.insert_deployment(
        db, account=ACCOUNT, region=REGION, arn=arn, service_arn=SERVICE_ARN, cluster_arn=CLUSTER_ARN,
        legacy_id="ecs-svc/111", target_revision_arn=REVISION_ARN, source_revision_arns=["old"], desired_count=2,
        config={"strategy": "ROLLING"}, circuit_breaker={"status": "DISABLED"}, alarms={"status": "DISABLED"},
        rollout_state_reason="ECS deployment ecs-svc/111 in progress.", created_at=NOW)
    found = deployments.deployment(db, ACCOUNT, REGION, arn)
    assert found is not None
    return found


def test_deployment_progress_round_trip(db: Database) -> None:
    _service(db)
    created = _deployment(db)
    assert (created.status, created.lifecycle_stage, created.hooks, created.engine, created.rollback) == \
        ("PENDING", None, [], {}, None)
    assert created.source_revision_arns == ["old"] and created.wake_since is None
    later = NOW + timedelta(seconds=30)
    progressed = dataclasses.replace(
        created, status="IN_PROGRESS", lifecycle_stage="SCALE_UP", test_weight=0.0, production_weight=12.5,
        hooks=[{"hookId": "ecs-pause-1", "status": "AWAITING_ACTION"}],
        rollback={"reason": "r", "startedAt": later.isoformat()}, engine={"plan": [["SCALE_UP", "rolling", None]]},
        wake_since=later, wake_after=10.0, started_at=later, updated_at=later)
    deployments.save_progress(db, progressed)
    assert deployments.deployment(db, ACCOUNT, REGION, created.arn) == progressed
    assert deployments.active_targets(db, ACCOUNT, REGION, SERVICE_ARN) == [REVISION_ARN]
    assert deployments.arns_of_service(db, ACCOUNT, REGION, SERVICE_ARN, ("IN_PROGRESS",)) == [created.arn]
    assert deployments.arns_of_service(db, ACCOUNT, REGION, SERVICE_ARN, besides=created.arn) == []
    deployments.request_rollback(db, ACCOUNT, REGION, created.arn, later, 10.0)
    asked = deployments.deployment(db, ACCOUNT, REGION, created.arn)
    assert asked is not None and asked.status == "ROLLBACK_REQUESTED"
    assert (asked.stopped_at, asked.wake_since, asked.wake_after) == (later, later, 10.0)
    deployments.stop_broken(db, ACCOUNT, REGION, created.arn, "bug", later,
                            [{"hookId": "ecs-pause-1", "status": "FAILED"}])
    assert deployments.count_active(db) == 0
    broken = deployments.deployment(db, ACCOUNT, REGION, created.arn)
    assert broken is not None and broken.hooks == [{"hookId": "ecs-pause-1", "status": "FAILED"}]


def test_tasks_advance_and_stop(db: Database) -> None:
    _service(db)
    deployment = _deployment(db)
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/c1/0123"
    tasks.insert_task(db, account=ACCOUNT, region=REGION, cluster="c1", arn=arn, task_id="0123",
                      service_arn=SERVICE_ARN, revision_arn=REVISION_ARN, deployment_arn=deployment.arn,
                      task_definition_arn=TD_ARN, started_by="ecs-svc/111", group="service:web", launch_type="FARGATE",
                      platform_version="1.4.0", availability_zone="us-east-1a", subnet_id="subnet-1",
                      private_ip="10.0.0.4", eni_id="eni-1", created_at=NOW)
    task = tasks.task(db, ACCOUNT, REGION, arn)
    assert task is not None
    assert (task.last_status, task.desired_status, task.version, task.registrations, task.status_since) == \
        ("PROVISIONING", "RUNNING", 1, [], NOW)
    assert task.alive and deployments.live_revisions(db, ACCOUNT, REGION, SERVICE_ARN) == [REVISION_ARN]
    pending_at = NOW + timedelta(seconds=2)
    tasks.advance(db, ACCOUNT, REGION, arn, "PENDING", pending_at)
    moved = tasks.task(db, ACCOUNT, REGION, arn)
    assert moved is not None
    assert (moved.pull_started_at, moved.connectivity_at, moved.status_since, moved.version) == \
        (pending_at, pending_at, pending_at, 2)
    assert moved.started_at is None
    assert tasks.tallies(db, ACCOUNT, REGION, "deployment_arn", deployment.arn) == [("PENDING", "RUNNING", 1)]
    regs = [{"targetGroupArn": "tg", "id": "10.0.0.4", "port": 80, "drainSeconds": 5.0}]
    tasks.request_stop(db, ACCOUNT, REGION, arn, stop_code="UserInitiated", reason="r", status="DEACTIVATING",
                       at=pending_at, registrations=regs)
    tasks.request_stop(db, ACCOUNT, REGION, arn, stop_code="Other", reason="later", status="DEACTIVATING",
                       at=pending_at, registrations=regs)
    stopping = tasks.task(db, ACCOUNT, REGION, arn)
    assert stopping is not None
    assert (stopping.stop_code, stopping.stopped_reason, stopping.registrations) == ("UserInitiated", "r", regs)
    assert not stopping.alive
    assert tasks.stopping_count(db, ACCOUNT, REGION, SERVICE_ARN, deployment.arn, launched_by_it=True) == 1
    assert tasks.used_addresses(db, ACCOUNT, REGION, "subnet-1") == {"10.0.0.4"}


def test_events_newest_first(db: Database) -> None:
    for n in range(3):
        events.add_event(db, ACCOUNT, REGION, SERVICE_ARN, f"e{n}", NOW + timedelta(seconds=n), f"message {n}")
    assert events.latest_events(db, ACCOUNT, REGION, SERVICE_ARN, 2) == [
        events.ServiceEvent("e2", NOW + timedelta(seconds=2), "message 2"),
        events.ServiceEvent("e1", NOW + timedelta(seconds=1), "message 1")]
    events.drop_events(db, ACCOUNT, REGION, SERVICE_ARN)
    assert events.latest_events(db, ACCOUNT, REGION, SERVICE_ARN, 100) == []
