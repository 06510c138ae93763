"""The details of ECS deployments that pipelines poll and hook functions read (issue 15; docs/ecs-deployments.md):
StopServiceDeployment's ROLLBACK_REQUESTED and stoppedAt, PRIMARY after a rollback, no hook left waiting once a
deployment ends, the Lambda hook event's layout at every stage, and lifecycleStage during a rollback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import LambdaEndpoint, Server
from tests.e2e.ecs_deploy_support import Setup, build, pause_hooks

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:hook"
LAMBDA_STAGES = ["PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
                 "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"]
BG = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A clock only 30 times faster: ECS takes a stop request up 10 simulated seconds later (a third of a second)."""
    srv = Server(tmp_path_factory.mktemp("ecs-details-slow") / "data", ["--time-scale", "30"]).start()
    yield srv
    srv.stop()


def _deployed(server: Server, unique: Callable[[str], str]) -> Setup:
    setup = build(server, unique)
    service = setup.create_service(BG)
    assert setup.wait_final(service["currentServiceDeployment"], timeout=120)["status"] == "SUCCESSFUL"
    return setup


def _lambda_role(server: Server, unique: Callable[[str], str]) -> str:
    iam = server.client("iam")
    name = unique("hook-role")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                "Resource": FUNCTION}]}))
    return arn


def _service(setup: Setup) -> dict[str, Any]:
    found: dict[str, Any] = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]
    return found


# -- 2, 3, 4: StopServiceDeployment ----------------------------------------------------------------------------------


def test_stop_goes_through_rollback_requested_and_sets_stopped_at(slow: Server,
                                                                  unique: Callable[[str], str]) -> None:
    setup = _deployed(slow, unique)
    arn = setup.deploy(2, {**BG, "lifecycleHooks": pause_hooks(["POST_TEST_TRAFFIC_SHIFT"])})
    setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT", timeout=120)
    setup.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    requested = setup.deployment(arn)
    # AWS: "IN_PROGRESS - The service deployment moves to the ROLLBACK_REQUESTED state, and then the rollback
    # operation starts."; stoppedAt: "A user manually stops the deployment".
    assert requested["status"] == "ROLLBACK_REQUESTED"
    assert "stoppedAt" in requested and "finishedAt" not in requested
    seen = ["ROLLBACK_REQUESTED"]

    def note(d: dict[str, Any]) -> bool:
        if d["status"] != seen[-1]:
            seen.append(d["status"])
        return d["status"] in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")

    done = setup.wait(arn, note, timeout=120)
    assert done["status"] == "ROLLBACK_SUCCESSFUL", done.get("statusReason")
    assert seen[0] == "ROLLBACK_REQUESTED" and seen[-1] == "ROLLBACK_SUCCESSFUL"
    assert set(seen) <= {"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"}
    assert done["stoppedAt"] == requested["stoppedAt"] and done["finishedAt"] >= done["stoppedAt"]
    # 4: the pause hook the stop cut short does not keep AWAITING_ACTION.
    assert [h["status"] for h in done["lifecycleHookDetails"]] == ["FAILED"]

    # 3: PRIMARY is the revision the service runs again, under the id of the deployment that deployed it.
    first = setup.ecs.list_service_deployments(cluster=setup.cluster, service=setup.name)["serviceDeployments"]
    service = _service(setup)
    primary = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
    assert len(primary) == 1
    assert primary[0]["taskDefinition"] == setup.revisions[0] == service["taskDefinition"]
    assert primary[0]["rolloutState"] == "COMPLETED"
    others = [d for d in service["deployments"] if d["status"] != "PRIMARY"]
    assert all(d["status"] == "ACTIVE" and d["taskDefinition"] == setup.revisions[1]
               and d["rolloutState"] == "FAILED" for d in others)
    assert service["currentServiceDeployment"] == arn and len(first) == 2
    source = done["sourceServiceRevisions"][0]["arn"]
    current = {r["arn"]: r for r in service["currentServiceRevisions"]}
    assert current[source]["requestedTaskCount"] == 2


def test_superseded_deployment_leaves_no_hook_awaiting_action(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    older = setup.deploy(2, {**BG, "lifecycleHooks": pause_hooks(["POST_SCALE_UP"])})
    setup.wait_hook(older, "POST_SCALE_UP")
    newer = setup.deploy(1, {**BG, "lifecycleHooks": []})
    stopped = setup.wait_final(older)
    assert stopped["status"] == "STOPPED" and newer in stopped["statusReason"]
    assert [h["status"] for h in stopped["lifecycleHookDetails"]] == ["FAILED"]
    assert "stoppedAt" in stopped
    assert setup.wait_final(newer)["status"] == "SUCCESSFUL"


def test_hook_in_progress_next_to_a_failed_one_ends_failed(fast: Server, unique: Callable[[str], str],
                                                           endpoint: LambdaEndpoint) -> None:
    setup = _deployed(fast, unique)
    role = _lambda_role(fast, unique)

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        if event.get("hookDetails", {}).get("kind") == "slow":
            return {"hookStatus": "IN_PROGRESS", "callBackDelay": 600}
        return {"hookStatus": "FAILED"}

    endpoint.answer = answer
    hooks = [{"targetType": "AWS_LAMBDA", "hookTargetArn": FUNCTION, "roleArn": role,
              "lifecycleStages": ["POST_SCALE_UP"], "hookDetails": {"kind": kind}} for kind in ("slow", "failing")]
    arn = setup.deploy(2, {**BG, "lifecycleHooks": hooks})
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL", done.get("statusReason")
    assert [h["status"] for h in done["lifecycleHookDetails"]] == ["FAILED", "FAILED"]


# -- 5: the Lambda hook event ------------------------------------------------------------------------------------------


def test_lambda_event_has_aws_layout_at_every_stage(fast: Server, unique: Callable[[str], str],
                                                    endpoint: LambdaEndpoint) -> None:
    setup = _deployed(fast, unique)
    role = _lambda_role(fast, unique)
    endpoint.answer = lambda event: {"hookStatus": "SUCCEEDED"}
    before = len(endpoint.events)
    hooks = [{"targetType": "AWS_LAMBDA", "hookTargetArn": FUNCTION, "roleArn": role,
              "lifecycleStages": LAMBDA_STAGES}]
    arn = setup.deploy(2, {**BG, "lifecycleHooks": hooks})
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL", done.get("statusReason")
    events = [e for e in endpoint.events[before:] if e["resourceArn"] == arn]
    assert [e["lifecycleStage"] for e in events] == LAMBDA_STAGES
    green = done["targetServiceRevision"]["arn"]
    blue = done["sourceServiceRevisions"][0]["arn"]
    service = _service(setup)["serviceArn"]
    expected: dict[str, tuple[dict[str, int], dict[str, int]]] = {
        "TEST_TRAFFIC_SHIFT": ({green: 100, blue: 0}, {}),
        "PRE_PRODUCTION_TRAFFIC_SHIFT": ({}, {green: 0, blue: 100}),
        "PRODUCTION_TRAFFIC_SHIFT": ({}, {green: 100, blue: 0}),
    }
    for event in events:
        # AWS's "Common payload structure": these four at the top; the rest in executionDetails; no hookDetails
        # for a hook configured without any.
        assert sorted(event) == ["executionDetails", "executionId", "lifecycleStage", "resourceArn"]
        test, production = expected.get(event["lifecycleStage"], ({}, {}))
        assert event["executionDetails"] == {"serviceArn": service, "targetServiceRevisionArn": green,
                                             "testTrafficWeights": test, "productionTrafficWeights": production}
        for weights in (event["executionDetails"]["testTrafficWeights"],
                        event["executionDetails"]["productionTrafficWeights"]):
            assert all(type(w) is int for w in weights.values())  # sent as 100 and 0, as AWS's examples
    assert len({e["executionId"] for e in events}) == len(events)


# -- 6: lifecycleStage during a rollback ------------------------------------------------------------------------------


def test_lifecycle_stage_during_a_rollback(fast: Server, unique: Callable[[str], str],
                                           endpoint: LambdaEndpoint) -> None:
    setup = _deployed(fast, unique)
    role = _lambda_role(fast, unique)
    ecs = fast.client("ecs")
    calls: dict[str, int] = {}
    during: list[tuple[str, str, str]] = []
    lock = threading.Lock()

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        details = event["executionDetails"]
        green = details["targetServiceRevisionArn"]
        if details["productionTrafficWeights"].get(green) == 100:
            return {"hookStatus": "FAILED"}  # the production shift fails: the deployment rolls back
        with lock:
            calls[event["executionId"]] = calls.get(event["executionId"], 0) + 1
            first = calls[event["executionId"]] == 1
        if first:
            return {"hookStatus": "IN_PROGRESS", "callBackDelay": 5}
        found = ecs.describe_service_deployments(serviceDeploymentArns=[event["resourceArn"]])["serviceDeployments"][0]
        during.append((event["lifecycleStage"], found["status"], found["lifecycleStage"]))
        return {"hookStatus": "SUCCEEDED"}

    endpoint.answer = answer
    hooks = [{"targetType": "AWS_LAMBDA", "hookTargetArn": FUNCTION, "roleArn": role,
              "lifecycleStages": ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"]}]
    arn = setup.deploy(2, {**BG, "lifecycleHooks": hooks})
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL", done.get("statusReason")
    rollback = [(hook_stage, stage) for hook_stage, status, stage in during if status == "ROLLBACK_IN_PROGRESS"]
    # The rollback re-runs the production then the test traffic-shift hooks; lifecycleStage names that stage.
    assert rollback == [("PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"),
                        ("TEST_TRAFFIC_SHIFT", "TEST_TRAFFIC_SHIFT")]
    assert done["lifecycleStage"] == "CLEAN_UP"
    assert all(h["status"] in ("SUCCEEDED", "FAILED") for h in done["lifecycleHookDetails"])


# -- 7: the first deployment of a new BLUE_GREEN service ------------------------------------------------------------


def test_first_deployment_of_a_new_service_runs_the_blue_green_path(fast: Server, unique: Callable[[str], str]) -> None:
    """As observed on AWS ("green=100/blue=0 after the initial deployment"; docs/ecs-deployments.md): every stage
    and its hooks run, the tasks start in the group production did not forward to, and both rules end there."""
    setup = build(fast, unique)
    assert setup.weights(setup.prod_rule) == {setup.blue: 100, setup.green: 0}
    service = setup.create_service({**BG, "lifecycleHooks": pause_hooks(["PRE_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT"])})
    arn = service["currentServiceDeployment"]
    found, hook = setup.wait_hook(arn, "PRE_SCALE_UP")
    assert found["sourceServiceRevisions"] == [] and setup.tasks() == []
    setup.proceed(arn, hook)
    _, hook = setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT")
    assert setup.weights(setup.test_rule) == {setup.blue: 0, setup.green: 100}
    assert setup.weights(setup.prod_rule) == {setup.blue: 100, setup.green: 0}
    setup.proceed(arn, hook)
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL", done.get("statusReason")
    assert setup.weights(setup.prod_rule) == {setup.blue: 0, setup.green: 100}
    assert setup.weights(setup.test_rule) == {setup.blue: 0, setup.green: 100}
    ips = {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in setup.tasks()}
    assert len(ips) == 2 and {d["Target"]["Id"] for d in setup.targets(setup.green)} == ips
    assert setup.targets(setup.blue) == []
    primary = [d for d in _service(setup)["deployments"] if d["status"] == "PRIMARY"]
    assert [d["taskDefinition"] for d in primary] == [setup.revisions[0]]
