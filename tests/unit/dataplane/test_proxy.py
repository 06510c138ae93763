"""The HTTP listener's handler over real sockets on 127.0.0.1: a fake router sends requests to small aiohttp target
apps started here; what the target receives, what the client gets back, and the load balancer's own answers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from turnout.dataplane.listeners import ListenerServers
from turnout.dataplane.model import (
    Address,
    Decision,
    Forward,
    Group,
    Listener,
    Request,
    Respond,
    RouteRule,
    Snapshot,
    Target,
)
from turnout.dataplane.proxy import HOP_BY_HOP, end_to_end, forwarded_for, split_target, trace_header
from turnout.dataplane.router import alb_error

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/1"
LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/1"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1"
WAIT = 30.0  # generous bound on every wait in these tests
TRACE_ID = r"1-[0-9a-f]{8}-[0-9a-f]{24}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listener(protocol: str = "HTTP", port: int | None = None, marker: str = "a", arn: str = ARN) -> Listener:
    """A listener record; ``marker`` rides in its default rule so the fake router can tell snapshots apart. The
    default port is a free one from the OS (>= 1024, so the port rule keeps it)."""
    rule = RouteRule(arn=arn + "/default", priority=None, conditions=(), actions=({"Type": "forward", "M": marker},))
    return Listener(
        arn=arn,
        load_balancer_arn=LB,
        load_balancer_type="application",
        dns_name="web-1.us-east-1.elb.localhost",
        protocol=protocol,
        port=free_port() if port is None else port,
        rules=(rule,),
    )


def target(address: Address | None, tid: str = "10.0.0.1") -> Target:
    return Target(target_group_arn=TG, id=tid, port=80, address=address, state="healthy")


@dataclass
class FakeRouter:
    """Answers with ``decide(listener, request)``; records what it was asked."""

    decide: Callable[[Listener, Request], Decision]
    seen: list[tuple[Listener, Request]] = field(default_factory=list)

    def route(self, listener: Listener, groups: Mapping[str, Group], request: Request) -> Decision:
        self.seen.append((listener, request))
        return self.decide(listener, request)

    def route_tcp(self, listener: Listener, groups: Mapping[str, Group], flow: tuple[str, int]) -> Forward:
        raise AssertionError("not a TCP listener")


def forward_to(address: Address | None, *, cookies: tuple[str, ...] = ()) -> Callable[[Listener, Request], Decision]:
    return lambda _listener, _request: Forward(TG, target(address), cookies)


@dataclass
class Holder:
    snap: Snapshot

    def __call__(self) -> Snapshot:
        return self.snap


def snapshot_of(*listeners: Listener) -> Snapshot:
    return Snapshot(listeners={item.arn: item for item in listeners}, groups={})


async def start_app(routes: list[web.RouteDef]) -> tuple[web.AppRunner, Address]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]  # (asyncio's or uvloop's server alike)
    return runner, (str(host), int(port))


async def echo(request: web.Request) -> web.Response:
    """The target: what it received, as JSON, with a status and headers of its own."""
    body = await request.read()
    seen = {
        "method": request.method,
        "raw_path": request.raw_path,
        "headers": [[key, value] for key, value in request.headers.items()],
        "body": body.decode(),
    }
    response = web.json_response(seen, status=201, headers={"X-Target": "yes"})
    response.headers.add("Set-Cookie", "app=1")
    return response


Scenario = Callable[[ListenerServers, Address], Awaitable[None]]


def run(
    router: FakeRouter,
    scenario: Scenario,
    *,
    the_listener: Listener | None = None,
    holder: Holder | None = None,
    routes: list[web.RouteDef] | None = None,
    **options: Any,
) -> None:
    """Serve one listener through ``ListenerServers`` (and an echo target app when ``routes``), run ``scenario``."""

    async def main() -> None:
        item = the_listener or listener()
        snap = holder or Holder(snapshot_of(item))
        servers = ListenerServers("127.0.0.1", snap, router, **options)
        try:
            address = await servers.serve(item)
            assert address is not None
            await scenario(servers, address)
        finally:
            await servers.close_all()

    asyncio.run(asyncio.wait_for(main(), timeout=WAIT * 2))


async def with_target(routes: list[web.RouteDef], body: Callable[[Address], Awaitable[None]]) -> None:
    runner, address = await start_app(routes)
    try:
        await body(address)
    finally:
        await runner.cleanup()


def url(address: Address, path: str = "/") -> URL:
    return URL(f"http://{address[0]}:{address[1]}{path}", encoded=True)  # sent exactly as written


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT), cookie_jar=aiohttp.DummyCookieJar())


def header_values(seen: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in seen["headers"] if key.lower() == name.lower()]


# -- forwarding --------------------------------------------------------------------------------------------------


def test_status_headers_body_pass_through_and_the_lb_adds_its_headers() -> None:
    holder_box: dict[str, Address] = {}
    router = FakeRouter(lambda _l, _r: Forward(TG, target(holder_box["target"]), ("AWSALB=abc; Path=/",)))
    item = listener(port=None)

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        async def inner(target_address: Address) -> None:
            holder_box["target"] = target_address
            async with (
                session() as client,
                client.post(
                    url(address, "/a%20b/c?x=1&y=%2F&z"),
                    data=b"hello",
                    headers={
                        "Host": "shop.example.com:8080",
                        "X-Forwarded-For": "203.0.113.9",
                        "Connection": "keep-alive, X-Private",
                        "X-Private": "hop",
                        "X-Mine": "kept",
                    },
                ) as response,
            ):
                assert response.status == 201
                assert response.headers["X-Target"] == "yes"
                assert response.headers.getall("Set-Cookie") == ["app=1", "AWSALB=abc; Path=/"]
                seen = await response.json()
            assert seen["method"] == "POST"
            assert seen["raw_path"] == "/a%20b/c?x=1&y=%2F&z"  # raw path and query, as received
            assert seen["body"] == "hello"
            assert header_values(seen, "Host") == ["shop.example.com:8080"]
            assert header_values(seen, "X-Mine") == ["kept"]
            assert header_values(seen, "X-Private") == []  # named by Connection: hop-by-hop
            assert header_values(seen, "X-Forwarded-For") == ["203.0.113.9, 127.0.0.1"]
            assert header_values(seen, "X-Forwarded-Proto") == ["http"]
            assert header_values(seen, "X-Forwarded-Port") == [str(item.port)]
            (trace,) = header_values(seen, "X-Amzn-Trace-Id")
            assert re.fullmatch(f"Root={TRACE_ID}", trace)

        await with_target([web.route("*", "/{tail:.*}", echo)], inner)

    run(router, scenario, the_listener=item)
    (_listener, request), *_ = router.seen
    assert request.method == "POST"
    assert request.host == "shop.example.com:8080"
    assert request.path == "/a b/c"
    assert request.query == (("x", "1"), ("y", "/"), ("z", ""))
    assert request.source_ip == "127.0.0.1"
    assert (request.protocol, request.port) == ("HTTP", item.port)
    assert ("X-Mine", "kept") in request.headers


def test_https_listener_is_served_as_http_and_says_https_and_its_own_port() -> None:
    box: dict[str, Address] = {}
    router = FakeRouter(lambda _l, _r: Forward(TG, target(box["target"])))
    item = listener(protocol="HTTPS", port=443)

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        async def inner(target_address: Address) -> None:
            box["target"] = target_address
            async with session() as client, client.get(url(address, "/"), headers={"X-Forwarded-For": ""}) as resp:
                seen = await resp.json()
            assert header_values(seen, "X-Forwarded-Proto") == ["https"]
            assert header_values(seen, "X-Forwarded-Port") == ["443"]
            assert header_values(seen, "X-Forwarded-For") == ["127.0.0.1"]

        await with_target([web.get("/", echo)], inner)

    run(router, scenario, the_listener=item)
    assert router.seen[0][1].protocol == "HTTPS"
    assert router.seen[0][1].port == 443


def test_an_incoming_trace_root_gets_a_self_and_keeps_the_rest() -> None:
    box: dict[str, Address] = {}
    router = FakeRouter(lambda _l, _r: Forward(TG, target(box["target"])))
    incoming = "Root=1-67891233-abcdef012345678912345678;CalledFrom=app"

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        async def inner(target_address: Address) -> None:
            box["target"] = target_address
            async with session() as client, client.get(url(address), headers={"X-Amzn-Trace-Id": incoming}) as resp:
                seen = await resp.json()
            (trace,) = header_values(seen, "X-Amzn-Trace-Id")
            assert re.fullmatch(f"Self={TRACE_ID};{re.escape(incoming)}", trace)

        await with_target([web.get("/", echo)], inner)

    run(router, scenario)


def test_trace_header_replaces_an_existing_self_and_adds_a_root_when_missing() -> None:
    replaced = trace_header("Self=1-00000000-000000000000000000000000;Root=1-67891233-abcdef012345678912345678")
    self_part, root_part = replaced.split(";")
    assert re.fullmatch(f"Self={TRACE_ID}", self_part) and self_part != "Self=1-00000000-000000000000000000000000"
    assert root_part == "Root=1-67891233-abcdef012345678912345678"
    root, rest = trace_header("CalledFrom=app").split(";")
    assert re.fullmatch(f"Root={TRACE_ID}", root) and rest == "CalledFrom=app"


TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)
FIELD_NAME = TOKEN.filter(lambda name: name.lower() not in {"root", "self"})


@given(
    st.lists(st.tuples(FIELD_NAME, TOKEN), max_size=4),
    st.lists(st.tuples(FIELD_NAME, TOKEN), max_size=4),
    st.booleans(),
)
def test_trace_header_keeps_every_other_field_in_order(
    before: list[tuple[str, str]], after: list[tuple[str, str]], had_self: bool
) -> None:
    fields = [f"{k}={v}" for k, v in before] + ["Root=1-5759e988-bd862e3fe1be46a994272793"]
    fields += [f"{k}={v}" for k, v in after]
    if had_self:
        fields.insert(len(before), "Self=1-00000000-000000000000000000000000")
    out = trace_header(";".join(fields)).split(";")
    selves = [part for part in out if part.startswith("Self=")]
    assert len(selves) == 1 and re.fullmatch(f"Self={TRACE_ID}", selves[0])
    assert selves[0] != "Self=1-00000000-000000000000000000000000"
    assert [part for part in out if not part.startswith("Self=")] == [f for f in fields if not f.startswith("Self=")]


HEADER_NAME = st.sampled_from(
    ["Host", "Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Authorization",
     "X-A", "x-b", "Accept", "Cookie", "Proxy-Connection"]
)  # fmt: skip


@given(st.lists(st.tuples(HEADER_NAME, st.sampled_from(["1", "x-a", "close", "X-B, keep-alive"])), max_size=10))
def test_end_to_end_drops_hop_by_hop_and_connection_named_headers_only(headers: list[tuple[str, str]]) -> None:
    named = {
        token.strip().lower() for key, value in headers if key.lower() == "connection" for token in value.split(",")
    }
    kept = end_to_end(headers)
    assert kept == [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() not in named]


def test_forwarded_for_appends_the_peer() -> None:
    assert forwarded_for([], "127.0.0.1") == "127.0.0.1"
    assert forwarded_for(["  "], "127.0.0.1") == "127.0.0.1"
    assert forwarded_for(["203.0.113.1, 10.0.0.2", "198.51.100.7"], "::1") == "203.0.113.1, 10.0.0.2, 198.51.100.7, ::1"


def test_split_target_keeps_raw_bytes_and_takes_the_path_of_an_absolute_form() -> None:
    assert split_target("/a%2Fb/c?q=%20&r") == ("/a%2Fb/c", "q=%20&r")
    assert split_target("/plain") == ("/plain", "")
    assert split_target("http://example.com/x%20y?z=1") == ("/x%20y", "z=1")


CHUNK = 64 * 1024
FIVE_MB = 5 * 1024 * 1024


def test_a_5_mb_body_streams_both_ways() -> None:
    """Each direction's first chunk must reach the other end while the sender still holds the rest back: the proxy
    cannot be buffering whole bodies."""
    box: dict[str, Address] = {}
    router = FakeRouter(lambda _l, _r: Forward(TG, target(box["target"])))
    data = bytes(range(256)) * (FIVE_MB // 256)

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        upload_started = asyncio.Event()
        download_seen = asyncio.Event()

        async def upload(request: web.Request) -> web.Response:
            digest = hashlib.sha256()
            size = 0
            async for chunk in request.content.iter_any():
                if size == 0:
                    upload_started.set()
                digest.update(chunk)
                size += len(chunk)
            return web.json_response({"size": size, "sha256": digest.hexdigest()})

        async def download(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            response.content_length = FIVE_MB
            await response.prepare(request)
            await response.write(data[:CHUNK])
            await asyncio.wait_for(download_seen.wait(), WAIT)
            for start in range(CHUNK, FIVE_MB, CHUNK):
                await response.write(data[start : start + CHUNK])
            await response.write_eof()
            return response

        async def body() -> AsyncIterator[bytes]:
            yield data[:CHUNK]
            await asyncio.wait_for(upload_started.wait(), WAIT)
            for start in range(CHUNK, FIVE_MB, CHUNK):
                yield data[start : start + CHUNK]

        async def inner(target_address: Address) -> None:
            box["target"] = target_address
            async with session() as client:
                async with client.post(url(address, "/upload"), data=body()) as resp:
                    assert resp.status == 200
                    assert await resp.json() == {"size": FIVE_MB, "sha256": hashlib.sha256(data).hexdigest()}
                async with client.get(url(address, "/download")) as resp:
                    assert resp.status == 200
                    first = await resp.content.readexactly(CHUNK)
                    download_seen.set()
                    rest = await resp.read()
                    assert hashlib.sha256(first + rest).digest() == hashlib.sha256(data).digest()

        await with_target([web.post("/upload", upload), web.get("/download", download)], inner)

    run(router, scenario)


def test_a_target_error_status_passes_through_unchanged() -> None:
    box: dict[str, Address] = {}
    router = FakeRouter(lambda _l, _r: Forward(TG, target(box["target"])))

    async def failing(_request: web.Request) -> web.Response:
        return web.Response(status=503, text="target says no", headers={"Server": "mine"})

    async def scenario(servers: ListenerServers, address: Address) -> None:
        async def inner(target_address: Address) -> None:
            box["target"] = target_address
            async with session() as client, client.get(url(address)) as resp:
                assert resp.status == 503
                assert resp.headers["Server"] == "mine"
                assert await resp.text() == "target says no"

        await with_target([web.get("/", failing)], inner)
        assert servers.stats()[ARN] == {"requests": 1, "answered_by_target": 1, "lb_errors": 0}

    run(router, scenario)


def test_on_start_and_on_finish_wrap_each_forwarded_request() -> None:
    box: dict[str, Address] = {}
    events: list[tuple[str, str]] = []
    router = FakeRouter(lambda _l, r: Respond(200) if r.path == "/fixed" else Forward(TG, target(box["target"])))

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        async def inner(target_address: Address) -> None:
            box["target"] = target_address
            async with session() as client:
                for path in ("/", "/fixed", "/"):
                    async with client.get(url(address, path)) as resp:
                        await resp.read()

        await with_target([web.get("/", echo)], inner)

    run(
        router,
        scenario,
        on_start=lambda t: events.append(("start", t.id)),
        on_finish=lambda t: events.append(("finish", t.id)),
    )
    assert events == [("start", "10.0.0.1"), ("finish", "10.0.0.1")] * 2


# -- answers without a target ---------------------------------------------------------------------------------------


def test_respond_decisions_are_answered_as_they_are() -> None:
    def decide(_listener: Listener, request: Request) -> Decision:
        if request.path == "/old":
            return Respond(301, (("Location", "https://example.com:443/new"),))
        return Respond(404, (("Content-Type", "text/plain"),), b"nothing here")

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        async with session() as client:
            async with client.get(url(address, "/old"), allow_redirects=False) as resp:
                assert resp.status == 301
                assert resp.headers["Location"] == "https://example.com:443/new"
                assert resp.headers["Server"] == "awselb/2.0"
            async with client.get(url(address, "/x")) as resp:
                assert resp.status == 404
                assert resp.headers["Content-Type"] == "text/plain"
                assert await resp.read() == b"nothing here"

    run(FakeRouter(decide), scenario)


def assert_lb_error(status: int, headers: Mapping[str, str], body: bytes, expected: int) -> None:
    assert status == expected
    assert headers["Server"] == "awselb/2.0"
    assert headers["Content-Type"].startswith("text/html")
    assert body == alb_error(expected).body
    assert f"<title>{expected} ".encode() in body and f"<h1>{expected} ".encode() in body


async def get(address: Address, path: str = "/", method: str = "GET") -> tuple[int, Mapping[str, str], bytes]:
    async with session() as client, client.request(method, url(address, path)) as resp:
        return resp.status, resp.headers, await resp.read()


@pytest.mark.parametrize("decision", [Forward(TG, None), Forward(TG, target(None)), Forward(None, None)])
def test_no_target_or_a_target_with_no_address_is_503(decision: Forward) -> None:
    async def scenario(servers: ListenerServers, address: Address) -> None:
        assert_lb_error(*await get(address), 503)
        assert servers.stats()[ARN] == {"requests": 1, "answered_by_target": 0, "lb_errors": 1}

    run(FakeRouter(lambda _l, _r: decision), scenario)


def test_a_listener_gone_from_the_snapshot_is_503() -> None:
    holder = Holder(snapshot_of(listener()))
    item = holder.snap.listeners[ARN]
    router = FakeRouter(lambda _l, _r: Respond(200))

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        assert (await get(address))[0] == 200
        holder.snap = Snapshot()
        assert_lb_error(*await get(address), 503)

    run(router, scenario, the_listener=item, holder=holder)
    assert len(router.seen) == 1


def test_trace_is_405_and_not_routed() -> None:
    router = FakeRouter(lambda _l, _r: Respond(200))

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        assert_lb_error(*await get(address, method="TRACE"), 405)

    run(router, scenario)
    assert router.seen == []


def test_a_router_failure_is_the_lbs_500_and_the_server_keeps_serving() -> None:
    def decide(_listener: Listener, request: Request) -> Decision:
        if request.path == "/boom":
            raise RuntimeError("router bug")
        return Respond(200, body=b"fine")

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        assert_lb_error(*await get(address, "/boom"), 500)
        assert (await get(address, "/ok"))[::2] == (200, b"fine")

    run(FakeRouter(decide), scenario)


# -- forwarding failures --------------------------------------------------------------------------------------------


def test_a_target_nobody_listens_on_is_502() -> None:
    async def scenario(servers: ListenerServers, address: Address) -> None:
        assert_lb_error(*await get(address), 502)
        assert servers.stats()[ARN] == {"requests": 1, "answered_by_target": 0, "lb_errors": 1}

    run(FakeRouter(forward_to(("127.0.0.1", free_port()))), scenario)


async def raw_target(answer: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]) -> asyncio.Server:
    """A hand-written target: reads the request head, then lets ``answer`` misbehave."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
            await answer(reader, writer)
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    writer.transport.abort()


def test_a_target_resetting_mid_response_is_502() -> None:
    async def half_then_reset(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
        await writer.drain()
        reset(writer)

    box: dict[str, Address] = {}

    async def scenario(servers: ListenerServers, address: Address) -> None:
        server = await raw_target(half_then_reset)
        box["target"] = server.sockets[0].getsockname()[:2]
        try:
            assert_lb_error(*await get(address), 502)
            assert (await get(address))[0] == 502  # and again: the server is still up
        finally:
            server.close()
        assert servers.stats()[ARN]["lb_errors"] == 2

    run(FakeRouter(lambda _l, _r: Forward(TG, target(box["target"]))), scenario)


def test_a_target_closing_after_its_headers_cuts_the_client_connection() -> None:
    async def short_body(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        await writer.drain()
        reset(writer)

    box: dict[str, Address] = {}

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        server = await raw_target(short_body)
        box["target"] = server.sockets[0].getsockname()[:2]
        try:
            async with session() as client, client.get(url(address)) as resp:
                assert resp.status == 200  # already on its way when the target failed
                with pytest.raises(aiohttp.ClientPayloadError):
                    await resp.read()
        finally:
            server.close()

    run(FakeRouter(lambda _l, _r: Forward(TG, target(box["target"]))), scenario)


def test_no_answer_within_the_idle_timeout_is_504() -> None:
    box: dict[str, Address] = {}
    asked: list[Listener] = []

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        release = asyncio.Event()

        async def silent(_reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
            await asyncio.wait_for(release.wait(), WAIT)

        server = await raw_target(silent)
        box["target"] = server.sockets[0].getsockname()[:2]
        try:
            assert_lb_error(*await get(address), 504)
        finally:
            release.set()
            server.close()

    def idle(item: Listener) -> float:
        asked.append(item)
        return 0.5

    run(FakeRouter(lambda _l, _r: Forward(TG, target(box["target"]))), scenario, idle_timeout=idle)
    assert [item.arn for item in asked] == [ARN]


# -- keep-alive ---------------------------------------------------------------------------------------------------


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, bytes]:
    """One request on an open connection; the response must have a Content-Length (the connection stays open)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: web.example.com\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    assert not any(line.lower() == "connection: close" for line in lines)
    return status, await asyncio.wait_for(reader.readexactly(length), WAIT)


def test_keep_alive_routes_each_request_by_the_snapshot_in_force() -> None:
    first = listener(marker="blue")
    holder = Holder(snapshot_of(first))
    box: dict[str, Address] = {}

    def decide(item: Listener, _request: Request) -> Decision:
        return Forward(TG, target(box[item.rules[0].actions[0]["M"]]))

    router = FakeRouter(decide)

    def named(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(text=name)

        return handler

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        blue, blue_address = await start_app([web.get("/", named("blue"))])
        green, green_address = await start_app([web.get("/", named("green"))])
        box.update(blue=blue_address, green=green_address)
        reader, writer = await asyncio.open_connection(*address)
        try:
            assert await exchange(reader, writer, "/") == (200, b"blue")
            holder.snap = snapshot_of(replace(first, rules=listener(marker="green").rules))
            assert await exchange(reader, writer, "/") == (200, b"green")
        finally:
            writer.close()
            await blue.cleanup()
            await green.cleanup()

    run(router, scenario, the_listener=first, holder=holder)
    assert [item.rules[0].actions[0]["M"] for item, _request in router.seen] == ["blue", "green"]


def test_request_body_json_roundtrip_is_not_altered() -> None:
    """A JSON body with its Content-Type arrives byte for byte (no re-encoding, no added Content-Type elsewhere)."""
    box: dict[str, Address] = {}
    payload = json.dumps({"a": [1, 2, 3], "b": "é"}).encode()

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        async def inner(target_address: Address) -> None:
            box["target"] = target_address
            async with (
                session() as client,
                client.put(url(address, "/j"), data=payload, headers={"Content-Type": "application/json"}) as resp,
            ):
                seen = await resp.json()
            assert seen["body"].encode() == payload
            assert header_values(seen, "Content-Type") == ["application/json"]
            assert header_values(seen, "Content-Length") == [str(len(payload))]

        await with_target([web.put("/j", echo)], inner)

    run(FakeRouter(lambda _l, _r: Forward(TG, target(box["target"]))), scenario)


def test_expect_100_continue_is_answered_by_the_lb() -> None:
    """A client that waits for ``100 Continue`` before its body gets it (else neither side would ever move)."""
    box: dict[str, Address] = {}

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        async def inner(target_address: Address) -> None:
            box["target"] = target_address
            async with session() as client, client.post(url(address, "/e"), data=b"body", expect100=True) as resp:
                seen = await resp.json()
            assert seen["body"] == "body"
            assert header_values(seen, "Expect") == []

        await with_target([web.post("/e", echo)], inner)

    run(FakeRouter(lambda _l, _r: Forward(TG, target(box["target"]))), scenario)


def unanswered_connects() -> tuple[socket.socket, list[socket.socket]]:
    """A listening socket whose backlog is full: a further connect gets no answer (on Linux, SYNs are dropped)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    held: list[socket.socket] = []
    for _ in range(8):
        probe = socket.socket()
        probe.settimeout(0.5)
        held.append(probe)
        try:
            probe.connect(server.getsockname())
        except TimeoutError:
            return server, held
        except OSError:
            break
    for sock in [server, *held]:
        sock.close()
    pytest.skip("this system answers every connect: no way to make one hang")


def test_a_connect_not_done_within_the_connect_timeout_is_504() -> None:
    server, held = unanswered_connects()
    try:

        async def scenario(servers: ListenerServers, address: Address) -> None:
            assert_lb_error(*await get(address), 504)
            assert servers.stats()[ARN] == {"requests": 1, "answered_by_target": 0, "lb_errors": 1}

        run(FakeRouter(forward_to(server.getsockname())), scenario, connect_timeout=0.5)
    finally:
        for sock in [server, *held]:
            sock.close()


def test_a_client_leaving_ends_its_forward_and_the_server_keeps_serving() -> None:
    box: dict[str, Address] = {}
    finished: list[str] = []

    async def scenario(_servers: ListenerServers, address: Address) -> None:
        arrived = asyncio.Event()
        target_saw_close = asyncio.Event()
        release = asyncio.Event()

        async def slow(request: web.Request) -> web.Response:
            if request.path == "/slow":
                arrived.set()
                try:
                    await asyncio.wait_for(release.wait(), WAIT)
                except asyncio.CancelledError:  # aiohttp cancels a handler whose client is gone
                    target_saw_close.set()
                    raise
            return web.Response(text="ok")

        runner = web.AppRunner(web.Application(), access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
        runner.app.router.add_get("/{name}", slow)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert isinstance(site._server, asyncio.Server)
        box["target"] = site._server.sockets[0].getsockname()[:2]
        try:
            _reader, writer = await asyncio.open_connection(*address)
            writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await asyncio.wait_for(arrived.wait(), WAIT)
            writer.transport.abort()
            await asyncio.wait_for(target_saw_close.wait(), WAIT)
            for _ in range(200):
                if finished:
                    break
                await asyncio.sleep(0.05)
            assert finished == ["10.0.0.1"]
            assert (await get(address, "/next"))[::2] == (200, b"ok")
        finally:
            release.set()
            await runner.cleanup()

    run(
        FakeRouter(lambda _l, _r: Forward(TG, target(box["target"]))),
        scenario,
        on_finish=lambda t: finished.append(t.id),
    )
