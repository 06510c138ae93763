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
async def _accepting(counts: list[int]) -> AsyncIterator[tuple[socket.socket, Acceptor]]:
    """An acceptor for worker 0 of ``counts`` (its count changes in place), started on a fresh listener."""
    def add(change: int) -> None:
        counts[0] += change

    sock = _listener()
    acceptor = Acceptor(sock, 0, lambda: list(counts), add)
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
