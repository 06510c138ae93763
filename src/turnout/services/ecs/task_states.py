"""ECS tasks as the API and the deployment engine write them: launch (placement in the subnets), stop requests,
load-balancer registrations, and what a task definition's Turnout labels say. The timed status steps between
launch and STOPPED are the data plane's (:mod:`turnout.dataplane.task_lifecycle`).

A task passes PROVISIONING -> PENDING -> ACTIVATING -> RUNNING; a stop request moves a registered task (ACTIVATING or
RUNNING) to DEACTIVATING for ``drain_seconds`` (the target groups' deregistration delay), any other to STOPPING at
once; then DEPROVISIONING -> STOPPED. ``stopping_at`` is the instant of the stop request.

Container ``dockerLabels``: ``turnout.health`` = ``healthy`` (default) | ``unhealthy``; ``turnout.exit-after`` = N on
an essential container: the container exits after N simulated seconds RUNNING, with the exit code its
``turnout.exit-code`` label gives (an integer 0-255; default 1, also for a label that is not one). Any exit, 0
included, stops the task with stop code ``EssentialContainerExited`` (AWS uses it for every essential container
exit) and stopped reason ``Essential container in task exited``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ...core import arns, ids
from ...store.db import Database
from ..ec2 import network as ec2_network
from .store import tasks as store
from .store.task_definitions import TaskDefinition
from .store.tasks import Task

PROVISIONING = "PROVISIONING"
PENDING = "PENDING"
ACTIVATING = "ACTIVATING"
RUNNING = "RUNNING"
DEACTIVATING = "DEACTIVATING"
STOPPING = "STOPPING"
DEPROVISIONING = "DEPROVISIONING"
STOPPED = "STOPPED"
ORDER = (PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED)

HEALTH_LABEL = "turnout.health"
EXIT_LABEL = "turnout.exit-after"
EXIT_CODE_LABEL = "turnout.exit-code"
DEFAULT_EXIT_CODE = 1
EXIT_CODE = "EssentialContainerExited"
EXIT_REASON = "Essential container in task exited"
FARGATE_LATEST = "1.4.0"


class LaunchError(Exception):
    """A task cannot be placed (no subnet of the request exists, or every one is out of addresses)."""


# -- task definitions -----------------------------------------------------------------------------------------


def containers(task_definition: TaskDefinition) -> list[dict[str, Any]]:
    return task_definition.containers


def labels(container: dict[str, Any]) -> dict[str, str]:
    labels = container.get("dockerLabels")
    return labels if isinstance(labels, dict) else {}


def exit_after(task_definition: TaskDefinition) -> tuple[str, float] | None:
    """The essential container that exits first (``turnout.exit-after``) and after how many seconds RUNNING."""
    found: tuple[str, float] | None = None
    for container in containers(task_definition):
        if not container.get("essential", True):
            continue  # a non-essential container exiting does not stop the task
        raw = labels(container).get(EXIT_LABEL)
        try:
            seconds = float(raw) if raw is not None else None
        except ValueError:
            seconds = None  # Turnout's choice: a label that is not a number is ignored
        if seconds is not None and seconds >= 0 and (found is None or seconds < found[1]):
            found = (str(container.get("name")), seconds)
    return found


def exit_code(task_definition: TaskDefinition, name: str) -> int:
    """The exit code of container ``name`` when it exits on its ``turnout.exit-after`` label: its
    ``turnout.exit-code`` label, else 1. Turnout's choice: a label that is not an integer from 0 to 255 gives 1."""
    for container in containers(task_definition):
        if str(container.get("name")) != name:
            continue
        raw = labels(container).get(EXIT_CODE_LABEL)
        try:
            code = int(str(raw).strip()) if raw is not None else DEFAULT_EXIT_CODE
        except ValueError:
            return DEFAULT_EXIT_CODE
        return code if 0 <= code <= 255 else DEFAULT_EXIT_CODE
    return DEFAULT_EXIT_CODE


# -- launch ---------------------------------------------------------------------------------------------------


def _usable_hosts(cidr: str, after: int | None = None) -> Iterable[str]:
    """The subnet's addresses less the first four and the last (AWS reserves them), from the one after ``after``
    (an address as an integer) round to the one before it."""
    net = ipaddress.IPv4Network(cidr)
    first, last = int(net.network_address) + 4, int(net.broadcast_address) - 1
    start = after + 1 if after is not None and first <= after < last else first
    for value in (*range(start, last + 1), *range(first, start)):
        yield str(ipaddress.IPv4Address(value))


# The last address handed out in each subnet ((account, region, subnet id) -> address as an integer). Placement
# continues after it (next fit), so an address a task has just released is not given to its replacement at once,
# as AWS's address pool does not; after a restart placement starts again from the subnet's first address.
_LAST_PLACED: dict[tuple[str, str, str], int] = {}


def _place(db: Database, account: str, region: str, subnets: list[ec2_network.Subnet], load: dict[str, int]
           ) -> tuple[ec2_network.Subnet, str]:
    """The least loaded subnet (ties: the order given, so a fresh group is spread round-robin) with a free
    address, and that address."""
    for subnet in sorted(subnets, key=lambda s: load[s.subnet_id]):
        # Addresses the subnet's network interfaces hold (load balancers' too) are taken as well.
        used = store.used_addresses(db, account, region, subnet.subnet_id) | ec2_network.interface_addresses(
            db, account, region, subnet.subnet_id)
        key = (account, region, subnet.subnet_id)
        for address in _usable_hosts(subnet.cidr_block, _LAST_PLACED.get(key)):
            if address not in used:
                _LAST_PLACED[key] = int(ipaddress.IPv4Address(address))
                return subnet, address
    raise LaunchError("No free IP address in the subnets " + ", ".join(s.subnet_id for s in subnets))


def launch(db: Database, *, account: str, region: str, cluster: str, task_definition: TaskDefinition, count: int,
           now: datetime, service_arn: str | None = None, revision_arn: str | None = None,
           deployment_arn: str | None = None, started_by: str | None = None, group: str | None = None,
           launch_type: str = "FARGATE", platform_version: str | None = None,
           network: dict[str, Any] | None = None) -> list[Task]:
    """Insert ``count`` tasks in PROVISIONING and return them.

    ``network`` is the awsvpcConfiguration ({subnets, securityGroups, assignPublicIp}); a task gets a private
    address in one of its subnets (spread over them), an ENI id and the subnet's zone. ``group`` defaults to
    ``service:<name>`` for a service's task, else ``family:<family>``. Raises :class:`LaunchError` when no
    subnet exists or has a free address, ValueError for an awsvpc task definition without ``network``.
    """
    vpc = network
    body = task_definition.body
    if group is None:
        if service_arn is not None:
            group = f"service:{service_arn.rsplit('/', 1)[-1]}"
        else:
            group = f"family:{task_definition.family}"
    if launch_type == "FARGATE" and platform_version in (None, "LATEST"):
        platform_version = FARGATE_LATEST
    subnets: list[ec2_network.Subnet] = []
    if body.get("networkMode") == "awsvpc":
        if vpc is None:
            raise ValueError("an awsvpc task needs an awsvpcConfiguration")
        subnets = _subnets(db, account, region, vpc.get("subnets") or [], now)
    load: dict[str, int] = {}
    for subnet in subnets:
        load[subnet.subnet_id] = store.group_load(db, account, region, subnet.subnet_id, cluster, group)
    out: list[Task] = []
    for _ in range(count):
        task_id = ids.ecs_task_id()
        arn = arns.ecs_task(region, account, cluster, task_id)
        zone = subnet_id = address = eni = None
        if subnets:
            subnet, address = _place(db, account, region, subnets, load)
            load[subnet.subnet_id] += 1
            zone, subnet_id, eni = subnet.availability_zone, subnet.subnet_id, ids.ec2_id("eni")
        store.insert_task(
            db, account=account, region=region, cluster=cluster, arn=arn, task_id=task_id, service_arn=service_arn,
            revision_arn=revision_arn, deployment_arn=deployment_arn, task_definition_arn=task_definition.arn,
            started_by=started_by, group=group, launch_type=launch_type,
            platform_version=platform_version if launch_type == "FARGATE" else None, availability_zone=zone,
            subnet_id=subnet_id, private_ip=address, eni_id=eni, created_at=now)
        if eni is not None and subnet_id is not None and address is not None:
            from .task_views import attachment_id  # (task_views imports this module)

            ec2_network.attach_task_interface(
                db, account, region, task_arn=arn, eni_id=eni, subnet_id=subnet_id, private_ip=address,
                groups=(vpc or {}).get("securityGroups") or [],
                description=arns.ecs_attachment(region, account, attachment_id(task_id)), now=now)
        out.append(_row(db, account, region, arn))
    return out


def _subnets(db: Database, account: str, region: str, wanted: list[str], now: datetime
             ) -> list[ec2_network.Subnet]:
    found = ec2_network.subnets(db, account, region, wanted, now)
    if not found:
        raise LaunchError("None of the subnets " + ", ".join(wanted) + " exists")
    return found


# -- reading and writing tasks --------------------------------------------------------------------------------


def _row(db: Database, account: str, region: str, arn: str) -> Task:
    found = store.task(db, account, region, arn)
    assert found is not None
    return found


def find(db: Database, task_arn: str) -> Task | None:
    parsed = arns.parse(task_arn)
    if parsed is None:
        return None
    return store.task(db, parsed.account, parsed.region, task_arn)


def registrations(task: Task) -> list[dict[str, Any]]:
    return [dict(r) for r in task.registrations]


def set_registrations(db: Database, task_arn: str, registrations: list[dict[str, Any]]) -> None:
    """Record the target groups the engine registered the task in ({targetGroupArn, id, port}). Keep the list
    after deregistering: a DEACTIVATING task's drain is read from it (``drainSeconds`` on its entries)."""
    task = find(db, task_arn)
    if task is None:
        return
    drain = drain_of(task)
    entries = [dict(r) for r in registrations]
    if drain:
        for entry in entries:
            entry.setdefault("drainSeconds", drain)
    store.set_registrations(db, task.account_id, task.region, task_arn, entries)


def drain_of(task: Task) -> float:
    """How long the task's DEACTIVATING lasts (recorded by request_stop on its registrations)."""
    return max((float(r.get("drainSeconds") or 0) for r in registrations(task)), default=0.0)


def target_group_drain(db: Database, account: str, region: str, regs: list[dict[str, Any]]) -> float:
    """The longest deregistration delay (``deregistration_delay.timeout_seconds``) among the target groups of
    ``regs`` that a load balancer uses (ELB drains only those; 0 otherwise, and when none is registered)."""
    from ..elbv2 import store as elb
    from ..elbv2.attributes import deregistration_delay

    longest = 0.0
    for arn in dict.fromkeys(str(r.get("targetGroupArn")) for r in regs if r.get("targetGroupArn")):
        tg = elb.target_group(db, account, region, arn)
        if tg is not None and elb.in_use(db, account, region, arn):
            longest = max(longest, float(deregistration_delay(tg)))
    return longest


# -- stop -----------------------------------------------------------------------------------------------------


def request_stop(db: Database, task_arn: str, *, stop_code: str, reason: str | None, now: datetime,
                 drain_seconds: float = 0.0) -> Task | None:
    """Ask the task to stop (None: no such task). The first request's stop code and reason win; a task already
    stopping is returned as is. A registered task (ACTIVATING or RUNNING) goes DEACTIVATING for
    ``drain_seconds``; any other goes STOPPING at once."""
    task = find(db, task_arn)
    if task is None or task.desired_status == STOPPED or task.last_status in ORDER[4:]:
        return task
    stop(db, task, stop_code=stop_code, reason=reason, at=_not_before(now, task), drain_seconds=drain_seconds)
    return _row(db, task.account_id, task.region, task_arn)


def _not_before(now: datetime, task: Task) -> datetime:
    since = task.status_since
    return now if now >= since else since


def stop(db: Database, task: Task, *, stop_code: str, reason: str | None, at: datetime, drain_seconds: float) -> None:
    """Stop ``task`` (as read, not yet stopping) at ``at``: DEACTIVATING for ``drain_seconds`` when registered, else
    STOPPING."""
    regs = registrations(task)
    registered = bool(regs) and task.last_status in (ACTIVATING, RUNNING)
    status = DEACTIVATING if registered else STOPPING
    regs = [{**r, "drainSeconds": max(0.0, float(drain_seconds))} for r in regs] if registered else regs
    store.request_stop(db, task.account_id, task.region, task.arn, stop_code=stop_code, reason=reason,
                       status=status, at=at, registrations=regs)
