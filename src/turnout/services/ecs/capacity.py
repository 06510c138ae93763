"""Capacity providers: the two Fargate ones every account has (``FARGATE``, ``FARGATE_SPOT``), associated with a
cluster by CreateCluster or PutClusterCapacityProviders, and DescribeCapacityProviders.

Turnout has no Auto Scaling groups, so no other capacity provider can exist (CreateCapacityProvider answers
NotImplemented): any other name is "not found", as AWS answers a name it does not know.
"""

from __future__ import annotations

from typing import Any

from ...core import arns
from ...core.context import RequestContext
from ...store.db import Database
from .common import error, invalid, page
from .store.clusters import Cluster, set_capacity_providers
from .store.services import services_in_cluster

FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
NOT_FOUND = "The specified capacity provider was not found. Specify a valid capacity provider and try again."
NOT_ASSOCIATED = ("The specified capacity provider strategy cannot contain a capacity provider that is not associated "
                  "with the cluster. Associate the capacity provider with the cluster or specify a valid capacity "
                  "provider and try again.")
IN_USE = "The specified capacity provider is in use and cannot be removed."
ONE_BASE = "A base value can only be set for one capacity provider in a capacity provider strategy."  # our wording


def provider_name(value: str) -> str:
    """A capacity provider's name from its name or ARN."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def check_strategy(strategy: list[dict[str, Any]], associated: list[str]) -> None:
    """A capacity provider strategy against the providers of its cluster."""
    based = 0
    for item in strategy:
        if item.get("capacityProvider") not in associated:
            raise invalid(NOT_ASSOCIATED)
        based += 1 if item.get("base") else 0
    if based > 1:
        raise invalid(ONE_BASE)


def check_providers(providers: list[str], strategy: list[dict[str, Any]]) -> list[str]:
    """The providers a cluster is given (names), each existing, and its default strategy over them."""
    names = [provider_name(p) for p in providers]
    for name in names:
        if name not in FARGATE_PROVIDERS:
            raise invalid(NOT_FOUND)
    check_strategy(strategy, names)
    return list(dict.fromkeys(names))


def cluster_providers(cluster: Cluster) -> tuple[list[str], list[dict[str, Any]]]:
    return list(cluster.capacity_providers), list(cluster.default_strategy)


def default_launch(config: dict[str, Any], cluster: Cluster) -> None:
    """Neither ``launchType`` nor ``capacityProviderStrategy`` given: the cluster's default capacity provider
    strategy, else the ``EC2`` launch type (AWS's defaults for CreateService and RunTask)."""
    if config.get("launchType") or config.get("capacityProviderStrategy"):
        return
    default_strategy = cluster_providers(cluster)[1]
    if default_strategy:
        config["capacityProviderStrategy"] = default_strategy
    else:
        config["launchType"] = "EC2"


def provider_view(region: str, account: str, name: str) -> dict[str, Any]:
    return {"capacityProviderArn": arns.ecs_capacity_provider(region, account, name), "name": name,
            "status": "ACTIVE", "tags": []}


class CapacityOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database

    def put_cluster_capacity_providers(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        from .clusters import cluster_view, find_cluster

        cluster = find_cluster(self.db, ctx, req["cluster"])
        strategy = req["defaultCapacityProviderStrategy"]
        names = check_providers(req["capacityProviders"], strategy)
        for service in services_in_cluster(self.db, ctx.account_id, ctx.region, cluster.name):
            used = {item.get("capacityProvider") for item in service.config.get("capacityProviderStrategy") or []}
            if used - set(names):
                raise error("ResourceInUseException", IN_USE)
        set_capacity_providers(self.db, ctx.account_id, ctx.region, cluster.name, names, strategy)
        return {"cluster": cluster_view(self.db, find_cluster(self.db, ctx, cluster.name))}

    def describe_capacity_providers(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        asked = req.get("capacityProviders")
        found: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for value in asked if asked is not None else list(FARGATE_PROVIDERS):
            name = provider_name(value)
            if name in FARGATE_PROVIDERS:
                found.append(provider_view(ctx.region, ctx.account_id, name))
            else:
                arn = value if value.startswith("arn:") else arns.ecs_capacity_provider(ctx.region, ctx.account_id,
                                                                                          name)
                failures.append({"arn": arn, "reason": "MISSING"})
        chunk, token = page(found, lambda item: str(item["name"]), req.get("nextToken"), req.get("maxResults"),
                            default=10)
        out: dict[str, Any] = {"capacityProviders": chunk, "failures": failures}
        if token:
            out["nextToken"] = token
        return out
