"""Target health progressing on the clock, with real boto3 clients against a server running 600 times faster than
wall time (``--time-scale 600``: a 30 s health check interval passes in 50 ms). Tests poll DescribeTargetHealth in
bounded loops and assert the states seen, never how long they took."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server
from turnout.services.elbv2.targets import report_health
from turnout.store.db import Database

ACCOUNT = "000000000000"
INITIAL = {("initial", "Elb.RegistrationInProgress"), ("initial", "Elb.InitialHealthChecking")}


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("elb-health") / "data", extra_args=["--time-scale", "600"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def elb(fast: Server) -> Any:
    return fast.client("elbv2")


@pytest.fixture(scope="module")
def network(fast: Server) -> dict[str, Any]:
    ec2 = fast.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    return {"vpc": vpc, "ids": [s["SubnetId"] for s in subnets]}


@pytest.fixture(scope="module")
def alb(elb: Any, network: dict[str, Any]) -> str:
    arn: str = elb.create_load_balancer(Name="health-alb", Subnets=network["ids"][:2])["LoadBalancers"][0][
        "LoadBalancerArn"]
    return arn


def attach(server: Server, elb: Any, lb_arn: str, tg_arn: str) -> None:
    """A listener forwarding to the group: CreateListener, or (until listeners are served) the row it writes."""
    try:
        elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8000 + int(tg_arn[-4:], 16) % 1000,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotImplemented":
            raise
    db = Database(server.data_dir / "turnout.db")
    try:
        with db.transaction():
            db.execute(
                "INSERT INTO elbv2_listeners (account_id, region, arn, load_balancer_arn, port, protocol, "
                "default_actions, extra, created_at) VALUES (?, 'us-east-1', ?, ?, 80, 'HTTP', ?, '{}', ?)",
                (ACCOUNT, lb_arn.replace(":loadbalancer/", ":listener/") + "/" + tg_arn[-16:], lb_arn,
                 f'[{{"Type":"forward","TargetGroupArn":"{tg_arn}"}}]', datetime.now(UTC).isoformat()),
            )
    finally:
        db.close()


@pytest.fixture
def group(elb: Any, network: dict[str, Any], unique: Callable[[str], str]) -> Callable[..., str]:
    def make(**kwargs: Any) -> str:
        arn: str = elb.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=80, VpcId=network["vpc"],
                                           TargetType="ip", **kwargs)["TargetGroups"][0]["TargetGroupArn"]
        return arn

    return make


def health(elb: Any, arn: str, **kwargs: Any) -> list[dict[str, Any]]:
    descriptions: list[dict[str, Any]] = elb.describe_target_health(TargetGroupArn=arn, **kwargs)[
        "TargetHealthDescriptions"]
    return descriptions


def state_of(description: dict[str, Any]) -> tuple[str, str | None]:
    return description["TargetHealth"]["State"], description["TargetHealth"].get("Reason")


def poll(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Call ``check`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_target_becomes_healthy_after_the_initial_checks(fast: Server, elb: Any, alb: str,
                                                         group: Callable[..., str]) -> None:
    arn = group()
    attach(fast, elb, alb, arn)
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.20", "Port": 8080}])
    seen: list[tuple[str, str | None]] = []

    def healthy() -> bool:
        (description,) = health(elb, arn)
        seen.append(state_of(description))
        return seen[-1] == ("healthy", None)

    poll(healthy)
    assert set(seen[:-1]) <= INITIAL  # only initial states before healthy, never unhealthy
    (description,) = health(elb, arn)
    assert description["Target"] == {"Id": "172.31.0.20", "Port": 8080, "AvailabilityZone": "us-east-1a"}
    assert description["HealthCheckPort"] == "8080"
    assert description["TargetHealth"] == {"State": "healthy"}
    # The state is computed from stored events: a restart of the server changes nothing.
    fast.stop()
    fast.start()
    assert state_of(health(elb, arn)[0]) == ("healthy", None)


def test_initial_states_have_aws_descriptions(fast: Server, elb: Any, alb: str, group: Callable[..., str]) -> None:
    arn = group()
    elb.modify_target_group(TargetGroupArn=arn, HealthCheckIntervalSeconds=300, HealthCheckTimeoutSeconds=120,
                            HealthyThresholdCount=10)  # 3000 simulated seconds to healthy: 5 s of wall time
    attach(fast, elb, alb, arn)
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.21"}])
    first = health(elb, arn)[0]["TargetHealth"]
    assert first in ({"State": "initial", "Reason": "Elb.RegistrationInProgress",
                      "Description": "Target registration is in progress"},
                     {"State": "initial", "Reason": "Elb.InitialHealthChecking",
                      "Description": "Initial health checks in progress"})
    poll(lambda: state_of(health(elb, arn)[0]) == ("initial", "Elb.InitialHealthChecking"))
    assert health(elb, arn)[0]["TargetHealth"]["Description"] == "Initial health checks in progress"


def test_unused_when_the_group_serves_no_listener(elb: Any, group: Callable[..., str]) -> None:
    arn = group()
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.30"}])
    time.sleep(0.5)  # 300 simulated seconds: long enough to be healthy if the group were used
    assert health(elb, arn)[0]["TargetHealth"] == {
        "State": "unused", "Reason": "Target.NotInUse",
        "Description": "Target group is not configured to receive traffic from the load balancer"}
    # Deregistering from an unused group needs no draining: the target is gone at once.
    elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.30"}])
    assert health(elb, arn) == []


def test_deregistered_target_drains_then_disappears(fast: Server, elb: Any, alb: str, group: Callable[..., str]
                                                    ) -> None:
    arn = group()
    attach(fast, elb, alb, arn)
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.40"}, {"Id": "172.31.16.40"}])
    elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.40"}])
    draining = [d for d in health(elb, arn) if d["Target"]["Id"] == "172.31.0.40"]
    assert [d["TargetHealth"] for d in draining] == [{
        "State": "draining", "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress"}]
    # deregistration_delay.timeout_seconds defaults to 300 simulated seconds (0.5 s here).
    poll(lambda: [d["Target"]["Id"] for d in health(elb, arn)] == ["172.31.16.40"])
    elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.99.99"}])  # not registered: succeeds


def test_targets_filter_reports_unregistered_targets(elb: Any, group: Callable[..., str]) -> None:
    arn = group()
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.50", "Port": 81}])
    described = health(elb, arn, Targets=[{"Id": "172.31.0.50"}, {"Id": "172.31.0.51", "Port": 90}])
    assert [d["Target"] for d in described] == [
        {"Id": "172.31.0.50", "Port": 81, "AvailabilityZone": "us-east-1a"}, {"Id": "172.31.0.51", "Port": 90}]
    assert described[1]["TargetHealth"] == {"State": "unused", "Reason": "Target.NotRegistered",
                                            "Description": "Target is not registered to the target group"}
    assert described[1]["HealthCheckPort"] == "90"
    with_anomalies = health(elb, arn, Include=["AnomalyDetection"])[0]
    assert with_anomalies["AnomalyDetection"] == {"Result": "normal", "MitigationInEffect": "no"}


def test_health_reported_by_the_runtime_owning_the_target(fast: Server, elb: Any, alb: str,
                                                          group: Callable[..., str]) -> None:
    arn = group()
    attach(fast, elb, alb, arn)
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.60"}])
    poll(lambda: state_of(health(elb, arn)[0]) == ("healthy", None))
    db = Database(Path(fast.data_dir) / "turnout.db")
    try:
        with db.transaction():
            assert report_health(db, ACCOUNT, "us-east-1", arn, "172.31.0.60", 80, "unhealthy", datetime.now(UTC))
    finally:
        db.close()
    poll(lambda: state_of(health(elb, arn)[0]) == ("unhealthy", "Target.FailedHealthChecks"))
    assert health(elb, arn)[0]["TargetHealth"]["Description"] == "Health checks failed"
