"""``GET /_turnout/dataplane``: every listener served and every target reachable on this machine, read from the
database (:mod:`turnout.store.dataplane`), so that any worker answers it."""

from __future__ import annotations

from typing import Any

from ..services.ecs import task_states
from ..services.elbv2.ports import HealthChecks
from ..store import dataplane as published
from ..store.db import Database
from . import snapshot as snapshots
from .model import Address


def task_addresses(db: Database) -> snapshots.TaskAddresses:
    """The published task endpoints by (account, region, private IP, container port), as any worker reads them."""
    out: dict[tuple[str, str, str, int], tuple[Address, str]] = {}
    for endpoint in published.endpoints(db):
        task = task_states.find(db, endpoint.task_arn)
        if task is not None and task.private_ip:
            out[(endpoint.account_id, endpoint.region, task.private_ip, endpoint.container_port)] = \
                ((endpoint.host, endpoint.local_port), endpoint.task_arn)
    return out


def describe(db: Database, checks: HealthChecks) -> dict[str, Any]:
    """``GET /_turnout/dataplane``: every listener served and every target reachable on this machine (any worker
    answers it, from the database)."""
    with db.transaction(write=False):
        served = published.listeners(db)
        endpoints = published.endpoints(db)
        snap = snapshots.build(db, checks, task_addresses(db))
    listeners = [{"listenerArn": s.listener_arn, "loadBalancerArn": s.load_balancer_arn, "port": s.port,
                  "address": f"{s.host}:{s.local_port}"} for s in served]
    targets: list[dict[str, Any]] = []
    for group in snap.groups.values():
        for target in group.targets:
            if target.address is None:
                continue
            item: dict[str, Any] = {"targetGroupArn": group.arn, "id": target.id, "port": target.port,
                                    "address": f"{target.address[0]}:{target.address[1]}", "state": target.state}
            if target.task_arn is not None:
                item["taskArn"] = target.task_arn
            targets.append(item)
    tasks = [{"taskArn": e.task_arn, "containerName": e.container_name, "containerPort": e.container_port,
              "address": f"{e.host}:{e.local_port}", "pid": e.pid, "log": e.log_path} for e in endpoints]
    return {"listeners": listeners, "targets": targets, "tasks": tasks}
