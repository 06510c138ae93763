"""An HTTP/1.x server for the load balancer's listeners: an ``asyncio.Protocol`` per client connection that parses
requests with httptools' llhttp parser and hands each one, in arrival order, to a handler (``proxy.HttpProxy``).

Each connection runs one worker that answers its requests one after another, so pipelined requests are answered in
order. A request is handed over as soon as its head is in: its body follows through :class:`Exchange` (buffered
until the handler has somewhere to send it, then streamed; the client's reading pauses while too much is waiting),
never read whole first.

The ALB's limits (docs/dataplane.md, "The ALB's own error responses"): a request line or one header over 16 KiB, or
all headers over 64 KiB, answer 400; a ``Transfer-Encoding`` other than chunked/identity answers 501; a malformed
request answers 400; the connection closes after each of them. Turnout's choices: an ``Upgrade`` request without a
body is forwarded as a plain request (``Upgrade`` and ``Connection`` are hop-by-hop, so the target never sees the
upgrade and answers normally); a CONNECT request or an upgrade with a body answers 400. A client connection with
nothing to do (no request in progress, no bytes received) for the listener's idle timeout is closed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from typing import cast

import httptools

log = logging.getLogger(__name__)

MAX_LINE = 16 * 1024  # request line, and one header line
MAX_HEADERS = 64 * 1024  # all header lines together
BODY_HIGH = 256 * 1024  # buffered request body (not yet sendable) above which the client's reading pauses
MAX_QUEUED = 16  # pipelined requests waiting (more: the client's reading pauses)
_CHUNK_TOKENS = frozenset({"chunked", "identity"})


class Reject(Exception):
    """A request the server answers itself with ``status`` and then closes the connection."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Exchange:
    """One request as it arrives: its head, and its body as it streams (``feed`` calls ``sink`` once set)."""

    __slots__ = ("_conn", "answered", "body", "body_done", "buffered", "chunked", "drop", "end_sink",
                 "expect_continue", "headers", "host", "keep_alive", "method", "reject", "sink", "target", "version")

    def __init__(self, conn: ClientConnection) -> None:
        self._conn = conn
        self.method = ""
        self.target = ""
        self.version = "1.1"
        self.headers: list[tuple[str, str]] = []
        self.keep_alive = True
        self.chunked = False
        self.expect_continue = False
        self.body: list[bytes] = []
        self.buffered = 0
        self.body_done = False
        self.sink: Callable[[bytes], None] | None = None
        self.end_sink: Callable[[], None] | None = None
        self.reject = 0  # a status the server answers itself (then closes)
        self.answered = False  # the response's head went out
        self.host: str | None = None  # the first Host header
        self.drop: set[str] = set()  # the names its Connection headers list (lower case): hop-by-hop too

    def feed(self, data: bytes) -> None:
        if self.sink is not None:
            self.sink(data)
            return
        self.body.append(data)
        self.buffered += len(data)
        if self.buffered > BODY_HIGH:
            self._conn.pause("body")

    def finish(self) -> None:
        self.body_done = True
        if self.end_sink is not None:
            self.end_sink()

    def take(self, sink: Callable[[bytes], None], end: Callable[[], None] | None) -> list[bytes]:
        """From now on the body goes to ``sink`` (and ``end`` when complete); returns what was buffered so far."""
        held, self.body, self.buffered = self.body, [], 0
        self.sink, self.end_sink = sink, end
        self._conn.resume("body")
        return held

    def discard(self) -> None:
        """The rest of the body (if any) is read and dropped."""
        self.take(_drop, None)


def _drop(_data: bytes) -> None:
    return None


Handler = Callable[["ClientConnection", Exchange], Awaitable[bool]]


class ClientConnection(asyncio.Protocol):
    """One client's connection. ``handler(conn, exchange)`` answers one request and returns whether the connection
    may carry another (it writes with :meth:`write` and decides with :meth:`keeps`)."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.closed = False
        self.closing = False  # the server is shutting down: finish what is queued, then close
        self.upstream_pause: Callable[[], None] | None = None  # set while a response streams from a target
        self.upstream_resume: Callable[[], None] | None = None
        self.write_paused = False
        self.on_lost: Callable[[], None] | None = None  # set while a request is forwarded: the client left
        self._parser = httptools.HttpRequestParser(self)
        self._queue: deque[Exchange] = deque()
        self._current: Exchange | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._pauses: set[str] = set()
        self._stopped = False  # no more parsing (a rejected request)
        self._head_bytes = -1  # bytes of the head being read (-1: between requests)
        self._header_total = 0
        self._reject = 0
        self.reads = 0
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None
        self._worker: asyncio.Task[None] | None = None

    # -- asyncio.Protocol --------------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport subclasses
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) else ""
        self._server.connections.add(self)
        loop = asyncio.get_running_loop()
        self._worker = loop.create_task(self._run())
        idle = self._server.client_idle()
        self._timer = loop.call_later(idle, self._check_idle, loop, idle, self.reads)

    def data_received(self, data: bytes) -> None:
        self.reads += 1
        if self._stopped:
            return
        if self._head_bytes >= 0:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
            if self._head_bytes > MAX_LINE + MAX_HEADERS:  # a head still incomplete past every limit
                raise Reject(400)
        except httptools.HttpParserUpgrade as upgrade:
            # the upgrade request was queued without its Upgrade headers; what follows is the next request
            self._parser = httptools.HttpRequestParser(self)
            rest = data[int(upgrade.args[0]) :]
            if rest:
                self.data_received(rest)
        except Reject as reject:
            self._stop(reject.status)
        except httptools.HttpParserCallbackError as error:
            self._stop(error.__context__.status if isinstance(error.__context__, Reject) else 400)
        except httptools.HttpParserError:
            self._stop(self._reject or 400)

    def eof_received(self) -> bool | None:
        return None  # a client's end of sending is its leaving (as aiohttp's server has it): close, abort forwards

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._server.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
        if self.on_lost is not None:
            self.on_lost()
        self._wake()

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.upstream_pause is not None:
            self.upstream_pause()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.upstream_resume is not None:
            self.upstream_resume()

    # -- httptools callbacks -------------------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._current = Exchange(self)
        self._head_bytes = 0
        self._header_total = 0
        self._reject = 0

    def on_url(self, url: bytes) -> None:
        assert self._current is not None
        self._current.target += url.decode("latin-1")
        if len(self._current.target) > MAX_LINE:
            raise Reject(400)

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self._current is not None
        size = len(name) + len(value) + 4
        self._header_total += size
        if size > MAX_LINE or self._header_total > MAX_HEADERS:
            raise Reject(400)
        key, text = name.decode("latin-1"), value.decode("latin-1")
        lower = key.lower()
        if lower == "transfer-encoding":
            tokens = {token.strip().lower() for token in text.split(",") if token.strip()}
            if not tokens <= _CHUNK_TOKENS:
                self._reject = 501  # llhttp refuses the message itself: answer 501, not 400
                raise Reject(501)
            if "chunked" in tokens:
                self._current.chunked = True
        elif lower == "host":
            if self._current.host is None:
                self._current.host = text
        elif lower == "connection":
            self._current.drop.update(token.strip().lower() for token in text.split(","))
        elif lower == "expect" and text.strip().lower() == "100-continue":
            self._current.expect_continue = True
        self._current.headers.append((key, text))

    def on_headers_complete(self) -> None:
        exchange = self._current
        assert exchange is not None
        self._head_bytes = -1
        parser = self._parser
        exchange.method = parser.get_method().decode("ascii", "replace")
        exchange.version = parser.get_http_version()
        exchange.keep_alive = parser.should_keep_alive()
        if parser.should_upgrade() and (exchange.method == "CONNECT" or exchange.chunked or any(
            key.lower() == "content-length" and value.strip() not in ("", "0") for key, value in exchange.headers
        )):
            self._current = None  # not handed over: answered 400 in its turn
            raise Reject(400)
        self._enqueue(exchange)

    def on_body(self, body: bytes) -> None:
        if self._current is not None:
            self._current.feed(body)

    def on_message_complete(self) -> None:
        if self._current is not None:
            self._current.finish()
            self._current = None

    # -- the worker ----------------------------------------------------------------------------------------------------

    def _enqueue(self, exchange: Exchange) -> None:
        if self.closing and not exchange.reject:  # shutting down: no new request (the connection closes when done)
            self._stopped = True
            return
        self._queue.append(exchange)
        if len(self._queue) > MAX_QUEUED:
            self.pause("queue")
        self._wake()

    def _stop(self, status: int) -> None:
        """Answer ``status`` after what is queued, then close; read nothing more."""
        self._stopped = True
        self.pause("stopped")
        if self._current is not None and self._current.method:  # its head went on already: its body is broken
            self.abort()
            return
        item = Exchange(self)
        item.reject = status
        item.keep_alive = False
        self._enqueue(item)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _run(self) -> None:
        handler = self._server.handler
        loop = asyncio.get_running_loop()
        try:
            while not self.closed:
                if not self._queue:
                    if self.closing:
                        break
                    self._waiter = loop.create_future()
                    await self._waiter
                    self._waiter = None
                    continue
                exchange = self._queue.popleft()
                if len(self._queue) <= MAX_QUEUED:
                    self.resume("queue")
                self._busy = True
                try:
                    keep = await handler(self, exchange)
                finally:
                    self._busy = False
                if not keep:
                    break
                if not exchange.body_done:
                    exchange.discard()  # answered before its body was all in: read the rest and drop it
        except Exception:  # never a crash: the handler answers its own errors; anything else closes the connection
            log.exception("HTTP connection from %s failed", self.peer)
            self.abort()
        finally:
            if self.transport is not None and not self.closed:
                self.transport.close()

    # -- for the handler ---------------------------------------------------------------------------------------------

    def keeps(self, exchange: Exchange) -> bool:
        """Whether the connection may stay open after answering ``exchange``."""
        return exchange.keep_alive and not self.closing and not self.closed and not exchange.reject

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def abort(self) -> None:
        """Cut the connection (the only signal left once a response is under way)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def pause(self, reason: str) -> None:
        if not self._pauses and self.transport is not None and not self.closed:
            self.transport.pause_reading()
        self._pauses.add(reason)

    def resume(self, reason: str) -> None:
        if reason not in self._pauses:
            return
        self._pauses.discard(reason)
        if not self._pauses and self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def shutdown(self) -> None:
        """Finish the requests already received (a body still arriving keeps arriving), take no new one, then
        close; an idle connection closes now."""
        self.closing = True
        self._wake()

    def _check_idle(self, loop: asyncio.AbstractEventLoop, idle: float, seen: int) -> None:
        if self.closed:
            return
        if self.reads != seen or self._busy or self._queue:
            self._timer = loop.call_later(idle, self._check_idle, loop, idle, self.reads)
            return
        log.debug("closing idle connection from %s", self.peer)
        self.abort()


class HttpServer:
    """Accepts connections on one listening socket; each becomes a :class:`ClientConnection` whose requests go to
    ``handler``. ``client_idle()`` gives the idle timeout of a new connection."""

    def __init__(self, handler: Handler, client_idle: Callable[[], float]) -> None:
        self.handler = handler
        self.client_idle = client_idle
        self.connections: set[ClientConnection] = set()
        self._server: asyncio.Server | None = None

    async def start(self, sock: socket.socket, context: ssl.SSLContext | None = None) -> None:
        """Accept connections on ``sock``; with ``context``, TLS ones (an HTTPS listener)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: ClientConnection(self), sock=sock, ssl=context)

    async def close(self, timeout: float) -> None:
        """Stop accepting at once; requests in progress get up to ``timeout`` seconds, then are cut."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.connections and loop.time() < deadline:
            await asyncio.sleep(0.02)
        for connection in list(self.connections):
            connection.abort()
        self.connections.clear()
