"""Capacity providers: FARGATE and FARGATE_SPOT associated with clusters (CreateCluster,
PutClusterCapacityProviders, as Terraform's aws_ecs_cluster_capacity_providers does), DescribeCapacityProviders,
and services that take the cluster's default strategy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, aws_cli, cli_ok, error_of

ACCOUNT = "000000000000"
NOT_FOUND = "The specified capacity provider was not found. Specify a valid capacity provider and try again."
NOT_ASSOCIATED = ("The specified capacity provider strategy cannot contain a capacity provider that is not associated "
                  "with the cluster. Associate the capacity provider with the cluster or specify a valid capacity "
                  "provider and try again.")


@pytest.fixture(scope="module")
def ecs(server: Server) -> Any:
    return server.client("ecs")


def test_cluster_with_fargate_capacity_providers(ecs: Any, unique: Callable[[str], str]) -> None:
    name = unique("cap")
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 4, "base": 0}]
    created = ecs.create_cluster(clusterName=name, capacityProviders=["FARGATE", "FARGATE_SPOT"],
                                 defaultCapacityProviderStrategy=strategy)["cluster"]
    assert created["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert created["defaultCapacityProviderStrategy"] == strategy
    shown = ecs.describe_clusters(clusters=[name])["clusters"][0]
    assert shown["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert error_of(ecs.create_cluster, clusterName=unique("cap"), capacityProviders=["my-asg-provider"]) == (
        "InvalidParameterException", NOT_FOUND, 400)


def test_put_cluster_capacity_providers(ecs: Any, unique: Callable[[str], str]) -> None:
    name = unique("cap")
    ecs.create_cluster(clusterName=name)
    put = ecs.put_cluster_capacity_providers(
        cluster=name, capacityProviders=["FARGATE"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])["cluster"]
    assert put["capacityProviders"] == ["FARGATE"]
    assert put["defaultCapacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    assert error_of(ecs.put_cluster_capacity_providers, cluster=name, capacityProviders=["FARGATE"],
                    defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}]) == (
        "InvalidParameterException", NOT_ASSOCIATED, 400)
    code, _, status = error_of(ecs.put_cluster_capacity_providers, cluster=unique("none"), capacityProviders=[],
                               defaultCapacityProviderStrategy=[])
    assert (code, status) == ("ClusterNotFoundException", 400)
    emptied = ecs.put_cluster_capacity_providers(cluster=name, capacityProviders=[],
                                                 defaultCapacityProviderStrategy=[])["cluster"]
    assert emptied["capacityProviders"] == [] and emptied["defaultCapacityProviderStrategy"] == []


def test_describe_capacity_providers(ecs: Any) -> None:
    everything = ecs.describe_capacity_providers()
    assert [p["name"] for p in everything["capacityProviders"]] == ["FARGATE", "FARGATE_SPOT"]
    assert everything["capacityProviders"][0] == {
        "capacityProviderArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:capacity-provider/FARGATE", "name": "FARGATE",
        "status": "ACTIVE", "tags": []}
    asked = ecs.describe_capacity_providers(capacityProviders=["FARGATE_SPOT", "nope"])
    assert [p["name"] for p in asked["capacityProviders"]] == ["FARGATE_SPOT"]
    assert asked["failures"] == [{"arn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:capacity-provider/nope",
                                  "reason": "MISSING"}]


def test_a_service_takes_the_cluster_default_strategy(server: Server, ecs: Any, unique: Callable[[str], str]) -> None:
    ec2 = server.client("ec2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
    name = unique("cap")
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    ecs.create_cluster(clusterName=name, capacityProviders=["FARGATE", "FARGATE_SPOT"],
                       defaultCapacityProviderStrategy=strategy)
    td = ecs.register_task_definition(
        family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "nginx", "essential": True}])["taskDefinition"]
    service = ecs.create_service(cluster=name, serviceName="app", taskDefinition=td["taskDefinitionArn"],
                                 desiredCount=1, networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}})[
        "service"]
    assert service["capacityProviderStrategy"] == strategy and "launchType" not in service
    # A provider a service uses cannot be taken from its cluster.
    assert error_of(ecs.put_cluster_capacity_providers, cluster=name, capacityProviders=["FARGATE"],
                    defaultCapacityProviderStrategy=[]) == (
        "ResourceInUseException", "The specified capacity provider is in use and cannot be removed.", 400)


def test_with_the_cli(server: Server, unique: Callable[[str], str], tmp_path: Path) -> None:
    name = unique("cap")
    cli_ok(aws_cli(server, tmp_path, "ecs", "create-cluster", "--cluster-name", name))
    put = cli_ok(aws_cli(server, tmp_path, "ecs", "put-cluster-capacity-providers", "--cluster", name,
                         "--capacity-providers", "FARGATE", "FARGATE_SPOT", "--default-capacity-provider-strategy",
                         json.dumps([{"capacityProvider": "FARGATE", "weight": 1}])))
    assert put["cluster"]["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
