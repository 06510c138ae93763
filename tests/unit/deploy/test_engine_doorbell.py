"""A worker wakes the background process's ECS engine by ringing the server's doorbell (turnout.workers.Doorbell)
once its request has committed; the engine's look at its wake token is only the fallback."""

from __future__ import annotations

import asyncio
import os
import select
from pathlib import Path

import pytest

from turnout.deploy import engine as engine_module
from turnout.deploy.engine import Engine
from turnout.server import Settings, build_gateway
from turnout.store import generations
from turnout.workers import Doorbell, Worker


def test_a_doorbell_rung_into_a_full_pipe_does_not_raise_and_drains_whole() -> None:
    bell = Doorbell()
    for _ in range(100_000):  # far past a pipe's 64 KiB
        bell.ring()
    bell.drain()
    with pytest.raises(BlockingIOError):
        os.read(bell.fileno(), 1)  # nothing left, and reading does not block


def test_a_wake_from_a_worker_rings_the_engine_of_the_background_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "POLL", 600.0)  # the token is not looked at while this test runs
    bell = Doorbell()
    settings = Settings(data_dir=tmp_path, cloudtrail=False, dataplane=False, guard="off")
    background = build_gateway(settings, worker=Worker(2, 2, tmp_path, None, bell))
    worker = build_gateway(settings, worker=Worker(0, 2, tmp_path, None, bell))
    running = background.providers["ecs"].engine  # type: ignore[attr-defined]
    waking = worker.providers["ecs"].engine  # type: ignore[attr-defined]
    assert isinstance(running, Engine) and isinstance(waking, Engine)

    async def run() -> bool:
        running.start()
        try:
            await asyncio.sleep(0.1)  # its first pass (nothing to do), then it waits
            waiting = asyncio.ensure_future(running._wait(600.0))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            with worker.db.transaction():  # no await inside: the engine's own passes write too
                waking.wake()
                assert not select.select([bell.fileno()], [], [], 0)[0]  # rung only once it has committed
            assert select.select([bell.fileno()], [], [], 0)[0]
            await asyncio.wait_for(waiting, 10.0)
            # The wake's token is taken as seen: the next look at it runs no second pass for the same wake.
            assert running._woken == generations.of(background.db).token(engine_module.WAKE) != 0
            return True
        finally:
            assert running._loop_task is not None
            running._loop_task.cancel()

    assert asyncio.run(run())
