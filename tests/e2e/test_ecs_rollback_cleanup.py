"""After any rollback or stop, both listener rules and the target registrations are what the revision serving
production needs (issue 15, point 1; docs/ecs-deployments.md, "Listener rules and targets after a rollback or a
stop"): a CANARY deployment paused at a stage, then rolled back with ContinueServiceDeployment, stopped with
StopServiceDeployment, or superseded by a newer deployment that is itself rolled back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e.ecs_deploy_support import MANAGED, Setup, build, pause_hooks

CANARY = {"strategy": "CANARY", "bakeTimeInMinutes": 0,
          "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 0}}
# (stage, which pause at that stage): PRE_PRODUCTION_TRAFFIC_SHIFT's second pause comes after the canary step,
# with production split 80/20.
STAGES = [("PRE_SCALE_UP", 1), ("POST_SCALE_UP", 1), ("POST_TEST_TRAFFIC_SHIFT", 1),
          ("PRE_PRODUCTION_TRAFFIC_SHIFT", 2), ("POST_PRODUCTION_TRAFFIC_SHIFT", 1)]
ACTIONS = ["continue-rollback", "stop", "supersede-then-rollback"]


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("ecs-cleanup") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


def _pause(setup: Setup, arn: str, stage: str, nth: int) -> str:
    """Until the ``nth`` pause at ``stage`` awaits action (earlier ones continued): its hook id."""
    seen: set[str] = set()
    while True:
        _, hook = setup.wait_hook(arn, stage)
        if hook in seen:
            time.sleep(0.02)
            continue
        seen.add(hook)
        if len(seen) == nth:
            return hook
        setup.proceed(arn, hook)


def _serving_ips(setup: Setup, td: str) -> set[str]:
    return {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in setup.tasks()
            if t["taskDefinitionArn"] == td}


def _registered(setup: Setup, tg: str) -> set[str]:
    return {d["Target"]["Id"] for d in setup.targets(tg) if d["TargetHealth"]["State"] != "draining"}


def _settled(setup: Setup, serving_tg: str, other_tg: str, td: str, timeout: float = 60.0) -> None:
    """Until only ``td``'s tasks run, all of them registered in ``serving_tg``, nothing (but draining) in the other."""
    deadline = time.monotonic() + timeout
    state: Any = None
    while time.monotonic() < deadline:
        tasks = setup.tasks()
        ips = _serving_ips(setup, td)
        state = ({t["taskDefinitionArn"] for t in tasks}, len(tasks), ips, _registered(setup, serving_tg),
                 _registered(setup, other_tg))
        if state[0] == {td} and state[1] == 2 and state[2] == state[3] and not state[4]:
            return
        time.sleep(0.05)
    raise AssertionError(f"tasks and targets did not settle: {state}")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(("stage", "nth"), STAGES)
def test_rules_and_targets_after_rollback_or_stop(fast: Server, unique: Callable[[str], str], stage: str, nth: int,
                                                  action: str) -> None:
    setup = build(fast, unique)
    service = setup.create_service(CANARY)
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    # The first deployment serves production from the alternate group: that is blue now.
    blue, green = setup.green, setup.blue
    assert setup.weights(setup.prod_rule) == {blue: 100, green: 0}
    older = setup.deploy(2, {**CANARY, "lifecycleHooks": pause_hooks([stage])})
    hook = _pause(setup, older, stage, nth)
    serving_tg, other_tg, serving_td = blue, green, setup.revisions[0]
    if action == "continue-rollback":
        setup.proceed(older, hook, "ROLLBACK")
        done = setup.wait_final(older)
        assert done["status"] == "ROLLBACK_SUCCESSFUL", done.get("statusReason")
    elif action == "stop":
        setup.ecs.stop_service_deployment(serviceDeploymentArn=older)
        done = setup.wait_final(older)
        assert done["status"] == "ROLLBACK_SUCCESSFUL", done.get("statusReason")
    else:
        newer = setup.deploy(1, {**CANARY, "lifecycleHooks": pause_hooks(["PRE_SCALE_UP"])})
        _, newer_hook = setup.wait_hook(newer, "PRE_SCALE_UP")
        stopped = setup.deployment(older)
        assert stopped["status"] == "STOPPED" and newer in stopped["statusReason"], stopped.get("statusReason")
        if stage == "POST_PRODUCTION_TRAFFIC_SHIFT":
            # All production traffic was on green: green stays, and the newer deployment goes back to it.
            serving_tg, other_tg, serving_td = green, blue, setup.revisions[1]
        setup.proceed(newer, newer_hook, "ROLLBACK")
        done = setup.wait_final(newer)
        assert done["status"] == "ROLLBACK_SUCCESSFUL", done.get("statusReason")
        back = setup.ecs.describe_service_revisions(serviceRevisionArns=[done["rollback"]["serviceRevisionArn"]])
        assert back["serviceRevisions"][0]["taskDefinition"] == serving_td
    assert setup.weights(setup.prod_rule) == {serving_tg: 100, other_tg: 0}
    test = setup.weights(setup.test_rule)
    assert test.get(serving_tg, 0) > 0 and all(w == 0 for tg, w in test.items() if tg != serving_tg), test
    _settled(setup, serving_tg, other_tg, serving_td)
    described = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]
    assert described["taskDefinition"] == serving_td
    primary = [d for d in described["deployments"] if d["status"] == "PRIMARY"]
    assert [d["taskDefinition"] for d in primary] == [serving_td]


def test_superseded_deployment_says_which_rule_is_left_where_when_it_cannot_put_it_back(
        fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    service = setup.create_service(CANARY)
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    blue, green = setup.green, setup.blue
    older = setup.deploy(2, {**CANARY, "lifecycleHooks": pause_hooks(["POST_TEST_TRAFFIC_SHIFT"])})
    setup.wait_hook(older, "POST_TEST_TRAFFIC_SHIFT")
    fast.client("iam").detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    newer = setup.deploy(1, {**CANARY, "lifecycleHooks": []})
    stopped = setup.wait_final(older)
    assert stopped["status"] == "STOPPED"
    where = (f"Test listener rule {setup.test_rule} is left forwarding to {blue} (weight 0), {green} (weight 100).")
    reason = stopped["statusReason"]
    assert reason.startswith(f"Service deployment stopped because a new service deployment {newer} started. ECS "
                             "could not put its traffic back because ")
    assert "is not authorized to perform: elasticloadbalancing:" in reason and reason.endswith(where), reason
    events = [e["message"] for e in
              setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]["events"]]
    assert any(m.startswith(f"(service {setup.name}) (deployment ") and m.endswith(where) for m in events)
    assert setup.weights(setup.test_rule) == {blue: 0, green: 100}
    setup.wait_final(newer)
