"""The listeners' own HTTP server and target connection pool over real sockets on 127.0.0.1: pipelining, chunked
bodies both ways, flow control of large bodies, the ALB's 400/501 limits, upgrade requests, HTTP/1.0, the reuse of
target connections, a client leaving mid-request, and (Hypothesis) the headers sent on to the target."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httptools
import pytest
import uvloop
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from turnout.dataplane.httpserver import ClientConnection, Exchange, HttpServer
from turnout.dataplane.listeners import ListenerServers
from turnout.dataplane.model import Address, Forward
from turnout.dataplane.proxy import HOP_BY_HOP, end_to_end, request_head
from turnout.dataplane.router import alb_error

from .test_proxy import ARN, TG, WAIT, FakeRouter, Holder, listener, snapshot_of, target

FIVE_MB = 5 * 1024 * 1024


@dataclass
class Answer:
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    done: bool = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done = True

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


async def read_answers(reader: asyncio.StreamReader, count: int, *, head: bool = False) -> list[Answer]:
    """``count`` responses read off one connection (a body to the connection's end completes at EOF)."""
    answers: list[Answer] = []
    current = Answer()
    parser = httptools.HttpResponseParser(current)
    while len(answers) < count:
        data = await asyncio.wait_for(reader.read(65536), WAIT)
        if not data:
            if current.status or current.body:
                current.status = parser.get_status_code()
                answers.append(current)
            break
        rest = data
        while rest:
            before = len(answers)
            try:
                parser.feed_data(rest)
                rest = b""
            except httptools.HttpParserUpgrade:
                rest = b""
            if current.done:
                current.status = parser.get_status_code()
                answers.append(current)
                current = Answer()
                parser = httptools.HttpResponseParser(current)
            if len(answers) == before or len(answers) >= count:
                break
    return answers


def connection_closed(reader: asyncio.StreamReader) -> Awaitable[bytes]:
    return asyncio.wait_for(reader.read(), WAIT)


Body = Callable[[Address, Address, ListenerServers], Awaitable[None]]


def serve(
    routes: list[web.RouteDef], body: Body, *, uv: bool = False, small_target_window: bool = False, **options: Any
) -> None:
    """A target app with ``routes``, one listener forwarding everything to it; ``body(listener, target, servers)``.
    ``small_target_window``: the target's connections have a small fixed receive buffer."""

    async def main() -> None:
        runner, target_address = await start_target(routes, small_window=small_target_window)
        item = listener()
        servers = ListenerServers(
            "127.0.0.1", Holder(snapshot_of(item)), FakeRouter(lambda _l, _r: Forward(TG, target(target_address))),
            **options,
        )
        try:
            address = await servers.serve(item)
            assert address is not None
            await body(address, target_address, servers)
        finally:
            await servers.close_all()
            await runner.cleanup()

    runner = uvloop.run if uv else asyncio.run
    runner(asyncio.wait_for(main(), WAIT * 2))


async def start_target(routes: list[web.RouteDef], *, small_window: bool) -> tuple[web.AppRunner, Address]:
    """A target app whose own limits are above the ALB's (so what the LB lets through, it takes)."""
    app = web.Application(client_max_size=2 * FIVE_MB)
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, max_line_size=65536, max_field_size=65536)
    await runner.setup()
    sock = socket.socket()
    if small_window:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # inherited by the accepted connections
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    host, port = sock.getsockname()[:2]
    return runner, (str(host), int(port))


async def echo(request: web.Request) -> web.Response:
    """Answers the path, the body's size and digest, and the TCP port the request came from."""
    data = await request.read()
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return web.json_response(
        {"path": request.path_qs, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
         "port": peer[1] if peer else None, "headers": [[k, v] for k, v in request.headers.items()]}
    )  # fmt: skip


async def delayed(request: web.Request) -> web.Response:
    """``/slow`` answers after the ``/fast`` requests that follow it would have: order must come from the LB."""
    if request.path == "/slow":
        await asyncio.sleep(0.3)
    return web.Response(text=request.path)


# -- pipelining, keep-alive, HTTP/1.0 --------------------------------------------------------------------------------


@pytest.mark.parametrize("uv", [False, True])
def test_pipelined_requests_are_answered_in_order(uv: bool) -> None:
    async def body(address: Address, _target: Address, _servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        paths = ["/slow", "/fast1", "/fast2", "/slow", "/fast3"]
        writer.write(b"".join(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for path in paths))
        answers = await read_answers(reader, len(paths))
        writer.close()
        assert [bytes(answer.body).decode() for answer in answers] == paths
        assert all(answer.status == 200 for answer in answers)

    serve([web.get("/{name}", delayed)], body, uv=uv)


def test_http_1_0_and_connection_close_close_after_the_answer_and_a_1_0_client_gets_no_chunks() -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"one,", b"two,", b"three"):
            await response.write(part)
        await response.write_eof()
        return response

    async def body(address: Address, _target: Address, _servers: ListenerServers) -> None:
        for request in (b"GET /c HTTP/1.0\r\n\r\n", b"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
            reader, writer = await asyncio.open_connection(*address)
            writer.write(request)
            raw = await connection_closed(reader)  # the LB closed after its answer
            writer.close()
            head, _, rest = raw.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert b"\r\nConnection: close" in head
            if request.startswith(b"GET /c HTTP/1.0"):
                assert b"Transfer-Encoding" not in head and rest == b"one,two,three"  # to the connection's end
            else:
                assert b"Transfer-Encoding: chunked" in head
                (answer,) = await read_answers(_feed(raw), 1)
                assert bytes(answer.body) == b"one,two,three"
        # HTTP/1.0 asking for keep-alive keeps it (with a Content-Length answer)
        reader, writer = await asyncio.open_connection(*address)
        for _ in range(2):
            writer.write(b"GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            (answer,) = await read_answers(reader, 1)
            assert answer.status == 200 and answer.header("Connection") == ["keep-alive"]
        writer.close()

    serve([web.get("/c", chunked), web.get("/k", echo)], body)


def _feed(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


# -- bodies -----------------------------------------------------------------------------------------------------------


def test_a_chunked_request_body_arrives_whole_and_a_chunked_answer_is_passed_on_chunked() -> None:
    pieces = [b"a" * 10, b"b" * 70000, b"c"]

    async def chunked_answer(request: web.Request) -> web.StreamResponse:
        data = await request.read()
        response = web.StreamResponse(headers={"X-Size": str(len(data))})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(data[:5])
        await response.write(data[5:])
        await response.write_eof()
        return response

    async def body(address: Address, _target: Address, _servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in pieces:
            writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        (answer,) = await read_answers(reader, 1)
        assert answer.status == 200
        assert answer.header("X-Size") == [str(sum(map(len, pieces)))]
        assert answer.header("Transfer-Encoding") == ["chunked"]
        assert bytes(answer.body) == b"".join(pieces)
        # and the connection goes on
        writer.write(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz")
        (again,) = await read_answers(reader, 1)
        writer.close()
        assert bytes(again.body) == b"xyz"

    serve([web.post("/up", chunked_answer)], body)


def _the_connection(servers: ListenerServers) -> ClientConnection:
    served = servers._served[ARN]
    assert served.server is not None
    (connection,) = served.server.connections
    return connection


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {WAIT} s: {what}")


async def small_window_client(address: Address) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client connection whose receive buffer is small and fixed (no kernel autotuning to soak up megabytes)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, address)
    return await asyncio.open_connection(sock=sock, limit=65536)


def test_a_5_mb_answer_to_a_client_that_does_not_read_is_held_back_not_buffered() -> None:
    """Flow control, by order of events: while the client reads nothing, the LB's write buffer to it passes its
    high mark, the LB stops reading from the target (its buffer stays far below the body's size); once the client
    reads, all 5 MB arrive intact."""
    data = bytes(range(256)) * (FIVE_MB // 256)

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = FIVE_MB
        await response.prepare(request)
        for start in range(0, FIVE_MB, 65536):
            await response.write(data[start : start + 65536])
        await response.write_eof()
        return response

    async def body(address: Address, _target: Address, servers: ListenerServers) -> None:
        reader, writer = await small_window_client(address)
        writer.transport.pause_reading()  # the client takes nothing
        writer.write(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        conn = _the_connection(servers)
        await until(lambda: conn.write_paused, "the LB's write buffer to the client is full")
        assert conn.upstream_pause is not None  # the response is streaming: the target's reading was paused
        assert conn.transport is not None and conn.transport.get_write_buffer_size() < FIVE_MB // 4
        writer.transport.resume_reading()
        (answer,) = await read_answers(reader, 1)
        writer.close()
        assert hashlib.sha256(answer.body).digest() == hashlib.sha256(data).digest()

    serve([web.get("/big", big)], body)


def test_a_5_mb_upload_to_a_target_that_does_not_read_is_held_back_not_buffered() -> None:
    """The other way: while the target reads nothing (a small fixed receive buffer), the LB's write buffer to it
    passes its high mark and the LB stops reading from the client, holding far less than the body; once the
    target reads, all 5 MB arrive intact."""
    data = bytes(range(256)) * (FIVE_MB // 256)
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def upload(request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.wait_for(release.wait(), WAIT)
        got = await request.read()
        return web.json_response({"size": len(got), "sha256": hashlib.sha256(got).hexdigest()})

    async def body(address: Address, _target: Address, servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(f"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {FIVE_MB}\r\n\r\n".encode())
        sending = asyncio.ensure_future(_send(writer, data))
        await asyncio.wait_for(arrived.wait(), WAIT)
        conn = _the_connection(servers)
        await until(lambda: conn.transport is not None and not conn.transport.is_reading(),
                    "the LB stops reading the client's body")  # fmt: skip
        release.set()
        await asyncio.wait_for(sending, WAIT)
        (answer,) = await read_answers(reader, 1)
        writer.close()
        assert answer.status == 200
        assert json.loads(bytes(answer.body)) == {"size": FIVE_MB, "sha256": hashlib.sha256(data).hexdigest()}

    serve([web.post("/up", upload)], body, small_target_window=True)


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    for start in range(0, len(data), 65536):
        writer.write(data[start : start + 65536])
        await writer.drain()


# -- the ALB's limits --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * (17 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # request line over 16 KiB
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * (17 * 1024) + b"\r\n\r\n", 400),  # one header over 16 KiB
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: %b\r\n" % (i, b"v" * 1000) for i in range(70))
         + b"\r\n", 400),  # headers over 64 KiB together
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 400),
    ],
)  # fmt: skip
def test_limits_and_malformed_requests_are_answered_by_the_lb_and_the_connection_closes(
    request_bytes: bytes, status: int
) -> None:
    async def body(address: Address, _target: Address, servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(request_bytes)
        raw = await connection_closed(reader)
        writer.close()
        head, _, page = raw.partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {status} ".encode())
        assert b"\r\nServer: awselb/2.0" in head and b"\r\nConnection: close" in head
        assert page == alb_error(status).body
        assert servers.stats()[ARN]["answered_by_target"] == 0

    serve([web.route("*", "/{tail:.*}", echo)], body)


def test_headers_within_the_limits_are_forwarded() -> None:
    async def body(address: Address, _target: Address, _servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        many = b"".join(b"X-H%d: %b\r\n" % (i, b"v" * 1000) for i in range(45))  # with X-One: about 60 KiB
        writer.write(b"GET /" + b"a" * 15000 + b" HTTP/1.1\r\nHost: x\r\nX-One: " + b"w" * 15000 + b"\r\n" + many
                     + b"\r\n")  # fmt: skip
        (answer,) = await read_answers(reader, 1)
        writer.close()
        assert answer.status == 200
        seen = json.loads(bytes(answer.body))
        assert seen["path"] == "/" + "a" * 15000
        assert sum(1 for key, _ in seen["headers"] if key.startswith("X-H")) == 45

    serve([web.route("*", "/{tail:.*}", echo)], body)


def test_an_upgrade_request_is_forwarded_as_a_plain_request_and_the_connection_goes_on() -> None:
    async def body(address: Address, _target: Address, _servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                     b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")  # fmt: skip
        first, second = await read_answers(reader, 2)
        writer.close()
        assert first.status == 200 and second.status == 200
        seen = [key.lower() for key, _ in json.loads(bytes(first.body))["headers"]]
        assert "upgrade" not in seen and "connection" not in seen
        assert json.loads(bytes(second.body))["path"] == "/after"

    serve([web.route("*", "/{tail:.*}", echo)], body)


# -- target connections ------------------------------------------------------------------------------------------------


def test_sequential_requests_reuse_one_target_connection_and_one_the_target_closed_is_not_reused() -> None:
    async def closing(request: web.Request) -> web.Response:
        response = await echo(request)
        response.force_close()  # answers "Connection: close" and closes
        return response

    async def body(address: Address, _target: Address, _servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        ports = []
        for path in ("/a", "/b", "/close", "/c", "/d"):
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            (answer,) = await read_answers(reader, 1)
            assert answer.status == 200, path
            assert answer.header("Connection") == []  # the target's Connection: close is not the client's
            ports.append(json.loads(bytes(answer.body))["port"])
        writer.close()
        assert ports[0] == ports[1] == ports[2]  # one connection for /a, /b and /close
        assert ports[3] != ports[2]  # the target closed it: a new one
        assert ports[3] == ports[4]

    serve([web.get("/close", closing), web.get("/{name}", echo)], body)


def test_a_client_leaving_mid_upload_closes_its_target_connection_which_is_not_pooled() -> None:
    target_saw_close = asyncio.Event()
    arrived = asyncio.Event()
    finished: list[str] = []

    async def upload(request: web.Request) -> web.Response:
        arrived.set()
        try:
            await request.read()
        except Exception:
            target_saw_close.set()
            raise
        return web.Response(text="all read")

    async def body(address: Address, _target: Address, servers: ListenerServers) -> None:
        _reader, writer = await asyncio.open_connection(*address)
        writer.write(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000)
        await writer.drain()
        await asyncio.wait_for(arrived.wait(), WAIT)
        writer.transport.abort()
        await asyncio.wait_for(target_saw_close.wait(), WAIT)
        for _ in range(200):
            if finished:
                break
            await asyncio.sleep(0.02)
        assert finished == ["10.0.0.1"]
        assert servers._pool is not None and servers._pool.idle_count(_target) == 0

    serve([web.post("/up", upload)], body, on_finish=lambda t: finished.append(t.id))


# -- the head sent to the target (Hypothesis) --------------------------------------------------------------------------

NAMES = st.sampled_from(
    ["Host", "Accept", "X-A", "x-b", "Cookie", "Connection", "Keep-Alive", "TE", "Trailer", "Upgrade",
     "Proxy-Authorization", "Proxy-Connection", "X-Forwarded-Host", "User-Agent"]
)  # fmt: skip
VALUES = st.text(alphabet="abcXYZ019 -_=;/,", min_size=1, max_size=12).map(str.strip).filter(bool)


async def _never(_conn: ClientConnection, _exchange: Exchange) -> bool:
    raise AssertionError("not called")


class _Parsed:
    def __init__(self) -> None:
        self.headers: list[tuple[str, str]] = []
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode(), value.decode()))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(NAMES, VALUES), max_size=12), st.sampled_from(["/", "/a%20b?x=1&y", "http://h/p?q"]))
def test_every_end_to_end_header_reaches_the_target_in_order_and_hop_by_hop_ones_do_not(
    headers: list[tuple[str, str]], raw_target: str
) -> None:
    conn = ClientConnection(HttpServer(_never, lambda: 60.0))  # parsed as the server parses (no socket)
    raw = f"GET {raw_target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    conn.data_received(raw.encode())
    (exchange,) = conn._queue
    item = listener(port=8080)
    parsed = _Parsed()
    httptools.HttpRequestParser(parsed).feed_data(request_head(exchange, item, "10.1.1.1", ("127.0.0.1", 9)))
    named = {t.strip().lower() for k, v in headers if k.lower() == "connection" for t in v.split(",")}
    expected = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() not in named]
    assert end_to_end(headers) == expected
    added = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "x-amzn-trace-id"}
    kept = [(k, v) for k, v in parsed.headers if k.lower() not in added]
    if not any(k.lower() == "host" for k, _ in headers):
        assert kept[-1] == ("Host", "127.0.0.1:9")  # no Host from the client: the target's address
        kept = kept[:-1]
    assert kept == expected
    assert parsed.url == raw_target.replace("http://h", "").encode()
    assert [v for k, v in parsed.headers if k == "X-Forwarded-For"] == ["10.1.1.1"]
    assert [v for k, v in parsed.headers if k == "X-Forwarded-Port"] == ["8080"]


def test_a_handler_that_fails_is_cut_not_crashed() -> None:
    """The server survives a handler bug: that connection closes, the next one is served."""
    calls: list[str] = []

    async def handler(conn: ClientConnection, exchange: Exchange) -> bool:
        calls.append(exchange.target)
        if exchange.target == "/boom":
            raise RuntimeError("bug")
        conn.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        return True

    async def main() -> None:
        server = HttpServer(handler, lambda: 60.0)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        await server.start(sock)
        address = sock.getsockname()
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await connection_closed(reader) == b""
        writer.close()
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
        (answer,) = await read_answers(reader, 1)
        assert answer.status == 204
        writer.close()
        await server.close(1.0)

    asyncio.run(asyncio.wait_for(main(), WAIT))
    assert calls == ["/boom", "/ok"]



def test_closing_a_listener_lets_a_request_still_uploading_finish_then_closes_its_connection() -> None:
    async def body(address: Address, _target: Address, servers: ListenerServers) -> None:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + b"x" * 100000)
        await writer.drain()
        conn = _the_connection(servers)
        await until(lambda: conn._busy, "the request is being forwarded")
        closing = asyncio.ensure_future(servers.close(ARN))
        await until(lambda: conn.closing, "the listener is closing")
        writer.write(b"y" * 100000)  # the rest of the body still goes through
        (answer,) = await read_answers(reader, 1)
        assert answer.status == 200 and answer.header("Connection") == ["close"]
        assert json.loads(bytes(answer.body))["size"] == 200000
        assert await connection_closed(reader) == b""
        writer.close()
        await asyncio.wait_for(closing, WAIT)

    serve([web.post("/up", echo)], body)
