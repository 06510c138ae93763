"""Where an API call runs: on the event loop (short calls) or in a request thread (long ones).

A call handled on the event loop holds up everything else the loop does (other connections, ``/_turnout/health``)
until it ends. A call in a thread costs the loop more than a thread hand-over: while it runs, the loop gets the
interpreter back only after each switch interval whenever it let it go (every system call: each read, write and
look at the sockets), so a loop busy with many short calls answers far fewer. With 50 clients of a mix whose writes
took 1 to 4 ms and went back and forth between the lanes at a 2 ms threshold, the same mix answered about 13% more
calls, with a p99 a quarter lower, once they stayed on the loop (``make bench BENCH_ARGS="mixed --skip-heavy"``,
alternating runs; README, Speed). So only calls long enough to hold up a health check noticeably go to the threads.

Each operation's recent cost is kept: an exponential average, per service and operation, of the CPU time its calls
took (time spent waiting, for the interpreter held by another thread or for the writer lock, is not the call's own
and must not keep a short call in the threads). An operation whose calls average more than :data:`LONG_SECONDS`
runs in a thread; it comes back to the loop once they average less than :data:`SHORT_SECONDS` (between the two it
stays where it is, so that an operation near one threshold does not go back and forth). An operation starts on the
loop; one call longer than :data:`LONG_SECONDS` moves it to the threads at once.
"""

from __future__ import annotations

import threading

LONG_SECONDS = 0.020  # an operation whose calls take longer than this (on average) runs in a thread
SHORT_SECONDS = 0.015  # and comes back to the loop once they take less than this
WEIGHT = 0.25  # of the newest duration in the average


class Lanes:
    def __init__(self, long_seconds: float = LONG_SECONDS, short_seconds: float = SHORT_SECONDS) -> None:
        self.long_seconds = long_seconds
        self.short_seconds = min(short_seconds, long_seconds)
        self._average: dict[tuple[str, str], float] = {}
        self._threaded: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def long(self, key: tuple[str, str] | None) -> bool:
        """Whether calls of ``key`` (service, operation; None: not routed) should run in a thread."""
        return key in self._threaded

    def took(self, key: tuple[str, str] | None, seconds: float) -> None:
        """A call of ``key`` took ``seconds``."""
        if key is None:
            return
        with self._lock:
            before = self._average.get(key)
            if before is None or seconds > self.long_seconds > before:
                average = seconds  # the first call, or the first long one: believed at once
            else:
                average = before + WEIGHT * (seconds - before)
            self._average[key] = average
            if average > self.long_seconds:
                self._threaded.add(key)
            elif average < self.short_seconds:
                self._threaded.discard(key)
