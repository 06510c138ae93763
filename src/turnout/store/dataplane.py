"""``dataplane_listeners`` and ``dataplane_endpoints``: where the data plane serves each listener and where each
task container answers on this machine (issue 13, :mod:`turnout.dataplane.runtime`).

Only the process running the data plane writes them; every worker reads them to answer ``GET /_turnout/dataplane``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .db import Database


@dataclass(frozen=True, slots=True)
class ServedListener:
    listener_arn: str
    account_id: str
    region: str
    load_balancer_arn: str
    port: int  # the listener's own port
    host: str
    local_port: int


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One container port of a running task, on this machine."""

    task_arn: str
    container_name: str
    container_port: int
    account_id: str
    region: str
    host: str
    local_port: int
    pid: int | None
    log_path: str | None


def replace_listeners(db: Database, served: Iterable[ServedListener]) -> None:
    """Make the table exactly ``served``."""
    rows = [(s.listener_arn, s.account_id, s.region, s.load_balancer_arn, s.port, s.host, s.local_port)
            for s in served]
    with db.transaction():
        db.execute("DELETE FROM dataplane_listeners")
        db.executemany("INSERT INTO dataplane_listeners (listener_arn, account_id, region, load_balancer_arn, port, "
                       "host, local_port) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def listeners(db: Database) -> list[ServedListener]:
    return [ServedListener(r["listener_arn"], r["account_id"], r["region"], r["load_balancer_arn"], int(r["port"]),
                           r["host"], int(r["local_port"]))
            for r in db.all("SELECT * FROM dataplane_listeners ORDER BY account_id, region, listener_arn")]


def replace_endpoints(db: Database, endpoints: Iterable[Endpoint]) -> None:
    """Make the table exactly ``endpoints``."""
    rows = [(e.task_arn, e.container_name, e.container_port, e.account_id, e.region, e.host, e.local_port, e.pid,
             e.log_path) for e in endpoints]
    with db.transaction():
        db.execute("DELETE FROM dataplane_endpoints")
        db.executemany("INSERT INTO dataplane_endpoints (task_arn, container_name, container_port, account_id, region, "
                       "host, local_port, pid, log_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def endpoints(db: Database) -> list[Endpoint]:
    return [Endpoint(r["task_arn"], r["container_name"], int(r["container_port"]), r["account_id"], r["region"],
                     r["host"], int(r["local_port"]), r["pid"], r["log_path"])
            for r in db.all("SELECT * FROM dataplane_endpoints ORDER BY task_arn, container_name, container_port")]


def counts(db: Database) -> tuple[int, int]:
    """(listeners served, task processes running), for ``/_turnout/health``."""
    listeners = int(db.scalar("SELECT COUNT(*) FROM dataplane_listeners"))
    processes = int(db.scalar("SELECT COUNT(DISTINCT task_arn || '/' || container_name) FROM dataplane_endpoints"))
    return listeners, processes
