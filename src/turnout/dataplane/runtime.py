"""The data plane at run time (issue 13): listeners that serve, task processes that run, health checks that probe.

It runs in the process that runs the ECS engine (the background process, :mod:`turnout.workers`), on its event loop,
and follows the database: a *pass* (:meth:`DataPlane.reconcile`) starts a process for each container with port
mappings of every task between PENDING and DEACTIVATING and stops the others' (:mod:`.containers`), rebuilds the
routing :class:`~.model.Snapshot` (:mod:`.snapshot`), serves every listener in it and stops serving the others
(:mod:`.listeners`), and health-checks every target that has an address (:mod:`.probes`). A pass runs when a
write of ELB or ECS state commits (the generation :data:`GENERATION`, bumped by every such write in any worker),
when the ECS engine has moved something (:meth:`DataPlane.poke`), and every :data:`REFRESH` seconds, since
target states change with the clock alone (initial, draining, gone).

What the data plane learns goes back into the control plane's state, each in its own transaction:

* a health check's outcome changing: the target's reported health (``elbv2`` ``report_health``), from which
  DescribeTargetHealth and the engine's waits derive the state, with the group's thresholds
  (:mod:`.health`);
* a task process exiting by itself: the task stops, ``EssentialContainerExited`` with the process's exit code,
  and the service scheduler replaces it as ECS would;
* a task process that cannot start: the task stops, ``TaskFailedToStart`` with the reason.

Addresses are published in the database (:mod:`turnout.store.dataplane`) for ``GET /_turnout/dataplane``, which
any worker answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..core.clock import Clock
from ..services.ecs.store.tasks import Task
from ..services.elbv2 import store as elb_store
from ..services.elbv2 import targets as elb_targets
from ..services.elbv2.ports import HealthChecks
from ..services.elbv2.target_health import NOT_CHECKED
from ..store import dataplane as published
from ..store import generations
from ..store.db import Database
from . import snapshot as snapshots
from .balancing import Balancer
from .containers import TaskRunner
from .listeners import ListenerServers
from .model import Address, Snapshot, Target
from .probes import CheckSettings, Outcome, Prober
from .processes import CommandRule
from .router import Router

log = logging.getLogger("turnout.dataplane")

GENERATION = "dataplane"  # bumped by every ELB or ECS write (server.build_gateway's on_write hook)
POLL = 0.05  # seconds between two looks at GENERATION
GAP = 0.02  # seconds at least between two passes
REFRESH = 0.25  # seconds between two passes when nothing was written (target states move with the clock)


def _tls_context(directory: Path) -> ssl.SSLContext:
    """The HTTPS listeners' TLS context (:mod:`.tls`, imported by the first HTTPS listener: it brings the
    ``cryptography`` package, which a server without one need not load at start)."""
    from . import tls

    return tls.server_context(directory)


class DataPlane:
    """The data plane of one server process: its listeners, task processes and health checks (see the module)."""

    def __init__(self, db: Database, clock: Clock, checks: HealthChecks, *, host: str, log_dir: Path,
                 commands: Sequence[CommandRule] = (), wake_engine: Callable[[], None] | None = None,
                 changes: Callable[[], int] | None = None, tls_dir: Path | None = None) -> None:
        self.db = db
        self.clock = clock
        self.checks = checks
        self.host = host
        self.wake_engine = wake_engine
        self.time_scale = float(getattr(clock, "scale", 1.0))
        self.snapshot = Snapshot()
        self.balancer = Balancer()
        self.router = Router(self.balancer)
        self.servers = ListenerServers(host, self.current, self.router, on_start=self.balancer.started,
                                       on_finish=self.balancer.finished,
                                       tls=None if tls_dir is None else partial(_tls_context, tls_dir))
        self.tasks = TaskRunner(db, clock, host=host, log_dir=log_dir, commands=tuple(commands),
                                wake_engine=wake_engine, poke=self.poke)
        self.prober = Prober(self._probed)
        self._published: tuple[Any, Any] | None = None
        self._token: Any = None  # GENERATION's token at the last pass
        # The count of ELB and ECS writes committed, in every worker (server.build_dataplane); without it, the
        # database's generation (a PRAGMA and perhaps a query per request).
        self._changes = changes if changes is not None else lambda: generations.of(db).token(GENERATION)
        self._snapshot_seen: Any = None  # what _changes said when the snapshot was last built
        self._wakeup: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.running = False

    # -- the loop -------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._wakeup = asyncio.Event()
        with contextlib.suppress(Exception):
            published.replace_listeners(self.db, [])
            published.replace_endpoints(self.db, [])
        self.running = self.tasks.running = True
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    def poke(self) -> None:
        """Something changed that the data plane follows (the engine moved a task or a deployment)."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def close(self) -> None:
        self.running = self.tasks.running = False
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loop_task
        await self.prober.close()
        await self.servers.close_all()
        await self.tasks.close()
        with contextlib.suppress(Exception):
            published.replace_listeners(self.db, [])
            published.replace_endpoints(self.db, [])

    async def _run(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        last = 0.0
        while True:
            try:
                token = generations.of(self.db).token(GENERATION)
            except Exception:  # the database is closing
                token = self._token
            if token != self._token or self._wakeup.is_set() or loop.time() - last >= REFRESH:
                self._token = token
                self._wakeup.clear()
                last = loop.time()
                try:
                    await self.reconcile()
                except Exception:
                    log.exception("data plane pass failed")
                await asyncio.sleep(GAP)  # pokes come after every engine pass: passes at most this often
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=POLL)

    def current(self) -> Snapshot:
        """The snapshot a request is routed by, built again first when an ELB or ECS write has committed since the
        last one: a request sent once ``DeregisterTargets`` or ``ModifyRule`` has answered is routed by what they
        changed. Every worker counts the ELB and ECS writes it commits, once committed, in memory they share: the
        look costs a few reads of that memory, not a database query."""
        try:
            seen = self._changes()
            if seen != self._snapshot_seen:
                self._snapshot_seen = seen
                self.snapshot = snapshots.build(self.db, self.checks, self.tasks.endpoints)
        except Exception:  # the last snapshot stays (the database is closing, say)
            log.exception("could not read the data plane's state")
        return self.snapshot

    async def reconcile(self) -> None:
        """One pass: processes, then the snapshot, listeners and health checks."""
        async with self._lock:
            await self.tasks.sync(self._health_paths)
            self._snapshot_seen = self._changes()  # read first: a write committed during the build is seen next
            self.snapshot = snapshots.build(self.db, self.checks, self.tasks.endpoints)
            await self._listeners()
            self._probes()
            self._publish()

    # -- task processes -------------------------------------------------------------------------------------

    def _health_paths(self, task: Task) -> str:
        """The health check paths the built-in app treats as health checks: those of every target group of the
        task's account and Region (Turnout's choice: the app starts before ECS registers it, so it cannot know its
        own groups yet; AWS's checks are recognised by their User-Agent too)."""
        paths = {str(group.health_check.get("HealthCheckPath") or "/")
                 for group in self.snapshot.groups.values()
                 if _scope_of(group.arn) == (task.account_id, task.region)
                 and group.health_check.get("HealthCheckProtocol") in ("HTTP", "HTTPS")}
        return ",".join(sorted(paths)) if paths else "/"

    def containers_ready(self, task: Task) -> bool:
        """Whether the task's processes answer (the ECS engine keeps a task PENDING until then)."""
        return self.tasks.containers_ready(task)

    # -- listeners ------------------------------------------------------------------------------------------

    async def _listeners(self) -> None:
        served = self.servers.addresses()
        for arn in [a for a in served if a not in self.snapshot.listeners]:
            await self.servers.close(arn)
        for listener in self.snapshot.listeners.values():
            try:
                await self.servers.serve(listener)
            except OSError as exc:
                log.warning("listener %s (port %d) cannot be served: %s", listener.arn, listener.port, exc)

    # -- health checks --------------------------------------------------------------------------------------

    def _probes(self) -> None:
        watched: set[Hashable] = set()
        for group in self.snapshot.groups.values():
            if group.health_check.get("HealthCheckEnabled") is False:
                continue
            settings = CheckSettings.from_group(group.health_check, self.time_scale)
            for target in group.targets:
                if target.address is None or target.state == "draining":
                    continue
                key = (group.arn, target.id, target.port)
                address = self._check_address(target, settings.port)
                if address is None:
                    continue
                self.prober.watch(key, address, settings)
                watched.add(key)
        for gone in self.prober.keys() - watched:
            self.prober.unwatch(gone)

    def _check_address(self, target: Target, port: int | None) -> Address | None:
        """Where the target's health checks go: its own address on the traffic port, else the given port of the
        same task (or of the same loopback address)."""
        if port is None or target.address is None:
            return target.address
        if target.task_arn is None:
            return (target.address[0], port)
        return self.tasks.address_of(target.task_arn, port)

    def _probed(self, key: Hashable, outcome: Outcome) -> None:
        """A target's health check outcome changed: its reported health, from now; a first outcome holds from its
        registration (a task is registered only once its process answers, so the first checks saw it as the first
        outcome says; counting them the other way would let a failing target pass its first checks)."""
        assert isinstance(key, tuple)
        group_arn, target_id, port = str(key[0]), str(key[1]), int(key[2])
        account, region = _scope_of(str(group_arn))
        now = self.clock.now()
        try:
            with self.db.transaction():
                stored = next((t for t in elb_store.registered(self.db, account, region, [str(target_id)])
                               if t.target_group_arn == group_arn and t.port == int(port)), None)
                health = "healthy" if outcome.passing else "unhealthy"
                if stored is None or stored.reported_health == health:
                    return  # the condition it reported holds since then: its instant stays
                # A first outcome holds since the registration (the task answered before ECS registered it).
                at = stored.registered_at if stored.reported_health in (None, NOT_CHECKED) else now
                elb_targets.report_health(self.db, account, region, group_arn, target_id, port, health, at)
                if self.wake_engine is not None:
                    self.wake_engine()
        except Exception:
            log.exception("could not record the health of %s", key)
        self.poke()

    # -- published addresses --------------------------------------------------------------------------------

    def _publish(self) -> None:
        listeners = []
        for arn, address in sorted(self.servers.addresses().items()):
            listener = self.snapshot.listeners.get(arn)
            if listener is None or address is None:
                continue
            listeners.append(published.ServedListener(arn, listener.account_id, listener.region,
                                                      listener.load_balancer_arn, listener.port, address[0],
                                                      address[1]))
        endpoints = self.tasks.published()
        state = (tuple(listeners), tuple(endpoints))
        if state != self._published:
            published.replace_listeners(self.db, listeners)
            published.replace_endpoints(self.db, endpoints)
            self._published = state


def _scope_of(arn: str) -> tuple[str, str]:
    """(account, region) of an ELB ARN."""
    parts = arn.split(":")
    return parts[4], parts[3]
