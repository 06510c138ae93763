"""Where an API call runs: on the event loop (short calls) or in a request thread (long ones).

A call handled on the event loop holds up everything else the loop does (other connections, ``/_turnout/health``,
the ECS engine) until it ends; handing a call to a thread costs more than most calls take (a thread wake-up and
two interpreter hand-overs, about as much as a whole GetRole). So each operation's recent cost is kept: an
exponential average, per service and operation, of the CPU time its calls took (time spent waiting, for the
interpreter held by another thread or for the writer lock, is not the call's own and must not keep a short call
in the threads). An operation whose calls take more than :data:`LONG_SECONDS` runs in a thread, the others on the
loop. An operation starts on the loop; one long call moves it to the threads at once, and it comes back once its
calls are short again (the account shrank, say).
"""

from __future__ import annotations

import threading

LONG_SECONDS = 0.002  # a call longer than this (on average) runs in a thread
WEIGHT = 0.25  # of the newest duration in the average


class Lanes:
    def __init__(self, long_seconds: float = LONG_SECONDS) -> None:
        self.long_seconds = long_seconds
        self._average: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def long(self, key: tuple[str, str] | None) -> bool:
        """Whether calls of ``key`` (service, operation; None: not routed) should run in a thread."""
        return key is not None and self._average.get(key, 0.0) > self.long_seconds

    def took(self, key: tuple[str, str] | None, seconds: float) -> None:
        """A call of ``key`` took ``seconds``."""
        if key is None:
            return
        with self._lock:
            before = self._average.get(key)
            if before is None or seconds > self.long_seconds > before:
                self._average[key] = seconds  # the first call, or the first long one: believed at once
            else:
                self._average[key] = before + WEIGHT * (seconds - before)
