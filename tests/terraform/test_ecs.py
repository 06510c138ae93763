"""Terraform replay of the seed's ECS resources: ``aws_ecs_cluster``, ``aws_ecs_cluster_capacity_providers``
(FARGATE, FARGATE_SPOT), ``aws_ecs_task_definition`` (awsvpc, FARGATE) and ``aws_ecs_service`` (BLUE_GREEN with a
bake time and a Lambda lifecycle hook, advanced load balancer configuration, awsvpc network,
``wait_for_steady_state = true``).

Apply (create + read), a plan with no changes (every attribute read back equals what the configuration says),
an apply that changes the task definition (Terraform replaces it: DeregisterTaskDefinition of the old revision,
RegisterTaskDefinition of the new one, UpdateService to it, a new BLUE_GREEN deployment, the wait for steady
state), applies that change the cluster's setting and tags, the default capacity provider strategy, the
service's lifecycle hooks and desired count, and destroy with the provider's waits until each resource is
gone. The calls are the provider's (see :mod:`tests.terraform.ecs_support`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server
from tests.terraform.ecs_support import (
    HookEndpoint,
    Infra,
    build_infra,
    capacity_providers_destroy,
    capacity_providers_put,
    capacity_providers_state,
    cluster_create,
    cluster_destroy,
    cluster_state,
    cluster_update,
    expand_hook,
    find_cluster,
    find_service,
    find_task_definition,
    reduce_containers,
    service_create,
    service_destroy,
    service_read,
    service_update,
    task_definition_create,
    task_definition_destroy,
)

HOOK_DETAILS = json.dumps({"check": "smoke", "paths": ["/health", "/ready"]}, sort_keys=True)


@pytest.fixture(scope="module")
def hook_endpoint() -> Iterator[HookEndpoint]:
    endpoint = HookEndpoint()
    yield endpoint
    endpoint.http.shutdown()


@pytest.fixture(scope="module")
def tf_server(tmp_path_factory: pytest.TempPathFactory, hook_endpoint: HookEndpoint) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("tf-ecs") / "data",
                 ["--time-scale", "600", "--lambda", f"hook={hook_endpoint.url}"]).start()
    yield srv
    srv.stop()


def container_definitions(image: str) -> list[dict[str, Any]]:
    return [{"name": "web", "image": image, "essential": True,
             "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
             "environment": [{"name": "APP_ENV", "value": "production"}]}]


def task_definition_config(family: str, infra: Infra, image: str) -> dict[str, Any]:
    return {"family": family, "cpu": "256", "memory": "512", "network_mode": "awsvpc",
            "requires_compatibilities": ["FARGATE"], "execution_role_arn": infra.execution_role,
            "container_definitions": container_definitions(image), "tags": {"app": "web"}}


def service_config(name: str, cluster: str, task_definition: str, infra: Infra) -> dict[str, Any]:
    return {
        "name": name, "cluster": cluster, "task_definition": task_definition, "desired_count": 2,
        "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1, "base": 1},
                                       {"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        "health_check_grace_period_seconds": 30,
        "deployment_configuration": {
            "strategy": "BLUE_GREEN", "bake_time_in_minutes": "2",
            "lifecycle_hook": [{"hook_target_arn": infra.hook_function, "role_arn": infra.hook_role,
                                "lifecycle_stages": ["POST_TEST_TRAFFIC_SHIFT"], "hook_details": HOOK_DETAILS}],
        },
        "load_balancer": [{"target_group_arn": infra.blue, "container_name": "web", "container_port": 80,
                           "advanced_configuration": {"alternate_target_group_arn": infra.green,
                                                      "production_listener_rule": infra.production_rule,
                                                      "test_listener_rule": infra.test_rule,
                                                      "role_arn": infra.infra_role}}],
        "network_configuration": {"subnets": infra.subnets, "security_groups": [infra.security_group],
                                  "assign_public_ip": False},
        "tags": {"app": "web", "team": "platform"},
    }


def planned_service(config: dict[str, Any]) -> dict[str, Any]:
    """What the plan compares the read-back service with: the configuration, and the schema's defaults for the
    Optional attributes the configuration leaves unset (or what DiffSuppressFunc accepts for them)."""
    dc = config["deployment_configuration"]
    return {
        "name": config["name"], "cluster": config["cluster"], "task_definition": config["task_definition"],
        "desired_count": config["desired_count"],
        "capacity_provider_strategy": sorted((c["capacity_provider"], c["weight"], c["base"])
                                             for c in config["capacity_provider_strategy"]),
        "health_check_grace_period_seconds": config["health_check_grace_period_seconds"],
        "deployment_configuration": {
            "strategy": dc["strategy"], "bake_time_in_minutes": dc["bake_time_in_minutes"],
            "lifecycle_hook": [{**h, "hook_details": json.dumps(json.loads(h["hook_details"]), sort_keys=True)}
                               for h in dc["lifecycle_hook"]]},
        "load_balancer": config["load_balancer"],
        "network_configuration": {"subnets": sorted(config["network_configuration"]["subnets"]),
                                  "security_groups": sorted(config["network_configuration"]["security_groups"]),
                                  "assign_public_ip": config["network_configuration"]["assign_public_ip"]},
        "deployment_maximum_percent": 200, "deployment_minimum_healthy_percent": 100,
        "deployment_controller": "ECS", "enable_execute_command": False, "enable_ecs_managed_tags": False,
        "scheduling_strategy": "REPLICA", "ordered_placement_strategy": [], "placement_constraints": [],
        "service_registries": [], "service_connect_configuration": None, "volume_configuration": [],
        "vpc_lattice_configurations": [], "tags": config["tags"],
    }


def assert_no_service_diff(state: dict[str, Any], config: dict[str, Any]) -> None:
    planned = planned_service(config)
    assert {key: state[key] for key in planned} == planned
    # Optional attributes left unset whose read-back a DiffSuppressFunc (or Computed) accepts.
    assert state["propagate_tags"] in ("NONE", None)
    assert state["deployment_circuit_breaker"] in (None, {"enable": False, "rollback": False})
    assert state["alarms"] is None or state["alarms"]["enable"] is False
    assert state["launch_type"] == ""  # Computed: a capacity provider strategy service has none
    assert state["platform_version"] == "LATEST"
    assert state["availability_zone_rebalancing"] in ("ENABLED", "DISABLED")


@pytest.fixture
def world(tf_server: Server, unique: Callable[[str], str]) -> Infra:
    return build_infra(tf_server, unique("tf"))


def test_apply_plan_update_destroy(tf_server: Server, world: Infra, unique: Callable[[str], str],
                                   hook_endpoint: HookEndpoint) -> None:
    ecs = tf_server.client("ecs")
    name = unique("tf-app")

    # -- apply: cluster, its capacity providers, the task definition, then the service -------------------------
    cluster_settings = [{"name": "containerInsights", "value": "enabled"}]
    cluster = cluster_create(ecs, name, cluster_settings, {"env": "prod"})
    assert cluster["setting"] == [("containerInsights", "enabled")]
    assert cluster["tags"] == {"env": "prod"}
    assert "configuration" not in cluster  # an Optional block the configuration leaves unset reads back absent
    assert cluster["service_connect_defaults"] is None
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    providers = capacity_providers_put(ecs, name, ["FARGATE", "FARGATE_SPOT"], strategy)
    assert providers == {"capacity_providers": ["FARGATE", "FARGATE_SPOT"], "cluster_name": name,
                         "default_capacity_provider_strategy": [("FARGATE", 1, 1), ("FARGATE_SPOT", 1, 0)]}
    td_config = task_definition_config(name, world, "public.ecr.aws/nginx/nginx:1.27")
    td = task_definition_create(ecs, td_config)
    assert td["revision"] == 1
    assert {k: td[k] for k in ("cpu", "memory", "network_mode", "requires_compatibilities", "execution_role_arn",
                               "tags")} == {k: td_config[k] for k in ("cpu", "memory", "network_mode",
                                                                      "requires_compatibilities",
                                                                      "execution_role_arn", "tags")}
    # container_definitions: what AWS adds (cpu 0, empty lists, the awsvpc host port) is no diff for the provider.
    assert reduce_containers(td["container_definitions"], True) == reduce_containers(
        td_config["container_definitions"], True)
    assert td["container_definitions"][0]["portMappings"] == [{"containerPort": 80, "hostPort": 80,
                                                               "protocol": "tcp"}]

    svc_config = service_config(name, cluster["arn"], td["arn"], world)
    service_arn, state, waiter = service_create(ecs, svc_config)
    # The waiter found the new deployment through the PRIMARY deployment's ecs-svc/<n> and saw it SUCCESSFUL.
    assert waiter.new_primary and waiter.deployment_arn is not None
    number = waiter.primary["id"].split("/")[1] if waiter.primary else ""
    found = next(d for d in waiter.listed if d["serviceDeploymentArn"] == waiter.deployment_arn)
    assert found["targetServiceRevisionArn"].endswith("/" + number)
    assert_no_service_diff(state, svc_config)
    # The Lambda hook ran at its stage with the configuration's hookDetails.
    assert [(e["lifecycleStage"], e["hookDetails"]) for e in hook_endpoint.events
            if e["resourceArn"] == waiter.deployment_arn] == [
        ("POST_TEST_TRAFFIC_SHIFT", json.loads(HOOK_DETAILS))]

    # -- plan: a refresh of every resource reads back what the configuration says (no changes) ---------------
    refreshed = find_cluster(ecs, cluster["arn"])
    assert refreshed is not None and refreshed["clusterName"] == name
    assert find_cluster(ecs, name) == refreshed
    again = find_task_definition(ecs, td["arn"])
    assert again is not None and again[0]["containerDefinitions"] == td["container_definitions"]
    assert_no_service_diff(service_read(ecs, service_arn, cluster["arn"], svc_config["task_definition"]), svc_config)

    # -- apply with a new image: the task definition is replaced (deregister, register), the service updated ---
    task_definition_destroy(ecs, td["arn"])
    assert find_task_definition(ecs, td["arn"]) is None  # the old revision is INACTIVE: gone for Terraform
    td2_config = task_definition_config(name, world, "public.ecr.aws/nginx/nginx:1.28")
    td2 = task_definition_create(ecs, td2_config)
    assert td2["revision"] == 2
    svc_config["task_definition"] = td2["arn"]
    state, waiter = service_update(ecs, service_arn, svc_config, {"taskDefinition": td2["arn"]})
    assert waiter.new_primary and waiter.deployment_arn is not None
    deployment = ecs.describe_service_deployments(serviceDeploymentArns=[waiter.deployment_arn])[
        "serviceDeployments"][0]
    assert deployment["status"] == "SUCCESSFUL"
    assert deployment["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    revision = ecs.describe_service_revisions(serviceRevisionArns=[deployment["targetServiceRevision"]["arn"]])[
        "serviceRevisions"][0]
    assert revision["taskDefinition"] == td2["arn"]
    assert len(deployment["sourceServiceRevisions"]) == 1
    assert_no_service_diff(state, svc_config)
    tasks = ecs.describe_tasks(cluster=name, tasks=ecs.list_tasks(cluster=name, serviceName=name)["taskArns"])
    assert {t["taskDefinitionArn"] for t in tasks["tasks"]} == {td2["arn"]}

    # -- apply with a changed cluster setting and tags, and a changed default capacity provider strategy -------
    updated = cluster_update(ecs, cluster["arn"], [{"name": "containerInsights", "value": "disabled"}],
                             {"env": "prod"}, {"env": "production", "owner": "platform"})
    assert updated["setting"] == [("containerInsights", "disabled")]
    assert updated["tags"] == {"env": "production", "owner": "platform"}
    providers = capacity_providers_put(ecs, name, ["FARGATE", "FARGATE_SPOT"],
                                       [{"capacityProvider": "FARGATE", "weight": 2, "base": 1},
                                        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}])
    assert providers["default_capacity_provider_strategy"] == [("FARGATE", 2, 1), ("FARGATE_SPOT", 3, 0)]

    # -- a plan after the updates: still no changes ------------------------------------------------------------
    assert_no_service_diff(service_read(ecs, service_arn, cluster["arn"], svc_config["task_definition"]), svc_config)
    refreshed = find_cluster(ecs, cluster["arn"])
    assert refreshed is not None
    assert cluster_state(refreshed) == updated
    assert capacity_providers_state(refreshed) == providers

    # -- destroy: service, task definition, capacity providers, cluster (dependents first) -------------------
    service_destroy(ecs, service_arn, cluster["arn"])
    gone = find_service(ecs, service_arn, cluster["arn"], tags=False)
    assert gone is not None and gone["status"] == "INACTIVE"
    task_definition_destroy(ecs, td2["arn"])
    assert find_task_definition(ecs, td2["arn"]) is None
    capacity_providers_destroy(ecs, name)
    after = find_cluster(ecs, name)
    assert after is not None and after["capacityProviders"] == [] and after["defaultCapacityProviderStrategy"] == []
    cluster_destroy(ecs, cluster["arn"])
    assert find_cluster(ecs, cluster["arn"]) is None
    # A refresh after destroy: every resource reads as gone, with the codes the provider treats as not found.
    assert find_service(ecs, service_arn, cluster["arn"], tags=True) is None
    capacity_providers_destroy(ecs, name)  # ClusterNotFoundException: the provider's destroy returns quietly


def test_names_hooks_and_desired_count(
        tf_server: Server, world: Infra, unique: Callable[[str], str]) -> None:
    """A configuration naming the cluster by name and the task definition by family:revision reads them back in
    that format; adding a lifecycle hook (an UpdateService sending only the deployment configuration block, no
    new deployment) and changing desired_count (the waiter's one-deployment path) leave no diff."""
    ecs = tf_server.client("ecs")
    name = unique("tf-byname")
    configuration = {"executeCommandConfiguration": {"logging": "DEFAULT"}}
    cluster = cluster_create(ecs, name, [], {}, configuration)
    assert cluster["configuration"] == configuration  # an Optional block the configuration sets reads back as sent
    assert cluster["setting"] == [("containerInsights", "disabled")]  # Computed: AWS's default
    capacity_providers_put(ecs, name, ["FARGATE", "FARGATE_SPOT"],
                           [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                            {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])
    td = task_definition_create(ecs, task_definition_config(name, world, "public.ecr.aws/nginx/nginx:1.27"))
    config = service_config(name, name, f"{name}:1", world)
    arn, state, _ = service_create(ecs, config)
    assert state["cluster"] == name
    assert state["task_definition"] == f"{name}:1"  # the API answers an ARN; the Read keeps family:revision
    assert td["arn"].endswith(f"/{name}:1")
    # Adding a second hook: the provider sends the whole deployment configuration block with both hooks.
    second = {"hook_target_arn": world.hook_function, "role_arn": world.hook_role,
              "lifecycle_stages": ["PRE_SCALE_UP"], "hook_details": json.dumps({"n": 2})}
    config["deployment_configuration"]["lifecycle_hook"].append(second)
    state, waiter = service_update(ecs, arn, config, {"deploymentConfiguration": {
        "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2,
        "lifecycleHooks": [expand_hook(h) for h in config["deployment_configuration"]["lifecycle_hook"]]}})
    assert not waiter.new_primary  # a deployment configuration change starts no deployment
    assert_no_service_diff(state, config)
    assert state["deployment_maximum_percent"] == 200  # members the update did not send are kept
    # desired_count 2 -> 3: no new deployment, so the waiter waits for one deployment with 3 tasks running.
    config["desired_count"] = 3
    state, waiter = service_update(ecs, arn, config, {"desiredCount": 3})
    assert not waiter.new_primary
    assert_no_service_diff(state, config)
    running = ecs.describe_services(cluster=name, services=[arn])["services"][0]
    assert (running["runningCount"], len(running["deployments"])) == (3, 1)
    service_destroy(ecs, arn, name)
    task_definition_destroy(ecs, td["arn"])
    capacity_providers_destroy(ecs, name)
    cluster_destroy(ecs, name)


def test_failed_deployment_ends_the_wait_with_its_reason(tf_server: Server, world: Infra,
                                                         unique: Callable[[str], str],
                                                         hook_endpoint: HookEndpoint) -> None:
    """wait_for_steady_state on an update whose lifecycle hook fails: the waiter ends (no 20-minute wait) with
    the service deployment's statusReason, which Terraform reports as the apply's error."""
    ecs = tf_server.client("ecs")
    name = unique("tf-fail")
    cluster_create(ecs, name, [], {})
    capacity_providers_put(ecs, name, ["FARGATE", "FARGATE_SPOT"],
                           [{"capacityProvider": "FARGATE", "weight": 1, "base": 1}])
    td = task_definition_create(ecs, task_definition_config(name, world, "public.ecr.aws/nginx/nginx:1.27"))
    config = service_config(name, name, td["arn"], world)
    config["capacity_provider_strategy"] = [{"capacity_provider": "FARGATE", "weight": 1, "base": 1}]
    arn, _, _ = service_create(ecs, config)
    td2 = task_definition_create(ecs, task_definition_config(name, world, "public.ecr.aws/nginx/nginx:1.28"))
    hook_endpoint.failing.add(arn)
    config["task_definition"] = td2["arn"]
    with pytest.raises(AssertionError) as failure:
        service_update(ecs, arn, config, {"taskDefinition": td2["arn"]})
    assert str(failure.value) == ("Service deployment rolled back because POST_TEST_TRAFFIC_SHIFT lifecycle hook(s) "
                                  f"failed. Lifecycle hook target {world.hook_function} returned FAILED status.")
    # The rollback put the service back on the first revision: the next plan shows the configuration's new task
    # definition as a change still to apply.
    service = find_service(ecs, arn, name, tags=False)
    assert service is not None and service["taskDefinition"] == td["arn"]
    tasks = ecs.describe_tasks(cluster=name, tasks=ecs.list_tasks(cluster=name, serviceName=name)["taskArns"])
    assert {t["taskDefinitionArn"] for t in tasks["tasks"]} == {td["arn"]}
    hook_endpoint.failing.discard(arn)
    service_destroy(ecs, arn, name)
    for revision in (td, td2):
        task_definition_destroy(ecs, revision["arn"])
    capacity_providers_destroy(ecs, name)
    cluster_destroy(ecs, name)


def test_deployments_written_before_ids_agreed_stay_readable(tmp_path: Path) -> None:
    """A database from before the revision's id and ``ecs-svc/<id>`` agreed (two unrelated numbers) is read as it
    is after a restart, and the service's next deployment is found by the provider's waiter."""
    srv = Server(tmp_path / "data", ["--time-scale", "600"]).start()
    try:
        ecs = srv.client("ecs")
        world = build_infra(srv, "legacy")
        cluster_create(ecs, "legacy", [], {})
        capacity_providers_put(ecs, "legacy", ["FARGATE", "FARGATE_SPOT"],
                               [{"capacityProvider": "FARGATE", "weight": 1, "base": 1}])
        td = task_definition_create(ecs, task_definition_config("legacy", world, "public.ecr.aws/nginx/nginx:1.27"))
        config = service_config("legacy", "legacy", td["arn"], world)
        config["capacity_provider_strategy"] = [{"capacity_provider": "FARGATE", "weight": 1, "base": 1}]
        config["deployment_configuration"]["lifecycle_hook"] = []
        arn, _, _ = service_create(ecs, config)
        srv.stop()
        with sqlite3.connect(tmp_path / "data" / "turnout.db") as db:  # the old form: an unrelated number
            db.execute("UPDATE ecs_service_deployments SET legacy_id = 'ecs-svc/1234567890123456789'")
        srv.start()
        service = find_service(ecs, arn, "legacy", tags=True)
        assert service is not None and service["deployments"][0]["id"] == "ecs-svc/1234567890123456789"
        listed = ecs.list_service_deployments(cluster="legacy", service="legacy")["serviceDeployments"]
        assert len(listed) == 1 and ecs.describe_service_deployments(serviceDeploymentArns=[
            listed[0]["serviceDeploymentArn"]])["serviceDeployments"][0]["status"] == "SUCCESSFUL"
        td2 = task_definition_create(ecs, task_definition_config("legacy", world, "public.ecr.aws/nginx/nginx:1.28"))
        config["task_definition"] = td2["arn"]
        _, waiter = service_update(ecs, arn, config, {"taskDefinition": td2["arn"]})
        assert waiter.new_primary and waiter.deployment_arn is not None
    finally:
        srv.stop()
