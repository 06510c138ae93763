"""The servers that make load-balancer listeners accept connections on this machine, one per listener ARN.

HTTP and HTTPS listeners are served by ``proxy.HttpProxy`` on ``httpserver.HttpServer`` (forwarding over one
``upstream.UpstreamPool`` shared by every listener); TCP and TLS listeners by ``tcp.TcpForwarder``. HTTPS and TLS
listeners end TLS with the context ``tls`` gives (the data directory's certificate, :mod:`.tls`) and pass plain
HTTP or bytes on, as an ALB or NLB does; without ``tls`` they are served as plain HTTP and TCP. UDP and TCP_UDP
listeners are not served (``serve`` returns None).

The port rule (Turnout's choice; a listener's own port is usually privileged or shared by several load balancers):
the first choice is the listener's port itself when it is 1024 or above, else port + 8000 (80 -> 8080,
443 -> 8443) (:func:`preferred_port`). When that port is taken (by anything), the next free one counting up is used
(at most 100 ports tried), then any free port the OS gives. The address actually bound is what ``serve`` returns and
``addresses`` lists.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass

from .httpserver import HttpServer
from .model import Address, Listener, Snapshot, Target
from .proxy import CONNECT_TIMEOUT, IDLE_TIMEOUT, HttpProxy, RouterLike
from .tcp import NLB_TCP_IDLE_TIMEOUT, TcpForwarder
from .upstream import UpstreamPool

__all__ = ["ListenerServers", "RouterLike", "preferred_port"]

log = logging.getLogger(__name__)

PORT_TRIES = 100
HTTP_PROTOCOLS = frozenset({"HTTP", "HTTPS"})
TCP_PROTOCOLS = frozenset({"TCP", "TLS"})
SHUTDOWN_TIMEOUT = 30.0  # how long close() lets in-flight requests finish (Turnout's choice)


def preferred_port(port: int) -> int:
    """The port rule's first choice: ``port`` itself when 1024 or above, else ``port + 8000``."""
    return port if port >= 1024 else port + 8000


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``: ``port`` if free, else the next free one up (``PORT_TRIES`` ports in all),
    else any port the OS gives. Raises OSError only when nothing at all can be bound."""
    infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
    family, _type, _proto, _name, sockaddr = infos[0]
    candidates = [p for p in range(port, port + PORT_TRIES) if 0 < p < 65536] + [0]
    last: OSError | None = None
    for candidate in candidates:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if sys.platform != "win32":  # TIME_WAIT leftovers do not count as taken (on Windows it means "share")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((sockaddr[0], candidate, *sockaddr[2:]))
            sock.listen(128)
            sock.setblocking(False)
            return sock
        except OSError as error:
            sock.close()
            last = error
    raise OSError(f"cannot bind any port on {host} (tried {port}-{port + PORT_TRIES - 1} and an OS-given one): {last}")


@dataclass
class _Served:
    protocol: str
    port: int  # the listener's own port, as it was when served
    address: Address
    handler: HttpProxy | TcpForwarder
    server: HttpServer | None = None  # HTTP only


class ListenerServers:
    """Start and stop the listeners' servers; each request or connection is routed by ``router`` against the
    snapshot ``snapshot()`` returns when it arrives. ``on_start``/``on_finish`` are called around each forwarded HTTP
    request with its target (least-outstanding-requests balancing counts with them).

    ``connect_timeout`` (10 s), ``idle_timeout`` (60 s, or a function of the listener, e.g. reading the load
    balancer's ``idle_timeout.timeout_seconds``), ``tcp_idle_timeout`` (350 s) and ``shutdown_timeout`` (how long
    ``close`` waits for in-flight work) are parameters so tests and callers can shorten them.
    """

    def __init__(
        self,
        host: str,
        snapshot: Callable[[], Snapshot],
        router: RouterLike,
        *,
        on_start: Callable[[Target], None] | None = None,
        on_finish: Callable[[Target], None] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        idle_timeout: float | Callable[[Listener], float] = IDLE_TIMEOUT,
        tcp_idle_timeout: float = NLB_TCP_IDLE_TIMEOUT,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
        tls: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        self._host = host
        self._snapshot = snapshot
        self._router = router
        self._on_start = on_start
        self._on_finish = on_finish
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._tcp_idle_timeout = tcp_idle_timeout
        self._shutdown_timeout = shutdown_timeout
        self._tls = tls
        self._context: ssl.SSLContext | None = None
        self._served: dict[str, _Served] = {}
        self._stats: dict[str, HttpProxy | TcpForwarder] = {}  # kept after close: counts survive a restart
        self._pool: UpstreamPool | None = None
        self._locks: dict[str, asyncio.Lock] = {}  # per ARN: one listener's slow close holds up no other

    async def serve(self, listener: Listener) -> Address | None:
        """Serve ``listener`` and return where it answers. Idempotent per ARN: the same protocol and port return the
        address already bound; a changed protocol or port closes the old server and serves again.

        HTTP and HTTPS listeners are served by ``proxy.HttpProxy``, TCP and TLS ones by ``tcp.TcpForwarder``; HTTPS
        and TLS ones with TLS when the servers were given ``tls``. UDP and TCP_UDP listeners are not served: None
        (and a server left from an earlier protocol is closed).

        The port rule: the listener's port when 1024 or above, else port + 8000 (80 -> 8080, 443 -> 8443); when
        that port is taken (by anything), the next free one counting up (at most 100 tries), then any free port the
        OS gives, all on ``host``. A port that cannot be bound never fails the call; OSError (naming the listener)
        only when no port at all can be bound."""
        async with self._lock(listener.arn):
            current = self._served.get(listener.arn)
            if current is not None:
                if current.protocol == listener.protocol and current.port == listener.port:
                    return current.address
                await self._close(listener.arn)
            if listener.protocol in HTTP_PROTOCOLS:
                return await self._serve_http(listener)
            if listener.protocol in TCP_PROTOCOLS:
                return await self._serve_tcp(listener)
            log.info("listener %s: protocol %s is not served", listener.arn, listener.protocol)
            return None

    def _context_for(self, listener: Listener) -> ssl.SSLContext | None:
        """The TLS context of an HTTPS or TLS listener (made on first use), None for the others."""
        if listener.protocol not in ("HTTPS", "TLS") or self._tls is None:
            return None
        if self._context is None:
            self._context = self._tls()
        return self._context

    def _lock(self, arn: str) -> asyncio.Lock:
        return self._locks.setdefault(arn, asyncio.Lock())

    def _bind(self, listener: Listener) -> socket.socket:
        try:
            return bind_socket(self._host, preferred_port(listener.port))
        except OSError as error:
            raise OSError(f"listener {listener.arn} ({listener.protocol}:{listener.port}): {error}") from error

    async def _serve_http(self, listener: Listener) -> Address:
        if self._pool is None:
            self._pool = UpstreamPool()
        handler = HttpProxy(
            listener.arn,
            self._snapshot,
            self._router,
            self._pool,
            on_start=self._on_start,
            on_finish=self._on_finish,
            connect_timeout=self._connect_timeout,
            idle_timeout=self._idle_timeout,
        )
        context = self._context_for(listener)
        sock = self._bind(listener)
        server = HttpServer(handler, handler.client_idle)
        try:
            await server.start(sock, context)
        except BaseException:
            sock.close()
            raise
        address = _address(sock)
        self._served[listener.arn] = _Served(listener.protocol, listener.port, address, handler, server)
        self._keep_counts(handler)
        log.info("listener %s (%s:%s) serving on %s:%s", listener.arn, listener.protocol, listener.port, *address)
        return address

    async def _serve_tcp(self, listener: Listener) -> Address:
        forwarder = TcpForwarder(
            listener.arn,
            self._snapshot,
            self._router,
            connect_timeout=self._connect_timeout,
            idle_timeout=self._tcp_idle_timeout,
        )
        context = self._context_for(listener)
        sock = self._bind(listener)
        try:
            await forwarder.start(sock, context)
        except BaseException:
            sock.close()
            raise
        address = _address(sock)
        self._served[listener.arn] = _Served(listener.protocol, listener.port, address, forwarder)
        self._keep_counts(forwarder)
        log.info("listener %s (%s:%s) serving on %s:%s", listener.arn, listener.protocol, listener.port, *address)
        return address

    def _keep_counts(self, handler: HttpProxy | TcpForwarder) -> None:
        """Register ``handler``'s counters, continuing those of the listener's earlier server if any."""
        earlier = self._stats.get(handler.arn)
        if earlier is not None:
            handler.requests = earlier.requests
            handler.answered_by_target = earlier.answered_by_target
            handler.lb_errors = earlier.lb_errors
        self._stats[handler.arn] = handler

    async def close(self, arn: str) -> None:
        """Stop accepting connections for ``arn`` at once; requests (and TCP connections) in flight get up to
        ``shutdown_timeout`` seconds to finish, then are cut. Unknown ARN: nothing to do."""
        async with self._lock(arn):
            await self._close(arn)

    async def _close(self, arn: str) -> None:
        served = self._served.pop(arn, None)
        if served is None:
            return
        if served.server is not None:
            await served.server.close(self._shutdown_timeout)
        elif isinstance(served.handler, TcpForwarder):
            await served.handler.close(self._shutdown_timeout)
        log.info("listener %s closed", arn)

    async def close_all(self) -> None:
        """Close every listener (in parallel) and the connections to targets."""
        await asyncio.gather(*(self.close(arn) for arn in list(self._served)))
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.close()

    def addresses(self) -> dict[str, Address]:
        """Where each served listener answers, by ARN."""
        return {arn: served.address for arn, served in self._served.items()}

    def stats(self) -> dict[str, dict[str, int]]:
        """Per listener ARN (closed ones included): ``requests``, ``answered_by_target``, ``lb_errors`` (5xx the
        load balancer made itself). For TCP listeners they count connections (``tcp.TcpForwarder``)."""
        return {
            arn: {
                "requests": handler.requests,
                "answered_by_target": handler.answered_by_target,
                "lb_errors": handler.lb_errors,
            }
            for arn, handler in self._stats.items()
        }


def _address(sock: socket.socket) -> Address:
    name = sock.getsockname()
    return (str(name[0]), int(name[1]))
