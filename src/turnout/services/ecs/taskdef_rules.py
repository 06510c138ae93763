"""RegisterTaskDefinition's rules beyond the model: containers, network mode, Fargate task sizes.

Messages are AWS's where known (ClientException for the definition's content); where AWS does not document one,
the wording is ours and says so.
"""

from __future__ import annotations

import re
from typing import Any

from .common import NAME, client

NETWORK_MODES = ("bridge", "host", "awsvpc", "none")
# Fargate task sizes: CPU units -> valid memory (MiB) (Amazon ECS Developer Guide, "Task CPU and memory").
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
_CPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*$", re.IGNORECASE)
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(gb)?\s*$", re.IGNORECASE)


def task_cpu(value: str) -> int:
    """``"256"`` or ``"0.25 vCPU"`` -> CPU units."""
    match = _CPU.match(value)
    if match is None:
        raise client("Invalid 'cpu' setting for task.")
    number = float(match[1]) * (1024 if match[2] else 1)
    if number != int(number) or number <= 0:
        raise client("Invalid 'cpu' setting for task.")
    return int(number)


def task_memory(value: str) -> int:
    """``"512"`` or ``"1 GB"`` -> MiB."""
    match = _MEMORY.match(value)
    if match is None:
        raise client("Invalid 'memory' setting for task.")
    number = float(match[1]) * (1024 if match[2] else 1)
    if number != int(number) or number <= 0:
        raise client("Invalid 'memory' setting for task.")
    return int(number)


def fargate_fits(cpu: int | None, memory: int | None) -> bool:
    return cpu is not None and memory is not None and memory in FARGATE_SIZES.get(cpu, ())


def check_containers(containers: list[dict[str, Any]], task_memory_mib: int | None) -> None:
    if not containers:
        raise client("Container list cannot be empty.")
    seen: set[str] = set()
    for container in containers:
        name = container.get("name")
        if not name:
            raise client("Container.name should not be null or empty.")
        if not NAME.match(name):
            # Our wording for the documented rule (name: up to 255 letters, numbers, hyphens and underscores).
            raise client(f"Invalid setting for container '{name}'. Container name can have up to 255 characters, "
                         "including letters (uppercase and lowercase), numbers, underscores (_), and hyphens (-).")
        if name in seen:
            raise client(f"Duplicate container name '{name}' found in task definition.")  # our wording
        seen.add(name)
        if not container.get("image"):
            raise client("Container.image should not be null or empty.")
        memory, reservation = container.get("memory"), container.get("memoryReservation")
        if task_memory_mib is None and memory is None and reservation is None:
            raise client(f"Invalid setting for container '{name}'. "
                         "At least one of 'memory' or 'memoryReservation' must be specified.")
        if memory is not None and reservation is not None and reservation > memory:
            raise client(f"Invalid setting for container '{name}'. "
                         "'memory' must be greater than or equal to 'memoryReservation'.")
        if memory is not None and memory < 6:
            raise client(f"Invalid setting for container '{name}'. "
                         "The minimum allowed value for 'memory' is 6 MiB.")  # Docker's floor, as ECS documents
    if not any(c.get("essential", True) for c in containers):
        # Our wording for the documented rule ("All tasks must have at least one essential container.").
        raise client("Task definition must have at least one essential container.")
    names = seen
    for container in containers:
        for link in container.get("dependsOn") or []:
            if link.get("containerName") not in names:
                raise client(f"Invalid setting for container '{container['name']}'. "
                             f"Dependency container '{link.get('containerName')}' does not exist.")  # our wording


def check_fargate(req: dict[str, Any], cpu: int | None, memory: int | None) -> None:
    """``requiresCompatibilities`` FARGATE: awsvpc, task-level cpu and memory in a valid combination."""
    if req.get("networkMode") != "awsvpc":
        raise client("Fargate only supports network mode 'awsvpc'.")
    if cpu is None:
        raise client("Fargate requires that 'cpu' be defined at the task level.")
    if memory is None:
        raise client("Fargate requires that 'memory' be defined at the task level.")
    if not fargate_fits(cpu, memory):
        raise client(f"No Fargate configuration exists for given values: {req['cpu']} CPU, {req['memory']} memory. "
                     "See the Amazon ECS documentation for the valid values.")


def normalise_container(container: dict[str, Any], network_mode: str) -> dict[str, Any]:
    """A container definition as DescribeTaskDefinition returns it (AWS's defaults filled in)."""
    out = dict(container)
    out.setdefault("cpu", 0)
    out.setdefault("essential", True)
    mappings = []
    for mapping in out.get("portMappings") or []:
        item = dict(mapping)
        item.setdefault("protocol", "tcp")
        if network_mode in ("awsvpc", "host") and "containerPort" in item:
            item.setdefault("hostPort", item["containerPort"])
        mappings.append(item)
    out["portMappings"] = mappings
    for key in ("environment", "mountPoints", "volumesFrom"):
        out.setdefault(key, [])
    return out
