"""An HTTP(S) listener's request handler: each request becomes a :class:`Request` record, the router decides, and the
handler answers the decision or forwards the request to the chosen target, streaming both bodies.

One :class:`HttpProxy` serves one listener (by ARN). It takes the CURRENT snapshot when each request arrives and
routes by the listener record in it, so a client keeping its connection alive has every request routed by the rules
in force at that moment (a listener whose ARN has gone answers 503).

What the load balancer adds and the errors it makes itself follow ``docs/dataplane.md`` ("Headers the ALB adds",
"The ALB's own error responses", "Health routing, timeouts, draining"). A failed forward is never retried on another
target: an ALB does not retry.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Protocol
from urllib.parse import parse_qsl, unquote

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from .model import Decision, Forward, Group, Listener, Request, Respond, Snapshot, Target

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # "could not connect within 10 s" -> 504 (docs/dataplane.md, "The ALB's own error responses")
IDLE_TIMEOUT = 60.0  # idle_timeout.timeout_seconds default (docs/dataplane.md, "Health routing, timeouts, draining")
CHUNK = 64 * 1024

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

# Reason phrases of the LB's own answers. The ALB's exact bytes are UNCONFIRMED (docs/dataplane.md, "The ALB's own
# error responses"); Turnout's choice: the nginx-style phrases an ALB is commonly seen to send.
_REASONS = {
    400: "Bad Request",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
LB_SERVER = "awselb/2.0"


class RouterLike(Protocol):
    """What the listeners need of rule evaluation (``router.Router`` provides it)."""

    def route(self, listener: Listener, groups: Mapping[str, Group], request: Request) -> Decision: ...

    def route_tcp(self, listener: Listener, groups: Mapping[str, Group], flow: tuple[str, int]) -> Forward: ...


def error_page(status: int) -> bytes:
    """The body of an answer the load balancer makes itself, in the ALB's HTML style."""
    title = f"{status} {_REASONS.get(status, '')}".strip()
    return f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center></body></html>".encode()


def lb_response(status: int) -> web.Response:
    """An answer the load balancer makes itself (``Server: awselb/2.0``, HTML body)."""
    return web.Response(
        status=status,
        reason=_REASONS.get(status),
        body=error_page(status),
        headers={"Server": LB_SERVER, "Content-Type": "text/html"},
    )


def new_trace_id() -> str:
    """``1-<8 hex epoch seconds>-<24 hex random>`` (docs/dataplane.md, "Headers the ALB adds")."""
    return f"1-{int(time.time()) & 0xFFFFFFFF:08x}-{secrets.token_hex(12)}"


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


def end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` without the hop-by-hop ones (and those ``Connection`` names)."""
    pairs = list(headers)
    drop = HOP_BY_HOP | _connection_tokens(pairs)
    return [(key, value) for key, value in pairs if key.lower() not in drop]


def split_target(raw: str) -> tuple[str, str]:
    """The raw request target split into (raw path, raw query); an absolute-form target keeps only its path."""
    if not raw.startswith("/"):
        url = URL(raw, encoded=True)
        raw = url.raw_path_qs if url.absolute else "/" + raw
    path, _, query = raw.partition("?")
    return path, query


def build_request(request: web.BaseRequest, listener: Listener) -> Request:
    """The :class:`Request` record the rules look at: path percent-decoded without the query, the query's pairs
    percent-decoded (``+`` read as a space) in order, headers as received, the TCP peer's IP."""
    raw_path, raw_query = split_target(request.raw_path)
    return Request(
        method=request.method,
        host=request.headers.get("Host", ""),
        path=unquote(raw_path),
        query=tuple(parse_qsl(raw_query, keep_blank_values=True)),
        headers=tuple(request.headers.items()),
        source_ip=request.remote or "",
        protocol=listener.protocol,
        port=listener.port,
    )


def new_session() -> aiohttp.ClientSession:
    """The client every listener forwards with: keep-alive connections to targets, no connection limit, bodies and
    cookies untouched (no decompression, no cookie jar), no headers of its own, no redirects followed (per request)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        max_line_size=32 * 1024,  # response headers up to 32K (docs/dataplane.md, "The ALB's own error responses")
        max_field_size=32 * 1024,
        trust_env=False,
    )


class HttpProxy:
    """The request handler of one HTTP/HTTPS listener (a low-level ``aiohttp.web.Server`` handler).

    Counters (read by ``ListenerServers.stats``): ``requests`` received, ``answered_by_target`` (the target's status
    was passed on), ``lb_errors`` (5xx the LB made itself: 502/503/504, and 500 if routing itself failed).
    """

    def __init__(
        self,
        arn: str,
        snapshot: Callable[[], Snapshot],
        router: RouterLike,
        session: aiohttp.ClientSession,
        *,
        on_start: Callable[[Target], None] | None = None,
        on_finish: Callable[[Target], None] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        idle_timeout: float | Callable[[Listener], float] = IDLE_TIMEOUT,
    ) -> None:
        self.arn = arn
        self._snapshot = snapshot
        self._router = router
        self._session = session
        self._on_start = on_start
        self._on_finish = on_finish
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self.requests = 0
        self.answered_by_target = 0
        self.lb_errors = 0

    def _lb(self, status: int) -> web.Response:
        if status >= 500:
            self.lb_errors += 1
        return lb_response(status)

    def _idle(self, listener: Listener) -> float:
        value = self._idle_timeout(listener) if callable(self._idle_timeout) else self._idle_timeout
        return value if value and value > 0 else IDLE_TIMEOUT

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        self.requests += 1
        try:
            return await self._handle(request)
        except Exception:  # never a crash: a bug in routing or here becomes the LB's 500
            log.exception("listener %s: request %s %s failed", self.arn, request.method, request.raw_path)
            return self._lb(500)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method == "TRACE":  # docs/dataplane.md, "The ALB's own error responses"
            return self._lb(405)
        snap = self._snapshot()
        listener = snap.listeners.get(self.arn)
        if listener is None:
            return self._lb(503)
        decision = self._router.route(listener, snap.groups, build_request(request, listener))
        if isinstance(decision, Respond):
            return respond(decision)
        target = decision.target
        if target is None or target.address is None:  # address None: nothing answers here (Turnout's choice: 503)
            return self._lb(503)
        if self._on_start is not None:
            self._on_start(target)
        try:
            return await self._forward(request, listener, target.address, decision.set_cookies)
        finally:
            if self._on_finish is not None:
                self._on_finish(target)

    def _outgoing_headers(self, request: web.BaseRequest, listener: Listener) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict(end_to_end(request.headers.items()))
        for name in ("Expect", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Amzn-Trace-Id"):
            headers.popall(name, None)
        headers["X-Forwarded-For"] = forwarded_for(request.headers.getall("X-Forwarded-For", []), request.remote or "")
        headers["X-Forwarded-Proto"] = listener.protocol.lower()
        headers["X-Forwarded-Port"] = str(listener.port)
        headers["X-Amzn-Trace-Id"] = trace_header(request.headers.get("X-Amzn-Trace-Id"))
        return headers

    async def _forward(
        self, request: web.BaseRequest, listener: Listener, address: tuple[str, int], set_cookies: tuple[str, ...]
    ) -> web.StreamResponse:
        raw_path, raw_query = split_target(request.raw_path)
        host, port = address
        netloc = f"[{host}]" if ":" in host else host
        url = URL(f"http://{netloc}:{port}{raw_path}" + (f"?{raw_query}" if raw_query else ""), encoded=True)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout, sock_read=self._idle(listener))
        body = _body(request) if request.body_exists else None
        if body is not None and request.version >= (1, 1) and _expects_continue(request):
            # Turnout's choice: the LB answers the client's ``Expect: 100-continue`` itself once the request has a
            # target (and does not pass the header on), so clients do not stall waiting for it.
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            upstream = await self._session.request(
                request.method,
                url,
                headers=self._outgoing_headers(request, listener),
                data=body,
                allow_redirects=False,
                timeout=timeout,
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return self._lb(504)  # no connect within 10 s, or no answer within the idle timeout
        except (aiohttp.ClientError, OSError) as error:
            log.info("listener %s: forward to %s:%s failed: %r", self.arn, host, port, error)
            return self._lb(502)  # refused, reset, closed with the request outstanding, malformed answer
        async with upstream:
            self.answered_by_target += 1
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in end_to_end(_raw_headers(upstream)):
                response.headers.add(key, value)
            for cookie in set_cookies:
                response.headers.add("Set-Cookie", cookie)
            try:
                await response.prepare(request)
                async for chunk in upstream.content.iter_chunked(CHUNK):
                    await response.write(chunk)
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                # The target failed (or the client left) after the status and headers were sent on: the only honest
                # signal left is cutting the client's connection (aiohttp then skips the response's end).
                log.info("listener %s: response from %s:%s cut short: %r", self.arn, host, port, error)
                if request.transport is not None:
                    request.transport.abort()
            return response


def _raw_headers(response: aiohttp.ClientResponse) -> list[tuple[str, str]]:
    return [(key.decode("latin-1"), value.decode("latin-1")) for key, value in response.raw_headers]


def _expects_continue(request: web.BaseRequest) -> bool:
    return any(value.strip().lower() == "100-continue" for value in request.headers.getall("Expect", []))


async def _body(request: web.BaseRequest) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk


def respond(decision: Respond) -> web.Response:
    """A fixed-response or redirect answer, as the router built it, with the LB's ``Server`` header unless it has
    one (Turnout's choice, as an ALB's own answers carry ``Server: awselb/2.0``)."""
    headers: CIMultiDict[str] = CIMultiDict(decision.headers)
    headers.setdefault("Server", LB_SERVER)
    return web.Response(status=decision.status, headers=headers, body=decision.body)
