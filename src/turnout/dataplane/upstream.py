"""Connections from the load balancer to its targets: one :class:`UpstreamConnection` (an ``asyncio.Protocol``
parsing responses with httptools' llhttp parser) per TCP connection, and an :class:`UpstreamPool` of idle keep-alive
connections per target address, so a listener forwards without a connect per request and without aiohttp's client
machinery in the hot path.

A connection carries one request at a time (no pipelining to targets). It goes back to the pool only after a
complete exchange (the whole request sent, the whole response read, neither side asking to close); a connection
the target closes while idle leaves the pool at once, and a request cut short (the client left, a timeout, a bad
answer) closes its connection rather than pooling it. Turnout's choice: at most ``MAX_IDLE`` idle connections kept
per target address (the rest are closed); an idle connection stays until the target closes it or the pool closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

import httptools

from .model import Address

MAX_IDLE = 64  # idle connections kept per target address (Turnout's choice)

Sink = Callable[[bytes], None]


class UpstreamError(ConnectionError):
    """The target closed, reset or answered something that is not HTTP before its response was complete."""


class UpstreamConnection(asyncio.Protocol):
    """One TCP connection to a target. The forwarding side calls :meth:`begin` with the request's head (and what
    body it has in hand), then :meth:`wait_head` and, while the body streams to ``sink``, :meth:`wait_done`.

    Flow control: ``peer_pause``/``peer_resume`` (set by the forwarding side) are called when this connection's
    write buffer passes its high/low marks, so the client's reading pauses while a request body cannot go on;
    the forwarding side pauses this connection's reading (:attr:`transport`) when the client cannot take more of
    the response."""

    def __init__(self, pool: UpstreamPool, address: Address) -> None:
        self.pool = pool
        self.address = address
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.busy = False
        self.reads = 0  # bumped on every read: the idle timer's sign of progress
        self.peer_pause: Callable[[], None] | None = None
        self.peer_resume: Callable[[], None] | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._start()

    def _start(self, head_only: bool = False) -> None:
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.drop: set[bytes] = set()  # the names the response's Connection header lists (lower case)
        self.content_length = False
        self.chunked = False
        self.body: list[bytes] = []
        self.sink: Sink | None = None
        self.head_done = False
        self.done = False
        self.keep_alive = False
        self.error: BaseException | None = None
        self._head_only = head_only
        self._informational = False

    # -- the forwarding side ----------------------------------------------------------------------------------------

    def begin(self, data: bytes, *, head_only: bool) -> None:
        """Send a request (its head and any body in hand, in one write); ``head_only``: its response has no body
        (a HEAD request)."""
        self._start(head_only)
        self.busy = True
        assert self.transport is not None
        self.transport.write(data)

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    async def wait_head(self, idle: float) -> None:
        """Until the response's status and headers are in; raises TimeoutError when nothing arrives for ``idle``
        seconds, :class:`UpstreamError` when the connection fails first."""
        loop = asyncio.get_running_loop()
        while not self.head_done:
            await self._wait(loop, idle)

    async def wait_done(self, idle: float) -> None:
        """Until the response is complete (its body went to ``sink``); the same errors as :meth:`wait_head`."""
        loop = asyncio.get_running_loop()
        while not self.done:
            await self._wait(loop, idle)

    def _wait(self, loop: asyncio.AbstractEventLoop, idle: float) -> asyncio.Future[None]:
        """A future the next read (or failure) completes."""
        waiter: asyncio.Future[None] = loop.create_future()
        if self.error is not None:
            waiter.set_exception(self.error)
            return waiter
        self._waiter = waiter
        if self._timer is None:  # one timer per connection, re-armed while reads go on (none per request)
            self._timer = loop.call_later(idle, self._check_idle, loop, idle, self.reads)
        return waiter

    def _check_idle(self, loop: asyncio.AbstractEventLoop, idle: float, seen: int) -> None:
        """No read for a whole period while waiting: the target is idle too long. (Nothing is waited for since
        the timer was set without a read in between, so a wait ends after ``idle`` to ``2 * idle`` seconds.)"""
        self._timer = None
        if self._waiter is None or self.closed:
            return
        if self.reads != seen:
            self._timer = loop.call_later(idle, self._check_idle, loop, idle, self.reads)
            return
        self._fail(TimeoutError(f"no data from {self.address} within {idle} s"))

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(self.error)
        self.abort()

    def abort(self) -> None:
        """Close at once (never pooled again)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def release(self) -> None:
        """Back to the pool after a complete exchange, or closed when either side asked to close."""
        self.busy = False
        self.sink = None
        self.peer_pause = self.peer_resume = None
        if self.closed or not self.keep_alive or not self.done:
            self.abort()
            return
        self.pool.give_back(self)

    # -- asyncio.Protocol --------------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        self.reads += 1
        if not self.busy or self.done:  # nothing asked: a target talking out of turn is not reused
            self.abort()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(UpstreamError(f"malformed answer from {self.address}: {error}"))
            return
        if self.head_done:
            self._wake()

    def eof_received(self) -> bool | None:
        return None  # close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        if self.busy and not self.done:
            if self.head_done and exc is None and self._until_close():
                self.done = True  # a body delimited by the connection's end is complete at a clean close
                self.keep_alive = False
                self._wake()
            else:
                self._fail(UpstreamError(f"connection to {self.address} closed: {exc!r}"))

    def pause_writing(self) -> None:
        if self.peer_pause is not None:
            self.peer_pause()

    def resume_writing(self) -> None:
        if self.peer_resume is not None:
            self.peer_resume()

    # -- httptools callbacks -------------------------------------------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        lower = name.lower()
        if lower == b"content-length":
            self.content_length = True
        elif lower == b"transfer-encoding":
            self.chunked = self.chunked or b"chunked" in value.lower()
        elif lower == b"connection":
            self.drop.update(token.strip().lower() for token in value.split(b","))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # an interim answer: skip it, the real one follows
            self._informational = True
            self.headers = []
            self.drop = set()
            self.content_length = self.chunked = False
            self.reason = b""
            return
        self.status = status
        self.head_done = True
        if self._head_only or status in (204, 304):
            self._complete()
            self._parser = httptools.HttpResponseParser(self)  # llhttp would wait for a HEAD answer's body

    def on_body(self, body: bytes) -> None:
        if self.sink is not None:
            self.sink(body)
        else:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        if not self.done:
            self._complete()

    def _complete(self) -> None:
        self.done = True
        self.keep_alive = self._parser.should_keep_alive() and self.status != 101
        self._wake()

    def _until_close(self) -> bool:
        return not self.content_length and not self.chunked


class UpstreamPool:
    """Idle keep-alive connections per target address."""

    def __init__(self) -> None:
        self._idle: dict[Address, list[UpstreamConnection]] = {}  # most recently used last
        self._all: set[UpstreamConnection] = set()

    def idle(self, address: Address) -> UpstreamConnection | None:
        """An idle connection to ``address`` (the one used last), if there is one."""
        idle = self._idle.get(address)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    async def connect(self, address: Address, connect_timeout: float) -> UpstreamConnection:
        """A new connection to ``address``. Raises TimeoutError when the connect does not complete within
        ``connect_timeout`` seconds, OSError when it fails."""
        loop = asyncio.get_running_loop()
        _transport, connection = await asyncio.wait_for(
            loop.create_connection(lambda: UpstreamConnection(self, address), address[0], address[1]),
            connect_timeout,
        )
        self._all.add(connection)
        return connection

    def give_back(self, connection: UpstreamConnection) -> None:
        idle = self._idle.setdefault(connection.address, [])
        if len(idle) >= MAX_IDLE:
            connection.abort()
            return
        idle.append(connection)

    def forget(self, connection: UpstreamConnection) -> None:
        self._all.discard(connection)
        idle = self._idle.get(connection.address)
        if idle and connection in idle:
            idle.remove(connection)

    def idle_count(self, address: Address) -> int:
        return len(self._idle.get(address, ()))

    def close(self) -> None:
        """Close every connection, idle or busy."""
        for connection in list(self._all):
            connection.abort()
        self._idle.clear()
