"""Task processes (issue 13): each container with port mappings of each task between PENDING and DEACTIVATING
runs one process on this machine (:mod:`.processes`): the built-in app, or the user's program for its image
(``--task-command``). Where each container port answers is the map the routing snapshot is built with.

What the processes do goes back into the task's state, each in its own transaction: a process that exits by itself
stops its task (``EssentialContainerExited``, its exit code; killed by a signal: 128 + the signal, as a container
runtime reports it), one that cannot start stops it with ``TaskFailedToStart`` and the reason; the service scheduler
replaces either, as ECS does. A task stays PENDING until its processes accept connections
(:meth:`TaskRunner.containers_ready`, read by the ECS engine). Turnout's choices: docs/dataplane.md, "Tasks".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.clock import Clock
from ..services.ecs import task_states
from ..services.ecs.store import task_definitions as td_store
from ..services.ecs.store import tasks as task_store
from ..services.ecs.store.tasks import Task
from ..store import dataplane as published
from ..store.db import Database
from .model import Address
from .processes import CommandRule, Running, StartFailed, TaskProcesses, builtin_command, command_for

log = logging.getLogger("turnout.dataplane")

STOP_GRACE = 5.0  # seconds a task process has to exit after SIGTERM before SIGKILL
# Statuses in which a task's processes run: started with the image pull, stopped once the task stops.
RUNNING_STATUSES = (task_states.PENDING, task_states.ACTIVATING, task_states.RUNNING, task_states.DEACTIVATING)
START_FAILED = "TaskFailedToStart"
# The built-in app imports Turnout's own package, wherever this server was started from.
_BUILTIN_ENV = {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
READY_WITHIN = 30.0  # seconds a task process has to accept connections before its task moves on anyway
# (account, region, private IP, container port) -> (local address, task ARN)
Endpoints = dict[tuple[str, str, str, int], tuple[Address, str]]


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


class TaskRunner:
    """The task processes of this server, kept in step with the tasks' states by :meth:`sync`."""

    def __init__(self, db: Database, clock: Clock, *, host: str, log_dir: Path, commands: tuple[CommandRule, ...],
                 wake_engine: Callable[[], None] | None, poke: Callable[[], None]) -> None:
        self.db = db
        self.clock = clock
        self.commands = commands
        self.wake_engine = wake_engine
        self.poke = poke  # the data plane's: something changed
        self.processes = TaskProcesses(log_dir, host, on_exit=self._exited)
        self.running = False  # whether tasks wait for their processes (the data plane runs in this process)
        self.endpoints: Endpoints = {}
        self._health_paths: Callable[[Task], str] = lambda task: "/"
        self._containers: dict[str, Container] = {}  # process key -> what it runs for
        self._ready: set[str] = set()  # process keys that accept connections
        self._failed: set[str] = set()  # process keys that could not start (their task is stopping)
        self._stopping: set[str] = set()  # process keys being stopped
        self._background: set[asyncio.Task[None]] = set()  # stops and readiness waits under way
        self._definitions: dict[str, Any] = {}  # task definitions read in this pass

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.processes.stop_all(STOP_GRACE)

    def address_of(self, task_arn: str, container_port: int) -> Address | None:
        for (_, _, _, port), (address, arn) in self.endpoints.items():
            if arn == task_arn and port == container_port:
                return address
        return None

    def published(self) -> list[published.Endpoint]:
        """Where each running container port answers (``GET /_turnout/dataplane``)."""
        out = []
        for key, running in sorted(self.processes.running().items()):
            container = self._containers.get(key)
            if container is None:
                continue
            for container_port, local in zip(container.ports, running.ports, strict=False):
                out.append(published.Endpoint(container.task.arn, container.name, container_port,
                                              container.task.account_id, container.task.region, running.host,
                                              local, running.pid, str(running.log_path)))
        return out

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

    async def sync(self, health_paths: Callable[[Task], str]) -> None:
        """Start the processes of tasks that need them, stop those of tasks that do not any more."""
        self._health_paths = health_paths
        self._definitions = {}
        wanted = self._wanted()
        self._failed &= wanted.keys()  # a task that could not start is stopping: forget it once it is gone
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
        self.endpoints = endpoints

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
