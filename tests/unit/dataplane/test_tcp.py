"""TCP (and TLS) listeners: bytes piped both ways through the forwarder to a target chosen per connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from turnout.dataplane.listeners import ListenerServers
from turnout.dataplane.model import Address, Decision, Forward, Group, Listener, Request, Snapshot, Target

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/db/1/1"
LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/db/1"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/db/1"
WAIT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listener(protocol: str = "TCP") -> Listener:
    return Listener(ARN, LB, "network", "db-1.elb.localhost", protocol, free_port(), rules=())


@dataclass
class Router:
    address: Address | None
    has_target: bool = True
    flows: list[tuple[str, int]] = field(default_factory=list)

    def route(self, listener: Listener, groups: Mapping[str, Group], request: Request) -> Decision:
        raise AssertionError("not an HTTP listener")

    def route_tcp(self, listener: Listener, groups: Mapping[str, Group], flow: tuple[str, int]) -> Forward:
        self.flows.append(flow)
        if not self.has_target:
            return Forward(TG, None)
        return Forward(TG, Target(TG, "10.0.0.1", 5432, self.address, "healthy"))


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo until the client half-closes, then add a trailer (proving the EOF arrived) and close."""
    total = 0
    while data := await asyncio.wait_for(reader.read(65536), WAIT):
        total += len(data)
        writer.write(data)
        await writer.drain()
    writer.write(f"<eof after {total}>".encode())
    await writer.drain()
    writer.close()


def run(router: Router, target: Handler | None, scenario: Callable[[Address, ListenerServers], Awaitable[None]],
        protocol: str = "TCP", **options: float) -> None:  # fmt: skip
    async def main() -> None:
        server = await asyncio.start_server(target, "127.0.0.1", 0) if target is not None else None
        if server is not None and router.address is None:
            router.address = server.sockets[0].getsockname()[:2]
        item = listener(protocol)
        servers = ListenerServers("127.0.0.1", lambda: Snapshot(listeners={ARN: item}), router, **options)
        try:
            address = await servers.serve(item)
            assert address is not None
            await scenario(address, servers)
        finally:
            await servers.close_all()
            if server is not None:
                server.close()

    asyncio.run(asyncio.wait_for(main(), WAIT * 2))


async def read_all(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), WAIT)


async def closed_by_peer(reader: asyncio.StreamReader) -> bool:
    """True when the other end closes without sending anything: EOF, or a reset (unread bytes make a close a RST)."""
    try:
        return await read_all(reader) == b""
    except ConnectionResetError:
        return True


def test_bytes_echo_through_the_forwarder_and_a_half_close_is_passed_on() -> None:
    router = Router(None)
    payload = bytes(range(256)) * 4096  # 1 MiB

    async def scenario(address: Address, servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"ping")
        await writer.drain()
        assert await asyncio.wait_for(reader.readexactly(4), WAIT) == b"ping"  # both ways, connection still open
        writer.write(payload)
        await writer.drain()
        writer.write_eof()  # half-close: the target must see EOF, and its answer after that must still come back
        assert await read_all(reader) == payload + f"<eof after {4 + len(payload)}>".encode()
        writer.close()
        assert servers.stats()[ARN] == {"requests": 1, "answered_by_target": 1, "lb_errors": 0}
        local = writer.get_extra_info("sockname")
        assert router.flows == [("127.0.0.1", local[1])]  # the router sees the client's flow

    run(router, echo, scenario)


def test_tls_listeners_are_piped_too() -> None:
    async def scenario(address: Address, _servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"raw bytes")
        writer.write_eof()
        assert await read_all(reader) == b"raw bytes<eof after 9>"
        writer.close()

    run(Router(None), echo, scenario, protocol="TLS")


def test_the_target_closing_first_reaches_the_client() -> None:
    async def greet_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"bye")
        await writer.drain()
        writer.close()

    async def scenario(address: Address, _servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        assert await read_all(reader) == b"bye"
        writer.close()

    run(Router(None), greet_and_close, scenario)


def test_no_target_closes_the_connection() -> None:
    router = Router(None, has_target=False)

    async def scenario(address: Address, servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"hello?")
        assert await closed_by_peer(reader)
        writer.close()
        assert servers.stats()[ARN] == {"requests": 1, "answered_by_target": 0, "lb_errors": 1}

    run(router, None, scenario)
    assert len(router.flows) == 1


def test_an_unreachable_target_closes_the_connection() -> None:
    async def scenario(address: Address, servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        assert await closed_by_peer(reader)
        writer.close()
        assert servers.stats()[ARN]["lb_errors"] == 1

    run(Router(("127.0.0.1", free_port())), None, scenario)


def test_an_idle_connection_is_cut_after_the_idle_timeout() -> None:
    async def scenario(address: Address, _servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"x")
        await writer.drain()
        assert await asyncio.wait_for(reader.readexactly(1), WAIT) == b"x"
        # then silence both ways: the forwarder must end the connection by itself
        assert await closed_by_peer(reader)
        writer.close()

    async def echo_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    run(Router(None), echo_forever, scenario, tcp_idle_timeout=0.5)


def test_close_stops_accepting_and_cuts_open_connections_after_the_shutdown_timeout() -> None:
    async def scenario(address: Address, servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"hi")
        assert await asyncio.wait_for(reader.readexactly(2), WAIT) == b"hi"
        await asyncio.wait_for(servers.close(ARN), WAIT)  # the open connection holds it up for 0.5 s at most
        assert await closed_by_peer(reader)
        writer.close()
        try:
            _reader, late = await asyncio.wait_for(asyncio.open_connection(*address), WAIT)
        except OSError:
            pass
        else:
            late.close()
            raise AssertionError("a closed listener still accepts connections")
        assert servers.addresses() == {}

    run(Router(None), echo, scenario, shutdown_timeout=0.5)
