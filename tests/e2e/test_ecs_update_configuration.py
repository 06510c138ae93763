"""UpdateService's deploymentConfiguration with real boto3: the members a request gives replace the service's,
the others are kept; switching strategy while sending only the new strategy's configuration drops the old
strategy's (never a refusal over a member the caller did not send); what the caller does send is still checked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server, error_of
from tests.e2e.ecs_support import World

INVALID = "InvalidParameterException"


@pytest.fixture
def world(server: Server, unique: Callable[[str], str]) -> Iterator[World]:
    made = World(server, unique)
    yield made
    made.destroy()


def update(world: World, name: str, config: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = world.ecs.update_service(cluster=world.cluster, service=name,
                                                     deploymentConfiguration=config)["service"][
        "deploymentConfiguration"]
    described = world.ecs.describe_services(cluster=world.cluster, services=[name])["services"][0]
    assert described["deploymentConfiguration"] == shown
    return shown


def test_linear_to_canary_and_back(world: World) -> None:
    name = world.service(deploymentConfiguration={
        "strategy": "LINEAR", "bakeTimeInMinutes": 3, "maximumPercent": 150,
        "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": 2}})["serviceName"]
    canary = update(world, name, {"strategy": "CANARY",
                                  "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 4}})
    assert canary["strategy"] == "CANARY"
    assert canary["canaryConfiguration"] == {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 4}
    assert "linearConfiguration" not in canary
    assert (canary["bakeTimeInMinutes"], canary["maximumPercent"]) == (3, 150)  # not sent: kept
    linear = update(world, name, {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 25.0}})
    assert linear["linearConfiguration"] == {"stepPercent": 25.0, "stepBakeTimeInMinutes": 6}
    assert "canaryConfiguration" not in linear
    # Only the strategy: the new strategy takes its defaults, the old one's configuration goes.
    bare = update(world, name, {"strategy": "CANARY"})
    assert bare["canaryConfiguration"] == {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10}
    assert "linearConfiguration" not in bare


def test_to_blue_green_and_to_rolling(world: World) -> None:
    hook = {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}
    name = world.service(deploymentConfiguration={
        "strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0},
        "lifecycleHooks": [hook]})["serviceName"]
    blue_green = update(world, name, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    assert "canaryConfiguration" not in blue_green
    assert [h["lifecycleStages"] for h in blue_green["lifecycleHooks"]] == [["POST_SCALE_UP"]]  # kept
    rolling = update(world, name, {"strategy": "ROLLING"})
    assert rolling["strategy"] == "ROLLING"
    assert "lifecycleHooks" not in rolling  # a ROLLING service has none; the caller did not send them
    # Hooks the caller does send with ROLLING are still refused.
    assert error_of(world.ecs.update_service, cluster=world.cluster, service=name, deploymentConfiguration={
        "lifecycleHooks": [hook]})[0] == INVALID


def test_members_not_sent_are_kept(world: World) -> None:
    name = world.service(deploymentConfiguration={
        "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5, "maximumPercent": 150, "minimumHealthyPercent": 50,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}]})["serviceName"]
    changed = update(world, name, {"bakeTimeInMinutes": 1})
    assert changed["bakeTimeInMinutes"] == 1
    assert (changed["strategy"], changed["maximumPercent"], changed["minimumHealthyPercent"]) == (
        "BLUE_GREEN", 150, 50)
    assert changed["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert len(changed["lifecycleHooks"]) == 1
    # "To remove an existing deployment circuit breaker, specify an empty object"; an empty list removes hooks.
    cleared = update(world, name, {"deploymentCircuitBreaker": {"enable": False, "rollback": False},
                                   "lifecycleHooks": []})
    assert cleared["deploymentCircuitBreaker"] == {"enable": False, "rollback": False}
    assert not cleared.get("lifecycleHooks")


def test_what_the_caller_sends_is_checked(world: World) -> None:
    name = world.service(deploymentConfiguration={"strategy": "LINEAR"})["serviceName"]
    code, message, status = error_of(world.ecs.update_service, cluster=world.cluster, service=name,
                                     deploymentConfiguration={"strategy": "CANARY",
                                                              "linearConfiguration": {"stepPercent": 10.0}})
    assert (code, message, status) == (INVALID, "linearConfiguration is only valid when the deployment strategy is "
                                                "LINEAR.", 400)
    # A refused update changed nothing.
    kept = world.ecs.describe_services(cluster=world.cluster, services=[name])["services"][0]
    assert kept["deploymentConfiguration"]["strategy"] == "LINEAR"
    assert kept["deploymentConfiguration"]["linearConfiguration"] == {"stepPercent": 10.0,
                                                                      "stepBakeTimeInMinutes": 6}


def test_a_partial_nested_member_takes_its_defaults(world: World) -> None:
    """As observed on AWS: a nested member given in part replaces the stored one whole, with the defaults for
    what it leaves out (linearConfiguration {stepPercent: 44} over {33, 9} is {44, 6})."""
    name = world.service(deploymentConfiguration={
        "strategy": "LINEAR", "linearConfiguration": {"stepPercent": 33.0, "stepBakeTimeInMinutes": 9},
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                            "timeoutConfiguration": {"timeoutInMinutes": 31, "action": "CONTINUE"}}]})["serviceName"]
    linear = update(world, name, {"linearConfiguration": {"stepPercent": 44.0}})
    assert linear["linearConfiguration"] == {"stepPercent": 44.0, "stepBakeTimeInMinutes": 6}
    hooks = update(world, name, {"lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                                                     "timeoutConfiguration": {"timeoutInMinutes": 45}}]})
    assert hooks["lifecycleHooks"][0]["timeoutConfiguration"] == {"timeoutInMinutes": 45, "action": "ROLLBACK"}
