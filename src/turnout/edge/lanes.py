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
loop; its first call, if longer than :data:`LONG_SECONDS`, or a later call longer than :data:`AT_ONCE` times that,
moves it to the threads at once; a shorter outlier only counts in the average.

The thresholds follow from what the loop owes its health checks (issue 11: ``/_turnout/health`` answered within
10 ms at p99 while a heavy call runs): a call on the loop holds up a health check by as long as it runs, after at
most a slice of short calls (``turns.SLICE``, 5 ms), so operations averaging over 8 ms go to the threads. At 20 ms,
the threshold before, ``GetAccountAuthorizationDetails`` over 1,000 roles (11 to 15 ms of CPU on this project's
machine) stayed on the loop whenever its average fell under 15 ms, and health checks on its worker waited for it
(``make bench BENCH_ARGS=mixed``, phase 3: p99 13.9 to 19.7 ms in three runs of seven; 2.8 to 6.1 ms in a thread).
``LookupEvents`` under the 50-client mix (3 ms of CPU at the median, 6 at p90, outliers to 12: it first copies the
journals) stays on the loop: at a 5 ms threshold it went back and forth, and the mix answered about 15% fewer calls.
"""

from __future__ import annotations

import threading

LONG_SECONDS = 0.008  # an operation whose calls take longer than this (on average) runs in a thread
SHORT_SECONDS = 0.006  # and comes back to the loop once they take less than this
AT_ONCE = 2.0  # a call this many times LONG_SECONDS moves its operation to the threads at once
WEIGHT = 0.25  # of the newest duration in the average


class Lanes:
    def __init__(self, long_seconds: float = LONG_SECONDS, short_seconds: float = SHORT_SECONDS) -> None:
        self.long_seconds = long_seconds
        self.short_seconds = min(short_seconds, long_seconds)
        self.at_once_seconds = AT_ONCE * long_seconds
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
            if before is None or seconds > self.at_once_seconds > before:
                average = seconds  # the first call, or a far longer one than before: believed at once
            else:
                average = before + WEIGHT * (seconds - before)
            self._average[key] = average
            if average > self.long_seconds:
                self._threaded.add(key)
            elif average < self.short_seconds:
                self._threaded.discard(key)
