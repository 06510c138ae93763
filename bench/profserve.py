"""Run ``turnout serve`` under cProfile; the stats are written to OUT when the server stops (SIGTERM/SIGINT).

Usage: python bench/profserve.py OUT serve --port P --data-dir D   (used by ``bench/run.py getrole --profile``)
Profiling starts with the process; SIGUSR1 discards what was collected so far and starts again (the benchmark
sends it after its warmup, so that one-off costs stay out of the hot spots). The server code is Turnout's own,
unchanged: this only wraps its command-line entry point. The server runs one worker (``--workers 1``, unless given):
cProfile sees only its own process, and with several the work would be done in forked workers it never sees.
"""

from __future__ import annotations

import cProfile
import signal
import sys
import time
from types import FrameType

PROFILE_SIGNAL = signal.SIGUSR1


class _Profiling:
    def __init__(self) -> None:
        self.profiler = self._new()

    @staticmethod
    def _new() -> cProfile.Profile:
        # CPU time, not wall time: on a busy machine a wall clock charges time spent preempted (typically right
        # after a socket write wakes the client) to whatever function was running.
        return cProfile.Profile(time.process_time)

    def restart(self, signum: int, frame: FrameType | None) -> None:
        self.profiler.disable()
        self.profiler = self._new()
        self.profiler.enable()


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(out: str, argv: list[str]) -> int:
    from turnout.cli.main import main

    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler it found installed:
    # with this one that ends in SystemExit, so the stats below are written instead of the process just dying.
    signal.signal(signal.SIGTERM, _stop)
    profiling = _Profiling()
    signal.signal(PROFILE_SIGNAL, profiling.restart)
    profiling.profiler.enable()
    if argv[:1] == ["serve"] and "--workers" not in argv:
        argv = [*argv, "--workers", "1"]
    try:
        return main(argv)
    finally:
        profiling.profiler.disable()
        profiling.profiler.dump_stats(out)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(run(sys.argv[1], sys.argv[2:]))
