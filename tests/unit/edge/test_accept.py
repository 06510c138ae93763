"""The acceptor that shares connections out across workers: the one holding fewer takes a waiting connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from turnout.edge import accept
from turnout.edge.accept import Acceptor


class Echo(asyncio.Protocol):
    lost = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        on_lost = getattr(self, "on_lost", None)
        if on_lost is not None:
            on_lost()


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def _until(condition, seconds: float = 2.0) -> bool:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.002)
    return bool(condition())


@asynccontextmanager
async def _accepting(counts: list[int],
                     quiet: list[int] | None = None) -> AsyncIterator[tuple[socket.socket, Acceptor]]:
    """An acceptor for worker 0 of ``counts`` (its count changes in place), and of ``quiet`` when given, started on
    a fresh listener."""
    def add(change: int) -> None:
        counts[0] += change

    sock = _listener()
    acceptor = Acceptor(sock, 0, lambda: list(counts), add) if quiet is None else \
        Acceptor(sock, 0, lambda: list(counts), add, quiet=lambda: list(quiet))
    acceptor.start(Echo, backlog=8)
    try:
        yield sock, acceptor
    finally:
        acceptor.stop()
        sock.close()


def test_a_worker_holding_no_more_than_the_others_takes_the_connection_and_counts_it_until_it_closes() -> None:
    async def run() -> None:
        counts = [1, 1]  # this worker (index 0) holds as many as the other
        async with _accepting(counts) as (sock, _):
            client = socket.create_connection(sock.getsockname())
            assert await _until(lambda: counts[0] == 2)
            client.close()
            assert await _until(lambda: counts[0] == 1)  # the connection's end gives its place back

    asyncio.run(run())


def test_a_busier_worker_leaves_the_connection_to_another_and_takes_it_once_its_patience_runs_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accept, "PATIENCE", 0.2)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        counts = [3, 1]  # the other worker holds fewer: it should take the connection
        async with _accepting(counts) as (sock, _):
            started = loop.time()
            client = socket.create_connection(sock.getsockname())
            await asyncio.sleep(0.1)
            assert counts[0] == 3  # left waiting for the other worker
            assert await _until(lambda: counts[0] == 4)  # nobody took it: this worker does, after its patience
            assert loop.time() - started >= 0.2
            client.close()

    asyncio.run(run())


def test_a_stopped_acceptor_takes_no_connection() -> None:
    async def run() -> None:
        counts = [0, 0]
        async with _accepting(counts) as (sock, acceptor):
            acceptor.stop()
            client = socket.create_connection(sock.getsockname())  # queued by the kernel, never accepted
            await asyncio.sleep(0.05)
            assert counts == [0, 0]
            client.close()

    asyncio.run(run())


def test_among_many_connections_a_worker_a_few_ahead_still_takes_a_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """27 against 25: within an eighth, so the first worker to look takes it (no wait for the other's loop)."""
    monkeypatch.setattr(accept, "PATIENCE", 30.0)  # were it left to the other worker, it would wait that long

    async def run() -> None:
        counts = [27, 25]
        async with _accepting(counts) as (sock, _):
            client = socket.create_connection(sock.getsockname())
            assert await _until(lambda: counts[0] == 28, seconds=5.0)
            client.close()

    asyncio.run(run())


def test_a_worker_whose_connections_are_quiet_takes_the_connection_from_one_with_fewer_busy_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An SDK's kept-alive idle connection does not count against its worker: two open but quiet against one busy,
    this worker takes the new connection at once."""
    monkeypatch.setattr(accept, "PATIENCE", 30.0)

    async def run() -> None:
        counts, quiet = [2, 1], [2, 0]
        async with _accepting(counts, quiet) as (sock, _):
            client = socket.create_connection(sock.getsockname())
            assert await _until(lambda: counts[0] == 3, seconds=5.0)
            client.close()

    asyncio.run(run())


def test_a_worker_with_more_busy_connections_leaves_the_connection_though_it_holds_fewer_open(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accept, "PATIENCE", 0.2)

    async def run() -> None:
        counts, quiet = [1, 3], [0, 3]  # one busy here; the other worker's three are all quiet
        async with _accepting(counts, quiet) as (sock, _):
            client = socket.create_connection(sock.getsockname())
            await asyncio.sleep(0.1)
            assert counts[0] == 1  # left for the other worker
            assert await _until(lambda: counts[0] == 2)  # which never takes it here: patience runs out
            client.close()

    asyncio.run(run())


@pytest.mark.parametrize(("index", "opened", "quiet", "leaves"), [
    (0, [1, 0], [], True),  # plain counts, as before quiet ones were told apart
    (0, [1, 1], [], False),
    (0, [1, 1], [1, 0], False),  # this worker's one connection is quiet: it is the less busy one
    (1, [1, 1], [1, 0], True),
    (0, [2, 1], [1, 0], True),  # as many busy ones: fewer open ones decide
    (1, [2, 1], [1, 0], False),
    (0, [27, 25], [0, 0], False),  # within an eighth: the first to look takes it
    (0, [30, 25], [0, 0], True),
    (0, [3, 1], [5, 0], False),  # a quiet count trailing the open one (read mid-change) is no busy count below 0
    (0, [5], [], False),  # one worker takes everything
    (1, [2, 0], [2, 0, 7], False),  # a longer quiet list (a worker more in the tally) is cut to the workers
])
def test_busier_compares_busy_connections_then_open_ones(index: int, opened: list[int], quiet: list[int],
                                                         leaves: bool) -> None:
    assert accept.busier(index, opened, quiet) is leaves


def test_a_connection_that_comes_after_one_another_worker_took_waits_its_own_patience(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """This worker leaves a connection, the other worker takes it; a connection coming later is left too, for its own
    patience (it was taken at once when it came more than PATIENCE after the first one was left)."""
    monkeypatch.setattr(accept, "PATIENCE", 0.2)

    async def run() -> None:
        counts = [3, 1]
        async with _accepting(counts) as (sock, _):
            first = socket.create_connection(sock.getsockname())
            await asyncio.sleep(0.05)
            taken, _ = sock.accept()  # the other worker's accept
            await asyncio.sleep(0.3)  # longer than PATIENCE since this worker left the first one
            second = socket.create_connection(sock.getsockname())
            await asyncio.sleep(0.1)
            assert counts[0] == 3  # left for the other worker, not taken at once
            assert await _until(lambda: counts[0] == 4)  # its own patience ran out
            for conn in (first, taken, second):
                conn.close()

    asyncio.run(run())
