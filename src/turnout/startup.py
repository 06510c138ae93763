"""What ``turnout serve`` checks before it answers anything, each mistake told in one line (``StartupError``):

* the data directory: made if missing; one that cannot be made, is not a directory or cannot be written is refused;
* one server per data directory: ``turnout.lock`` in it is held (``flock``) while a server runs and names its pid.
  The kernel releases the lock when the process ends, however it ends, so a lock file left by a killed server
  (kill -9) does not block the next one; a second server on the same directory is refused, naming the first's pid;
* the listening socket: bound before the server says where it listens, so a port already taken is reported alone.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store.db import DatabaseError

LOCK_NAME = "turnout.lock"


class StartupError(Exception):
    """A mistake in how the server was started: its message is the one line the user reads."""


def prepare_data_dir(path: Path) -> None:
    """Make ``path`` if it does not exist; refuse one that cannot hold Turnout's state."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StartupError(f"--data-dir {path} is not a directory") from None
    except OSError as exc:
        raise StartupError(f"cannot use --data-dir {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise StartupError(f"--data-dir {path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise StartupError(f"cannot use --data-dir {path}: it is not writable")


class DataDirLock:
    """The lock one server holds on its data directory while it runs (see the module docstring)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> DataDirLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StartupError(f"cannot use --data-dir {self.data_dir}: {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = read_pid(fd) or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StartupError(f"--data-dir {self.data_dir} is in use by another turnout serve (pid {holder}); "
                                   "stop it first, or give this one another --data-dir") from None
            raise StartupError(f"cannot lock --data-dir {self.data_dir}: {exc.strerror or exc}") from None
        write_pid(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock up (the file stays: removing it could race a server starting just then)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor releases the flock


def write_pid(fd: int) -> None:
    """Write this process's pid in the lock file ``fd`` it has just locked, in place of its last holder's."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def read_pid(fd: int) -> int | None:
    """The pid written in the lock file ``fd`` (None: none written yet)."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` for the server to listen on."""
    where = f"{host}:{port}"
    if not 0 <= port <= 65535:
        raise StartupError(f"cannot listen on {where}: the port must be between 0 and 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {where}: unknown host ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart may reuse a port in TIME_WAIT
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"cannot listen on {where}: the port is already in use") from None
        raise StartupError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return sock


def database_error(data_dir: Path, exc: DatabaseError) -> StartupError:
    """The one line for a database the server cannot open (not a database, unreadable, ...)."""
    return StartupError(f"cannot use --data-dir {data_dir}: {data_dir / 'turnout.db'}: {exc}")
