"""``turnout.edge.turns``: calls answered on the loop a slice at a time, in the order they came."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from turnout.edge.turns import SLICE, Turns


def busy(seconds: float) -> None:
    """A call's own work on the loop."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def call(order: list[str], name: str, seconds: float) -> Callable[[], None]:
    def answer() -> None:
        busy(seconds)
        order.append(name)

    return answer


def test_waiting_calls_are_answered_a_slice_at_a_time_in_order_with_the_sockets_looked_at_between() -> None:
    """Twenty calls of half a slice each: a health check read from a socket while they wait (a callback the loop
    holds after the first turn began) is answered after about a slice of them, not after all twenty."""
    turns = Turns()
    order: list[str] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        turns._begin(time.perf_counter())
        turns._started -= 2 * SLICE  # the loop has answered calls for longer than a slice
        assert not turns.room()
        for number in range(20):
            turns.wait(call(order, f"call {number}", SLICE / 2))
        first = order.copy()
        while len(order) < 1:
            await asyncio.sleep(0)
        loop.call_soon(order.append, "health")  # read from its socket once the first turn has begun
        while len(order) < 21:
            await asyncio.sleep(0)
        assert first == []  # nothing answered in the round that queued them

    asyncio.run(run())
    assert order.index("health") <= 4, order
    assert [entry for entry in order if entry != "health"] == [f"call {n}" for n in range(20)]


def test_a_new_call_does_not_overtake_waiting_ones() -> None:
    turns = Turns()

    async def run() -> None:
        turns._begin(time.perf_counter())
        turns._started -= 2 * SLICE
        turns.wait(lambda: None)
        turns._started = time.perf_counter()  # even were the slice to have room again
        assert not turns.room()
        assert turns.waiting == 1
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert turns.waiting == 0
        assert turns.room()

    asyncio.run(run())


def test_the_first_call_after_the_loop_has_looked_at_its_sockets_begins_a_new_slice() -> None:
    """A slice that began long ago, then an idle loop: the next call is answered at once, not made to wait."""
    turns = Turns()

    async def run() -> None:
        assert turns.room()  # the first call ever
        busy(2 * SLICE)  # that call took longer than a slice
        assert not turns.room()  # a second call in the same round waits
        await asyncio.sleep(0)  # the loop looks at its sockets
        assert turns.room()

    asyncio.run(run())


def test_every_turn_answers_at_least_one_call_however_long() -> None:
    turns = Turns()
    order: list[str] = []

    async def run() -> None:
        for number in range(3):
            turns.wait(call(order, f"long {number}", 2 * SLICE))
        rounds = 0
        while len(order) < 3:
            await asyncio.sleep(0)
            rounds += 1
            assert rounds < 20, order

    asyncio.run(run())
    assert order == ["long 0", "long 1", "long 2"]


def test_a_call_that_fails_leaves_the_line_going(caplog: pytest.LogCaptureFixture) -> None:
    turns = Turns()
    order: list[str] = []

    def broken() -> None:
        raise RuntimeError("a bug in answering")

    async def run() -> None:
        turns.wait(call(order, "before", 0))
        turns.wait(broken)
        turns.wait(call(order, "after", 0))
        for _ in range(5):
            await asyncio.sleep(0)

    asyncio.run(run())
    assert order == ["before", "after"]
    assert "could not be answered" in caplog.text
