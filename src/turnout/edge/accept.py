"""Accepting connections across workers: each new connection goes to the worker holding the fewest.

With several workers (:mod:`turnout.workers`) every one waits on the same listening socket, and the kernel wakes
them all when a connection arrives: the first to look takes it, and may take the next one too before another has
woken. An SDK or a load generator opens its few keep-alive connections at once and then sends every call over
them, so one worker could serve them all while the other cores idle (seen: two connections on one worker,
2,400 signed GetRole calls a second at one core, where two workers answer 3,600).

Here each worker counts its open connections, and those of them that are quiet (no request for a second:
:data:`~turnout.edge.protocol.QUIET_AFTER`), in memory the workers share (:class:`turnout.workers.Tally`). A worker
whose busy connections (open, not quiet) outnumber another one's (by over an eighth, :data:`SLACK`, once they hold
many), or that holds as many busy ones but more open ones, leaves a waiting connection to it: it stops watching the
socket for :data:`STEP` seconds and looks again. After :data:`PATIENCE` seconds it takes the connection anyway, so a
less loaded worker that is slow to wake (a long slice of work on its loop) delays a new connection at most that
long. Workers accept one connection per wake-up, so a burst is shared out as it is read.

Busy connections come first because SDKs keep idle connections open (boto3 pools them): counted like the others,
a client's one quiet connection on a worker made the two busy connections opened next share the other worker
(seen in six runs of six: 1,500 to 2,400 GetRole calls a second on one core, where two workers answer 3,600).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn

log = logging.getLogger("turnout.server")

STEP = 0.002  # seconds a busier worker waits before it looks at a waiting connection again
PATIENCE = 0.1  # seconds after which a worker takes a waiting connection whatever the others hold
SLACK = 8  # a worker holding N connections more than another takes new ones still while N <= the other's / SLACK

Counts = Callable[[], list[int]]  # a count per worker, by index


def _no_quiet() -> list[int]:
    return []


class Acceptor:
    """Accepts on ``sock`` for worker ``index``: only while no other worker holds fewer busy connections (or as
    many, and fewer open ones).

    ``counts`` reads every worker's open connections; ``add`` changes this worker's (by +1 or -1). ``quiet`` reads
    every worker's quiet connections (none when not given), ``add_quiet`` changes this worker's."""

    def __init__(self, sock: socket.socket, index: int, counts: Counts, add: Callable[[int], None], *,
                 quiet: Counts = _no_quiet, add_quiet: Callable[[int], None] | None = None) -> None:
        self.sock = sock
        self.index = index
        self._counts = counts
        self._add = add
        self._quiet = quiet
        self._add_quiet = add_quiet
        self._factory: Callable[[], asyncio.Protocol] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watching = False
        self._waiting_since: float | None = None  # when this worker first left the waiting connection to another
        self._left_at = 0.0  # when it last left one (its retries come every STEP while the connection waits)
        self._retry: asyncio.TimerHandle | None = None

    def start(self, factory: Callable[[], asyncio.Protocol], backlog: int) -> None:
        """Start accepting: each connection gets a protocol from ``factory``."""
        self._loop = asyncio.get_running_loop()
        self._factory = factory
        self.sock.setblocking(False)
        self.sock.listen(backlog)
        self._watch()

    def stop(self) -> None:
        """Stop accepting (the server is shutting down); open connections stay theirs."""
        self._factory = None
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        self._unwatch()

    def _watch(self) -> None:
        if not self._watching and self._loop is not None and self._factory is not None:
            self._loop.add_reader(self.sock.fileno(), self._ready)
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching and self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
            self._watching = False

    def _ready(self) -> None:
        loop = self._loop
        assert loop is not None
        if self._should_leave(loop.time()):
            self._unwatch()
            self._retry = loop.call_later(STEP, self._look_again)
            return
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return  # another worker took it
        except OSError as exc:  # out of file descriptors, say: the connection waits, and is tried again
            log.warning("could not accept a connection: %s", exc)
            self._unwatch()
            self._retry = loop.call_later(STEP * 50, self._look_again)
            return
        self._waiting_since = None
        self._opened()
        _start_now(self._serve(conn))

    def _should_leave(self, now: float) -> bool:
        """Whether to leave the waiting connection to another worker (for at most PATIENCE): see :func:`busier`."""
        if not busier(self.index, self._counts(), self._quiet()):
            self._waiting_since = None
            return False
        if self._waiting_since is None or now - self._left_at > PATIENCE:
            # A connection left long ago was taken meanwhile (by another worker): this one is new, and waits its
            # own patience (without this, a connection arriving PATIENCE after one left was taken at once).
            self._waiting_since = now
        self._left_at = now
        return now - self._waiting_since < PATIENCE

    def _look_again(self) -> None:
        self._retry = None
        if not _waiting(self.sock):
            self._waiting_since = None  # another worker took the connection this one left
        self._watch()

    async def _serve(self, conn: socket.socket) -> None:
        loop = self._loop
        factory = self._factory
        assert loop is not None
        if factory is None:  # stopped meanwhile
            conn.close()
            self._closed()
            return

        counted = [True]

        def closed() -> None:  # once per connection, however it ends
            if counted[0]:
                counted[0] = False
                self._closed()

        def protocol() -> asyncio.Protocol:
            made = factory()
            made.on_lost = closed  # type: ignore[attr-defined]  # read by TurnoutHttpProtocol
            made.on_quiet = self._add_quiet  # type: ignore[attr-defined]  # likewise
            return made

        try:
            await loop.connect_accepted_socket(protocol, conn)
        except Exception as exc:  # the client was gone already, say
            log.debug("could not serve an accepted connection: %s", exc)
            with contextlib.suppress(OSError):
                conn.close()
            closed()

    def _opened(self) -> None:
        self._add(1)

    def _closed(self) -> None:
        self._add(-1)


def _waiting(sock: socket.socket) -> bool:
    """Whether a connection waits to be accepted on the listening ``sock`` (it reads as readable)."""
    poller = select.poll()  # not select(): a listening socket opened late may have a descriptor past 1024
    try:
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # closed meanwhile
        return False


def busier(index: int, opened: list[int], quiet: list[int]) -> bool:
    """Whether worker ``index`` should leave a new connection to another: another holds fewer busy connections
    (open, not quiet) by more than an eighth of its own, or as many busy ones and fewer open ones by more than an
    eighth. Within the eighth the first worker to look takes it, so that among many connections a health check on a
    new one is not kept waiting for the other worker's loop over one more. Counts are read without a lock from
    several processes (a quiet count may trail the open one by a sweep): a busy count is never below 0."""
    if len(opened) < 2:
        return False
    quiet = (quiet + [0] * len(opened))[:len(opened)]  # none given: none quiet
    busy = [max(0, count - still) for count, still in zip(opened, quiet, strict=True)]
    mine = busy[index]
    others = [worker for worker in range(len(opened)) if worker != index]
    least = min(busy[worker] for worker in others)
    if mine - least > least // SLACK:
        return True
    if mine != least:  # fewer busy ones, or more within the eighth
        return False
    least_open = min(opened[worker] for worker in others if busy[worker] == least)
    return opened[index] - least_open > least_open // SLACK


def _start_now(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` up to its first wait now, then on each time what it waits for is done, as a task would, but
    without a task's first loop round: the connection's transport is made in the callback that accepted it (as
    uvicorn's own server makes it) and read in the same round; under load a round lasts milliseconds, which every
    new connection, a health check's among them, would wait once more. ``coro`` handles its own errors."""
    loop = asyncio.get_running_loop()

    def step() -> None:
        try:
            waited = coro.send(None)
        except StopIteration:
            return
        if waited is None:  # a bare yield (asyncio.sleep(0)): go on in the next round
            loop.call_soon(step)
        else:  # a future (what `await` on a future yields)
            waited.add_done_callback(lambda _: step())

    step()


class BalancedServer(uvicorn.Server):
    """uvicorn's server, accepting through an :class:`Acceptor` instead of its own listening server."""

    def __init__(self, config: uvicorn.Config, acceptor: Acceptor) -> None:
        super().__init__(config)
        self.acceptor = acceptor

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the application's start-up, and no listening server of uvicorn's
        config = self.config

        def create() -> asyncio.Protocol:  # as uvicorn's own start-up makes a connection's protocol
            made: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state)
            return made

        self.acceptor.start(create, config.backlog)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.acceptor.stop()
        await super().shutdown(sockets)


class BackgroundServer(uvicorn.Server):
    """uvicorn's server for the background process (:mod:`turnout.workers`): the application's start-up and
    shutdown, its background work in between, and no connection (the listening socket is the workers')."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
