"""The HTTP/1.1 connection: uvicorn's httptools protocol, with limits on what a client may send and how slowly.

uvicorn itself bounds neither the header section nor the time a client takes to send it, and closes only
connections idle *after* a response (with a timer armed at every response). This protocol adds (numbers in
:class:`~turnout.edge.limits.Limits`):

* the request line and headers are counted as the parser reads them; past the limit (bytes or fields) the request
  is answered ``RequestHeaderSectionTooLarge`` at once, in the shape of the service the headers seen so far name;
* a deadline runs from a connection's opening, and from the end of each response, to the next request's first
  byte (``idle_timeout``), then from that byte to the end of its headers (``header_timeout``): a client that sends
  nothing, or its headers too slowly (slowloris), is disconnected (one sweep a second, at most, checks every
  connection's deadline; it replaces uvicorn's keep-alive timer);
* a connection that has carried no request for :data:`QUIET_AFTER` seconds is *quiet*: the sweep counts it once
  (``on_quiet(+1)``), and its next request or its end counts it back (``on_quiet(-1)``), so that the acceptor
  (:mod:`turnout.edge.accept`) can tell a worker's busy connections from an SDK's kept-alive idle ones;
* a refusal is followed by a lingering close: the answer is sent, the sending side shut, and what the client still
  sends is read and dropped (never kept) until it closes, so that it reads the answer instead of a reset.

``GET /_turnout/health`` is answered by the connection itself as soon as the request is read, ahead of the API
calls already waiting for the event loop: a health check says whether the server is up, not how long its queue is.

So is an API call whose request (headers and a body of at most :data:`DIRECT_AT_MOST` bytes, with its length given)
is read whole in one go, as nearly every SDK call is: the application answers it there and then
(:meth:`turnout.server.App.answer_now`), without the ASGI task, queue and messages uvicorn makes for a request
(about 55 microseconds a call, as much again as the bare server's whole work); or, when the loop has answered calls
for a whole slice, in its turn (:mod:`turnout.edge.turns`), still without a task. Anything else, and any call the
application hands back (a long one, for a thread), goes the ASGI way with its body already read.

The body's own limits and timeout are the application's (:meth:`turnout.server.App._read_body`), which knows the
request's service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ..core import ids
from ..gateway.protocols import write_error
from ..wire.errors import ServiceError
from .limits import BODY_COMPLETE, DRAIN_AT_MOST, Limits, guess_service, headers_too_large
from .turns import WAITING

log = logging.getLogger("turnout.server")

HEALTH_PATH = "/_turnout/health"
DIRECT_AT_MOST = 64 * 1024  # bytes of body a call answered by the connection may have (below every body limit)
ANSWERED = "turnout.answered"  # set in the scope of a request the connection answered itself (health)
QUIET_AFTER = 1.0  # seconds without a request after which a kept-alive connection counts as quiet (the acceptor's)



class _Refused(Exception):
    def __init__(self, error: ServiceError) -> None:
        super().__init__(error.code)
        self.error = error


class TurnoutHttpProtocol(HttpToolsProtocol):
    """uvicorn's ``http`` protocol class for ``turnout serve`` (limits from the application's ``limits``)."""

    on_lost: Callable[[], None] | None = None  # called once the connection is gone (turnout.edge.accept counts)
    on_quiet: Callable[[int], None] | None = None  # called with +1 once it turns quiet, -1 once it is not any more

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = getattr(self.app, "limits", None)
        self.limits: Limits = limits if isinstance(limits, Limits) else Limits()
        self.timeout_keep_alive = self.limits.idle_timeout  # type: ignore[assignment]  # call_later takes a float
        self._header_size = 0
        self._header_count = 0
        self._header_deadline: float | None = None  # loop time by which the request's headers must be in
        self._lingering = False
        self._lingered = 0
        self._linger_timer: asyncio.TimerHandle | None = None
        self._message_complete = True
        self._cycle_transport: _CycleTransport | None = None  # the response being written (its head held)
        self._feeding = False  # inside data_received: a request read whole there may be answered at once
        self._pending: tuple[Any, Any] | None = None  # (cycle, app) of the request being read, not yet started
        self._idle_since: float | None = None  # loop time of its opening or last response; None during a request
        self._quiet = False  # counted quiet (on_quiet(+1) called, -1 not yet)

    # -- timers ---------------------------------------------------------------------------------------

    # Header deadlines are checked by one periodic sweep per server over its connections, rather than by a timer
    # armed and cancelled for every request (cheaper on the request path).

    def _start_sweeping(self) -> None:
        state = self.server_state
        if getattr(state, "turnout_sweeping", False):
            return
        state.turnout_sweeping = True  # type: ignore[attr-defined]
        period = min(1.0, self.limits.idle_timeout / 4, self.limits.header_timeout / 4)
        loop = self.loop

        def sweep() -> None:
            now = loop.time()
            for connection in list(state.connections):
                if isinstance(connection, TurnoutHttpProtocol):
                    connection._check_header_deadline(now)
                    connection._check_quiet(now)
            loop.call_later(period, sweep)

        loop.call_later(period, sweep)

    def _check_header_deadline(self, now: float) -> None:
        if self._header_deadline is not None and now >= self._header_deadline:
            self._header_deadline = None
            if not self.transport.is_closing():
                self.transport.close()  # nothing (or too little) was sent: nothing to answer

    def _check_quiet(self, now: float) -> None:
        idle_since = self._idle_since
        if not self._quiet and idle_since is not None and now - idle_since >= QUIET_AFTER \
                and self.on_quiet is not None:
            self._quiet = True
            self.on_quiet(1)

    def _not_quiet(self) -> None:
        self._quiet = False
        if self.on_quiet is not None:
            self.on_quiet(-1)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        now = self.loop.time()
        self._header_deadline = now + self.limits.idle_timeout
        self._idle_since = now
        self._start_sweeping()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._quiet:
            self._not_quiet()
        self.on_quiet = None
        lost, self.on_lost = self.on_lost, None
        if lost is not None:
            lost()
        self._header_deadline = None
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        super().connection_lost(exc)

    # -- reading --------------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._lingered += len(data)
            if self._lingered > DRAIN_AT_MOST:
                self.transport.close()
            else:
                self._arm_linger_timer()
            return
        self._unset_keepalive_if_required()
        self._feeding = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            refused = exc.__context__
            if not isinstance(refused, _Refused):
                raise
            self._refuse(refused.error)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        finally:
            self._feeding = False
            pending, self._pending = self._pending, None
            if pending is not None and not self.transport.is_closing():
                # Its body is still coming: the application reads it, under its own timeout.
                super()._start_asgi_task(*pending)

    def eof_received(self) -> None:
        if self._lingering:
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._message_complete = False
        self._header_size = 0
        self._header_count = 0
        self._header_deadline = self.loop.time() + self.limits.header_timeout
        self._idle_since = None
        if self._quiet:
            self._not_quiet()

    def on_url(self, url: bytes) -> None:
        self._header_size += len(url)
        if self._header_size > self.limits.header_bytes:
            raise _Refused(headers_too_large())
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_size += len(name) + len(value) + 4  # ": " and CRLF
        self._header_count += 1
        if self._header_size > self.limits.header_bytes or self._header_count > self.limits.header_count:
            raise _Refused(headers_too_large())
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._header_deadline = None
        if self._header_size > self.limits.s3_header_bytes:
            query = httptools.parse_url(self.url).query or b""
            spec = guess_service(query.decode("latin-1"), self.headers)
            if spec is not None and spec.protocol == "rest-xml":
                raise _Refused(headers_too_large())
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:
            self._cycle_transport = _CycleTransport(self)
            self.cycle.transport = self._cycle_transport  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._message_complete = True
        if self.scope is not None:
            self.scope[BODY_COMPLETE] = True  # type: ignore[literal-required]  # the app reads the body untimed
        super().on_message_complete()
        pending = self._pending
        if pending is not None and pending[0] is self.cycle:
            self._pending = None
            if not self._answer_now(pending[0]):
                super()._start_asgi_task(*pending)
            return
        self._answer_health()

    # -- answering at once --------------------------------------------------------------------------------

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        # uvicorn starts a request's task once its headers are read; one that may be answered at once waits for
        # the end of its body instead (on_message_complete), within this data_received call (see its end).
        if self._feeding and cycle is self.cycle and cycle.more_body and self._direct(cycle):
            self._pending = (cycle, app)
            return
        super()._start_asgi_task(cycle, app)

    def _direct(self, cycle: Any) -> bool:
        """Whether the request may be answered from this callback once read: an API call with a body of a stated
        length, small enough, that waits for no ``100 Continue``."""
        scope = cycle.scope
        if scope["method"] == "HEAD" or cycle.waiting_for_100_continue or scope["path"].startswith("/_turnout/"):
            return False
        if getattr(self.app, "answer_now", None) is None:
            return False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if int(value) > DIRECT_AT_MOST:
                    return False
            elif name == b"transfer-encoding":
                return False
        return True

    def _answer_now(self, cycle: Any) -> bool:
        """Answer the request just read, if the application takes it (now, or in its turn on the loop); False: it
        goes the ASGI way."""
        answer = self.app.answer_now(cycle.scope, bytes(cycle.body), partial(self._answer_later, cycle))
        if answer is None:
            return False
        if answer != WAITING:  # else it waits for its turn (turnout.edge.turns): _answer_later answers
            self._respond(cycle, *answer)
        return True

    def _answer_later(self, cycle: Any, answer: tuple[int, list[tuple[bytes, bytes]], bytes]) -> None:
        """The answer to a request that waited for its turn, unless its client has gone meanwhile."""
        if self.transport.is_closing():
            return
        if cycle is self.cycle:
            self._respond(cycle, *answer)
            return
        # The client sent its next request before this answer (pipelining, which no SDK does): uvicorn has made
        # that one the connection's cycle, waiting in the pipeline, with the response transport it will write to.
        waiting_transport, self._cycle_transport = self._cycle_transport, None
        self._respond(cycle, *answer)  # ends this response: the pipelined request starts
        if self._cycle_transport is None:
            self._cycle_transport = waiting_transport

    def _respond(self, cycle: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *,
                 with_body: bool = True) -> None:
        """Write a whole answer to ``cycle``'s request (one send), then end it as uvicorn ends a response."""
        cycle.response_started = cycle.response_complete = True
        self.transport.write(self._message(status, headers, body, close=not cycle.keep_alive, with_body=with_body))
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()

    def _message(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *, close: bool,
                 with_body: bool = True) -> bytes:
        """A response's bytes: status line, the server's default headers (Date), ``headers``, Content-Length (unless
        given, as a HEAD answer gives it), Connection: close when ``close``, then ``body``."""
        content = [STATUS_LINE[status]]
        length = [] if any(name == b"content-length" for name, _ in headers) \
            else [(b"content-length", str(len(body)).encode())]
        for name, value in [*self.server_state.default_headers, *headers, *length,
                            *([(b"connection", b"close")] if close else [])]:
            content.extend([name, b": ", value, b"\r\n"])
        content.append(b"\r\n")
        if with_body:
            content.append(body)
        return b"".join(content)

    def _answer_health(self) -> None:
        """Answer a health check now, from the data-received callback, rather than after the requests already
        queued for the loop (see the module docstring); the application's task for it then does nothing."""
        cycle, scope = self.cycle, self.scope
        if cycle is None or scope is None or cycle.scope is not scope or self.pipeline or cycle.response_started:
            return
        if scope.get("path") != HEALTH_PATH or scope.get("method") not in ("GET", "HEAD"):
            return
        answer = getattr(self.app, "health_response", None)
        if answer is None:
            return
        status, headers, body = answer()
        scope[ANSWERED] = True  # type: ignore[literal-required]
        self._respond(cycle, status, headers, body, with_body=scope["method"] == "GET")

    # -- refusing -------------------------------------------------------------------------------------

    def _refuse(self, error: ServiceError) -> None:
        """Answer ``error`` in the shape of the service the headers seen so far name, then close lingering."""
        query = b""
        with contextlib.suppress(httptools.HttpParserInvalidURLError):
            query = httptools.parse_url(self.url).query or b""
        spec = guess_service(query.decode("latin-1"), self.headers or [])
        status, headers, body = write_error(spec, error, ids.request_id())
        log.warning("Refused a request: %s (%s)", error.code, error.message)
        self._header_deadline = None
        self.transport.write(self._message(status, headers, body, close=True))
        self._linger()

    def on_response_complete(self) -> None:
        """uvicorn's end of a response, but for the keep-alive timer it arms (and the next request cancels): an idle
        deadline instead, which the sweep checks (one timer less to arm and cancel a call)."""
        cycle_transport, self._cycle_transport = self._cycle_transport, None
        if cycle_transport is not None:
            cycle_transport.flush()  # a head held for a body that never came (HEAD)
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:  # pipelined requests: the next one starts now
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            now = self.loop.time()
            self._header_deadline = now + self.limits.idle_timeout
            self._idle_since = now

    def close_after_response(self) -> None:
        """Close once a response is sent: at once if the request was read to its end, lingering if not."""
        if self._message_complete or self.transport.is_closing():
            self.transport.close()
        else:
            self._linger()

    def _linger(self) -> None:
        """Shut the sending side, then read and drop what the client still sends until it closes, stops sending
        for ``body_timeout`` seconds, or has sent more than a refused body is ever read for."""
        if self._lingering:
            return
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm_linger_timer()

    def _arm_linger_timer(self) -> None:
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        self._linger_timer = self.loop.call_later(self.limits.body_timeout, self._end_linger)

    def _end_linger(self) -> None:
        self._linger_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class _CycleTransport:
    """The transport a request's uvicorn cycle writes its response to.

    - The response's head (status line and headers) is held until the body's first bytes, and sent with them: one
      ``send`` and one TCP segment for a whole small answer instead of two (each send over loopback runs the
      receiver's side of TCP too: about a tenth of a small call's cost).
    - Closing it after a response lingers while the request's body is still arriving (a refusal before the body
      was read), so that the client, still sending, reads the answer instead of a reset."""

    def __init__(self, protocol: TurnoutHttpProtocol) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        self._held: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif not self._head_seen and data[:9] == b"HTTP/1.1 " and data[9:10] != b"1":  # not "100 Continue"
            self._head_seen = True
            self._held = data
        else:
            self._transport.write(data)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._transport.write(held)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self.flush()
        self._protocol.close_after_response()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
