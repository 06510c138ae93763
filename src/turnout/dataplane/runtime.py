"""The data plane at run time (issue 13): listeners that serve, task processes that run, health checks that probe.

It runs in the process that runs the ECS engine (the primary worker, :mod:`turnout.workers`), on its event loop,
and follows the database: a *pass* (:meth:`DataPlane.reconcile`) starts a process for each container with port
mappings of every task between PENDING and DEACTIVATING and stops the others' (:mod:`.processes`), rebuilds the
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
from collections.abc import Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.clock import Clock
from ..services.ecs import task_states
from ..services.ecs.store import task_definitions as td_store
from ..services.ecs.store import tasks as task_store
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
from .listeners import ListenerServers
from .model import Address, Snapshot, Target
from .probes import CheckSettings, Outcome, Prober
from .processes import CommandRule, Running, StartFailed, TaskProcesses, builtin_command, command_for
from .router import Router

log = logging.getLogger("turnout.dataplane")

GENERATION = "dataplane"  # bumped by every ELB or ECS write (server.build_gateway's on_write hook)
POLL = 0.05  # seconds between two looks at GENERATION
GAP = 0.02  # seconds at least between two passes
REFRESH = 0.25  # seconds between two passes when nothing was written (target states move with the clock)
STOP_GRACE = 5.0  # seconds a task process has to exit after SIGTERM before SIGKILL
# Statuses in which a task's processes run: started with the image pull, stopped once the task stops.
RUNNING_STATUSES = (task_states.PENDING, task_states.ACTIVATING, task_states.RUNNING, task_states.DEACTIVATING)
START_FAILED = "TaskFailedToStart"
# The built-in app imports Turnout's own package, wherever this server was started from.
_BUILTIN_ENV = {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
READY_WITHIN = 30.0  # seconds a task process has to accept connections before its task moves on anyway


@dataclass(frozen=True, slots=True)
class Container:
    """A container of a task that gets a process: its name, image, container ports and environment."""

    task: Task
    name: str
    image: str
    ports: tuple[int, ...]
    environment: dict[str, str]
    builtin: bool
    command: list[str]

    @property
    def key(self) -> str:
        return f"{self.task.arn}/{self.name}"


def _environment(definition: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, str]:
    env = {str(e.get("name")): str(e.get("value", "")) for e in definition.get("environment") or []
           if isinstance(e, dict) and e.get("name")}
    for override in (overrides or {}).get("containerOverrides") or []:
        if isinstance(override, dict) and override.get("name") == definition.get("name"):
            env.update({str(e.get("name")): str(e.get("value", "")) for e in override.get("environment") or []
                        if isinstance(e, dict) and e.get("name")})
    return env


class DataPlane:
    def __init__(self, db: Database, clock: Clock, checks: HealthChecks, *, host: str, log_dir: Path,
                 commands: Sequence[CommandRule] = (), wake_engine: Callable[[], None] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.checks = checks
        self.host = host
        self.commands = tuple(commands)
        self.wake_engine = wake_engine
        self.time_scale = float(getattr(clock, "scale", 1.0))
        self.snapshot = Snapshot()
        self.balancer = Balancer()
        self.router = Router(self.balancer)
        self.servers = ListenerServers(host, self.current, self.router,
                                       on_start=self.balancer.started, on_finish=self.balancer.finished)
        self.processes = TaskProcesses(log_dir, host, on_exit=self._exited)
        self.prober = Prober(self._probed)
        self._containers: dict[str, Container] = {}  # process key -> what it runs for
        self._ready: set[str] = set()  # process keys that accept connections
        self._failed: set[str] = set()  # process keys that could not start (their task is stopping)
        self._stopping: set[str] = set()  # process keys being stopped
        self._background: set[asyncio.Task[None]] = set()  # stops and readiness waits under way
        self._definitions: dict[str, Any] = {}  # task definitions read in this pass
        self._endpoints: dict[tuple[str, str, str, int], tuple[Address, str]] = {}
        self._published: tuple[Any, Any] | None = None
        self._token: Any = None  # GENERATION's token at the last pass
        self._snapshot_token: Any = None  # ... when the snapshot was last built
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
        self.running = True
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    def poke(self) -> None:
        """Something changed that the data plane follows (the engine moved a task or a deployment)."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def close(self) -> None:
        self.running = False
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loop_task
        for task in list(self._background):
            task.cancel()
        await self.prober.close()
        await self.servers.close_all()
        await self.processes.stop_all(STOP_GRACE)
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
        changed (reading the token costs a ``PRAGMA data_version`` when nothing changed)."""
        try:
            token = generations.of(self.db).token(GENERATION)
            if token != self._snapshot_token:
                self._snapshot_token = token
                self.snapshot = snapshots.build(self.db, self.checks, self._endpoints)
        except Exception:  # the last snapshot stays (the database is closing, say)
            log.exception("could not read the data plane's state")
        return self.snapshot

    async def reconcile(self) -> None:
        """One pass: processes, then the snapshot, listeners and health checks."""
        async with self._lock:
            await self._tasks()
            self._snapshot_token = generations.of(self.db).token(GENERATION)
            self.snapshot = snapshots.build(self.db, self.checks, self._endpoints)
            await self._listeners()
            self._probes()
            self._publish()

    # -- task processes -------------------------------------------------------------------------------------

    def _containers_of(self, task: Task, definitions: dict[str, Any]) -> list[Container]:
        """The task's containers that get a process: those with port mappings."""
        arn = task.task_definition_arn
        if arn not in definitions:
            definitions[arn] = td_store.task_definition(self.db, task.account_id, task.region, arn)
        td = definitions[arn]
        if td is None:
            return []
        out = []
        for definition in task_states.containers(td):
            ports = tuple(int(m["containerPort"]) for m in definition.get("portMappings") or []
                          if isinstance(m, dict) and isinstance(m.get("containerPort"), int))
            if not ports:
                continue
            image = str(definition.get("image", ""))
            own = command_for(image, self.commands)
            env = _environment(definition, task.overrides)
            labels = task_states.labels(definition)
            if own is None and str(labels.get(task_states.HEALTH_LABEL, "")).lower() == "unhealthy":
                env.setdefault("TURNOUT_APP_HEALTH", "fail")  # the label's bad revision, now really failing
            out.append(Container(task, str(definition.get("name")), image, ports, env, own is None,
                                 own if own is not None else builtin_command()))
        return out

    def _wanted(self) -> dict[str, Container]:
        wanted: dict[str, Container] = {}
        definitions: dict[str, Any] = {}
        for task in task_store.not_stopped(self.db):
            if task.last_status not in RUNNING_STATUSES or not task.private_ip:
                continue
            for container in self._containers_of(task, definitions):
                wanted[container.key] = container
        return wanted

    def containers_ready(self, task: Task) -> bool:
        """Whether the task's containers have started (the ECS engine keeps a task PENDING until then)."""
        if not self.running:
            return True
        keys = [c.key for c in self._containers_of(task, self._definitions)]
        return all(key in self._ready for key in keys)

    def _health_paths(self, task: Task) -> str:
        """The health check paths the built-in app treats as health checks: those of every target group of the
        task's account and Region (Turnout's choice: the app starts before ECS registers it, so it cannot know its
        own groups yet; AWS's checks are recognised by their User-Agent too)."""
        paths = {str(group.health_check.get("HealthCheckPath") or "/")
                 for group in self.snapshot.groups.values()
                 if _scope_of(group.arn) == (task.account_id, task.region)
                 and group.health_check.get("HealthCheckProtocol") in ("HTTP", "HTTPS")}
        return ",".join(sorted(paths)) if paths else "/"

    async def _tasks(self) -> None:
        self._definitions = {}
        wanted = self._wanted()
        for key in [k for k in self.processes.running() if k not in wanted and k not in self._stopping]:
            self._containers.pop(key, None)
            self._ready.discard(key)
            self._stopping.add(key)
            # In the background: a program that ignores SIGTERM holds up nothing else for its grace period.
            self._spawn(self._stop(key))
        endpoints: dict[tuple[str, str, str, int], tuple[Address, str]] = {}
        for key, container in wanted.items():
            running = self.processes.running().get(key)
            if running is None:
                if key in self._failed:
                    continue
                running = await self._start(container)
                if running is None:
                    continue
                self._containers[key] = container
                self._spawn(self._await_ready(key))
            task = container.task
            for container_port, local in zip(container.ports, running.ports, strict=False):
                endpoints[(task.account_id, task.region, str(task.private_ip), container_port)] = \
                    ((running.host, local), task.arn)
        self._endpoints = endpoints

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the passes (the loop keeps only weak references to tasks: keep ours)."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _stop(self, key: str) -> None:
        try:
            await self.processes.stop(key, STOP_GRACE)
        except Exception:
            log.exception("could not stop %s", key)
        finally:
            self._stopping.discard(key)

    async def _await_ready(self, key: str) -> None:
        """Mark the process ready once it accepts connections (or READY_WITHIN has passed: a program that never
        listens still runs, and its health checks say the rest), and let the engine move its task on."""
        try:
            await self.processes.wait_ready(key, READY_WITHIN)
        except Exception:
            log.exception("waiting for %s failed", key)
        if key in self.processes.running():
            self._ready.add(key)
            if self.wake_engine is not None:
                self.wake_engine()
            self.poke()

    async def _start(self, container: Container) -> Running | None:
        task = container.task
        env = {**container.environment, **(_BUILTIN_ENV if container.builtin else {}), "TURNOUT_TASK_ARN": task.arn,
               "TURNOUT_TASK_DEFINITION_ARN": task.task_definition_arn, "TURNOUT_CONTAINER_NAME": container.name,
               "TURNOUT_IMAGE": container.image, "TURNOUT_HEALTH_CHECK_PATHS": self._health_paths(task)}
        try:
            return await self.processes.start(container.key, container.command, env, len(container.ports))
        except StartFailed as exc:
            log.warning("task %s: container %s did not start: %s", task.arn, container.name, exc)
            self._failed.add(container.key)
            self._stop_task(task.arn, START_FAILED, str(exc), None)
            return None

    def _exited(self, key: str, code: int) -> None:
        """A task process exited by itself: its task stops (the essential container exited)."""
        container = self._containers.pop(key, None)
        if container is None:
            return
        self._ready.discard(key)
        # Killed by a signal: 128 + its number, as a container runtime reports it (kill -9: 137).
        exit_code = 128 - code if code < 0 else code
        log.info("task %s: container %s exited with %d", container.task.arn, container.name, exit_code)
        self._stop_task(container.task.arn, task_states.EXIT_CODE, task_states.EXIT_REASON,
                        (container.name, exit_code))
        self.poke()

    def _stop_task(self, task_arn: str, stop_code: str, reason: str, exit: tuple[str, int] | None) -> None:
        now = self.clock.now()
        try:
            with self.db.transaction():
                task = task_states.find(self.db, task_arn)
                if task is None or not task.alive:
                    return
                if exit is not None:
                    task_store.set_exit(self.db, task.account_id, task.region, task.arn, exit[0], exit[1])
                regs = task_states.registrations(task)
                drain = task_states.target_group_drain(self.db, task.account_id, task.region, regs) if regs else 0.0
                task_states.stop(self.db, task, stop_code=stop_code, reason=reason, at=now, drain_seconds=drain)
                if self.wake_engine is not None:
                    self.wake_engine()
        except Exception:
            log.exception("could not stop task %s", task_arn)

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
        for (_, _, _, container_port), (address, arn) in self._endpoints.items():
            if arn == target.task_arn and container_port == port:
                return address
        return None

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
        endpoints = []
        for key, running in sorted(self.processes.running().items()):
            container = self._containers.get(key)
            if container is None:
                continue
            for container_port, local in zip(container.ports, running.ports, strict=False):
                endpoints.append(published.Endpoint(container.task.arn, container.name, container_port,
                                                    container.task.account_id, container.task.region, running.host,
                                                    local, running.pid, str(running.log_path)))
        state = (tuple(listeners), tuple(endpoints))
        if state != self._published:
            published.replace_listeners(self.db, listeners)
            published.replace_endpoints(self.db, endpoints)
            self._published = state


def _scope_of(arn: str) -> tuple[str, str]:
    """(account, region) of an ELB ARN."""
    parts = arn.split(":")
    return parts[4], parts[3]


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
