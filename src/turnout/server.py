"""The HTTP server: one ASGI app on one port for every service, plus ``/_turnout/health``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .auth.credentials import CredentialResolver
from .core import ids
from .core.clock import Clock, SystemClock
from .core.context import HttpRequest, RequestContext
from .edge.lanes import Lanes
from .edge.limits import BODY_COMPLETE, DRAIN_AT_MOST, LARGE_BODY, Limits, guess_service, request_timeout, too_large
from .edge.protocol import ANSWERED, HEALTH_PATH
from .edge.turns import WAITING, Turns, Waiting
from .gateway.accesslog import AccessLog
from .gateway.gateway import Gateway
from .gateway.protocols import write, write_error
from .services.cloudtrail.recorder import health as cloudtrail_health
from .services.iam.store.views import IdentityViews
from .services.sts.store import SessionStore
from .store.db import Database
from .wire.errors import ServiceError, internal_failure
from .wire.models import SERVICES, ServiceSpec
from .workers import Worker, watch_parent

if TYPE_CHECKING:
    from .dataplane.runtime import DataPlane

log = logging.getLogger("turnout.server")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body



@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path(".turnout")
    time_scale: float = 1.0
    enforce_iam: bool = True
    cloudtrail: bool = True  # record every call (``--no-cloudtrail``: not recorded, for benchmarks)
    lambdas: dict[str, str] = field(default_factory=dict)  # Lambda function name -> hook endpoint URL
    limits: Limits = field(default_factory=Limits)  # request sizes and connection timeouts (turnout.edge.limits)
    workers: int = 1  # processes answering requests (turnout.workers; the command line's default is one per core)
    dataplane: bool = True  # listeners serve, tasks run, health is probed (issue 13); False: all simulated
    dataplane_host: str = "127.0.0.1"  # where listeners and task processes listen
    task_commands: tuple[str, ...] = ()  # ``--task-command IMAGE_GLOB=COMMAND``
    guard: str = "warn"  # the deployment guard (turnout.deploy.guard): off | warn | block


CHECKPOINT_EVERY = 0.25  # seconds between two checkpoints of the database (by the background process)
DEFERRED_WITHIN = 0.2  # seconds by which a deferred bookkeeping write is written when no write transaction comes
REQUEST_THREADS = 4  # threads answering API calls in each server process
# Seconds a thread keeps the interpreter before another may take it (Python's default: 5 ms). While a long call runs
# in a thread, the loop waits up to this long each time it takes the interpreter back (after every system call):
# at 1 ms, /_turnout/health's p99 while GetAccountAuthorizationDetails ran was 7.4 to 9.2 ms; at 0.25 ms, 6.4 and
# 7.4, the long call no slower (make bench BENCH_ARGS=mixed, phase 3, alternating runs).
SWITCH_INTERVAL = 0.00025
GC_THRESHOLDS = (100_000, 100, 1000)  # gc.set_threshold in the server: see App._lifespan
DATAPLANE_PATH = "/_turnout/dataplane"
# ``GET /_turnout/explain/<request id or service deployment ARN>`` (``turnout explain --endpoint-url``): unsigned,
# like /_turnout/health and /_turnout/dataplane. It serves what ``turnout explain --data-dir`` reads from the state
# directory of a local server to anyone who can reach it; a Turnout endpoint is meant for this machine (it listens
# on 127.0.0.1 unless told otherwise) and there is no AWS API to sign for (docs/explain.md).
EXPLAIN_PATH = "/_turnout/explain/"
STARTUP_FAILED = 3  # a worker's exit code when it could not start (the parent then stops them all)
# Counters summed over the workers: CloudTrail's, and the ELB and ECS writes committed (the data plane's listeners
# look at it before each request: turnout.dataplane.runtime.DataPlane.current).
TALLIED = ("recorded", "dropped", "dataplane", "connections", "quiet", "generations")


def build_gateway(settings: Settings, clock: Clock | None = None, worker: Worker | None = None) -> Gateway:
    from .services.registry import register_all

    db = Database(settings.data_dir / "turnout.db")
    gateway = Gateway(db=db, clock=clock or SystemClock(settings.time_scale), worker=worker)
    follow_generations(db, worker)
    gateway.lambda_endpoints = dict(settings.lambdas)
    # IAM's and STS's state, as authentication and authorization read it (auth/ports.py, authz/ports.py).
    identities = IdentityViews(db)
    gateway.identities = identities
    gateway.credentials = CredentialResolver(identities, SessionStore(db))
    if settings.enforce_iam:
        from .authz.authorizer import PolicyAuthorizer

        authorizer = PolicyAuthorizer(db, identities)
        gateway.authorizer = authorizer
        gateway.on_write.append(authorizer.wrote)  # an IAM write makes cached policies stale, in every process
        gateway.recorders.append(authorizer)  # stores denials (`turnout explain`)
    if settings.cloudtrail:
        from .services.cloudtrail.journal import DIRECTORY
        from .services.cloudtrail.recorder import CloudTrailRecorder

        recorder = CloudTrailRecorder(db, journal_dir=settings.data_dir / DIRECTORY)
        if worker is not None and worker.tally is not None:
            recorder.share = partial(worker.tally.add, worker.index)
            recorder.totals = worker.tally.totals
        gateway.recorders.append(recorder)
    register_all(gateway)
    wire_runtime(gateway)
    install_guard(gateway, settings.guard)
    return gateway


def follow_generations(db: Database, worker: Worker | None) -> None:
    """Count committed generation bumps in memory the workers share (one process: its own), so that caches look
    at the database only when one was (:meth:`turnout.store.generations.Generations.follow`)."""
    from .store import generations

    if worker is not None and worker.tally is not None:
        tally = worker.tally
        generations.of(db).follow(partial(tally.total, "generations"),
                                  partial(tally.add, worker.index, "generations", 1))
        # A worker starting may replace one killed between a commit and its count: moving the count makes every
        # process look at the database again.
        tally.add(worker.index, "generations", 1)
        return
    committed = [0]

    def counted() -> None:
        committed[0] += 1

    generations.of(db).follow(lambda: committed[0], counted)


def install_guard(gateway: Gateway, mode: str) -> None:
    """The deployment guard on IAM writes (``--guard``): it decides with the server's authorizer, or, when IAM is
    not enforced, with one of its own over the same IAM state."""
    if mode == "off":
        return
    from .authz.authorizer import PolicyAuthorizer
    from .deploy.guard import Guard

    authorizer = gateway.authorizer
    if not isinstance(authorizer, PolicyAuthorizer):
        assert gateway.identities is not None
        authorizer = PolicyAuthorizer(gateway.db, gateway.identities)
    Guard(gateway, mode, authorizer).install()


def wire_runtime(gateway: Gateway) -> None:
    """Hand the providers what runs beside the API (services/*/ports.py): the deployment engine to ECS
    (it starts with ECS's ``startup``, in the background process), the data plane's health checks to ELB."""
    from .dataplane.health import SimulatedHealthChecks
    from .deploy import Engine
    from .services.ecs.provider import EcsProvider
    from .services.elbv2.provider import Elbv2Provider

    ecs, elbv2 = gateway.providers.get("ecs"), gateway.providers.get("elbv2")
    if isinstance(ecs, EcsProvider):
        ecs.engine = Engine(gateway)
    if isinstance(elbv2, Elbv2Provider):
        elbv2.health_checks = SimulatedHealthChecks(gateway.clock)


def build_dataplane(gateway: Gateway, settings: Settings) -> DataPlane | None:
    """The data plane of issue 13 (listeners that serve, task processes, real health checks), started by the
    background process only (turnout.workers); every process bumps its generation on ELB and ECS writes, and answers
    ``/_turnout/dataplane`` from the database. None with ``--no-dataplane``."""
    if not settings.dataplane:
        return None
    from .dataplane.health import SimulatedHealthChecks
    from .dataplane.processes import parse_command_rule
    from .dataplane.runtime import GENERATION, DataPlane
    from .deploy import Engine
    from .store import generations

    engine = getattr(gateway.providers.get("ecs"), "engine", None)
    worker = gateway.worker
    # The count of ELB and ECS writes committed, in memory every worker shares (one process: its own).
    if worker is not None and worker.tally is not None:
        tally = worker.tally
        bump: Callable[[], None] = partial(tally.add, worker.index, "dataplane", 1)
        changes: Callable[[], int] = partial(tally.total, "dataplane")
    else:
        committed = itertools.count(1)
        seen = [0]

        def bump() -> None:
            seen[0] = next(committed)

        def changes() -> int:
            return seen[0]
    dataplane = DataPlane(
        gateway.db, gateway.clock, SimulatedHealthChecks(gateway.clock), host=settings.dataplane_host,
        log_dir=settings.data_dir / "tasks", commands=[parse_command_rule(text) for text in settings.task_commands],
        wake_engine=engine.wake if isinstance(engine, Engine) else None, changes=changes,
        tls_dir=settings.data_dir / "tls")
    if isinstance(engine, Engine) and gateway.primary:
        engine.scheduler.probed = True
        engine.containers_ready = dataplane.containers_ready
        engine.after_pass.append(dataplane.poke)
    followed = ("elbv2", "ecs")

    def wrote(ctx: RequestContext) -> None:
        if ctx.service is not None and ctx.service.name in followed:
            generations.of(gateway.db).bump(GENERATION)
            gateway.db.after_commit(bump)  # counted once it is there to be read

    gateway.on_write.append(wrote)
    return dataplane


class App:
    """The ASGI application: every request goes through the gateway's chain."""

    def __init__(self, gateway: Gateway, limits: Limits | None = None, dataplane: DataPlane | None = None) -> None:
        self.gateway = gateway
        self.dataplane = dataplane
        self.limits = limits or Limits()  # also read by the connection protocol (turnout.edge.protocol)
        self._large_bodies = asyncio.Semaphore(self.limits.large_bodies)
        self.ready = False
        self._flusher: asyncio.Future[None] | None = None
        self._parent: asyncio.Task[None] | None = None
        self._deferring: asyncio.Task[None] | None = None
        self._checkpointing: asyncio.Task[None] | None = None
        # Long API calls are handled in a few threads (turnout.edge.lanes), so that they never hold up the event
        # loop: it goes on reading and answering (/_turnout/health at once, short calls; with --workers 1, the ECS
        # engine and the data plane), sharing the interpreter with them in slices of SWITCH_INTERVAL.
        self._pool = ThreadPoolExecutor(REQUEST_THREADS, thread_name_prefix="turnout-request")
        self._lanes = Lanes()
        self._turns = Turns()  # calls answered on the loop a slice at a time, in their order (turnout.edge.turns)

    @staticmethod
    async def _flush_access_log(access_log: AccessLog) -> None:
        while True:
            await asyncio.sleep(0.1)
            access_log.flush()

    async def _checkpoints(self) -> None:
        """The database's checkpoints, in a thread, off the requests (Database.checkpoint_in_background)."""
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            try:
                await asyncio.to_thread(self.gateway.db.checkpoint)
            except Exception:  # tried again at the next one
                log.exception("checkpoint failed")

    async def _deferred_writes(self) -> None:
        """Bookkeeping writes (an access key's last use) go with the next write transaction; when none comes (reads
        only: their CloudTrail events go to the journal, not the database), write them within DEFERRED_WITHIN."""
        while True:
            await asyncio.sleep(DEFERRED_WITHIN)
            try:
                self.gateway.db.run_deferred()
            except Exception:  # tried again a second later
                log.exception("deferred writes failed")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._handle(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                sys.setswitchinterval(SWITCH_INTERVAL)  # a long call in one thread yields to the loop promptly
                worker = self.gateway.worker
                if worker is not None:
                    if worker.primary:
                        worker.hold_engine_lock()  # waits for a primary that is still stopping
                    self._parent = asyncio.ensure_future(
                        watch_parent(os.getppid(), lambda: os.kill(os.getpid(), signal.SIGTERM)))
                for provider in self.gateway.providers.values():
                    provider.startup()
                if self.dataplane is not None and self.gateway.primary:
                    self.dataplane.start()
                self._deferring = asyncio.ensure_future(self._deferred_writes())
                self.gateway.db.checkpoint_in_background()
                if self.gateway.primary:  # one process checkpoints for all
                    self._checkpointing = asyncio.ensure_future(self._checkpoints())
                if self.gateway.access_log is not None:
                    self.gateway.access_log.auto_flush = False
                    self._flusher = asyncio.ensure_future(self._flush_access_log(self.gateway.access_log))
                # What start-up loaded (the service models, the policy catalogue: most of the heap) lives as long as
                # the server: out of the collector's sight, a full collection no longer walks it (tens of
                # milliseconds, during which nothing is answered).
                gc.collect()
                gc.freeze()
                # Requests free what they make by reference counting; the collector finds only cycles (exception
                # tracebacks, mostly). Collecting after every 700 new objects (Python's default), a long call
                # collects dozens of times, each holding the interpreter: seen as 25 ms health checks
                # (make bench BENCH_ARGS=mixed, phase 3). Far rarer collections cost a little memory instead.
                gc.set_threshold(*GC_THRESHOLDS)
                self.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ready = False
                for task in (self._flusher, self._parent, self._deferring, self._checkpointing):
                    if task is not None:
                        task.cancel()
                self._pool.shutdown(wait=True)  # calls still running in threads finish (and record) first
                if self.dataplane is not None and self.dataplane.running:
                    await self.dataplane.close()  # listeners stop, task processes are stopped
                if self.gateway.access_log is not None:
                    self.gateway.access_log.flush()
                for recorder in self.gateway.recorders:  # write what recorders still hold (CloudTrail events)
                    close = getattr(recorder, "close", None)
                    if close is not None:
                        close()
                self.gateway.db.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        path: str = scope["path"]
        signed_path = _signed_path(scope)
        if path.startswith("/_turnout/"):
            await self._internal(scope, send, path)
            return
        ctx, key = self._route(scope, signed_path, body)
        if self._lanes.long(key):
            answer = await asyncio.get_running_loop().run_in_executor(self._pool, self._answer, ctx, key)
        elif self._turns.room():
            answer = self._answer(ctx, key)
        else:
            answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

            def in_turn() -> None:
                if not answered.cancelled():  # its task was cancelled meanwhile (a forced stop): nobody to answer
                    answered.set_result(self._answer(ctx, key))

            self._turns.wait(in_turn)
            answer = await answered
        await self._send(send, *answer)

    def answer_now(self, scope: Scope, body: bytes,
                   later: Callable[[Answer], None]) -> Answer | Waiting | None:
        """Answer an API call whose request is read whole, from the connection's own callback
        (:mod:`turnout.edge.protocol`), without an ASGI task for it: now, or :data:`WAITING` when it waits for its
        turn on the loop (:mod:`turnout.edge.turns`: then ``later`` gets the answer); None when it must go the ASGI
        way instead: a long call (answered in a thread), or one that could not be routed."""
        try:
            ctx, key = self._route(scope, _signed_path(scope), body)
        except Exception:  # a bug in routing, which changes nothing: the ASGI way meets it again and answers 500
            log.exception("could not route a call")
            return None
        if self._lanes.long(key):
            return None
        if self._turns.room():
            return self._answer(ctx, key)
        self._turns.wait(lambda: later(self._answer(ctx, key)))
        return WAITING

    def _route(self, scope: Scope, signed_path: str, body: bytes) -> tuple[RequestContext, tuple[str, str] | None]:
        """The call's context, routed (service and operation), and its lane key."""
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        client = scope.get("client")
        http = HttpRequest(
            scope["method"], signed_path, scope["query_string"].decode("latin-1"), headers, body,
            client[0] if client else "127.0.0.1",
        )
        ctx = self.gateway.route_http(http)
        key = (ctx.service.name, ctx.operation.name) if ctx.service is not None and ctx.operation is not None \
            else None
        return ctx, key

    def _answer(self, ctx: RequestContext, key: tuple[str, str] | None) -> Answer:
        """The rest of an API call, on the loop or in a request thread: handled, then serialised. The gateway
        returns once the call's CloudTrail event is durable (its journal written, or its write committed), so the
        call is answered only once its event is on disk."""
        started = time.thread_time()  # the call's own CPU time: waits for the interpreter or the writer lock
        try:
            answer = write(self.gateway.finish_http(ctx))  # must not make a short call look long: a thread's time
        except Exception:  # a bug in serialising (the chain itself never raises): AWS's 500, never run again
            log.exception("could not answer request %s", ctx.request_id)
            answer = write_error(ctx.service, internal_failure(), ctx.request_id)
        self._lanes.took(key, time.thread_time() - started)
        return answer

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The request's body; None when it was refused (too large, or too slow to arrive) and answered.

        A body longer than its service allows (:mod:`turnout.edge.limits`) is refused from its Content-Length,
        before any of it is read; one without a length is counted as it arrives. The refusal keeps the connection
        open, so that the client can finish sending (uvicorn drops the rest unread) and then read the answer, unless
        the client waits for ``100 Continue`` (it has sent nothing) or the body is too large to be worth reading.
        Bodies over 1 MiB (S3's) are read a few at a time, which bounds the memory they take together.
        """
        spec = guess_service(scope["query_string"].decode("latin-1"), scope["headers"])
        limit = self.limits.body_limit(spec)
        length: int | None = None
        streamed = expect_continue = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value)  # httptools has checked it is a number
            elif name == b"transfer-encoding":
                streamed = True
            elif name == b"expect" and value.lower() == b"100-continue":
                expect_continue = True
        if length is not None and length > limit:
            await self._refuse(send, spec, too_large(spec, length, limit),
                               close=expect_continue or length > DRAIN_AT_MOST)
            return None
        large = limit > LARGE_BODY and (streamed or (length or 0) > LARGE_BODY)
        async with self._large_bodies if large else contextlib.nullcontext():
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                try:
                    if scope.get(BODY_COMPLETE):  # all read already (most requests): nothing to wait for
                        message = await receive()
                    else:
                        async with asyncio.timeout(self.limits.body_timeout):
                            message = await receive()
                except TimeoutError:
                    await self._refuse(send, spec, request_timeout(spec), close=True)
                    return None
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await self._refuse(send, spec, too_large(spec, None, limit), close=False)
                    return None
                chunks.append(chunk)
                more = message.get("more_body", False)
        return b"".join(chunks)

    async def _refuse(self, send: Send, spec: ServiceSpec | None, error: ServiceError, *, close: bool) -> None:
        status, headers, body = write_error(spec, error, ids.request_id())
        if close:
            headers = [*headers, (b"connection", b"close")]
        log.warning("Refused a request: %s (%s)", error.code, error.message)
        await self._send(send, status, headers, body)

    async def _internal(self, scope: Scope, send: Send, path: str) -> None:
        if scope.get(ANSWERED):
            return  # answered by the connection as soon as it was read (turnout.edge.protocol)
        if path == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            await self._send(send, *self.health_response())
            return
        if path == DATAPLANE_PATH and scope["method"] in ("GET", "HEAD"):
            await self._send(send, *self.dataplane_response())
            return
        if path.startswith(EXPLAIN_PATH) and scope["method"] == "GET":
            await self._send(send, *self.explain_response(path[len(EXPLAIN_PATH):]))
            return
        await self._send(send, 404, [(b"content-type", b"application/json")], b'{"error": "not found"}')

    def health_response(self) -> Answer:
        """``/_turnout/health``'s answer: 200 once ready (503 before), with what the server is doing."""
        payload: dict[str, Any] = {
            "status": "ready" if self.ready else "starting",
            "version": __version__,
            "services": {name: "available" for name in SERVICES if name in self.gateway.providers},
            "cloudtrail": cloudtrail_health(self.gateway),
        }
        worker = self.gateway.worker
        payload["workers"] = worker.count if worker is not None else 1
        payload["worker"] = {"index": worker.index if worker is not None else 0, "pid": os.getpid()}
        if worker is not None:  # the process that runs the background work (turnout.workers); None: starting again
            payload["background"] = {"index": worker.count, "pid": worker.engine_pid()}
            if worker.tally is not None and worker.count > 1:  # how the acceptors see them (turnout.edge.accept)
                payload["connections"] = {"open": worker.tally.each("connections")[:worker.count],
                                          "quiet": worker.tally.each("quiet")[:worker.count]}
        from .deploy import Engine

        engine = getattr(self.gateway.providers.get("ecs"), "engine", None)
        if isinstance(engine, Engine):
            payload["ecs"] = engine.health()
        payload["dataplane"] = {"enabled": self.dataplane is not None}
        if self.dataplane is not None and self.ready:
            from .store import dataplane as served

            listeners, processes = served.counts(self.gateway.db)
            payload["dataplane"].update(listeners=listeners, task_processes=processes)
        return 200 if self.ready else 503, [(b"content-type", b"application/json")], json.dumps(payload).encode()

    def dataplane_response(self) -> Answer:
        """``/_turnout/dataplane``: the listeners served and the targets reachable on this machine."""
        if self.dataplane is None:
            payload: dict[str, Any] = {"enabled": False, "listeners": [], "targets": [], "tasks": []}
        else:
            from .dataplane.describe import describe

            payload = {"enabled": True, **describe(self.gateway.db, self.dataplane.checks)}
        return 200, [(b"content-type", b"application/json")], json.dumps(payload).encode()

    def explain_response(self, target: str) -> Answer:
        """``/_turnout/explain/<target>``: a denied request or a failed deployment explained, with its fix (404:
        nothing of that id or ARN is known)."""
        from .deploy.explain import explain

        headers = [(b"content-type", b"application/json")]
        try:
            found = explain(self.gateway.db, target) if target else None
        except Exception:  # a bug: said in one JSON line, logged with its traceback
            log.exception("could not explain %r", target)
            return 500, headers, json.dumps({"error": f"could not explain {target!r}"}).encode()
        if found is None:
            return 404, headers, json.dumps({"error": f"nothing to explain for {target!r}"}).encode()
        return 200, headers, json.dumps(found).encode()

    @staticmethod
    async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if not any(name == b"content-length" for name, _ in headers):  # a HEAD response states the object's size
            headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _signed_path(scope: Scope) -> str:
    """The path as sent, percent-encoding included (SigV4 signs it so, not decoded)."""
    raw_path = scope.get("raw_path")
    return raw_path.decode("latin-1") if raw_path else str(scope["path"])
