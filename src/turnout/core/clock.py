"""One injectable clock for everything that waits.

``now()`` is wall time and is what timestamps use; it is never scaled. Waits (``sleep``, ``call_later``) are in
simulated seconds: the system clock divides them by ``--time-scale``, and :class:`ManualClock` runs them only
when a test advances it, step by step.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sim_elapsed(self, since: datetime) -> float:
        """Simulated seconds elapsed since the timestamp ``since`` (wall time scaled by --time-scale)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer: ...


class SystemClock:
    """Wall time for timestamps; simulated waits pass ``scale`` times faster."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sim_elapsed(self, since: datetime) -> float:
        return (self.now() - since).total_seconds() * self.scale

    def real_seconds(self, seconds: float) -> float:
        return max(0.0, seconds) / self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(self.real_seconds(seconds))

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(self.real_seconds(seconds), callback)


class _ManualTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that only moves when told to: tests drive timers step by step."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._timers: list[tuple[datetime, int, _ManualTimer, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def sim_elapsed(self, since: datetime) -> float:
        return (self._now - since).total_seconds()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer()
        due = self._now + timedelta(seconds=max(0.0, seconds))
        heapq.heappush(self._timers, (due, next(self._seq), timer, callback))
        return timer

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        due = self._now + timedelta(seconds=max(0.0, seconds))
        heapq.heappush(self._sleepers, (due, next(self._seq), future))
        await future

    def pending(self) -> int:
        return sum(1 for *_, t, _cb in self._timers if not t.cancelled) + len(self._sleepers)

    def advance(self, seconds: float) -> int:
        """Move time forward, firing every timer that falls due in order; returns how many fired."""
        target = self._now + timedelta(seconds=seconds)
        fired = 0
        while True:
            next_timer = self._timers[0][0] if self._timers else None
            next_sleeper = self._sleepers[0][0] if self._sleepers else None
            candidates = [t for t in (next_timer, next_sleeper) if t is not None and t <= target]
            if not candidates:
                break
            due = min(candidates)
            self._now = max(self._now, due)
            if next_timer is not None and next_timer == due:
                _, _, timer, callback = heapq.heappop(self._timers)
                if not timer.cancelled:
                    callback()
                    fired += 1
            else:
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    future.set_result(None)
                    fired += 1
        self._now = target
        return fired
