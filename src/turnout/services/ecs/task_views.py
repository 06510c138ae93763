"""A task row in botocore's ``Task`` shape (DescribeTasks, StopTask, RunTask), with its containers and ENI attachment.

A container that exited on its ``turnout.exit-after`` label shows the exit code of its ``turnout.exit-code`` label
(default 1) once the task is deprovisioned. ``overrides`` (RunTask's, when given) are shown in the task's
``overrides`` and applied to the task's and containers' cpu/memory (kept in the task's ``overrides`` column);
without them each container appears by name.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from ...core import arns
from ...store.db import Database
from ..ec2 import network as ec2_network
from . import task_states as life
from .store.task_definitions import TaskDefinition
from .store.tasks import Task
from .tags import get_tags

# Container lastStatus for each task lastStatus (containers run from ACTIVATING until the task is deprovisioned).
_CONTAINER_STATUS = {
    life.PROVISIONING: "PENDING", life.PENDING: "PENDING", life.ACTIVATING: "RUNNING", life.RUNNING: "RUNNING",
    life.DEACTIVATING: "RUNNING", life.STOPPING: "RUNNING", life.DEPROVISIONING: "STOPPED", life.STOPPED: "STOPPED",
}
# The ENI attachment's status for each task lastStatus.
_ATTACHMENT_STATUS = {
    life.PROVISIONING: "PRECREATED", life.PENDING: "ATTACHED", life.ACTIVATING: "ATTACHED", life.RUNNING: "ATTACHED",
    life.DEACTIVATING: "ATTACHED", life.STOPPING: "ATTACHED", life.DEPROVISIONING: "DETACHING",
    life.STOPPED: "DELETED",
}
_NAMESPACE = uuid.UUID("6f1c3f52-2a4e-4d51-9a8e-0d7c6b1f2e10")  # Turnout's: derives stable ids from task ids


def container_id(task_id: str, name: str) -> str:
    """A container's id: stable for a task and container name (a UUID, as AWS's are)."""
    return str(uuid.uuid5(_NAMESPACE, f"{task_id}/{name}"))


def attachment_id(task_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{task_id}/eni"))


# The ENI's MAC address and private DNS name are EC2's (DescribeNetworkInterfaces shows the same values).
mac_address = ec2_network.mac_address
private_dns_name = ec2_network.private_dns_name


def _attachment(task: Task) -> dict[str, Any] | None:
    if not task.eni_id:
        return None
    status = _ATTACHMENT_STATUS[task.last_status]
    details = [{"name": "subnetId", "value": task.subnet_id}]
    if status != "PRECREATED":
        details += [
            {"name": "networkInterfaceId", "value": task.eni_id},
            {"name": "macAddress", "value": mac_address(task.eni_id)},
            {"name": "privateDnsName", "value": private_dns_name(task.region, str(task.private_ip))},
            {"name": "privateIPv4Address", "value": task.private_ip},
        ]
    return {"id": attachment_id(task.id), "type": "ElasticNetworkInterface", "status": status,
            "details": details}


def _container(task: Task, definition: dict[str, Any], exited: tuple[str, int] | None, attached: bool,
               override: dict[str, Any]) -> dict[str, Any]:
    name = str(definition.get("name"))
    definition = {**definition, **{k: override[k] for k in ("cpu", "memory", "memoryReservation")
                                   if override.get(k) is not None}}
    status = _CONTAINER_STATUS[task.last_status]
    out: dict[str, Any] = {
        "containerArn": arns.ecs_container(task.region, task.account_id, task.cluster, task.id,
                                           container_id(task.id, name)),
        "taskArn": task.arn, "name": name, "image": definition.get("image"), "lastStatus": status,
        "networkBindings": [],
        "networkInterfaces": [{"attachmentId": attachment_id(task.id), "privateIpv4Address": task.private_ip}]
        if attached else [],
    }
    if task.pull_stopped_at:
        out["imageDigest"] = "sha256:" + hashlib.sha256(str(definition.get("image")).encode()).hexdigest()
    check = bool(definition.get("healthCheck"))
    healthy = str((definition.get("dockerLabels") or {}).get(life.HEALTH_LABEL, "healthy")).lower() != "unhealthy"
    out["healthStatus"] = ("HEALTHY" if healthy else "UNHEALTHY") \
        if check and status == "RUNNING" and task.started_at else "UNKNOWN"
    out["cpu"] = str(definition.get("cpu", 0))
    if definition.get("memory") is not None:
        out["memory"] = str(definition["memory"])
    if definition.get("memoryReservation") is not None:
        out["memoryReservation"] = str(definition["memoryReservation"])
    if exited is not None and exited[0] == name and status == "STOPPED":
        out["exitCode"] = exited[1]
        if exited[1] != 0:
            out["reason"] = "Essential container exited"  # Turnout's wording for the simulated exit
    return out


def _overrides(definitions: list[dict[str, Any]], given: dict[str, Any] | None) -> dict[str, Any]:
    """The task's ``overrides``: every container by name, with the container overrides given for it, and the
    task-level overrides given."""
    given = given or {}
    by_name = {str(c.get("name")): c for c in given.get("containerOverrides") or [] if c.get("name")}
    out: dict[str, Any] = {
        "containerOverrides": [{**by_name.get(str(d.get("name")), {}), "name": d.get("name")} for d in definitions],
        "inferenceAcceleratorOverrides": list(given.get("inferenceAcceleratorOverrides") or []),
    }
    for member in ("cpu", "memory", "taskRoleArn", "executionRoleArn", "ephemeralStorage"):
        if given.get(member) is not None:
            out[member] = given[member]
    return out


def task_view(db: Database, task: Task, task_definition: TaskDefinition | None, *,
              tags: bool = False) -> dict[str, Any]:
    """The task in botocore's ``Task`` shape; ``tags``: include its tags (DescribeTasks include=["TAGS"]). The
    overrides shown are RunTask's (the task's ``overrides`` column)."""
    overrides: dict[str, Any] | None = task.overrides
    body: dict[str, Any] = task_definition.body if task_definition is not None else {}
    shown = _overrides(list(body.get("containerDefinitions") or []), overrides)
    body = {**body, **{k: shown[k] for k in ("cpu", "memory", "ephemeralStorage") if k in shown}}
    by_name = {str(c["name"]): c for c in shown["containerOverrides"]}
    definitions = list(body.get("containerDefinitions") or [])
    fargate = task.launch_type == "FARGATE"
    attachment = _attachment(task)
    exited: tuple[str, int] | None = None
    if task.exit_container is not None and task.exit_code is not None:  # a task process exited (the data plane)
        exited = (task.exit_container, task.exit_code)
    elif task.stop_code == life.EXIT_CODE and task_definition is not None:
        found = life.exit_after(task_definition)
        exited = (found[0], life.exit_code(task_definition, found[0])) if found else None
    out: dict[str, Any] = {
        "attachments": [attachment] if attachment else [],
        "attributes": [{"name": "ecs.cpu-architecture",
                        "value": str((body.get("runtimePlatform") or {}).get("cpuArchitecture") or "x86_64").lower()}],
        "clusterArn": arns.ecs_cluster(task.region, task.account_id, task.cluster),
        "containers": [_container(task, d, exited, attachment is not None and attachment["status"] != "PRECREATED",
                                  by_name.get(str(d.get("name")), {})) for d in definitions],
        "createdAt": task.created_at,
        "desiredStatus": task.desired_status,
        "enableExecuteCommand": False,
        "group": task.group_name,
        "healthStatus": task.health_status,
        "lastStatus": task.last_status,
        "overrides": shown,
        "taskArn": task.arn,
        "taskDefinitionArn": task.task_definition_arn,
        "version": task.version,
    }
    if task.availability_zone:
        out["availabilityZone"] = task.availability_zone
    if task.connectivity_at:
        out["connectivity"] = "CONNECTED"
        out["connectivityAt"] = task.connectivity_at
    if body.get("cpu") is not None:
        out["cpu"] = str(body["cpu"])
    if body.get("memory") is not None:
        out["memory"] = str(body["memory"])
    if task.launch_type:
        out["launchType"] = task.launch_type
    if fargate:
        out["platformVersion"] = task.platform_version or life.FARGATE_LATEST
        out["platformFamily"] = "Linux"
        size = (body.get("ephemeralStorage") or {}).get("sizeInGiB", 20)
        out["ephemeralStorage"] = {"sizeInGiB": int(size)}
    for member, instant in (("pullStartedAt", task.pull_started_at), ("pullStoppedAt", task.pull_stopped_at),
                            ("startedAt", task.started_at), ("stoppingAt", task.stopping_at),
                            ("executionStoppedAt", task.execution_stopped_at), ("stoppedAt", task.stopped_at)):
        if instant is not None:
            out[member] = instant
    for member, text in (("startedBy", task.started_by), ("stopCode", task.stop_code),
                         ("stoppedReason", task.stopped_reason)):
        if text:
            out[member] = text
    if tags:
        out["tags"] = get_tags(db, task.account_id, task.region, task.arn)
    return out
