"""Waiting for a condition in the data plane's async tests: bounded, never a timing assertion."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

WAIT = 20.0  # generous: a bound against hangs, not a speed requirement


async def until(predicate: Callable[[], object], timeout: float = WAIT) -> None:
    """Return once ``predicate()`` is true; fail the test if it is not within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
