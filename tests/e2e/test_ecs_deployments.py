"""Blue/green, linear and canary deployments end to end: boto3 against a real server on a fast clock.

PAUSE hooks at every stage that accepts them make the progression observable step by step: at each pause the test
checks the stage, the rules' weights and the target registrations, then continues. ECS's ELB calls are checked in
CloudTrail by session name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e.ecs_deploy_support import Setup, build, pause_hooks

PAUSABLE = ["PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT"]


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose simulated waits run 600 times faster (a 5 s health check interval is ~8 ms)."""
    srv = Server(tmp_path_factory.mktemp("ecs-deploy") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


def _first_deployment(setup: Setup, config: dict[str, Any]) -> str:
    service = setup.create_service(config)
    arn = str(service["currentServiceDeployment"])
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL", done.get("statusReason")
    return arn


def test_blue_green_stage_by_stage(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    first = _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1})
    # The first deployment put revision 1 in the alternate group and shifted production to it.
    assert setup.weights(setup.prod_rule) == {setup.blue: 0, setup.green: 100}
    assert setup.deployment(first)["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    live = setup.tasks()
    assert len(live) == 2 and all(t["lastStatus"] == "RUNNING" for t in live)
    green_ips = {t["attachments"][0]["details"][-1]["value"] for t in live} if live[0]["attachments"] else set()
    assert {d["Target"]["Id"] for d in setup.targets(setup.green)} >= green_ips

    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
                           "lifecycleHooks": pause_hooks(PAUSABLE)})
    # Blue is now the alternate group (serving production); green, the primary one.
    blue, green = setup.green, setup.blue
    seen: list[str] = []
    for stage in PAUSABLE:
        found, hook = setup.wait_hook(arn, stage)
        seen.append(found["lifecycleStage"])
        prod = setup.weights(setup.prod_rule)
        test = setup.weights(setup.test_rule)
        target = found["targetServiceRevision"]
        if stage in ("PRE_SCALE_UP", "POST_SCALE_UP"):
            assert prod == {blue: 100, green: 0} and target["requestedTestTrafficWeight"] == 0.0
        if stage == "PRE_SCALE_UP":
            assert setup.targets(green) == []
        if stage == "POST_SCALE_UP":
            healthy = [d for d in setup.targets(green) if d["TargetHealth"]["State"] == "healthy"]
            assert len(healthy) == 2 and target["runningTaskCount"] == 2
        if stage in ("POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"):
            assert test == {blue: 0, green: 100} and target["requestedTestTrafficWeight"] == 100.0
            assert prod == {blue: 100, green: 0} and target["requestedProductionTrafficWeight"] == 0.0
        if stage == "POST_PRODUCTION_TRAFFIC_SHIFT":
            assert prod == {blue: 0, green: 100} and target["requestedProductionTrafficWeight"] == 100.0
        assert found["status"] == "IN_PROGRESS"
        setup.proceed(arn, hook)
    assert seen == PAUSABLE
    revision = setup.ecs.describe_service_revisions(serviceRevisionArns=[target["arn"]])["serviceRevisions"][0]
    assert revision["resolvedConfiguration"]["loadBalancers"] == [
        {"targetGroupArn": green, "productionListenerRule": setup.prod_rule}]
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL" and done["lifecycleStage"] == "CLEAN_UP"
    assert {h["status"] for h in done["lifecycleHookDetails"]} == {"SUCCEEDED"}
    assert all(h["hookId"].startswith("ecs-pause-") for h in done["lifecycleHookDetails"])
    assert setup.weights(setup.prod_rule) == {blue: 0, green: 100}
    # Blue's tasks were drained and stopped; green's run revision 2.
    running = setup.tasks()
    assert len(running) == 2 and {t["taskDefinitionArn"] for t in running} == {setup.revisions[1]}
    stopped = setup.tasks("STOPPED")
    assert len(stopped) >= 2 and all(t["stopCode"] == "ServiceSchedulerInitiated" for t in stopped)
    service = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]
    assert service["currentServiceDeployment"] == arn
    assert any("has reached a steady state" in e["message"] for e in service["events"])


def test_ecs_calls_are_in_cloudtrail_by_session_name(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    trail = fast.client("cloudtrail")
    events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "Username",
                                                    "AttributeValue": "ECSNetworkingWithELB"}])["Events"]
    mine = [json.loads(e["CloudTrailEvent"]) for e in events]
    mine = [r for r in mine if setup.role_name in r["userIdentity"].get("arn", "")]
    names = {r["eventName"] for r in mine}
    assert {"DescribeRules", "ModifyRule"} <= names
    for record in mine:
        assert record["userIdentity"]["type"] == "AssumedRole"
        assert record["userIdentity"]["invokedBy"] == "ecs.amazonaws.com"
        assert record["userIdentity"]["arn"].endswith(f":assumed-role/{setup.role_name}/ECSNetworkingWithELB")
    scheduler = trail.lookup_events(LookupAttributes=[{"AttributeKey": "Username",
                                                       "AttributeValue": "ecs-service-scheduler"}])["Events"]
    assert "RegisterTargets" in {e["EventName"] for e in scheduler}
    assumed = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])
    services = [json.loads(e["CloudTrailEvent"]) for e in assumed["Events"]]
    by_ecs = [r for r in services if r["userIdentity"]["type"] == "AWSService"
              and r.get("requestParameters", {}).get("roleArn") == setup.role_arn]
    assert by_ecs and by_ecs[0]["userIdentity"]["invokedBy"] == "ecs.amazonaws.com"


def test_linear_shifts_production_step_by_step(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    arn = setup.deploy(2, {"strategy": "LINEAR", "bakeTimeInMinutes": 0,
                           "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1},
                           "lifecycleHooks": pause_hooks(["PRE_PRODUCTION_TRAFFIC_SHIFT"])})
    blue, green = setup.green, setup.blue
    hooks: list[str] = []
    for before in (0, 25, 50, 75):
        found, hook = setup.wait_hook(arn, "PRE_PRODUCTION_TRAFFIC_SHIFT")
        if hook in hooks:  # the same pause seen again before the engine moved on
            found, hook = setup.wait_hook(arn, "PRE_PRODUCTION_TRAFFIC_SHIFT")
        assert hook not in hooks  # a fresh hook id at every step
        hooks.append(hook)
        assert setup.weights(setup.prod_rule) == {blue: 100 - before, green: before}
        assert found["targetServiceRevision"]["requestedProductionTrafficWeight"] == float(before)
        setup.proceed(arn, hook)
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL"
    assert setup.weights(setup.prod_rule) == {blue: 0, green: 100}
    assert len(hooks) == 4


def test_canary_shifts_canary_percent_then_all(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    arn = setup.deploy(2, {"strategy": "CANARY", "bakeTimeInMinutes": 0,
                           "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1},
                           "lifecycleHooks": pause_hooks(["PRE_PRODUCTION_TRAFFIC_SHIFT"])})
    blue, green = setup.green, setup.blue
    _, hook = setup.wait_hook(arn, "PRE_PRODUCTION_TRAFFIC_SHIFT")
    assert setup.weights(setup.prod_rule) == {blue: 100, green: 0}
    setup.proceed(arn, hook)
    found, second = setup.wait(arn, lambda d: any(
        h["status"] == "AWAITING_ACTION" and h["hookId"] != hook for h in d.get("lifecycleHookDetails") or [])), None
    second = next(h["hookId"] for h in found["lifecycleHookDetails"] if h["status"] == "AWAITING_ACTION")
    assert setup.weights(setup.prod_rule) == {blue: 90, green: 10}
    assert found["targetServiceRevision"]["requestedProductionTrafficWeight"] == 10.0
    setup.proceed(arn, second)
    assert setup.wait_final(arn)["status"] == "SUCCESSFUL"
    assert setup.weights(setup.prod_rule) == {blue: 0, green: 100}


def test_pause_hook_rollback_puts_traffic_back(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    test_before = setup.weights(setup.test_rule)
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                           "lifecycleHooks": pause_hooks(["POST_TEST_TRAFFIC_SHIFT"])})
    blue, green = setup.green, setup.blue
    _, hook = setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT")
    assert setup.weights(setup.test_rule) == {blue: 0, green: 100}
    setup.proceed(arn, hook, "ROLLBACK")
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"].startswith("Service deployment rolled back because POST_TEST_TRAFFIC_SHIFT")
    assert done["rollback"]["serviceRevisionArn"] == done["sourceServiceRevisions"][0]["arn"]
    assert setup.weights(setup.prod_rule) == {blue: 100, green: 0}
    assert setup.weights(setup.test_rule) == test_before
    running = setup.tasks()
    assert {t["taskDefinitionArn"] for t in running} == {setup.revisions[0]}


def test_stop_service_deployment_rolls_back_after_production_shift(fast: Server,
                                                                   unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                           "lifecycleHooks": pause_hooks(["POST_PRODUCTION_TRAFFIC_SHIFT"])})
    blue, green = setup.green, setup.blue
    setup.wait_hook(arn, "POST_PRODUCTION_TRAFFIC_SHIFT")
    assert setup.weights(setup.prod_rule) == {blue: 0, green: 100}
    setup.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert setup.weights(setup.prod_rule) == {blue: 100, green: 0}
    assert done["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
    code = None
    try:
        setup.ecs.stop_service_deployment(serviceDeploymentArn=arn)
    except setup.ecs.exceptions.ConflictException as exc:
        code = exc.response["Error"]["Code"]
    assert code == "ConflictException"


def test_continue_errors(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                                    "lifecycleHooks": pause_hooks(["PRE_SCALE_UP"])})
    arn = service["currentServiceDeployment"]
    _, hook = setup.wait_hook(arn, "PRE_SCALE_UP")
    ecs = setup.ecs
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="hookId must follow the format"):
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="nope")
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="either completed, unavailable"):
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="ecs-pause-abc")
    missing = arn.rsplit("/", 1)[0] + "/AAAAAAAAAAAAAAAAAAAAA"
    with pytest.raises(ecs.exceptions.ServiceDeploymentNotFoundException, match="does not exist"):
        ecs.continue_service_deployment(serviceDeploymentArn=missing, hookId=hook)
    setup.proceed(arn, hook)
    assert setup.wait_final(arn)["status"] == "SUCCESSFUL"
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="terminal states"):
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook)


def test_pause_hook_timeout_with_rollback(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    hooks = [{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
              "timeoutConfiguration": {"timeoutInMinutes": 1, "action": "ROLLBACK"}}]
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": hooks})
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"] == ("Service deployment rolled back because POST_TEST_TRAFFIC_SHIFT pause hook timed "
                                    "out.")
    assert [h["status"] for h in done["lifecycleHookDetails"]] == ["TIMED_OUT"]


def test_pause_hook_timeout_with_continue(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    hooks = [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
              "timeoutConfiguration": {"timeoutInMinutes": 1, "action": "CONTINUE"}}]
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": hooks})
    done = setup.wait_final(service["currentServiceDeployment"])
    assert done["status"] == "SUCCESSFUL"
    assert [h["status"] for h in done["lifecycleHookDetails"]] == ["TIMED_OUT"]


def test_unhealthy_green_tasks_roll_back(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique, image_labels=[{}, {"turnout.health": "unhealthy"}])
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    arn = setup.deploy(2)
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"] == "Service deployment rolled back because the circuit breaker threshold was exceeded."
    blue, green = setup.green, setup.blue
    assert setup.weights(setup.prod_rule) == {blue: 100, green: 0}
    service = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]
    assert any("failed ELB health checks" in e["message"] for e in service["events"])


def test_resume_after_kill(tmp_path: Path, unique: Callable[[str], str]) -> None:
    srv = Server(tmp_path / "data", ["--time-scale", "600"]).start()
    try:
        setup = build(srv, unique)
        _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
        arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                               "lifecycleHooks": pause_hooks(["POST_TEST_TRAFFIC_SHIFT"])})
        _, hook = setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT")
        srv.kill()
        time.sleep(1.1)  # CloudTrail times are whole seconds: what happens after the restart is told apart
        restarted = datetime.now(UTC)
        srv.start()
        found, again = setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT")
        assert again == hook and found["status"] == "IN_PROGRESS"
        assert setup.weights(setup.test_rule) == {setup.green: 0, setup.blue: 100}
        setup.proceed(arn, hook)
        done = setup.wait_final(arn)
        assert done["status"] == "SUCCESSFUL"
        trail = srv.client("cloudtrail")
        records = [json.loads(e["CloudTrailEvent"]) for e in trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ModifyRule"}],
            StartTime=restarted)["Events"]]
        rules = [r["requestParameters"].get("ruleArn") for r in records]
        # After the restart only production traffic moved: the test shift made before the kill did not run again.
        assert rules == [setup.prod_rule]
    finally:
        srv.stop()


def test_network_load_balancer_listeners_and_default_rules(fast: Server, unique: Callable[[str], str]) -> None:
    """NLB: the service names listeners, ECS changes their default actions (and waits its 10 minutes at each
    traffic shift); an ALB default rule is changed through its listener (a default rule cannot be modified)."""
    setup = build(fast, unique)
    elb, ec2 = setup.elb, fast.client("ec2")
    vpc = ec2.describe_subnets(SubnetIds=setup.subnets[:1])["Subnets"][0]["VpcId"]
    nlb = elb.create_load_balancer(Name=f"{setup.name}-n"[:32], Subnets=setup.subnets,
                                   Type="network")["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [elb.create_target_group(Name=f"{setup.name}-n{i}"[:32], Protocol="TCP", Port=80, VpcId=vpc,
                                      TargetType="ip", HealthCheckIntervalSeconds=10,
                                      HealthCheckTimeoutSeconds=5)["TargetGroups"][0]["TargetGroupArn"]
              for i in (1, 2)]
    prod = elb.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": groups[0]}])["Listeners"][0]["ListenerArn"]
    test = elb.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=8080, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": groups[1]}])["Listeners"][0]["ListenerArn"]
    lbs = [{"targetGroupArn": groups[0], "containerName": "web", "containerPort": 80, "advancedConfiguration": {
        "alternateTargetGroupArn": groups[1], "productionListenerRule": prod, "testListenerRule": test,
        "roleArn": setup.role_arn}}]
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}, loadBalancers=lbs)
    done = setup.wait_final(service["currentServiceDeployment"])
    assert done["status"] == "SUCCESSFUL", done.get("statusReason")

    def listener_weights(arn: str) -> dict[str, int]:
        action = elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]
        return {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}

    assert listener_weights(prod) == {groups[0]: 0, groups[1]: 100}
    assert listener_weights(test) == {groups[0]: 0, groups[1]: 100}
    trail = fast.client("cloudtrail")
    calls = [json.loads(e["CloudTrailEvent"]) for e in trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "ModifyListener"}])["Events"]]
    assert {c["requestParameters"]["listenerArn"] for c in calls} >= {prod, test}

    # An ALB whose production "rule" is its listener's default rule.
    default_rule = elb.describe_rules(ListenerArn=setup.prod_listener)["Rules"]
    default = next(r["RuleArn"] for r in default_rule if r["IsDefault"])
    elb.modify_listener(ListenerArn=setup.prod_listener, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": setup.blue}])
    elb.delete_rule(RuleArn=setup.prod_rule)
    ecs = setup.ecs
    created = ecs.create_service(
        cluster=setup.cluster, serviceName=f"{setup.name}-d", taskDefinition=setup.revisions[0], desiredCount=1,
        launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {"subnets": setup.subnets}},
        loadBalancers=[{"targetGroupArn": setup.blue, "containerName": "web", "containerPort": 80,
                        "advancedConfiguration": {"alternateTargetGroupArn": setup.green,
                                                  "productionListenerRule": default,
                                                  "testListenerRule": setup.test_rule,
                                                  "roleArn": setup.role_arn}}],
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})["service"]
    done = setup.wait_final(created["currentServiceDeployment"])
    assert done["status"] == "SUCCESSFUL", done.get("statusReason")
    action = elb.describe_listeners(ListenerArns=[setup.prod_listener])["Listeners"][0]["DefaultActions"][0]
    assert {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]} == {
        setup.blue: 0, setup.green: 100}


def test_stopped_task_is_deregistered_and_replaced(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    victim = setup.tasks()[0]
    ip = victim["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    stopped = setup.ecs.stop_task(cluster=setup.cluster, task=victim["taskArn"], reason="testing replacement")["task"]
    assert stopped["desiredStatus"] == "STOPPED" and stopped["stoppedReason"] == "testing replacement"
    # The replacement starts while the stopped task deactivates: neither waits for the other, so wait for both.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        running = [t for t in setup.tasks() if t["lastStatus"] == "RUNNING"]
        states = {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in setup.targets(setup.green)}
        if len(running) == 2 and victim["taskArn"] not in {t["taskArn"] for t in running} \
                and states.get(ip) in (None, "draining"):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the stopped task was not replaced and deregistered: {states}")
    final = setup.ecs.describe_tasks(cluster=setup.cluster, tasks=[victim["taskArn"]])["tasks"][0]
    assert final["stopCode"] == "UserInitiated"
    new_ip = next(t for t in running if t["taskArn"] != victim["taskArn"] and t["containers"][0][
        "networkInterfaces"][0]["privateIpv4Address"] != ip)["containers"][0]["networkInterfaces"][0][
        "privateIpv4Address"]
    assert new_ip in states


def test_a_deployment_over_an_unfinished_one_reconciles(fast: Server, unique: Callable[[str], str]) -> None:
    """A new deployment while one is under way: the older one is STOPPED, and the new one starts with the
    RECONCILE_SERVICE stage (more than one revision running)."""
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    older = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                             "lifecycleHooks": pause_hooks(["POST_SCALE_UP"])})
    setup.wait_hook(older, "POST_SCALE_UP")
    newer = setup.deploy(1, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                             "lifecycleHooks": pause_hooks(["RECONCILE_SERVICE"])})
    found, hook = setup.wait_hook(newer, "RECONCILE_SERVICE")
    assert len(found["sourceServiceRevisions"]) == 2
    stopped = setup.deployment(older)
    assert stopped["status"] == "STOPPED" and newer in stopped["statusReason"]
    setup.proceed(newer, hook)
    assert setup.wait_final(newer)["status"] == "SUCCESSFUL"
    # Production serves revision 1 from tasks this deployment launched, healthy in the group it points at.
    running = setup.tasks()
    assert len(running) == 2 and {t["taskDefinitionArn"] for t in running} == {setup.revisions[0]}
    serving = next(tg for tg, weight in setup.weights(setup.prod_rule).items() if weight == 100)
    healthy = {d["Target"]["Id"] for d in setup.targets(serving) if d["TargetHealth"]["State"] == "healthy"}
    assert healthy == {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in running}


def test_deleted_service_drains_to_inactive(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first_deployment(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    deleted = setup.ecs.delete_service(cluster=setup.cluster, service=setup.name, force=True)["service"]
    assert deleted["status"] == "DRAINING"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]
        if shown["status"] == "INACTIVE":
            break
        time.sleep(0.05)
    assert shown["status"] == "INACTIVE"
    ecs = setup.ecs
    assert ecs.list_tasks(cluster=setup.cluster)["taskArns"] == []
    assert len(ecs.list_tasks(cluster=setup.cluster, desiredStatus="STOPPED")["taskArns"]) == 2
    assert all(d["TargetHealth"]["State"] == "draining" for d in setup.targets(setup.green))
    assert setup.ecs.list_services(cluster=setup.cluster)["serviceArns"] == []


def test_health_reports_the_engine(fast: Server, unique: Callable[[str], str]) -> None:
    import urllib.request

    def health() -> dict[str, Any]:
        with urllib.request.urlopen(fast.endpoint + "/_turnout/health", timeout=5) as response:
            found: dict[str, Any] = json.loads(response.read())["ecs"]
            return found

    setup = build(fast, unique)
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                                    "lifecycleHooks": pause_hooks(["POST_SCALE_UP"])})
    arn = service["currentServiceDeployment"]
    setup.wait_hook(arn, "POST_SCALE_UP")
    during = health()
    assert during["engine"] == "running"
    assert during["deployments_in_progress"] >= 1 and during["tasks_running"] >= 2
