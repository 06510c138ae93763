"""ListenerServers: the port rule, serving and re-serving per ARN, closing with a request in flight, the counters."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from turnout.dataplane import tls
from turnout.dataplane.listeners import ListenerServers, bind_socket, preferred_port
from turnout.dataplane.model import Address, Decision, Forward, Group, Listener, Request, Respond, Snapshot, Target

LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/1"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1"
WAIT = 30.0


def arn(n: int) -> str:
    return f"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/{n}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listener(n: int = 1, protocol: str = "HTTP", port: int | None = None) -> Listener:
    return Listener(
        arn=arn(n),
        load_balancer_arn=LB,
        load_balancer_type="application" if protocol.startswith("HTTP") else "network",
        dns_name="web-1.elb.localhost",
        protocol=protocol,
        port=free_port() if port is None else port,
        rules=(),
    )


@dataclass
class Router:
    decide: Callable[[Request], Decision] = lambda _request: Respond(200, body=b"ok")
    seen: list[str] = field(default_factory=list)

    def route(self, listener: Listener, groups: Mapping[str, Group], request: Request) -> Decision:
        self.seen.append(listener.arn)
        return self.decide(request)

    def route_tcp(self, listener: Listener, groups: Mapping[str, Group], flow: tuple[str, int]) -> Forward:
        return Forward(None, None)


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), timeout=WAIT * 2))


async def fetch(address: Address, path: str = "/") -> tuple[int, bytes]:
    timeout = aiohttp.ClientTimeout(total=WAIT)
    async with (
        aiohttp.ClientSession(timeout=timeout) as client,
        client.get(f"http://{address[0]}:{address[1]}{path}") as resp,
    ):
        return resp.status, await resp.read()


async def refuses(address: Address) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(*address), WAIT)
    except OSError:
        return True
    writer.close()
    return False


# -- the port rule ------------------------------------------------------------------------------------------------


def test_preferred_port_examples() -> None:
    assert preferred_port(80) == 8080
    assert preferred_port(443) == 8443
    assert preferred_port(1) == 8001
    assert preferred_port(1023) == 9023
    assert preferred_port(1024) == 1024
    assert preferred_port(8080) == 8080
    assert preferred_port(65535) == 65535


@given(st.integers(min_value=1, max_value=65535))
def test_preferred_port_is_the_port_or_port_plus_8000(port: int) -> None:
    chosen = preferred_port(port)
    assert chosen == (port if port >= 1024 else port + 8000)
    assert 1024 <= chosen <= 65535


def test_a_taken_port_moves_up_to_the_next_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with bind_socket("127.0.0.1", port) as sock:
            got = sock.getsockname()[1]
        assert got != port
        if port + 100 <= 65536:  # (OS-given ports sit well below that)
            assert port < got < port + 100

        async def body() -> None:
            item = listener(1, port=port)
            servers = ListenerServers("127.0.0.1", lambda: Snapshot(listeners={item.arn: item}), Router())
            try:
                address = await servers.serve(item)
                assert address is not None and address[1] != port
                assert await fetch(address) == (200, b"ok")
            finally:
                await servers.close_all()

        run(body)


def test_nothing_bindable_raises_oserror_with_a_clear_message() -> None:
    # 192.0.2.1 (TEST-NET-1) is not an address of this machine: no port at all can be bound on it.
    with pytest.raises(OSError, match=r"cannot bind any port on 192\.0\.2\.1"):
        bind_socket("192.0.2.1", 8080)

    async def body() -> None:
        servers = ListenerServers("192.0.2.1", lambda: Snapshot(), Router())
        with pytest.raises(OSError, match=arn(1)):
            await servers.serve(listener(1))
        assert servers.addresses() == {}
        await servers.close_all()

    run(body)


def test_two_listeners_on_the_same_port_are_both_served() -> None:
    port = free_port()
    first, second = listener(1, port=port), listener(2, port=port)
    snap = Snapshot(listeners={first.arn: first, second.arn: second})
    router = Router()

    async def body() -> None:
        servers = ListenerServers("127.0.0.1", lambda: snap, router)
        try:
            a = await servers.serve(first)
            b = await servers.serve(second)
            assert a is not None and b is not None and a != b
            assert a[1] == port or not await refuses(("127.0.0.1", port))  # first choice, unless someone took it
            assert servers.addresses() == {first.arn: a, second.arn: b}
            assert await fetch(a) == (200, b"ok")
            assert await fetch(b) == (200, b"ok")
        finally:
            await servers.close_all()

    run(body)
    assert router.seen == [first.arn, second.arn]  # each server routes as its own listener


# -- serve / close ------------------------------------------------------------------------------------------------


def test_serve_is_idempotent_and_a_changed_port_serves_again() -> None:
    item = listener(1)
    moved = replace(item, port=free_port())
    snap = Snapshot(listeners={item.arn: item})

    async def body() -> None:
        servers = ListenerServers("127.0.0.1", lambda: snap, Router())
        try:
            address = await servers.serve(item)
            assert address is not None
            assert await servers.serve(item) == address
            again = await servers.serve(moved)
            assert again is not None and again != address
            assert await refuses(address)
            assert await fetch(again) == (200, b"ok")
            assert servers.addresses() == {item.arn: again}
        finally:
            await servers.close_all()

    run(body)


def test_udp_listeners_are_not_served_and_a_protocol_change_closes_the_old_server() -> None:
    tcp = listener(1, protocol="TCP")
    udp = replace(tcp, protocol="UDP")

    async def body() -> None:
        servers = ListenerServers("127.0.0.1", lambda: Snapshot(), Router())
        try:
            address = await servers.serve(tcp)
            assert address is not None
            assert await servers.serve(udp) is None
            assert await servers.serve(listener(2, protocol="TCP_UDP")) is None
            assert servers.addresses() == {}
            assert await refuses(address)
        finally:
            await servers.close_all()

    run(body)


def test_close_stops_accepting_and_lets_an_in_flight_request_finish() -> None:
    item = listener(1)
    snap = Snapshot(listeners={item.arn: item})
    box: dict[str, Address] = {}

    async def body() -> None:
        arrived = asyncio.Event()
        release = asyncio.Event()

        async def slow(_request: web.Request) -> web.Response:
            arrived.set()
            await asyncio.wait_for(release.wait(), WAIT)
            return web.Response(text="finished")

        app = web.Application()
        app.router.add_get("/", slow)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert isinstance(site._server, asyncio.Server)
        box["target"] = site._server.sockets[0].getsockname()[:2]
        target = Target(TG, "10.0.0.1", 80, box["target"], "healthy")
        servers = ListenerServers("127.0.0.1", lambda: snap, Router(lambda _r: Forward(TG, target)))
        try:
            address = await servers.serve(item)
            assert address is not None
            in_flight = asyncio.ensure_future(fetch(address))
            await asyncio.wait_for(arrived.wait(), WAIT)
            closing = asyncio.ensure_future(servers.close(item.arn))
            for _ in range(100):  # the listening socket goes first, before the request finishes
                if await refuses(address):
                    break
                await asyncio.sleep(0.05)
            assert await refuses(address)
            assert not in_flight.done()
            release.set()
            assert await asyncio.wait_for(in_flight, WAIT) == (200, b"finished")
            await asyncio.wait_for(closing, WAIT)
            assert servers.addresses() == {}
        finally:
            release.set()
            await servers.close_all()
            await runner.cleanup()

    run(body)


def test_stats_count_requests_target_answers_and_lb_errors() -> None:
    item, other = listener(1), listener(2)
    snap = Snapshot(listeners={item.arn: item, other.arn: other})
    dead = Target(TG, "10.0.0.9", 80, ("127.0.0.1", free_port()), "healthy")

    def decide(request: Request) -> Decision:
        return {
            "/fixed": Respond(200),
            "/none": Forward(TG, None),
            "/dead": Forward(TG, dead),
        }[request.path]

    async def body() -> None:
        servers = ListenerServers("127.0.0.1", lambda: snap, Router(decide))
        try:
            address = await servers.serve(item)
            other_address = await servers.serve(other)
            assert address is not None and other_address is not None
            statuses = [(await fetch(address, path))[0] for path in ("/fixed", "/none", "/dead", "/none")]
            assert statuses == [200, 503, 502, 503]
            assert (await fetch(other_address, "/fixed"))[0] == 200
            assert servers.stats() == {
                item.arn: {"requests": 4, "answered_by_target": 0, "lb_errors": 3},
                other.arn: {"requests": 1, "answered_by_target": 0, "lb_errors": 0},
            }
            moved = await servers.serve(replace(item, port=free_port()))  # a new server keeps the counts
            assert moved is not None
            await fetch(moved, "/fixed")
            assert servers.stats()[item.arn]["requests"] == 5
        finally:
            await servers.close_all()
        assert servers.stats()[item.arn]["requests"] == 5  # still readable after closing

    run(body)


def test_close_all_closes_every_listener_and_close_of_an_unknown_arn_is_harmless() -> None:
    first, second = listener(1), listener(2, protocol="TCP")

    async def body() -> None:
        servers = ListenerServers("127.0.0.1", lambda: Snapshot(), Router())
        addresses = [await servers.serve(first), await servers.serve(second)]
        await servers.close("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/none/1/1")
        await servers.close_all()
        assert servers.addresses() == {}
        for address in addresses:
            assert address is not None
            assert await refuses(address)
        with contextlib.suppress(Exception):
            await servers.close_all()  # twice is fine

    run(body)


def test_a_tls_listener_ends_tls_and_pipes_plain_bytes(tmp_path: Path) -> None:
    """An NLB TLS listener presents the data directory's certificate and passes the plain bytes on."""
    async def body() -> None:
        received: list[bytes] = []

        async def target(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            line = await reader.readline()
            received.append(line)
            writer.write(b"echo " + line)
            await writer.drain()
            writer.close()

        backend = await asyncio.start_server(target, "127.0.0.1", 0)
        port = backend.sockets[0].getsockname()[1]
        peer = Target("tg", "127.0.0.1", port, ("127.0.0.1", port), "healthy")
        router = Router()
        router.route_tcp = lambda listener, groups, flow: Forward("tg", peer)  # type: ignore[method-assign]
        nlb = listener(5, protocol="TLS")
        servers = ListenerServers("127.0.0.1", lambda: Snapshot({nlb.arn: nlb}, {}), router,
                                  tls=partial(tls.server_context, tmp_path / "tls"))
        address = await servers.serve(nlb)
        assert address is not None
        client = ssl.create_default_context(cafile=str(tmp_path / "tls" / tls.CERT))
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            *address, ssl=client, server_hostname="web-1.us-east-1.elb.localhost"), WAIT)
        writer.write(b"hello\n")
        assert await asyncio.wait_for(reader.readline(), WAIT) == b"echo hello\n"
        writer.close()
        assert received == [b"hello\n"]  # the target saw plain bytes
        await servers.close_all()
        backend.close()

    run(body)
