"""``ecs_tasks``: one row per task, a service's carrying its ARN and the revision (and deployment) that started it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row
from .codec import dumps_or_none

STOPPED = "STOPPED"
# The columns tasks are counted by.
TaskColumn = Literal["service_arn", "revision_arn", "deployment_arn"]


@dataclass(frozen=True, slots=True)
class Task:
    account_id: str
    region: str
    cluster: str  # the cluster's name
    arn: str
    id: str
    service_arn: str | None
    revision_arn: str | None
    deployment_arn: str | None
    task_definition_arn: str
    started_by: str | None
    group_name: str  # ``service:<name>`` or ``family:<family>``
    launch_type: str | None
    platform_version: str | None
    availability_zone: str | None
    subnet_id: str | None
    private_ip: str | None
    eni_id: str | None
    last_status: str
    desired_status: str  # RUNNING | STOPPED
    health_status: str  # HEALTHY | UNHEALTHY | UNKNOWN
    registrations: list[dict[str, Any]]  # {targetGroupArn, id, port[, drainSeconds]} ECS registered
    stop_code: str | None
    stopped_reason: str | None
    version: int
    created_at: datetime
    pull_started_at: datetime | None
    pull_stopped_at: datetime | None
    connectivity_at: datetime | None
    started_at: datetime | None
    stopping_at: datetime | None
    execution_stopped_at: datetime | None
    stopped_at: datetime | None
    status_since: datetime  # when last_status was last set
    overrides: dict[str, Any] | None  # RunTask's TaskOverride
    client_token: str | None
    client_request: str | None  # digest of the RunTask request that used client_token
    exit_container: str | None = None  # the container whose process exited by itself (turnout.dataplane)
    exit_code: int | None = None

    @property
    def alive(self) -> bool:
        """Not STOPPED and meant to run."""
        return self.last_status != STOPPED and self.desired_status == "RUNNING"


def _task(row: Row) -> Task:
    registrations = loads(row["registrations"])
    return Task(
        account_id=row["account_id"], region=row["region"], cluster=row["cluster"], arn=row["arn"], id=row["id"],
        service_arn=row["service_arn"], revision_arn=row["revision_arn"], deployment_arn=row["deployment_arn"],
        task_definition_arn=row["task_definition_arn"], started_by=row["started_by"], group_name=row["group_name"],
        launch_type=row["launch_type"], platform_version=row["platform_version"],
        availability_zone=row["availability_zone"], subnet_id=row["subnet_id"], private_ip=row["private_ip"],
        eni_id=row["eni_id"], last_status=row["last_status"], desired_status=row["desired_status"],
        health_status=row["health_status"],
        registrations=list(registrations) if isinstance(registrations, list) else [],
        stop_code=row["stop_code"], stopped_reason=row["stopped_reason"], version=int(row["version"]),
        created_at=when(row["created_at"]), pull_started_at=when(row["pull_started_at"]),
        pull_stopped_at=when(row["pull_stopped_at"]),
        connectivity_at=when(row["connectivity_at"]),
        started_at=when(row["started_at"]), stopping_at=when(row["stopping_at"]),
        execution_stopped_at=when(row["execution_stopped_at"]),
        stopped_at=when(row["stopped_at"]), status_since=when(row["status_since"]),
        overrides=loads(row["overrides"]), client_token=row["client_token"], client_request=row["client_request"],
        exit_container=row["exit_container"], exit_code=row["exit_code"],
    )


# -- reading ------------------------------------------------------------------------------------------------------


def task(db: Database, account: str, region: str, arn: str) -> Task | None:
    row = db.one("SELECT * FROM ecs_tasks WHERE account_id = ? AND region = ? AND arn = ?", (account, region, arn))
    return None if row is None else _task(row)


def task_in_cluster(db: Database, account: str, region: str, cluster: str, task_id: str) -> Task | None:
    row = db.one("SELECT * FROM ecs_tasks WHERE account_id = ? AND region = ? AND cluster = ? AND id = ?",
                 (account, region, cluster, task_id))
    return None if row is None else _task(row)


def listed(db: Database, account: str, region: str, cluster: str, *, desired_status: str,
           service_arn: str | None = None, started_by: str | None = None,
           launch_type: str | None = None) -> list[tuple[str, str]]:
    """(ARN, task definition ARN) of the cluster's tasks that match, in launch order (ListTasks)."""
    sql = "SELECT arn, created_at, task_definition_arn FROM ecs_tasks WHERE account_id = ? AND region = ? " \
          "AND cluster = ?"
    params: list[Any] = [account, region, cluster]
    if service_arn is not None:
        sql += " AND service_arn = ?"
        params.append(service_arn)
    if started_by is not None:
        sql += " AND started_by = ?"
        params.append(started_by)
    sql += " AND desired_status = ?"
    params.append(desired_status)
    if launch_type:
        sql += " AND launch_type = ?"
        params.append(launch_type)
    rows = db.all(sql + " ORDER BY created_at, arn", params)
    return [(str(r["arn"]), str(r["task_definition_arn"])) for r in rows]


def tasks_of_token(db: Database, account: str, region: str, token: str) -> list[Task]:
    """The tasks a RunTask with ``clientToken`` launched, in launch order."""
    rows = db.all("SELECT * FROM ecs_tasks WHERE account_id = ? AND region = ? AND client_token = ? "
                  "ORDER BY created_at, arn", (account, region, token))
    return [_task(row) for row in rows]


def status_counts(db: Database, account: str, region: str, cluster: str) -> dict[str, int]:
    """last_status -> number of the cluster's tasks."""
    rows = db.all("SELECT last_status, COUNT(*) AS n FROM ecs_tasks WHERE account_id = ? AND region = ? AND "
                  "cluster = ? GROUP BY last_status", (account, region, cluster))
    return {str(r["last_status"]): int(r["n"]) for r in rows}


def live_status_counts(db: Database) -> dict[str, int]:
    """last_status -> number of tasks not STOPPED, of every account."""
    rows = db.all("SELECT last_status, COUNT(*) AS n FROM ecs_tasks WHERE last_status <> 'STOPPED' "
                  "GROUP BY last_status")
    return {str(r["last_status"]): int(r["n"]) for r in rows}


def any_live_in_cluster(db: Database, account: str, region: str, cluster: str) -> bool:
    return db.one("SELECT 1 FROM ecs_tasks WHERE account_id = ? AND region = ? AND cluster = ? "
                  "AND last_status <> 'STOPPED'", (account, region, cluster)) is not None


def tallies(db: Database, account: str, region: str, by: TaskColumn, value: str) -> list[tuple[str, str, int]]:
    """(last_status, desired_status, number of tasks) of the tasks whose ``by`` column is ``value``."""
    assert by in ("service_arn", "revision_arn", "deployment_arn")
    rows = db.all(f"SELECT last_status, desired_status, COUNT(*) AS n FROM ecs_tasks WHERE account_id = ? "
                  f"AND region = ? AND {by} = ? GROUP BY last_status, desired_status", (account, region, value))
    return [(str(r["last_status"]), str(r["desired_status"]), int(r["n"])) for r in rows]


def failed_count(db: Database, account: str, region: str, deployment_arn: str) -> int:
    """Tasks of a deployment that failed to start or whose essential container exited."""
    return int(db.scalar("SELECT COUNT(*) FROM ecs_tasks WHERE account_id = ? AND region = ? AND deployment_arn = ? "
                         "AND last_status = 'STOPPED' AND stop_code IN ('TaskFailedToStart', "
                         "'EssentialContainerExited')", (account, region, deployment_arn)))


def stop_reasons_of_failures(db: Database, account: str, region: str, deployment_arn: str,
                             codes: Collection[str]) -> list[str | None]:
    """The stopped reasons of the deployment's tasks stopped for a failure: a stop code in ``codes``, failed ELB
    health checks, or a service failing to register or deregister them."""
    marks = ", ".join("?" for _ in codes)
    rows = db.all(
        f"SELECT stop_code, stopped_reason FROM ecs_tasks WHERE account_id = ? AND region = ? AND "
        f"deployment_arn = ? AND desired_status = 'STOPPED' AND (stop_code IN ({marks}) OR "
        f"stopped_reason LIKE 'Task failed ELB health checks%' OR stopped_reason LIKE 'service % failed to %')",
        (account, region, deployment_arn, *codes))
    return [r["stopped_reason"] for r in rows]


def not_stopped_of_service(db: Database, account: str, region: str, service_arn: str) -> list[Task]:
    """The service's tasks not STOPPED, in launch order."""
    rows = db.all("SELECT * FROM ecs_tasks WHERE account_id = ? AND region = ? AND service_arn = ? AND "
                  "last_status != 'STOPPED' ORDER BY created_at, arn", (account, region, service_arn))
    return [_task(row) for row in rows]


def stopping_count(db: Database, account: str, region: str, service_arn: str, deployment_arn: str, *,
                   launched_by_it: bool) -> int:
    """The service's tasks asked to stop and not STOPPED yet: those the deployment launched, or the others."""
    which = "deployment_arn = ?" if launched_by_it else "(deployment_arn IS NULL OR deployment_arn != ?)"
    return int(db.scalar(
        "SELECT COUNT(*) FROM ecs_tasks WHERE account_id = ? AND region = ? AND service_arn = ? AND "
        f"last_status != 'STOPPED' AND desired_status = 'STOPPED' AND {which}",
        (account, region, service_arn, deployment_arn)))


def not_stopped(db: Database, account: str | None = None, region: str | None = None) -> list[Task]:
    """Tasks not STOPPED (of an account and region, when given), in launch order."""
    sql = "SELECT * FROM ecs_tasks WHERE last_status <> 'STOPPED'"
    params: list[str] = []
    if account is not None:
        sql += " AND account_id = ?"
        params.append(account)
    if region is not None:
        sql += " AND region = ?"
        params.append(region)
    return [_task(row) for row in db.all(sql + " ORDER BY created_at, arn", params)]


def unregistered_service_tasks(db: Database) -> list[Task]:
    """Service tasks ACTIVATING or RUNNING, meant to run, with no registration recorded."""
    rows = db.all("SELECT * FROM ecs_tasks WHERE last_status IN ('ACTIVATING', 'RUNNING') AND "
                  "desired_status = 'RUNNING' AND service_arn IS NOT NULL AND registrations = '[]'")
    return [_task(row) for row in rows]


def deactivating_registered(db: Database) -> list[Task]:
    """Service tasks DEACTIVATING that recorded target registrations and have an address (whether those
    registrations still stand is the ELB store's to say)."""
    rows = db.all("SELECT * FROM ecs_tasks WHERE last_status = 'DEACTIVATING' AND service_arn IS NOT NULL AND "
                  "registrations != '[]' AND private_ip IS NOT NULL")
    return [_task(row) for row in rows]


def used_addresses(db: Database, account: str, region: str, subnet_id: str) -> set[str]:
    """Private addresses the subnet's tasks not STOPPED hold."""
    rows = db.all("SELECT private_ip FROM ecs_tasks WHERE account_id = ? AND region = ? AND subnet_id = ? "
                  "AND last_status <> 'STOPPED' AND private_ip IS NOT NULL", (account, region, subnet_id))
    return {str(r["private_ip"]) for r in rows}


def group_load(db: Database, account: str, region: str, subnet_id: str, cluster: str, group: str) -> int:
    """Tasks of ``group`` in the cluster, not STOPPED, placed in the subnet."""
    return int(db.scalar(
        "SELECT COUNT(*) FROM ecs_tasks WHERE account_id = ? AND region = ? AND subnet_id = ? AND cluster = ? "
        "AND group_name = ? AND last_status <> 'STOPPED'", (account, region, subnet_id, cluster, group)))


# -- writing ------------------------------------------------------------------------------------------------------


def insert_task(db: Database, *, account: str, region: str, cluster: str, arn: str, task_id: str,
                service_arn: str | None, revision_arn: str | None, deployment_arn: str | None,
                task_definition_arn: str, started_by: str | None, group: str, launch_type: str,
                platform_version: str | None, availability_zone: str | None, subnet_id: str | None,
                private_ip: str | None, eni_id: str | None, created_at: datetime) -> None:
    """A new task, PROVISIONING and meant to run."""
    now = iso(created_at)
    db.execute(
        "INSERT INTO ecs_tasks (account_id, region, cluster, arn, id, service_arn, revision_arn, deployment_arn, "
        "task_definition_arn, started_by, group_name, launch_type, platform_version, availability_zone, "
        "subnet_id, private_ip, eni_id, last_status, desired_status, health_status, registrations, version, "
        "created_at, status_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PROVISIONING', "
        "'RUNNING', 'UNKNOWN', '[]', 1, ?, ?)",
        (account, region, cluster, arn, task_id, service_arn, revision_arn, deployment_arn, task_definition_arn,
         started_by, group, launch_type, platform_version, availability_zone, subnet_id, private_ip, eni_id, now,
         now),
    )


def set_run_request(db: Database, account: str, region: str, arn: str, *, overrides: dict[str, Any] | None,
                    client_token: str | None, client_request: str | None) -> None:
    """What RunTask keeps on its tasks: the overrides, the clientToken and the request's digest."""
    db.execute("UPDATE ecs_tasks SET overrides = ?, client_token = ?, client_request = ? WHERE "
               "account_id = ? AND region = ? AND arn = ?",
               (dumps_or_none(overrides), client_token, client_request, account, region, arn))


def set_registrations(db: Database, account: str, region: str, arn: str,
                      registrations: list[dict[str, Any]]) -> None:
    db.execute("UPDATE ecs_tasks SET registrations = ? WHERE account_id = ? AND region = ? AND arn = ?",
               (dumps(registrations), account, region, arn))


def set_exit(db: Database, account: str, region: str, arn: str, container: str, code: int) -> None:
    """The task's container ``container`` exited by itself with ``code`` (the first exit is kept)."""
    db.execute("UPDATE ecs_tasks SET exit_container = COALESCE(exit_container, ?), exit_code = COALESCE(exit_code, ?), "
               "version = version + 1 WHERE account_id = ? AND region = ? AND arn = ?",
               (container, code, account, region, arn))


def request_stop(db: Database, account: str, region: str, arn: str, *, stop_code: str, reason: str | None,
                 status: str, at: datetime, registrations: list[dict[str, Any]]) -> None:
    """Desired STOPPED, ``status`` from ``at``; the first stop code and reason are kept."""
    db.execute(
        "UPDATE ecs_tasks SET desired_status = 'STOPPED', stop_code = COALESCE(stop_code, ?), "
        "stopped_reason = COALESCE(stopped_reason, ?), last_status = ?, status_since = ?, stopping_at = ?, "
        "registrations = ?, version = version + 1 WHERE account_id = ? AND region = ? AND arn = ?",
        (stop_code, reason, status, iso(at), iso(at), dumps(registrations), account, region, arn),
    )


# The timestamp each status sets as a task enters it.
_ENTERED = {"PENDING": ("pull_started_at", "connectivity_at"), "ACTIVATING": ("pull_stopped_at",),
            "RUNNING": ("started_at",), "DEPROVISIONING": ("execution_stopped_at",), "STOPPED": ("stopped_at",)}


def advance(db: Database, account: str, region: str, arn: str, status: str, at: datetime, *,
            health_status: str | None = None) -> None:
    """The task enters ``status`` at ``at`` (with the timestamps that status sets), and ``health_status``."""
    sets = ["last_status = ?", "status_since = ?", "version = version + 1"]
    params: list[Any] = [status, iso(at)]
    for column in _ENTERED.get(status, ()):
        sets.append(f"{column} = ?")
        params.append(iso(at))
    if health_status is not None:
        sets.append("health_status = ?")
        params.append(health_status)
    db.execute(f"UPDATE ecs_tasks SET {', '.join(sets)} WHERE account_id = ? AND region = ? AND arn = ?",
               (*params, account, region, arn))
