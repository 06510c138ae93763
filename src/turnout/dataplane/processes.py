"""Task processes (issue 13): one OS process per (ECS task, container), started, watched and stopped.

What a container runs: the first ``turnout serve --task-command 'IMAGE_GLOB=COMMAND'`` rule whose glob matches the
container's image (:func:`command_for`), else the built-in task app (:func:`builtin_command`,
:mod:`turnout.dataplane.taskapp`). :class:`TaskProcesses` gives each process free loopback ports (``PORT`` and
``TURNOUT_PORTS`` in its environment), a log file, and its own session so that a stop signals everything it
started; it tells its owner when a process exits by itself (``on_exit``), as a container's exit stops an ECS task.

Turnout's choices, where AWS is silent (a container runtime, not an AWS API, decides these in AWS):

* The environment is not the server's: only ``PATH``, ``HOME``, ``LANG`` and ``TMPDIR`` pass through, then the
  container's own variables, then ``PORT``/``TURNOUT_PORTS`` (so credentials the server holds do not leak into
  tasks).
* When the main process exits (by itself or on a stop), whatever else is left in its process group is killed, as a
  container's processes end with its main process.
* A start failure reads like ECS's ``CannotStartContainerError`` (the task's ``stoppedReason``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fnmatch
import hashlib
import logging
import os
import re
import shlex
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

PASSED_THROUGH = ("PATH", "HOME", "LANG", "TMPDIR")  # the server's variables a task process inherits
_REAP_TIMEOUT = 10.0  # seconds to wait for a killed process to be reaped (never a hang)


@dataclass(frozen=True, slots=True)
class CommandRule:
    """One ``turnout serve --task-command 'IMAGE_GLOB=COMMAND'``: containers whose image matches ``image_glob``
    run ``command`` instead of the built-in task app."""

    image_glob: str
    command: str


def parse_command_rule(text: str) -> CommandRule:
    """``'IMAGE_GLOB=COMMAND'`` -> :class:`CommandRule`, split at the first ``=`` (a glob holds none; a command
    may). ValueError when there is no ``=``, a side is blank, or the command is not valid shell syntax."""
    glob, sep, command = text.partition("=")
    if not sep:
        raise ValueError(f"task command {text!r} has no '=': expected IMAGE_GLOB=COMMAND, e.g. 'myapp:*=python app.py'")
    if not glob.strip():
        raise ValueError(f"task command {text!r} has no image glob before '=': expected IMAGE_GLOB=COMMAND")
    if not command.strip():
        raise ValueError(f"task command {text!r} has no command after '=': expected IMAGE_GLOB=COMMAND")
    try:
        shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"task command {text!r}: the command is not valid shell syntax ({exc})") from None
    return CommandRule(glob.strip(), command.strip())


def command_for(image: str, rules: Sequence[CommandRule]) -> list[str] | None:
    """The argv of the first rule whose glob matches ``image`` (fnmatch, case-sensitive), in the order given;
    None when none does (the container runs the built-in task app)."""
    for rule in rules:
        if fnmatch.fnmatchcase(image, rule.image_glob):
            return shlex.split(rule.command)
    return None


def builtin_command() -> list[str]:
    """The built-in task app, run by the interpreter running Turnout."""
    return [sys.executable, "-m", "turnout.dataplane.taskapp"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the kernel's pick). Another program may take it before the task binds
    it; the task then fails to start serving, which its owner sees as an exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Running:
    key: str  # the caller's key, e.g. "<task arn>/<container name>"
    pid: int
    host: str
    ports: tuple[int, ...]  # local ports, in the order of the container ports asked for
    log_path: Path


class StartFailed(Exception):
    """The program could not be started; the message is the reason (it becomes the task's ``stoppedReason``)."""


@dataclass(slots=True)
class _Entry:
    running: Running
    process: asyncio.subprocess.Process
    watcher: asyncio.Task[None] | None = None
    stopping: asyncio.Task[int] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


def log_name(key: str) -> str:
    """A file name for ``key``: its safe characters, with a short hash of the key when some were replaced or it was
    shortened (so two keys never share a log)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", key).lstrip(".") or "task"
    if safe != key or len(safe) > 150:
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        safe = f"{safe[:150]}-{digest}"
    return f"{safe}.log"


def _start_error(command: Sequence[str], exc: OSError) -> str:
    program = command[0] if command else ""
    if isinstance(exc, FileNotFoundError):
        detail = "executable file not found in $PATH" if os.sep not in program else "no such file or directory"
    elif isinstance(exc, PermissionError):
        detail = "permission denied"
    else:
        detail = exc.strerror or str(exc)
    return f'CannotStartContainerError: exec: "{program}": {detail}'


def _kill_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


class TaskProcesses:
    """The processes of running task containers, by the caller's key. Use it from one event loop."""

    def __init__(self, log_dir: Path, host: str = "127.0.0.1",
                 on_exit: Callable[[str, int], None] | None = None) -> None:
        """``on_exit(key, returncode)`` is called on the event loop when a process exits by itself (not when
        :meth:`stop` asked it to); the returncode is negative (minus the signal number) when a signal killed it."""
        self.log_dir = log_dir
        self.host = host
        self.on_exit = on_exit
        self._entries: dict[str, _Entry] = {}
        self._lock: asyncio.Lock | None = None

    def _start_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _env(self, env: Mapping[str, str], ports: tuple[int, ...]) -> dict[str, str]:
        out = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        out.update(env)
        if ports:
            out["PORT"] = str(ports[0])
            out["TURNOUT_PORTS"] = ",".join(str(port) for port in ports)
        return out

    def _ports(self, count: int) -> tuple[int, ...]:
        ports: list[int] = []
        while len(ports) < count:
            port = free_port(self.host)
            if port not in ports:
                ports.append(port)
        return tuple(ports)

    async def start(self, key: str, command: list[str], env: Mapping[str, str], ports: int) -> Running:
        """Start ``command`` for ``key`` with ``ports`` free local ports; output (stdout and stderr) is appended to
        ``log_dir/<key as a file name>.log``. Starting a key that is running returns its :class:`Running`.
        Raises :class:`StartFailed` when the program cannot be started."""
        async with self._start_lock():
            entry = self._entries.get(key)
            if entry is not None and entry.stopping is None and entry.process.returncode is None:
                return entry.running
            if not command:
                raise StartFailed("CannotStartContainerError: the container has no command to run")
            try:
                local = self._ports(max(0, ports))
            except OSError as exc:
                raise StartFailed(f"CannotStartContainerError: no free port on {self.host}: {exc}") from exc
            log_path = self.log_dir / log_name(key)
            try:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                out = open(log_path, "ab")  # noqa: SIM115 (closed below, once the child has its own copy)
            except OSError as exc:
                raise StartFailed(f"CannotStartContainerError: cannot write the log {log_path}: {exc}") from exc
            try:
                stamp = datetime.now(UTC).isoformat(timespec="seconds")
                out.write(f"--- {stamp} turnout: starting {shlex.join(command)}\n".encode())
                out.flush()
                process = await asyncio.create_subprocess_exec(
                    *command, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                    env=self._env(env, local), start_new_session=True, preexec_fn=_die_with_parent)
            except OSError as exc:
                raise StartFailed(_start_error(command, exc)) from exc
            except ValueError as exc:  # e.g. a NUL byte in the command or the environment
                raise StartFailed(f"CannotStartContainerError: {exc}") from exc
            finally:
                out.close()
            running = Running(key, process.pid, self.host, local, log_path)
            entry = _Entry(running, process)
            self._entries[key] = entry
            entry.watcher = asyncio.get_running_loop().create_task(self._watch(entry), name=f"task process {key}")
            return running

    async def _watch(self, entry: _Entry) -> None:
        """Wait for the process to exit; when nobody asked it to, forget it and tell the owner."""
        code = await entry.process.wait()
        _kill_group(entry.running.pid, signal.SIGKILL)  # what it left behind ends with it
        entry.done.set()
        if entry.stopping is not None:
            return
        key = entry.running.key
        if self._entries.get(key) is entry:
            del self._entries[key]
        if self.on_exit is not None:
            try:
                self.on_exit(key, code)
            except Exception:
                log.exception("on_exit(%r, %s) failed", key, code)

    async def stop(self, key: str, grace: float = 5.0) -> int | None:
        """SIGTERM to the process's group, SIGKILL after ``grace`` seconds; its returncode (None: not running).
        ``on_exit`` is not called for it."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.stopping is None:
            entry.stopping = asyncio.get_running_loop().create_task(self._stop(entry, grace))
        return await asyncio.shield(entry.stopping)

    async def _stop(self, entry: _Entry, grace: float) -> int:
        process = entry.process
        try:
            if process.returncode is None:
                _kill_group(entry.running.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), max(0.0, grace))
                except TimeoutError:
                    _kill_group(entry.running.pid, signal.SIGKILL)
                    if process.returncode is None:  # it may have left its group (setsid)
                        # Not process.kill(): Popen polls first and may reap the child the event loop is waiting for.
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.kill(entry.running.pid, signal.SIGKILL)
            try:
                code = await asyncio.wait_for(process.wait(), _REAP_TIMEOUT)
            except TimeoutError:
                log.error("task process %s (pid %s) did not die after SIGKILL", entry.running.key, entry.running.pid)
                code = -signal.SIGKILL
            _kill_group(entry.running.pid, signal.SIGKILL)
            return code
        finally:
            if self._entries.get(entry.running.key) is entry:
                del self._entries[entry.running.key]

    async def stop_all(self, grace: float = 5.0) -> None:
        """Stop every process (in parallel)."""
        keys = list(self._entries)
        results = await asyncio.gather(*(self.stop(key, grace) for key in keys), return_exceptions=True)
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, BaseException):
                log.error("stopping %s failed: %r", key, result)

    def running(self) -> dict[str, Running]:
        """The processes that have not exited and are not being stopped, by key."""
        return {key: entry.running for key, entry in self._entries.items()
                if entry.stopping is None and entry.process.returncode is None}

    async def wait_ready(self, key: str, timeout: float) -> bool:
        """True once the process's first port accepts a TCP connection (with no port: once it is running); False
        when it exits, is stopped, or ``timeout`` seconds pass first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            entry = self._entries.get(key)
            if entry is None or entry.stopping is not None or entry.process.returncode is not None:
                return False
            if not entry.running.ports:
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            if await _accepts(entry.running.host, entry.running.ports[0], min(left, 1.0)):
                # The port may belong to someone else if the process has just died: check it still runs.
                return self._entries.get(key) is entry and entry.process.returncode is None
            left = deadline - loop.time()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry.done.wait(), min(0.05, left))


async def _accepts(host: str, port: int, timeout: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    return True


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """In the child, before it runs the program: the kernel kills it when the server process dies, however it dies
    (Linux; ``kill -9`` of the server leaves no task process holding its port)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
