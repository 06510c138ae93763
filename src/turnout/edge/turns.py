"""Turns on the event loop: API calls answered a slice at a time, in the order they came.

A call answered on the loop holds up everything else the loop does, ``/_turnout/health`` included. So the loop
answers calls for at most a slice (:data:`SLICE`, 5 ms) before it looks at its sockets again. Every call that finds
the slice used up, or finds calls already waiting, waits in one line (first come, first answered). The line is
worked through in turns: a turn is a callback the loop runs once it has looked at its sockets; it answers waiting
calls until the slice is used up, then leaves the rest to the next turn. A health check read meanwhile is answered by
its connection at once (:mod:`turnout.edge.protocol`), so it waits for about a slice, not for the whole line.

A slice begins with the first call answered after the loop last looked at its sockets: the callback that ends it
(:meth:`Turns._looked`) is scheduled then, and a callback scheduled from inside a round of the loop runs in the next
round, after the loop has looked (asyncio's and uvloop's loops both run only the callbacks ready when a round
starts).

Before the line, a call that found the slice used up went the ASGI way instead (uvicorn's task, queue and messages,
then a wait on the loop): with 50 clients, 99% of the calls did (``make bench BENCH_ARGS="mixed --skip-heavy"``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Final, Literal

log = logging.getLogger("turnout.server")

SLICE = 0.005  # seconds of calls the loop answers before it looks at its sockets again
Waiting = Literal["waiting"]
WAITING: Final[Waiting] = "waiting"  # what the application says of a call that waits for its turn


class Turns:
    """The line of calls waiting for the loop, and the slice being used (one per server process's event loop)."""

    def __init__(self, seconds: float = SLICE) -> None:
        self.seconds = seconds
        self._started = 0.0  # when the current slice began
        self._looking = False  # the callback that ends the slice is scheduled: calls answered since count in it
        self._waiting: deque[Callable[[], None]] = deque()
        self._turning = False  # a turn is scheduled

    @property
    def waiting(self) -> int:
        """Calls waiting in the line."""
        return len(self._waiting)

    def room(self) -> bool:
        """Whether a call may be answered now, by the caller: nobody waits, and the slice has room (a new one begins
        if the loop has looked at its sockets since the last call was answered). False: :meth:`wait` instead."""
        if self._waiting:
            return False
        now = time.perf_counter()
        self._begin(now)
        return now - self._started <= self.seconds

    def wait(self, answer: Callable[[], None]) -> None:
        """Run ``answer`` (a call's whole answer: handled, serialised, sent) in its turn, after the calls waiting
        before it. It must not raise; if it does, the error is logged and the line goes on."""
        self._waiting.append(answer)
        if not self._turning:
            self._turning = True
            asyncio.get_running_loop().call_soon(self._turn)

    def _begin(self, now: float) -> None:
        if not self._looking:
            self._started = now
            self._looking = True
            asyncio.get_running_loop().call_soon(self._looked)

    def _looked(self) -> None:
        self._looking = False  # the loop has looked at its sockets: the next call answered begins a new slice

    def _turn(self) -> None:
        """Answer waiting calls until the slice is used up; the rest in the next turn."""
        waiting = self._waiting
        self._begin(time.perf_counter())
        while waiting and time.perf_counter() - self._started <= self.seconds:
            answer = waiting.popleft()
            try:
                answer()
            except Exception:  # a bug: the calls behind it are still answered
                log.exception("a call that waited for its turn could not be answered")
        if waiting:
            asyncio.get_running_loop().call_soon(self._turn)
        else:
            self._turning = False
