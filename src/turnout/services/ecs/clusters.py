"""Clusters: CreateCluster, DescribeClusters, ListClusters, DeleteCluster, UpdateCluster, UpdateClusterSettings.

A deleted cluster stays visible to DescribeClusters as INACTIVE (as AWS keeps it); ListClusters lists only ACTIVE
ones. DeleteCluster refuses a cluster with ACTIVE or DRAINING services, or with tasks not yet STOPPED. The counts
a cluster shows (activeServicesCount, runningTasksCount, pendingTasksCount) are read from the service and task
tables; PROVISIONING, PENDING and ACTIVATING tasks count as pending.
"""

from __future__ import annotations

from typing import Any

from ... import arns
from ...gateway.context import RequestContext
from ...store.db import Database, Row
from .capacity import check_providers
from .store import NAME, cluster_not_found, dumps, error, invalid, loads, page
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


def find_cluster(db: Database, ctx: RequestContext, value: str | None, *, active: bool = True) -> Row:
    """The caller's cluster named by ``value`` (name or ARN), or ClusterNotFoundException."""
    name = cluster_name(value)
    if value and value.startswith("arn:") and value != arns.ecs_cluster(ctx.region, ctx.account_id, name):
        raise cluster_not_found()
    row = db.one("SELECT * FROM ecs_clusters WHERE account_id = ? AND region = ? AND name = ?",
                 (ctx.account_id, ctx.region, name))
    if row is None or (active and row["status"] != "ACTIVE"):
        raise cluster_not_found()
    return row


def cluster_counts(db: Database, row: Row) -> dict[str, int]:
    """activeServicesCount, runningTasksCount and pendingTasksCount of a cluster, from the tables."""
    key = (row["account_id"], row["region"], row["name"])
    services = int(db.scalar("SELECT COUNT(*) FROM ecs_services WHERE account_id = ? AND region = ? AND cluster = ? "
                             "AND status = 'ACTIVE'", key))
    tasks = {r["last_status"]: int(r["n"]) for r in db.all(
        "SELECT last_status, COUNT(*) AS n FROM ecs_tasks WHERE account_id = ? AND region = ? AND cluster = ? "
        "GROUP BY last_status", key)}
    return {"runningTasksCount": tasks.get("RUNNING", 0),
            "pendingTasksCount": sum(tasks.get(s, 0) for s in ("PROVISIONING", "PENDING", "ACTIVATING")),
            "activeServicesCount": services}


def cluster_view(db: Database, row: Row, include: set[str] | None = None) -> dict[str, Any]:
    """A cluster in botocore's shape; ``include`` None: everything (the answer of a create or update)."""
    out: dict[str, Any] = {
        "clusterArn": row["arn"], "clusterName": row["name"], "status": row["status"],
        "registeredContainerInstancesCount": 0, **cluster_counts(db, row),
        "statistics": [], "capacityProviders": loads(row["capacity_providers"]) or [],
        "defaultCapacityProviderStrategy": loads(row["default_strategy"]) or [],
    }
    if include is None or "SETTINGS" in include:
        out["settings"] = loads(row["settings"])
    if row["configuration"] is not None and (include is None or "CONFIGURATIONS" in include):
        out["configuration"] = loads(row["configuration"])
    if row["service_connect"] is not None:
        out["serviceConnectDefaults"] = loads(row["service_connect"])
    if include is None or "TAGS" in include:
        out["tags"] = get_tags(db, row["account_id"], row["region"], row["arn"])
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
        row = self.db.one("SELECT * FROM ecs_clusters WHERE account_id = ? AND region = ? AND name = ?",
                          (account, region, name))
        if row is not None and row["status"] == "ACTIVE":
            return {"cluster": cluster_view(self.db, row)}  # AWS: creating an existing cluster returns it
        arn = arns.ecs_cluster(region, account, name)
        configuration = req.get("configuration")
        service_connect = req.get("serviceConnectDefaults")
        self.db.execute("DELETE FROM ecs_clusters WHERE account_id = ? AND region = ? AND name = ?",
                        (account, region, name))
        drop_tags(self.db, account, region, [arn])
        self.db.execute(
            "INSERT INTO ecs_clusters (account_id, region, name, arn, status, settings, configuration, "
            "service_connect, created_at, capacity_providers, default_strategy) "
            "VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?)",
            (account, region, name, arn, dumps(settings), None if configuration is None else dumps(configuration),
             None if service_connect is None else dumps(service_connect), ctx.received_at.isoformat(),
             dumps(providers), dumps(strategy)),
        )
        put_tags(self.db, account, region, arn, tags)
        return {"cluster": cluster_view(self.db, find_cluster(self.db, ctx, name))}

    def describe_clusters(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        include = set(req.get("include") or [])
        clusters: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for value in req.get("clusters") or ["default"]:
            name = cluster_name(value)
            arn = value if value.startswith("arn:") else arns.ecs_cluster(ctx.region, ctx.account_id, name)
            row = self.db.one("SELECT * FROM ecs_clusters WHERE account_id = ? AND region = ? AND arn = ?",
                              (ctx.account_id, ctx.region, arn))
            if row is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                clusters.append(cluster_view(self.db, row, include))
        return {"clusters": clusters, "failures": failures}

    def list_clusters(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        rows = self.db.all("SELECT arn FROM ecs_clusters WHERE account_id = ? AND region = ? AND status = 'ACTIVE' "
                           "ORDER BY arn", (ctx.account_id, ctx.region))
        items = [r["arn"] for r in rows]
        chunk, token = page(items, lambda arn: arn, req.get("nextToken"), req.get("maxResults"))
        out: dict[str, Any] = {"clusterArns": chunk}
        if token:
            out["nextToken"] = token
        return out

    def delete_cluster(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = find_cluster(self.db, ctx, req["cluster"])
        key = (ctx.account_id, ctx.region, row["name"])
        if self.db.one("SELECT 1 FROM ecs_services WHERE account_id = ? AND region = ? AND cluster = ? "
                       "AND status IN ('ACTIVE', 'DRAINING')", key) is not None:
            raise error("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.")
        if self.db.one("SELECT 1 FROM ecs_tasks WHERE account_id = ? AND region = ? AND cluster = ? "
                       "AND last_status <> 'STOPPED'", key) is not None:
            raise error("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")
        self.db.execute("UPDATE ecs_clusters SET status = 'INACTIVE' WHERE account_id = ? AND region = ? AND name = ?",
                        (ctx.account_id, ctx.region, row["name"]))
        return {"cluster": cluster_view(self.db, find_cluster(self.db, ctx, row["name"], active=False))}

    def update_cluster(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = find_cluster(self.db, ctx, req["cluster"])
        updates: dict[str, str | None] = {}
        if req.get("settings") is not None:
            current = {s["name"]: s["value"] for s in loads(row["settings"])}
            current.update({s["name"]: s["value"] for s in check_settings(req["settings"])})
            updates["settings"] = dumps([{"name": k, "value": v} for k, v in current.items()])
        if req.get("configuration") is not None:
            updates["configuration"] = dumps(req["configuration"])
        if req.get("serviceConnectDefaults") is not None:
            updates["service_connect"] = dumps(req["serviceConnectDefaults"])
        for column, value in updates.items():
            self.db.execute(f"UPDATE ecs_clusters SET {column} = ? WHERE account_id = ? AND region = ? AND name = ?",
                            (value, ctx.account_id, ctx.region, row["name"]))
        return {"cluster": cluster_view(self.db, find_cluster(self.db, ctx, row["name"]))}

    def update_cluster_settings(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self.update_cluster(ctx, {"cluster": req["cluster"], "settings": req["settings"]})
