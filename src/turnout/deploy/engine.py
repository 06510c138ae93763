"""The engine: runs service deployments and the task lifecycle on the clock, in the server's event loop.

The engine runs in one server process: the background process of ``serve --workers N``, which answers no
connection, so that its units of work hold up no call (:mod:`turnout.workers`); the only process with ``--workers
1``. A request answered by a worker wakes it through the generation :data:`WAKE` (:mod:`turnout.store.generations`),
moved in the request's transaction, and, once that has committed, by ringing the server's
:class:`~turnout.workers.Doorbell`, which the engine watches from its event loop. It also looks at :data:`WAKE`
every :data:`POLL` seconds while it waits, in case a ring was lost. (It used to look every 20 ms instead of being
rung: half the background process's CPU in an idle server, 3% of a core on a slow machine.)

Nothing runs in a thread: a pass (:meth:`Engine.tick`) moves every task whose step has lasted its time, then every
deployment that is due, then reconciles services whose tasks or settings changed, each change in its own
transaction, and answers how many simulated seconds until something is due again. The loop sleeps that long
(scaled by ``--time-scale``) or until :meth:`wake` (a request changed something).

Every transition is persisted as it happens (deployment rows carry their plan and position, tasks their status
and since when), so after ``kill -9`` a restart resumes where the last committed transition left off: a
half-done transition was rolled back with everything it wrote, ELB changes included (they are savepoints of the
same transaction), and runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..dataplane import task_lifecycle
from ..services.ecs import events
from ..services.ecs.model import ACTIVE, FINAL, STOPPED
from ..services.ecs.revisions import serving_revision
from ..services.ecs.store import deployments as deployment_store
from ..services.ecs.store import services as service_store
from ..services.ecs.store import tasks as task_store
from ..services.ecs.store.deployments import ServiceDeployment
from ..services.ecs.store.services import Service
from ..services.ecs.store.tasks import Task
from ..services.elbv2 import store as elb_store
from ..services.elbv2.actions import stored_weights
from ..store import generations
from .acting import Acting
from .hooks import Hooks
from .rolling import Rolling
from .runner import CIRCUIT_REASON, NETWORK_REASON, Fail, Runner
from .scheduler import Scheduler
from .state import OPEN_HOOK, Deployment

if TYPE_CHECKING:
    from ..gateway.gateway import Gateway
    from ..workers import Doorbell  # the app layer's: made by the parent process, rung here

log = logging.getLogger("turnout.ecs.engine")

SLICE = 0.005  # seconds of engine work between two looks at the event loop
IDLE = 3600.0  # simulated seconds to sleep when nothing is scheduled (a wake comes first)
FAILURE_CODES = ("EssentialContainerExited", "TaskFailedToStart")
WAKE = "ecs:engine"  # the generation another worker bumps to wake the engine
GATED_POLL = 0.25  # real seconds between two looks at tasks waiting for their processes (turnout.dataplane)
POLL = 0.5  # seconds between two looks at WAKE while the engine waits (several workers only; rung at once)


class Engine:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.db = gateway.db
        self.clock = gateway.clock
        self.acting = Acting(gateway)
        self.scheduler = Scheduler(self.db, self.clock, self.acting)
        self.runner = Runner(self)
        self.hooks = Hooks(self)
        self.rolling = Rolling(self)
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._dirty: set[str] | None = None  # services to reconcile; None: all of them
        self._next_task: float | None = None
        self._repaired = False
        self._poked: set[str] = set()  # deployments to run now whatever their wait
        self._woken = 0  # the WAKE token last seen
        self.containers_ready: task_lifecycle.Ready = None  # the data plane's (None: containers start on the clock)
        self.after_pass: list[Callable[[], None]] = []  # told after each pass (the data plane follows the tasks)

    # -- the loop -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Resume every unfinished deployment and task transition (server startup)."""
        self._event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        doorbell = self._doorbell()
        if doorbell is not None:
            self._loop.add_reader(doorbell.fileno(), self._rung, doorbell)
        self._loop_task = self._loop.create_task(self._run())

    def _doorbell(self) -> Doorbell | None:
        worker = self.gateway.worker
        return worker.doorbell if worker is not None else None

    def _rung(self, doorbell: Doorbell) -> None:
        """A worker rang (it moved :data:`WAKE`, and committed): run a pass now, as for a new token, and take that
        token as seen, so that the next look at it does not run a second pass for the same wake (a bump after this
        read rings again)."""
        doorbell.drain()
        token = self._wake_token()
        if token is not None:
            self._woken = token
        self._dirty = None
        if self._event is not None:
            self._event.set()

    def _wake_token(self) -> int | None:
        """The :data:`WAKE` token now; None when it cannot be read (the database is closing, at shutdown: the loop
        is about to be cancelled)."""
        try:
            return generations.of(self.db).token(WAKE)
        except Exception:
            log.debug("could not read the engine's wake token", exc_info=True)
            return None

    def wake(self, deployment_arn: str | None = None) -> None:
        """Something changed (a new deployment, a stop request, a continued hook): run once the current request's
        transaction has committed (the loop runs after the request's handler returns)."""
        self._dirty = None
        if deployment_arn is not None:
            self._poked.add(deployment_arn)
        if self._event is not None and self._loop is not None:
            # Once the request's transaction has committed (a pass must find what it changed), and from the loop's
            # own thread (long calls are answered in request threads).
            loop, event = self._loop, self._event

            def set_event() -> None:
                loop.call_soon_threadsafe(event.set)

            self.db.after_commit(set_event)
        elif self.gateway.shared:
            # The engine runs in another process: wake it with this request's transaction (pokes need no
            # passing on: every poke goes with a deployment row whose wait was cleared, so it is due at once),
            # and ring it once that has committed.
            generations.of(self.db).bump(WAKE)
            doorbell = self._doorbell()
            if doorbell is not None:
                self.db.after_commit(doorbell.ring)

    async def _run(self) -> None:
        from ..services.cloudtrail.recorder import recorder_of

        assert self._event is not None
        trail = recorder_of(self.gateway)
        while True:
            self._event.clear()
            delay = 1.0
            try:
                # A pass gives the event loop back every few milliseconds, so that API requests are answered
                # while many deployments advance (each unit of work is one transaction).
                started = time.perf_counter()
                for _ in self._pass():
                    # The events of the calls ECS made in that unit (committed now): written at once, so that a
                    # LookupEvents answered by another worker finds them as soon as the change they made.
                    if trail is not None:
                        trail.write_pending()
                    if time.perf_counter() - started > SLICE:
                        await asyncio.sleep(0)
                        started = time.perf_counter()
                delay = self.next_due()
            except Exception:
                log.exception("ECS engine pass failed")
            for hook in self.after_pass:
                hook()
            real = delay / getattr(self.clock, "scale", 1.0)
            await self._wait(max(0.0, min(real, IDLE)))

    async def _wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or until woken: by :meth:`wake` in this process, by another process's ring of the
        doorbell (:meth:`_rung`) or bump of :data:`WAKE` (looked at every :data:`POLL` seconds)."""
        assert self._event is not None
        if not self.gateway.shared:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout=seconds)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout=min(left, POLL))
                return
            token = self._wake_token()
            if token is not None and token != self._woken:
                self._woken = token
                self._dirty = None
                return

    def tick(self) -> float:
        """One pass, run to its end; the simulated seconds until the next thing is due."""
        for _ in self._pass():
            pass
        return self.next_due()

    def _pass(self) -> Iterator[None]:
        """The work of one pass, yielding after each unit (a task batch, a deployment, a service)."""
        self._next_task = None
        now = self.clock.now()
        if not self._repaired:
            self._repaired = True
            self._repair(now)
        yield from self._transitions(now)
        for row in deployment_store.active_deployments(self.db):
            if row.arn in self._poked or self._due(row.wake_since, row.wake_after) <= 0:
                self._poked.discard(row.arn)
                try:
                    self._advance(row.account_id, row.region, row.arn, self.clock.now())
                except Exception as exc:  # one deployment's fault must not stall the others
                    log.exception("ECS deployment %s failed to advance", row.arn)
                    self._broken(row, self.clock.now(), exc)
                yield
        yield from self._reconcile(self.clock.now())

    def health(self) -> dict[str, Any]:
        """``/_turnout/health``'s ``"ecs"``: whether the engine runs, and what it has under way."""
        deployments = deployment_store.count_active(self.db)
        tasks = task_store.live_status_counts(self.db)
        if self._loop_task is not None:
            running = not self._loop_task.done()
        else:  # another worker's engine (turnout.workers)
            running = self.gateway.worker is not None and self.gateway.worker.engine_running()
        return {"engine": "running" if running else "stopped",
                "deployments_in_progress": deployments, "tasks_running": tasks.get("RUNNING", 0),
                "tasks_other": sum(n for status, n in tasks.items() if status != "RUNNING")}

    def next_due(self) -> float:
        waits = [IDLE]
        task_wait = task_lifecycle.next_due(self.db, self.clock, ready=self.containers_ready)
        if task_wait is not None:
            waits.append(task_wait)
        for arn, since, after in deployment_store.active_waits(self.db):
            waits.append(0.0 if arn in self._poked else self._due(since, after))
        if self._dirty is None or self._dirty:
            waits.append(0.0)
        return max(0.0, min(waits))

    def next_task_change(self) -> float:
        """Simulated seconds until some task changes (read once per pass: deployments waiting on tasks are also
        poked when their service's tasks move, so this is only a bound)."""
        if self._next_task is None:
            wait = task_lifecycle.next_due(self.db, self.clock, ready=self.containers_ready)
            if wait is None and self.containers_ready is not None:
                # Tasks may be waiting for their processes, which wake the engine when they answer: look again
                # after a quarter of a real second at most, never spinning however fast the clock runs.
                wait = GATED_POLL * getattr(self.clock, "scale", 1.0)
            self._next_task = 1.0 if wait is None else max(0.01, wait)
        return self._next_task

    def _due(self, since: datetime | None, after: float | None) -> float:
        """Simulated seconds until a deployment that waits ``after`` seconds from ``since`` is due."""
        if since is None or after is None:
            return 0.0
        return after - self.clock.sim_elapsed(since)

    # -- deployments ----------------------------------------------------------------------------------------

    def _advance(self, account: str, region: str, arn: str, now: datetime) -> None:
        with self.db.transaction():
            row = deployment_store.deployment(self.db, account, region, arn)
            if row is None or row.status in FINAL:
                return
            service = self.scheduler.service(account, region, row.service_arn)
            if service is None:
                return
            dep = Deployment.load(row, service)
            self.runner.advance(dep, now)
            dep.save(self.db, now)
            if dep.status in FINAL:
                self.acting.forget(dep.arn)
                self._mark(dep.service_arn)

    def _broken(self, row: ServiceDeployment, now: datetime, exc: Exception) -> None:
        """A deployment the engine cannot run (a Turnout bug): stopped, saying so, rather than retried forever."""
        reason = (f"Turnout could not run this service deployment ({type(exc).__name__}: {exc}); this is a Turnout "
                  "bug, the server log has the details.")
        # Its hooks still waiting end FAILED, as when any deployment ends (docs/ecs-deployments.md, "Hooks when a
        # deployment ends").
        hooks = [dict(h, status="FAILED") if h.get("status") in OPEN_HOOK else h for h in row.hooks]
        with self.db.transaction():
            deployment_store.stop_broken(self.db, row.account_id, row.region, row.arn, reason, now, hooks)
            events.add(self.db, row.account_id, row.region, row.service_arn, reason, now)

    def continue_hook(self, account: str, region: str, deployment_arn: str, hook_id: str, action: str,
                      at: datetime) -> bool:
        """ContinueServiceDeployment on the deployment's pause hook ``hook_id``, in the request's transaction
        (:class:`turnout.services.ecs.ports.DeploymentEngine`); False when no such hook awaits action."""
        dep = self.load(account, region, deployment_arn)
        if dep is None or not Hooks.resolve_pause(dep, hook_id, action):
            return False
        dep.clear_wait()
        dep.save(self.db, at)
        return True

    def load(self, account: str, region: str, arn: str) -> Deployment | None:
        row = deployment_store.deployment(self.db, account, region, arn)
        if row is None:
            return None
        service = self.scheduler.service(account, region, row.service_arn)
        return None if service is None else Deployment.load(row, service)

    def supersede(self, arn: str, newer: Deployment, now: datetime) -> None:
        older = self.load(newer.account, newer.region, arn)
        if older is None:
            return
        # Its rules and tasks put in order first, so that the newer one starts from one target group serving both
        # rules (docs/ecs-deployments.md, "Listener rules and targets after a rollback or a stop").
        left = self.runner.settle_superseded(older, now)
        older.status = STOPPED
        # AWS documents the transition (a new deployment stops the one under way), not its statusReason: ours.
        older.status_reason = f"Service deployment stopped because a new service deployment {newer.arn} started."
        if left is not None:  # our wording, after ROLLBACK_FAILED's
            older.status_reason += f" {left}"
            self.note(older, f"(service {older.service_name}) (deployment {older.legacy_id}) stopped: {left}", now)
        older.stopped_at = older.finished_at = now
        older.rollout_state, older.rollout_state_reason = "FAILED", older.status_reason
        older.wake_since = older.wake_after = None
        older.save(self.db, now)
        self.acting.forget(arn)

    def note(self, dep: Deployment, message: str, now: datetime) -> None:
        events.add(self.db, dep.account, dep.region, dep.service_arn, message, now)

    def count_failures(self, dep: Deployment) -> Fail | None:
        """The deployment's task failures so far; a Fail once they call for a rollback."""
        rows = task_store.stop_reasons_of_failures(self.db, dep.account, dep.region, dep.arn, FAILURE_CODES)
        for reason in rows:
            if (reason or "").startswith("service "):
                return Fail(NETWORK_REASON.format(detail=reason))
        if dep.circuit_breaker is not None:
            dep.circuit_breaker["failureCount"] = len(rows)
        threshold = int((dep.circuit_breaker or {}).get("threshold") or 3)
        enabled = dep.strategy != "ROLLING" or (dep.circuit_breaker or {}).get("status") == "MONITORING"
        if enabled and len(rows) >= threshold:
            return Fail(CIRCUIT_REASON)
        return None

    def fail_task(self, dep: Deployment, task: Task, target_group: str, now: datetime) -> None:
        task_id = task.arn.rsplit("/", 1)[-1]
        events.add(self.db, dep.account, dep.region, dep.service_arn,
                   f"(service {dep.service_name}) (task {task_id}) failed ELB health checks in (target-group "
                   f"{target_group})", now)
        self.scheduler.stop(dep.service, [task], now, stop_code="ServiceSchedulerInitiated",
                            reason=f"Task failed ELB health checks in (target-group {target_group})")

    def where(self, dep: Deployment) -> str:
        """Which listener rules are left pointing where (for ROLLBACK_FAILED), read from the load balancer."""
        parts = []
        for pair in self.scheduler.traffic_pairs(dep.service, dep.target):
            for label, named in (("Production", pair.production), ("Test", pair.test)):
                if not named:
                    continue
                found = stored_weights(self.db, dep.account, dep.region, named)
                if found is None:
                    continue
                shares = ", ".join(f"{tg} (weight {w})" for tg, w in found.items())
                kind = "listener" if ":listener/" in named else "listener rule"
                parts.append(f"{label} {kind} {named} is left forwarding to {shares}.")
        return " ".join(parts)

    # -- tasks ----------------------------------------------------------------------------------------------

    def _transitions(self, now: datetime) -> Iterator[None]:
        """Move the tasks that are due; then ECS's part of each move (registration, health), one transaction each.
        A crash between the two is made good at the next start (:meth:`_repair`)."""
        with self.db.transaction():
            moved = task_lifecycle.due(self.db, self.clock, ready=self.containers_ready)
            # Tasks that went through DEACTIVATING at once (its drain ended before this pass: a late wake, a busy
            # machine) are deregistered as if a pass had run while they drained, before their addresses are free.
            self._deregister_stopped(now, [t.task for t in moved if t.previous == "DEACTIVATING"])
            # Every unfinished deployment of a service whose tasks moved looks again (it may wait on them).
            for task in {t.task.service_arn: t.task for t in moved if t.task.service_arn}.values():
                assert task.service_arn is not None
                self._mark(task.service_arn)
                self._poked.update(deployment_store.arns_of_service(self.db, task.account_id, task.region,
                                                                    task.service_arn, ACTIVE))
        for change in moved:
            if change.status in ("ACTIVATING", "RUNNING"):
                with self.db.transaction():
                    self._on_move(change.task, change.status, now)
                yield
        with self.db.transaction():
            self._deregister_stopped(now)

    def _on_move(self, task: Task, status: str, now: datetime) -> None:
        task = self._task(task)
        if task.desired_status != "RUNNING":
            return  # asked to stop meanwhile (StopTask between two units of a pass): nothing to register
        if status == "ACTIVATING":
            failure = self.scheduler.register(task, now)
            if failure is not None:
                service = self.scheduler.service(task.account_id, task.region, task.service_arn)
                if service is not None:
                    self.scheduler.stop(service, [self._task(task)], now, stop_code="ServiceSchedulerInitiated",
                                        reason=failure, announce=False)
        else:
            self.scheduler.report_running(self._task(task), now)

    def _repair(self, now: datetime) -> None:
        """At start: tasks that became ACTIVATING or RUNNING before a crash without ECS's part done."""
        for task in task_store.unregistered_service_tasks(self.db):
            if not self.scheduler.bindings(task):
                continue
            with self.db.transaction():
                self._on_move(task, "ACTIVATING", now)
                if task.last_status == "RUNNING":
                    self._on_move(task, "RUNNING", now)

    def _deregister_stopped(self, now: datetime, drained: list[Task] | None = None) -> None:
        """Tasks asked to stop outside the scheduler (StopTask) still registered: deregister them now. ``drained``:
        tasks that left DEACTIVATING in the transaction this runs in (their addresses are not reused before it
        commits)."""
        deactivating = task_store.deactivating_registered(self.db)
        registered = self._still_registered(deactivating)
        tasks = [task for task in deactivating if (task.account_id, task.region, task.private_ip) in registered]
        seen = {task.arn for task in tasks}
        tasks += [task for task in drained or () if task.service_arn and task.arn not in seen]
        for task in tasks:
            if task.private_ip is None:
                continue  # never registered by address
            regs = {(r["targetGroupArn"], r["id"], int(r["port"])) for r in task.registrations}
            live = elb_store.registered(self.db, task.account_id, task.region, [task.private_ip])
            if not any((t.target_group_arn, t.target_id, t.port) in regs for t in live):
                continue
            service = self.scheduler.service(task.account_id, task.region, task.service_arn)
            if service is not None:
                self.scheduler.deregister(service, [task], now)

    def _still_registered(self, tasks: list[Task]) -> set[tuple[str, str, str]]:
        """(account, region, address) of the ``tasks``' addresses that are registered targets, not deregistered."""
        by_scope: dict[tuple[str, str], list[str]] = {}
        for task in tasks:
            if task.private_ip is not None:
                by_scope.setdefault((task.account_id, task.region), []).append(task.private_ip)
        return {(account, region, target.target_id) for (account, region), addresses in by_scope.items()
                for target in elb_store.registered(self.db, account, region, addresses)}

    def _task(self, task: Task) -> Task:
        fresh = task_store.task(self.db, task.account_id, task.region, task.arn)
        return fresh if fresh is not None else task

    # -- services -------------------------------------------------------------------------------------------

    def _mark(self, service_arn: str) -> None:
        if self._dirty is not None:
            self._dirty.add(service_arn)

    def _reconcile(self, now: datetime) -> Iterator[None]:
        dirty, self._dirty = self._dirty, set()
        if dirty is None:
            services = service_store.live_services(self.db)
        elif dirty:
            services = service_store.live_services(self.db, dirty)
        else:
            return
        for service in services:
            yield
            try:
                with self.db.transaction():
                    if service.status == "DRAINING":
                        self._drain(service, now)
                    else:
                        self._steady(service, now)
            except Exception:  # logged; the service is looked at again when something changes
                log.exception("ECS service %s could not be reconciled", service.arn)

    def _drain(self, service: Service, now: datetime) -> None:
        for arn in deployment_store.arns_of_service(self.db, service.account_id, service.region, service.arn, ACTIVE):
            dep = self.load(service.account_id, service.region, arn)
            if dep is not None:
                # Our wording: AWS documents none for a deployment cut short by DeleteService.
                dep.status, dep.status_reason = STOPPED, "Service deployment stopped because the service was deleted."
                dep.stopped_at = dep.finished_at = now
                dep.save(self.db, now)
        alive = self.scheduler.tasks(service)
        if alive:
            self.scheduler.stop(service, alive, now, stop_code="ServiceSchedulerInitiated",
                                reason="Service is being deleted")  # our wording
        if not self.scheduler.tasks(service, alive=False):
            service_store.set_inactive(self.db, service.account_id, service.region, service.arn, now)
        else:
            self._mark(service.arn)

    def _steady(self, service: Service, now: datetime) -> None:
        """A service with no deployment under way keeps its desired count of the current revision running."""
        key = (service.account_id, service.region, service.arn)
        if deployment_store.count_active_of_service(self.db, *key):
            return
        latest = deployment_store.latest_of(self.db, *key)
        if latest is None or latest.status == "ROLLBACK_FAILED":
            return  # a failed rollback leaves things as they are, for the user to see and fix
        revision_arn = serving_revision(latest)
        desired = service.desired_count
        alive = [t for t in self.scheduler.tasks(service) if t.revision_arn == revision_arn]
        if len(alive) < desired:
            revision = self.scheduler.revision(service.account_id, service.region, revision_arn)
            if revision is not None:
                self.scheduler.launch(service, revision, latest, desired - len(alive), now)
        elif len(alive) > desired:
            extra = sorted(alive, key=lambda t: t.created_at, reverse=True)[:len(alive) - desired]
            self.scheduler.stop(service, extra, now, stop_code="ServiceSchedulerInitiated",
                                reason="Scaling activity initiated by (service scaling)")  # our wording
