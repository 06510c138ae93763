"""Service deployments and revisions as the API shows them, with real boto3 against a real server:
ListServiceDeployments (newest first, status and createdAt filters, paging), DescribeServiceDeployments and
DescribeServiceRevisions (shapes, MISSING failures, limits).

The deployment engine progresses deployments on its own: statuses are asserted to be ServiceDeploymentStatus
values, never a particular one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Server, error_of
from tests.e2e.ecs_support import ACCOUNT, STATUSES, World, cluster_arn, infra_role, service_arn

INVALID = "InvalidParameterException"
MONITORS = ("TRIGGERED", "MONITORING", "MONITORING_COMPLETE", "DISABLED")


@pytest.fixture
def world(server: Server, unique: Callable[[str], str]) -> Iterator[World]:
    made = World(server, unique)
    yield made
    made.destroy()


def deployments(world: World, name: str, **kwargs: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = world.ecs.list_service_deployments(
        cluster=world.cluster, service=name, **kwargs)["serviceDeployments"]
    return found


def test_list_service_deployments(world: World) -> None:
    name = world.unique("svc")
    first = world.service(name)["currentServiceDeployment"]
    second = world.ecs.update_service(cluster=world.cluster, service=name,
                                      forceNewDeployment=True)["service"]["currentServiceDeployment"]
    third = world.ecs.update_service(cluster=world.cluster, service=name,
                                     forceNewDeployment=True)["service"]["currentServiceDeployment"]
    listed = deployments(world, name)
    assert [d["serviceDeploymentArn"] for d in listed] == [third, second, first]
    brief = listed[-1]
    assert brief["serviceArn"] == service_arn(world.cluster, name)
    assert brief["clusterArn"] == cluster_arn(world.cluster)
    assert brief["status"] in STATUSES and isinstance(brief["createdAt"], datetime)
    assert brief["targetServiceRevisionArn"].startswith(
        f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-revision/{world.cluster}/{name}/")
    assert len({d["targetServiceRevisionArn"] for d in listed}) == 3
    # Paging, newest first.
    page = world.ecs.list_service_deployments(cluster=world.cluster, service=name, maxResults=2)
    assert [d["serviceDeploymentArn"] for d in page["serviceDeployments"]] == [third, second]
    rest = world.ecs.list_service_deployments(cluster=world.cluster, service=name, maxResults=2,
                                              nextToken=page["nextToken"])
    assert [d["serviceDeploymentArn"] for d in rest["serviceDeployments"]] == [first] and "nextToken" not in rest
    # Filters.
    now = datetime.now(UTC)
    assert deployments(world, service_arn(world.cluster, name), createdAt={"after": now + timedelta(hours=1)}) == []
    assert len(deployments(world, name, createdAt={"before": now + timedelta(hours=1),
                                                   "after": now - timedelta(hours=1)})) == 3
    # The engine moves statuses on meanwhile: each answer is consistent with its own filter.
    assert len(deployments(world, name, status=list(STATUSES))) == 3
    assert deployments(world, name, status=["ROLLBACK_FAILED"]) == []  # desired 0: nothing to fail
    for status in ("PENDING", "IN_PROGRESS", "SUCCESSFUL", "STOPPED"):
        assert {d["status"] for d in deployments(world, name, status=[status])} <= {status}
    assert error_of(world.ecs.list_service_deployments, cluster=world.cluster, service=world.unique("nope")) == (
        "ServiceNotFoundException", "Service not found.", 400)
    assert error_of(world.ecs.list_service_deployments, cluster=world.cluster, service=name, maxResults=0)[:2] == (
        INVALID, "maxResults can be between 1 and 100.")


def test_describe_service_deployments(world: World) -> None:
    name = world.unique("svc")
    service = world.service(name, desiredCount=2, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "alarms": {"alarmNames": ["high-5xx"], "enable": True, "rollback": True}})
    arn = service["currentServiceDeployment"]
    missing = arn[:-21] + "AAAAAAAAAAAAAAAAAAAAA"
    out = world.ecs.describe_service_deployments(serviceDeploymentArns=[arn, missing])
    assert out["failures"] == [{"arn": missing, "reason": "MISSING"}]
    deployment = out["serviceDeployments"][0]
    assert deployment["serviceDeploymentArn"] == arn
    assert deployment["serviceArn"] == service["serviceArn"]
    assert deployment["clusterArn"] == cluster_arn(world.cluster)
    assert deployment["status"] in STATUSES
    assert deployment["sourceServiceRevisions"] == []
    target = deployment["targetServiceRevision"]
    assert target["arn"] == service["currentServiceRevisions"][0]["arn"]
    if deployment["status"] not in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED", "ROLLBACK_IN_PROGRESS"):
        assert target["requestedTaskCount"] == 2
    assert target["runningTaskCount"] + target["pendingTaskCount"] >= 0
    assert deployment["deploymentConfiguration"] == service["deploymentConfiguration"]
    assert deployment["deploymentConfiguration"]["alarms"] == {"alarmNames": ["high-5xx"], "enable": True,
                                                              "rollback": True}
    assert deployment["deploymentCircuitBreaker"]["status"] in MONITORS
    assert deployment["alarms"]["status"] in MONITORS and deployment["alarms"]["alarmNames"] == ["high-5xx"]
    assert isinstance(deployment["createdAt"], datetime)
    assert isinstance(deployment["lifecycleHookDetails"], list)
    assert error_of(world.ecs.describe_service_deployments, serviceDeploymentArns=[arn] * 21) == (
        INVALID, "serviceDeploymentArns can have at most 20 items.", 400)


def test_describe_service_revisions(world: World) -> None:
    name = world.unique("svc")
    service = world.service(name, desiredCount=1)
    revision_arn = service["currentServiceRevisions"][0]["arn"]
    missing = revision_arn[:-19] + "1000000000000000000"
    out = world.ecs.describe_service_revisions(serviceRevisionArns=[revision_arn, missing])
    assert out["failures"] == [{"arn": missing, "reason": "MISSING"}]
    revision = out["serviceRevisions"][0]
    assert revision["serviceRevisionArn"] == revision_arn
    assert (revision["serviceArn"], revision["clusterArn"]) == (service["serviceArn"], cluster_arn(world.cluster))
    assert revision["taskDefinition"] == world.td
    assert (revision["launchType"], revision["platformVersion"], revision["platformFamily"]) == (
        "FARGATE", "1.4.0", "Linux")
    assert revision["networkConfiguration"] == service["networkConfiguration"]
    assert revision["containerImages"] == [{
        "containerName": "web", "image": "nginx:1.27",
        "imageDigest": "sha256:" + hashlib.sha256(b"nginx:1.27").hexdigest()}]
    assert revision["guardDutyEnabled"] is False
    assert revision["loadBalancers"] == [] and revision["serviceRegistries"] == []
    assert "resolvedConfiguration" not in revision
    assert isinstance(revision["createdAt"], datetime)
    assert error_of(world.ecs.describe_service_revisions, serviceRevisionArns=[revision_arn] * 21) == (
        INVALID, "serviceRevisionArns can have at most 20 items.", 400)


def test_blue_green_rows(world: World) -> None:
    role = infra_role(world.iam)
    setup = world.blue_green()
    lb = world.advanced_lb(setup, role)
    name = world.unique("bg")
    service = world.service(name, desiredCount=1, loadBalancers=[lb],
                            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1})
    deployment = world.ecs.describe_service_deployments(
        serviceDeploymentArns=[service["currentServiceDeployment"]])["serviceDeployments"][0]
    assert deployment["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert deployment["deploymentConfiguration"]["bakeTimeInMinutes"] == 1
    assert deployment["status"] in STATUSES
    revision = world.ecs.describe_service_revisions(
        serviceRevisionArns=[deployment["targetServiceRevision"]["arn"]])["serviceRevisions"][0]
    assert revision["loadBalancers"] == [lb]
    # Green is the group production does not forward to: here the alternate one.
    assert revision["resolvedConfiguration"] == {"loadBalancers": [
        {"targetGroupArn": setup["green"], "productionListenerRule": setup["production_rule"]}]}
    # A second deployment targets a new revision; the first's revision is its source only while it has tasks.
    second = world.ecs.update_service(cluster=world.cluster, service=name, forceNewDeployment=True)["service"]
    assert second["currentServiceDeployment"] != service["currentServiceDeployment"]
    described = world.ecs.describe_service_deployments(
        serviceDeploymentArns=[second["currentServiceDeployment"]])["serviceDeployments"][0]
    assert described["targetServiceRevision"]["arn"] != revision["serviceRevisionArn"]
    sources = [r["arn"] for r in described["sourceServiceRevisions"]]
    assert sources in ([], [revision["serviceRevisionArn"]])
    green = world.ecs.describe_service_revisions(
        serviceRevisionArns=[described["targetServiceRevision"]["arn"]])["serviceRevisions"][0]
    # Production has not moved yet (health checks take minutes at this server's time scale): green again.
    assert green["resolvedConfiguration"]["loadBalancers"][0]["targetGroupArn"] == setup["green"]
