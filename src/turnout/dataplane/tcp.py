"""An NLB TCP (or TLS) listener's forwarder: each accepted connection goes, whole, to one target chosen by the
router from the flow, and bytes are piped both ways until both sides have finished.

Per connection: the CURRENT snapshot is taken, ``router.route_tcp(listener, groups, (peer_ip, peer_port))`` picks the
target (docs/dataplane.md, "NLB TCP listeners": a TCP connection stays on one target for its life); no target, an
unknown listener, or a target that cannot be reached within ``connect_timeout`` -> the client connection is closed.
A half-close (EOF one way) is passed on with ``write_eof`` and the other direction keeps flowing. A connection with
no bytes either way for ``idle_timeout`` seconds (350 s for NLB TCP, per AWS) is cut, so nothing hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Protocol

from .model import Forward, Group, Listener, Snapshot

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
NLB_TCP_IDLE_TIMEOUT = 350.0
CHUNK = 64 * 1024


class TcpRouterLike(Protocol):
    """The part of the router a TCP listener needs (``proxy.RouterLike`` has it)."""

    def route_tcp(self, listener: Listener, groups: Mapping[str, Group], flow: tuple[str, int]) -> Forward: ...


class _Flow:
    """One client connection and its target connection; ``last`` is the loop time of the last byte either way."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.last = loop.time()

    def touch(self) -> None:
        self.last = self.loop.time()


class TcpForwarder:
    """The connection handler of one TCP/TLS listener, with its asyncio server.

    Counters (read by ``ListenerServers.stats``; Turnout's choice of meaning for TCP): ``requests`` = connections
    accepted, ``answered_by_target`` = connections piped to a target, ``lb_errors`` = connections the LB closed without
    a target (none to send to, or the target unreachable).
    """

    def __init__(
        self,
        arn: str,
        snapshot: Callable[[], Snapshot],
        router: TcpRouterLike,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        idle_timeout: float = NLB_TCP_IDLE_TIMEOUT,
    ) -> None:
        self.arn = arn
        self._snapshot = snapshot
        self._router = router
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.requests = 0
        self.answered_by_target = 0
        self.lb_errors = 0

    async def start(self, sock: socket.socket, context: ssl.SSLContext | None = None) -> None:
        """Accept connections on ``sock`` (bound and listening); with ``context``, TLS ones (a TLS listener: the
        LB ends TLS and passes the plain bytes on, as an NLB TLS listener does)."""
        self._server = await asyncio.start_server(self._accepted, sock=sock, ssl=context)

    async def close(self, timeout: float) -> None:
        """Stop accepting at once; give open connections ``timeout`` seconds to finish, then cut them."""
        if self._server is not None:
            self._server.close()
            self._server = None
        pending = {task for task in self._tasks if not task.done()}
        if pending:
            _done, pending = await asyncio.wait(pending, timeout=timeout)
        for writer in list(self._writers):
            _abort(writer)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5.0)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        self.requests += 1
        try:
            await self._serve(reader, writer)
        except Exception:  # never a crash: log, and the connection is closed below
            log.exception("TCP listener %s: connection failed", self.arn)
        finally:
            self._writers.discard(writer)
            await _close(writer)
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        snap = self._snapshot()
        listener = snap.listeners.get(self.arn)
        peer = writer.get_extra_info("peername") or ("", 0)
        if listener is None:
            self.lb_errors += 1
            return
        decision = self._router.route_tcp(listener, snap.groups, (str(peer[0]), int(peer[1])))
        address = decision.target.address if decision.target is not None else None
        if address is None:
            self.lb_errors += 1
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(address[0], address[1]), timeout=self._connect_timeout
            )
        except (TimeoutError, OSError) as error:
            log.info("TCP listener %s: connect to %s:%s failed: %r", self.arn, address[0], address[1], error)
            self.lb_errors += 1
            return
        self.answered_by_target += 1
        self._writers.add(up_writer)
        flow = _Flow(asyncio.get_running_loop())
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer, flow)),
            asyncio.create_task(self._pipe(up_reader, writer, flow)),
        ]
        try:
            done, _pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_EXCEPTION)
            if any(not task.cancelled() and task.exception() is not None for task in done):
                _abort(up_writer)  # a reset or the idle timeout: cut both sides
                _abort(writer)
        finally:
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._writers.discard(up_writer)
            await _close(up_writer)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, flow: _Flow) -> None:
        """Copy ``source`` to ``sink`` until EOF (then half-close ``sink``). Raises TimeoutError when neither
        direction has moved a byte for the idle timeout, OSError on a reset; the caller then cuts both sides."""
        while True:
            wait = flow.last + self._idle_timeout - flow.loop.time()
            if wait <= 0:
                raise TimeoutError("idle timeout")
            try:
                data = await asyncio.wait_for(source.read(CHUNK), timeout=wait)
            except TimeoutError:
                continue  # the other direction may have moved meanwhile: re-check the shared clock
            if not data:
                if sink.can_write_eof() and not sink.is_closing():
                    with contextlib.suppress(OSError):
                        sink.write_eof()
                return
            flow.touch()
            sink.write(data)
            await asyncio.wait_for(sink.drain(), timeout=self._idle_timeout)


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()


async def _close(writer: asyncio.StreamWriter) -> None:
    if not writer.is_closing():
        writer.close()
    with contextlib.suppress(OSError, asyncio.TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), timeout=5.0)
