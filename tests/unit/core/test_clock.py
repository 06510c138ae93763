"""The injectable clock: manual stepping for tests, time scaling for the server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from turnout.core.clock import ManualClock, SystemClock


def test_manual_clock_fires_timers_in_due_order_only_when_advanced() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    fired: list[str] = []
    clock.call_later(30, lambda: fired.append("b"))
    clock.call_later(10, lambda: fired.append("a"))
    clock.call_later(60, lambda: fired.append("c"))
    assert clock.advance(5) == 0
    assert fired == []
    assert clock.advance(25) == 2
    assert fired == ["a", "b"]
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert clock.pending() == 1


def test_manual_clock_timer_sees_its_due_time_and_can_be_cancelled() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    seen: list[datetime] = []
    clock.call_later(10, lambda: seen.append(clock.now()))
    cancelled = clock.call_later(20, lambda: seen.append(clock.now()))
    cancelled.cancel()
    clock.advance(100)
    assert seen == [datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)]
    assert clock.now() == datetime(2026, 1, 1, 0, 1, 40, tzinfo=UTC)


def test_manual_clock_sleep_resumes_on_advance() -> None:
    async def scenario() -> list[str]:
        clock = ManualClock()
        steps: list[str] = []

        async def worker() -> None:
            steps.append("start")
            await clock.sleep(300)
            steps.append("woke")

        task = asyncio.create_task(worker())
        await asyncio.sleep(0)
        assert steps == ["start"]
        clock.advance(299)
        await asyncio.sleep(0)
        assert steps == ["start"]
        clock.advance(1)
        await task
        return steps

    assert asyncio.run(scenario()) == ["start", "woke"]


def test_system_clock_scales_waits_but_not_timestamps() -> None:
    clock = SystemClock(scale=600)
    assert clock.real_seconds(600) == pytest.approx(1.0)
    assert clock.real_seconds(-5) == 0.0
    before = datetime.now(UTC)
    now = clock.now()
    assert before - timedelta(seconds=1) <= now <= datetime.now(UTC)

    async def timed_sleep() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await clock.sleep(30)  # 30 simulated seconds at 600x is 50 ms of real time
        return loop.time() - start

    assert asyncio.run(timed_sleep()) < 5


def test_system_clock_rejects_non_positive_scale() -> None:
    with pytest.raises(ValueError):
        SystemClock(scale=0)


def test_simulated_elapsed_is_scaled_wall_time() -> None:
    manual = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    start = manual.now()
    manual.advance(90)
    assert manual.sim_elapsed(start) == 90
    system = SystemClock(scale=60)
    ten_seconds_ago = datetime.now(UTC) - timedelta(seconds=10)
    assert 600 <= system.sim_elapsed(ten_seconds_ago) < 700
