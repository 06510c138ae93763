"""Clusters: CreateCluster, DescribeClusters, ListClusters, DeleteCluster, UpdateCluster, UpdateClusterSettings.

A deleted cluster stays visible to DescribeClusters as INACTIVE (as AWS keeps it); ListClusters lists only ACTIVE
ones. DeleteCluster refuses a cluster with ACTIVE or DRAINING services, or with tasks not yet STOPPED. The counts
a cluster shows (activeServicesCount, runningTasksCount, pendingTasksCount) are read from the service and task
tables; PROVISIONING, PENDING and ACTIVATING tasks count as pending.
"""

from __future__ import annotations

from typing import Any

from ...core import arns
from ...core.context import RequestContext
from ...store.db import Database
from .capacity import check_providers
from .common import NAME, cluster_not_found, error, invalid, page
from .store import services as service_store
from .store import tasks as task_store
from .store.clusters import (
    Cluster,
    active_cluster_arns,
    cluster,
    cluster_by_arn,
    create_cluster,
    set_cluster_inactive,
    update_cluster,
)
from .tags import check_new_tags, drop_tags, get_tags, put_tags

SETTING_VALUES = ("enabled", "disabled", "enhanced")
INCLUDES = ("ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS")


def cluster_name(value: str | None) -> str:
    """The ``cluster`` parameter (name or ARN, ``default`` when absent) -> the cluster's name."""
    if not value:
        return "default"
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def check_settings(settings: list[dict[str, Any]]) -> list[dict[str, str]]:
    out: dict[str, str] = {"containerInsights": "disabled"}
    for setting in settings:
        value = setting.get("value")
        if setting.get("name") != "containerInsights" or value not in SETTING_VALUES:
            # AWS's wording for a bad containerInsights value.
            raise invalid("Invalid value for containerInsights. Valid values are: enabled, disabled, enhanced.")
        out["containerInsights"] = str(value)
    return [{"name": k, "value": v} for k, v in out.items()]


def find_cluster(db: Database, ctx: RequestContext, value: str | None, *, active: bool = True) -> Cluster:
    """The caller's cluster named by ``value`` (name or ARN), or ClusterNotFoundException."""
    name = cluster_name(value)
    if value and value.startswith("arn:") and value != arns.ecs_cluster(ctx.region, ctx.account_id, name):
        raise cluster_not_found()
    found = cluster(db, ctx.account_id, ctx.region, name)
    if found is None or (active and found.status != "ACTIVE"):
        raise cluster_not_found()
    return found


def cluster_counts(db: Database, found: Cluster) -> dict[str, int]:
    """activeServicesCount, runningTasksCount and pendingTasksCount of a cluster, from the tables."""
    key = (found.account_id, found.region, found.name)
    services = service_store.count_active(db, *key)
    tasks = task_store.status_counts(db, *key)
    return {"runningTasksCount": tasks.get("RUNNING", 0),
            "pendingTasksCount": sum(tasks.get(s, 0) for s in ("PROVISIONING", "PENDING", "ACTIVATING")),
            "activeServicesCount": services}


def cluster_view(db: Database, found: Cluster, include: set[str] | None = None) -> dict[str, Any]:
    """A cluster in botocore's shape; ``include`` None: everything (the answer of a create or update)."""
    out: dict[str, Any] = {
        "clusterArn": found.arn, "clusterName": found.name, "status": found.status,
        "registeredContainerInstancesCount": 0, **cluster_counts(db, found),
        "statistics": [], "capacityProviders": list(found.capacity_providers),
        "defaultCapacityProviderStrategy": list(found.default_strategy),
    }
    if include is None or "SETTINGS" in include:
        out["settings"] = found.settings
    if found.configuration is not None and (include is None or "CONFIGURATIONS" in include):
        out["configuration"] = found.configuration
    if found.service_connect is not None:
        out["serviceConnectDefaults"] = found.service_connect
    if include is None or "TAGS" in include:
        out["tags"] = get_tags(db, found.account_id, found.region, found.arn)
    return out


class ClusterOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database

    def create_cluster(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        name = req.get("clusterName") or "default"
        if not NAME.match(name):
            # AWS's wording for an invalid cluster name.
            raise invalid("Cluster name can have up to 255 characters, including letters (uppercase and lowercase), "
                          "numbers, underscores (_), and hyphens (-).")
        settings = check_settings(req.get("settings") or [])
        strategy = req.get("defaultCapacityProviderStrategy") or []
        providers = check_providers(req.get("capacityProviders") or [], strategy)
        tags = req.get("tags") or []
        check_new_tags(tags)
        account, region = ctx.account_id, ctx.region
        existing = cluster(self.db, account, region, name)
        if existing is not None and existing.status == "ACTIVE":
            return {"cluster": cluster_view(self.db, existing)}  # AWS: creating an existing cluster returns it
        arn = arns.ecs_cluster(region, account, name)
        drop_tags(self.db, account, region, [arn])
        create_cluster(self.db, account=account, region=region, name=name, arn=arn, settings=settings,
                       configuration=req.get("configuration"), service_connect=req.get("serviceConnectDefaults"),
                       created_at=ctx.received_at, capacity_providers=providers, default_strategy=strategy)
        put_tags(self.db, account, region, arn, tags)
        return {"cluster": cluster_view(self.db, find_cluster(self.db, ctx, name))}

    def describe_clusters(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        include = set(req.get("include") or [])
        clusters: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for value in req.get("clusters") or ["default"]:
            name = cluster_name(value)
            arn = value if value.startswith("arn:") else arns.ecs_cluster(ctx.region, ctx.account_id, name)
            found = cluster_by_arn(self.db, ctx.account_id, ctx.region, arn)
            if found is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                clusters.append(cluster_view(self.db, found, include))
        return {"clusters": clusters, "failures": failures}

    def list_clusters(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        items = active_cluster_arns(self.db, ctx.account_id, ctx.region)
        chunk, token = page(items, lambda arn: arn, req.get("nextToken"), req.get("maxResults"))
        out: dict[str, Any] = {"clusterArns": chunk}
        if token:
            out["nextToken"] = token
        return out

    def delete_cluster(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        found = find_cluster(self.db, ctx, req["cluster"])
        key = (ctx.account_id, ctx.region, found.name)
        if service_store.any_live(self.db, *key):
            raise error("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.")
        if task_store.any_live_in_cluster(self.db, *key):
            raise error("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")
        set_cluster_inactive(self.db, *key)
        return {"cluster": cluster_view(self.db, find_cluster(self.db, ctx, found.name, active=False))}

    def update_cluster(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        found = find_cluster(self.db, ctx, req["cluster"])
        settings: list[dict[str, Any]] | None = None
        if req.get("settings") is not None:
            current = {s["name"]: s["value"] for s in found.settings}
            current.update({s["name"]: s["value"] for s in check_settings(req["settings"])})
            settings = [{"name": k, "value": v} for k, v in current.items()]
        update_cluster(self.db, ctx.account_id, ctx.region, found.name, settings=settings,
                       configuration=req.get("configuration"), service_connect=req.get("serviceConnectDefaults"))
        return {"cluster": cluster_view(self.db, find_cluster(self.db, ctx, found.name))}

    def update_cluster_settings(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self.update_cluster(ctx, {"cluster": req["cluster"], "settings": req["settings"]})
