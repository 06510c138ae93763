"""An HTTP(S) listener's request handler: each request becomes a :class:`Request` record, the router decides, and the
handler answers the decision or forwards the request to the chosen target, streaming both bodies.

One :class:`HttpProxy` serves one listener (by ARN) behind ``httpserver.HttpServer``, forwarding over
``upstream.UpstreamPool``'s keep-alive connections. It takes the CURRENT snapshot when each request arrives and
routes by the listener record in it, so a client keeping its connection alive has every request routed by the rules
in force at that moment (a listener whose ARN has gone answers 503).

What the load balancer adds and the errors it makes itself follow ``docs/dataplane.md`` ("Headers the ALB adds",
"The ALB's own error responses", "Health routing, timeouts, draining"); the error pages themselves are
``router.alb_error``'s. A failed forward is never retried on another target: an ALB does not retry.

Each request leaves in one write (its head, with the body when it is already in hand), and so does each response
(head and body together when the target's whole answer arrived at once). Larger bodies stream both ways with flow
control: the sending side's reading pauses while the receiving side's write buffer is above its high mark.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol
from urllib.parse import parse_qsl, unquote

from yarl import URL

from .httpserver import ClientConnection, Exchange
from .model import Address, Decision, Forward, Group, Listener, Request, Respond, Snapshot, Target
from .router import alb_error, phrase
from .upstream import UpstreamConnection, UpstreamError, UpstreamPool

log = logging.getLogger(__name__)
_random = random.Random()

CONNECT_TIMEOUT = 10.0  # "could not connect within 10 s" -> 504 (docs/dataplane.md, "The ALB's own error responses")
IDLE_TIMEOUT = 60.0  # idle_timeout.timeout_seconds default (docs/dataplane.md, "Health routing, timeouts, draining")

# RFC 9110 section 7.6.1: these describe one connection, not the message; a proxy does not pass them on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_HOP_BY_HOP_BYTES = frozenset(name.encode() for name in HOP_BY_HOP)
LB_SERVER = "awselb/2.0"
# Headers the LB replaces on the way to the target (and Expect, which it answers itself).
_REPLACED = frozenset({"expect", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "x-amzn-trace-id"})
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LAST_CHUNK = b"0\r\n\r\n"


class RouterLike(Protocol):
    """What the listeners need of rule evaluation (``router.Router`` provides it)."""

    def route(self, listener: Listener, groups: Mapping[str, Group], request: Request) -> Decision: ...

    def route_tcp(self, listener: Listener, groups: Mapping[str, Group], flow: tuple[str, int]) -> Forward: ...


def new_trace_id() -> str:
    """``1-<8 hex epoch seconds>-<24 hex random>`` (docs/dataplane.md, "Headers the ALB adds"). Turnout's choice:
    the random part comes from a non-cryptographic generator (a trace id is no secret; no system call a request)."""
    return f"1-{int(time.time()) & 0xFFFFFFFF:08x}-{_random.getrandbits(96):024x}"


def trace_header(incoming: str | None) -> str:
    """The ``X-Amzn-Trace-Id`` to send on: a fresh ``Root`` when absent; with a ``Root``, ``Self`` set (inserted first,
    or replaced) and the rest kept (docs/dataplane.md, "Headers the ALB adds"). Turnout's choice for a header
    without ``Root``: keep its fields and put a fresh ``Root`` first."""
    if not incoming or not incoming.strip():
        return f"Root={new_trace_id()}"
    fields = [part.strip() for part in incoming.split(";") if part.strip()]
    keys = [part.partition("=")[0].strip().lower() for part in fields]
    if "root" not in keys:
        return ";".join([f"Root={new_trace_id()}", *fields])
    fresh = f"Self={new_trace_id()}"
    if "self" in keys:
        fields[keys.index("self")] = fresh
        return ";".join(fields)
    return ";".join([fresh, *fields])


def forwarded_for(existing: list[str], peer: str) -> str:
    """``X-Forwarded-For`` in the default ``append`` mode (docs/dataplane.md, "Headers the ALB adds")."""
    before = ", ".join(value.strip() for value in existing if value.strip())
    return f"{before}, {peer}" if before else peer


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    """Header names the ``Connection`` header lists: hop-by-hop for this message too."""
    names: set[str] = set()
    for key, value in headers:
        if key.lower() == "connection":
            names.update(token.strip().lower() for token in value.split(",") if token.strip())
    return names


def end_to_end(headers: Iterable[tuple[str, str]], named: set[str] | None = None) -> list[tuple[str, str]]:
    """``headers`` without the hop-by-hop ones (and those ``Connection`` names: ``named`` when the caller has
    them already, lower case)."""
    pairs = list(headers)
    drop = HOP_BY_HOP | (_connection_tokens(pairs) if named is None else named)
    return [(key, value) for key, value in pairs if key.lower() not in drop]


def split_target(raw: str) -> tuple[str, str]:
    """The raw request target split into (raw path, raw query); an absolute-form target keeps only its path."""
    if not raw.startswith("/"):
        url = URL(raw, encoded=True)
        raw = url.raw_path_qs if url.absolute else "/" + raw
    path, _, query = raw.partition("?")
    return path, query


def build_request(exchange: Exchange, peer: str, listener: Listener) -> Request:
    """The :class:`Request` record the rules look at: path percent-decoded without the query, the query's pairs
    percent-decoded (``+`` read as a space) in order, headers as received, the TCP peer's IP."""
    raw_path, raw_query = split_target(exchange.target)
    return Request(
        method=exchange.method,
        host=exchange.host or "",
        path=unquote(raw_path),
        query=tuple(parse_qsl(raw_query, keep_blank_values=True)) if raw_query else (),
        headers=tuple(exchange.headers),
        source_ip=peer,
        protocol=listener.protocol,
        port=listener.port,
    )


def render_head(status: int, reason: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """A response's status line and headers, ready to write."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{key}: {value}" for key, value in headers)
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body (nothing for no data: an empty chunk would end the body)."""
    return b"%x\r\n%b\r\n" % (len(data), data) if data else b""


def request_head(exchange: Exchange, listener: Listener, peer: str, address: Address) -> bytes:
    """The head sent to the target: the request line (origin form, HTTP/1.1), the client's headers but the
    hop-by-hop ones (and those its ``Connection`` names), ``Expect`` (the LB answers it) and the ones the LB sets:
    ``X-Forwarded-For`` (appended to), ``X-Forwarded-Proto``, ``X-Forwarded-Port``, ``X-Amzn-Trace-Id``
    (docs/dataplane.md, "Headers the ALB adds"). ``Host`` is kept (the target's address when the client sent none);
    a chunked body stays chunked."""
    target = exchange.target
    if not target.startswith("/"):
        raw_path, raw_query = split_target(target)
        target = raw_path + (f"?{raw_query}" if raw_query else "")
    lines = [f"{exchange.method} {target} HTTP/1.1"]
    lines.extend(f"{key}: {value}" for key, value in end_to_end(exchange.headers, exchange.drop)
                 if key.lower() not in _REPLACED)  # fmt: skip
    earlier_for: list[str] = []
    trace: str | None = None
    for key, value in exchange.headers:
        lower = key.lower()
        if lower == "x-forwarded-for":
            earlier_for.append(value)
        elif lower == "x-amzn-trace-id" and trace is None:
            trace = value
    if exchange.host is None:
        host, port = address
        lines.append(f"Host: {f'[{host}]' if ':' in host else host}:{port}")
    if exchange.chunked:
        lines.append("Transfer-Encoding: chunked")
    lines.append(f"X-Forwarded-For: {forwarded_for(earlier_for, peer)}")
    lines.append(f"X-Forwarded-Proto: {listener.protocol.lower()}")
    lines.append(f"X-Forwarded-Port: {listener.port}")
    lines.append(f"X-Amzn-Trace-Id: {trace_header(trace)}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


def _connection_header(keep: bool, exchange: Exchange) -> list[tuple[str, str]]:
    if not keep:
        return [("Connection", "close")]
    return [("Connection", "keep-alive")] if exchange.version == "1.0" else []


class HttpProxy:
    """The request handler of one HTTP/HTTPS listener (``httpserver.HttpServer``'s handler).

    Counters (read by ``ListenerServers.stats``): ``requests`` received, ``answered_by_target`` (the target's status
    was passed on), ``lb_errors`` (5xx the LB made itself: 502/503/504/501, and 500 if routing itself failed).
    """

    def __init__(
        self,
        arn: str,
        snapshot: Callable[[], Snapshot],
        router: RouterLike,
        pool: UpstreamPool,
        *,
        on_start: Callable[[Target], None] | None = None,
        on_finish: Callable[[Target], None] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        idle_timeout: float | Callable[[Listener], float] = IDLE_TIMEOUT,
    ) -> None:
        self.arn = arn
        self._snapshot = snapshot
        self._router = router
        self._pool = pool
        self._on_start = on_start
        self._on_finish = on_finish
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self.requests = 0
        self.answered_by_target = 0
        self.lb_errors = 0
        self._last_idle = idle_timeout if isinstance(idle_timeout, (int, float)) and idle_timeout > 0 else IDLE_TIMEOUT

    def _idle(self, listener: Listener) -> float:
        value = self._idle_timeout(listener) if callable(self._idle_timeout) else self._idle_timeout
        self._last_idle = value if value and value > 0 else IDLE_TIMEOUT
        return self._last_idle

    def client_idle(self) -> float:
        """How long a client connection may sit idle: the listener's idle timeout (docs/dataplane.md, "Health
        routing, timeouts, draining"), as last read for a forward (the default until then)."""
        return self._last_idle

    # -- answering ---------------------------------------------------------------------------------------------------

    def _answer(self, conn: ClientConnection, exchange: Exchange, answer: Respond) -> bool:
        """Send ``answer`` whole (one write); a HEAD request gets its head only."""
        keep = conn.keeps(exchange)
        headers = [(k, v) for k, v in answer.headers if k.lower() not in ("content-length", "connection")]
        if not any(key.lower() == "server" for key, _ in headers):
            headers.append(("Server", LB_SERVER))
        headers.append(("Content-Length", str(len(answer.body))))
        headers.extend(_connection_header(keep, exchange))
        head = render_head(answer.status, phrase(answer.status), headers)
        exchange.answered = True
        conn.write(head if exchange.method == "HEAD" else head + answer.body)
        return keep

    def _lb(self, conn: ClientConnection, exchange: Exchange, status: int) -> bool:
        """The LB's own error page (``router.alb_error``)."""
        if status >= 500:
            self.lb_errors += 1
        return self._answer(conn, exchange, alb_error(status))

    async def __call__(self, conn: ClientConnection, exchange: Exchange) -> bool:
        if exchange.reject:
            self._lb(conn, exchange, exchange.reject)
            return False
        self.requests += 1
        try:
            if exchange.method == "TRACE":  # docs/dataplane.md, "The ALB's own error responses"
                return self._lb(conn, exchange, 405)
            snap = self._snapshot()
            listener = snap.listeners.get(self.arn)
            if listener is None:
                return self._lb(conn, exchange, 503)
            decision = self._router.route(listener, snap.groups, build_request(exchange, conn.peer, listener))
            if isinstance(decision, Respond):
                return self._answer(conn, exchange, decision)
            target = decision.target
            if target is None or target.address is None:  # address None: nothing answers here (Turnout's choice)
                return self._lb(conn, exchange, 503)
            if self._on_start is not None:
                self._on_start(target)
            try:
                return await self._forward(conn, exchange, listener, target.address, decision.set_cookies)
            finally:
                if self._on_finish is not None:
                    self._on_finish(target)
        except Exception:  # never a crash: a bug in routing or here becomes the LB's 500 (or a cut once answering)
            log.exception("listener %s: request %s %s failed", self.arn, exchange.method, exchange.target)
            if exchange.answered:
                conn.abort()
                return False
            self._lb(conn, exchange, 500)
            return False

    # -- forwarding --------------------------------------------------------------------------------------------------

    async def _forward(
        self, conn: ClientConnection, exchange: Exchange, listener: Listener, address: Address,
        set_cookies: tuple[str, ...],
    ) -> bool:
        """Send the request to ``address`` over a pooled connection, pass the answer on (whole in one write when it
        is all in, else streamed); the LB's 502/504 when the target fails before answering."""
        try:
            upstream = self._pool.idle(address) or await self._pool.connect(address, self._connect_timeout)
        except TimeoutError:
            return self._lb(conn, exchange, 504)  # no connect within the connect timeout (10 s)
        except OSError as error:
            log.info("listener %s: connect to %s:%s failed: %r", self.arn, *address, error)
            return self._lb(conn, exchange, 502)
        if conn.closed:
            self._pool.give_back(upstream)
            return False
        conn.on_lost = upstream.abort  # the client left: its request is aborted, the connection not reused
        upstream.peer_pause = lambda: conn.pause("upstream")
        upstream.peer_resume = lambda: conn.resume("upstream")
        try:
            head = request_head(exchange, listener, conn.peer, address)
            if exchange.chunked:
                held = exchange.take(lambda data: upstream.write(chunk(data)), lambda: upstream.write(_LAST_CHUNK))
                payload = b"".join([head, *map(chunk, held), _LAST_CHUNK if exchange.body_done else b""])
            else:
                held = exchange.take(upstream.write, None)
                payload = b"".join([head, *held]) if held else head
            if exchange.expect_continue and not exchange.body_done and exchange.version != "1.0":
                # Turnout's choice: the LB answers the client's ``Expect: 100-continue`` itself once the request has
                # a target (and does not pass the header on), so clients do not stall waiting for it.
                conn.write(_CONTINUE)
            upstream.begin(payload, head_only=exchange.method == "HEAD")
            idle = self._idle(listener)
            try:
                if not upstream.head_done:
                    await upstream.wait_head(idle)
            except TimeoutError:
                if conn.closed:
                    return False
                return self._lb(conn, exchange, 504)  # no answer within the idle timeout
            except (UpstreamError, OSError) as error:
                if conn.closed:
                    return False
                log.info("listener %s: forward to %s:%s failed: %r", self.arn, *address, error)
                return self._lb(conn, exchange, 502)  # refused, reset, closed with the request out, malformed
            self.answered_by_target += 1
            keep, chunked, out = self._response_head(conn, exchange, upstream, set_cookies)
            exchange.answered = True
            body, upstream.body = upstream.body, []
            if upstream.done:
                if chunked:
                    conn.write(b"".join([out, *map(chunk, body), _LAST_CHUNK]))
                else:
                    conn.write(b"".join([out, *body]) if body else out)
            else:
                conn.write(b"".join([out, *map(chunk, body)]) if chunked else b"".join([out, *body]))
                if not await self._stream(conn, upstream, idle, chunked, address):
                    return False
                if chunked:
                    conn.write(_LAST_CHUNK)
            if conn.closed:
                return False
            if exchange.body_done:
                upstream.release()
            return keep
        finally:
            conn.on_lost = None
            conn.upstream_pause = conn.upstream_resume = None
            conn.resume("upstream")
            if upstream.busy:
                upstream.abort()
                upstream.release()

    async def _stream(
        self, conn: ClientConnection, upstream: UpstreamConnection, idle: float, chunked: bool, address: Address
    ) -> bool:
        """The rest of the response body to the client as it arrives; False (and the client cut) if it fails."""
        upstream.sink = (lambda data: conn.write(chunk(data))) if chunked else conn.write
        transport = upstream.transport
        assert transport is not None

        def pause() -> None:
            if not upstream.closed:
                transport.pause_reading()

        def resume() -> None:
            if not upstream.closed:
                transport.resume_reading()

        conn.upstream_pause, conn.upstream_resume = pause, resume
        if conn.write_paused:
            pause()
        try:
            await upstream.wait_done(idle)
        except (TimeoutError, UpstreamError, OSError) as error:
            # The target failed (or the client left) after the status and headers were sent on: the only honest
            # signal left is cutting the client's connection.
            log.info("listener %s: response from %s:%s cut short: %r", self.arn, *address, error)
            conn.abort()
            return False
        return True

    def _response_head(
        self, conn: ClientConnection, exchange: Exchange, upstream: UpstreamConnection, set_cookies: tuple[str, ...]
    ) -> tuple[bool, bool, bytes]:
        """(keep the client connection, re-chunk the body, the status line and headers to send): the target's
        headers but the hop-by-hop ones (and those its ``Connection`` names), then the decision's Set-Cookie."""
        status = upstream.status
        drop = _HOP_BY_HOP_BYTES | upstream.drop if upstream.drop else _HOP_BY_HOP_BYTES
        if upstream.chunked:
            drop = drop | {b"content-length"}
        reason = upstream.reason or phrase(status).encode("latin-1")
        out = [b"HTTP/1.1 %d %b\r\n" % (status, reason)]
        out.extend(b"%b: %b\r\n" % pair for pair in upstream.headers if pair[0].lower() not in drop)
        keep = conn.keeps(exchange)
        chunked = False
        no_body = exchange.method == "HEAD" or status in (204, 304) or status < 200
        if not no_body and (upstream.chunked or not upstream.content_length):
            if exchange.version == "1.1":
                chunked = True
                out.append(b"Transfer-Encoding: chunked\r\n")
            else:
                keep = False  # an HTTP/1.0 client reads the body to the connection's end
        out.extend(b"Set-Cookie: %b\r\n" % cookie.encode("latin-1") for cookie in set_cookies)
        out.extend(f"{key}: {value}\r\n".encode("latin-1") for key, value in _connection_header(keep, exchange))
        out.append(b"\r\n")
        return keep, chunked, b"".join(out)
