"""Worker processes: ``turnout serve --workers N`` answers on both cores (or N) over one database.

The parent process checks the start-up (:mod:`turnout.startup`), applies the migrations, binds the listening
socket and then forks N workers (indexes 0 to N-1) and one background process (index N). Each opens its own
connection to the database (SQLite in WAL mode: readers never wait, writers take turns, :mod:`turnout.store.db`).
The workers accept connections from the shared socket, each new one by the worker holding the fewest
(:mod:`turnout.edge.accept`). Caches learn of other processes' writes through :mod:`turnout.store.generations`.

Background work runs in exactly one process, the *primary*, which is the background process and answers no
connection: the ECS deployment engine, the data plane (listeners, task processes, health checks), CloudTrail's
copy of every journal into the database and its log file delivery, the database's checkpoints. A deployment stage
is one transaction of up to tens of milliseconds while a hundred deployments run; in a process of its own it holds
up no event loop that answers calls (run in worker 0, it held up every call of that worker's connections, and in
a thread of worker 0 it shared that worker's interpreter: ``make bench BENCH_ARGS=deployments``, bench/README.md).
The kernel shares the cores between it and the workers, favouring a worker that wakes with a call to answer.

The primary holds ``engine.lock`` in the data directory (``flock``) while it runs, so that two engines can never run
over one database, even while a replacement starts; the workers read that lock to report the engine in
``/_turnout/health``, and wake the engine through a generation it watches.

The parent restarts a process that dies (keeping its index: the background process comes back as such), forwards
SIGTERM and SIGINT to all of them for a graceful stop, and takes them with it when it is killed
(``PR_SET_PDEATHSIG`` on Linux; elsewhere each one notices that its parent is gone within a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import fcntl
import logging
import mmap
import os
import signal
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from .startup import read_pid, write_pid

log = logging.getLogger("turnout.workers")

ENGINE_LOCK = "engine.lock"
RESTART_PAUSE = 0.5  # seconds before restarting a worker that died within MIN_UPTIME of its start
MIN_UPTIME = 2.0
PR_SET_PDEATHSIG = 1


def default_count() -> int:
    """Workers when ``--workers`` is not given: one per core, at most 4 (SQLite takes writers one at a time)."""
    return max(1, min(os.cpu_count() or 1, 4))


class Tally:
    """Counters that every worker adds to and any worker reads whole: a row of 64-bit slots per worker, in
    memory shared across the fork. ``/_turnout/health`` answers from whichever worker the connection reached,
    yet reports what all of them did (CloudTrail's events recorded and dropped).

    Only worker ``index`` writes row ``index``, so no lock is needed; a worker restarted with the same index goes
    on adding to its predecessor's counts."""

    def __init__(self, workers: int, names: tuple[str, ...]) -> None:
        self.names = names
        self._row = struct.Struct(f"<{len(names)}q")
        self._slot = struct.Struct("<q")
        self._offsets = {name: slot * 8 for slot, name in enumerate(names)}  # read on every call: no search
        self._memory = mmap.mmap(-1, max(1, workers) * self._row.size)  # anonymous and shared: survives fork
        self._workers = workers

    def add(self, index: int, name: str, amount: int) -> None:
        offset = index * self._row.size + self._offsets[name]
        (value,) = self._slot.unpack_from(self._memory, offset)
        self._slot.pack_into(self._memory, offset, value + amount)

    def set(self, index: int, name: str, value: int) -> None:
        self._slot.pack_into(self._memory, index * self._row.size + self._offsets[name], value)

    def each(self, name: str) -> list[int]:
        """One counter, worker by worker."""
        offset, size, unpack = self._offsets[name], self._row.size, self._slot.unpack_from
        return [unpack(self._memory, index * size + offset)[0] for index in range(self._workers)]

    def total(self, name: str) -> int:
        """One counter, summed over the workers."""
        offset, size, unpack, memory = self._offsets[name], self._row.size, self._slot.unpack_from, self._memory
        found = 0
        for index in range(self._workers):
            found += unpack(memory, index * size + offset)[0]
        return found

    def totals(self) -> dict[str, int]:
        sums = [0] * len(self.names)
        for index in range(self._workers):
            for slot, value in enumerate(self._row.unpack_from(self._memory, index * self._row.size)):
                sums[slot] += value
        return dict(zip(self.names, sums, strict=True))


class Doorbell:
    """A pipe the workers ring to wake the background process's ECS engine at once (one byte, after the waking
    request's commit), made by the parent before the fork so that every process holds both ends. Both ends are
    non-blocking: a ring into a full pipe is dropped (the bytes waiting already wake the engine), and the engine
    drains what it reads. The engine still looks at its wake token now and then (``deploy.engine.POLL``), so a ring
    lost some other way only delays a pass."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def ring(self) -> None:
        with contextlib.suppress(OSError):  # full (BlockingIOError): already rung; closed: shutting down
            os.write(self._write, b"\0")

    def fileno(self) -> int:
        """The end the engine watches."""
        return self._read

    def drain(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._read, 4096):
                pass


@dataclass
class Worker:
    """This process's place among the server's processes (``Gateway.worker``; None there: a single-process server):
    one of ``count`` workers answering connections (``index`` below ``count``), or the background process
    (``index == count``)."""

    index: int
    count: int
    data_dir: Path
    tally: Tally | None = None  # counters shared by the processes, a row each (made by the parent, before the fork)
    doorbell: Doorbell | None = None  # rung by the workers to wake the engine (made by the parent, before the fork)
    _engine_fd: int | None = field(default=None, repr=False)

    @property
    def primary(self) -> bool:
        """The background process: runs the background work, answers no connection."""
        return self.index == self.count

    def hold_engine_lock(self) -> None:
        """Take ``engine.lock`` for as long as this process lives (the primary, before starting its engine), and
        write this process's pid in it.

        Waits while a primary that is shutting down still holds it."""
        fd = os.open(self.data_dir / ENGINE_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        write_pid(fd)
        self._engine_fd = fd

    def engine_running(self) -> bool:
        """Whether some process holds ``engine.lock`` (its engine runs)."""
        return self.engine_pid() is not None

    def engine_pid(self) -> int | None:
        """The pid of the process holding ``engine.lock`` (the background process); None when none holds it, 0
        when one does but has not written its pid yet."""
        if self._engine_fd is not None:
            return os.getpid()
        try:
            fd = os.open(self.data_dir / ENGINE_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return None
                return read_pid(fd) or 0
            return None  # nobody held it (closing releases the lock just taken)
        finally:
            os.close(fd)


def _die_with_parent(parent: int) -> None:
    """Make the kernel kill this worker when the parent dies (Linux), however the parent dies."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above
        os._exit(1)


async def watch_parent(parent: int, stop: Callable[[], None]) -> None:
    """Stop this worker once its parent is gone (where the kernel does not do it, :func:`_die_with_parent`)."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("the parent process %d is gone: stopping", parent)
    stop()


class Supervisor:
    """The parent: forks the workers, restarts any that dies, and stops them all on SIGTERM or SIGINT."""

    def __init__(self, count: int, run_worker: Callable[[int], int]) -> None:
        self.count = count
        self.run_worker = run_worker  # runs in the forked child; returns its exit code
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (index, started)
        self.stopping = False
        self.failed = False

    def run(self) -> int:
        """Serve until stopped; 0 after a graceful stop, 1 when the workers could not start."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for index in range(self.count):
                self._spawn(index)
            while self.children:
                try:
                    pid, status = os.wait()
                except ChildProcessError:
                    break
                entry = self.children.pop(pid, None)
                if entry is None or self.stopping:
                    continue
                index, started = entry
                code = os.waitstatus_to_exitcode(status)
                if code == 3:  # the worker could not start (turnout.server: STARTUP_FAILED): stop them all
                    self.failed = True
                    self._stop(signal.SIGTERM, None)
                    continue
                log.warning("worker %d (pid %d) exited with %s; starting another", index, pid,
                            f"signal {-code}" if code < 0 else f"code {code}")
                if time.monotonic() - started < MIN_UPTIME:
                    time.sleep(RESTART_PAUSE)
                self._spawn(index)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 1 if self.failed else 0

    def _spawn(self, index: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)  # uvicorn installs its own, and restores these after
                _die_with_parent(parent)
                code = self.run_worker(index)
            except BaseException:  # never return into the parent's code from a forked child
                log.exception("worker %d failed", index)
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = (index, time.monotonic())

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
