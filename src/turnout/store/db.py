"""The database: one SQLite file in WAL mode, migrations, and one transaction per request.

Several processes share the file (``turnout serve --workers N``), each with its own connection:

* **Writers take turns.** A write transaction first takes the *writer lock* (``flock`` on ``<db>-writer.lock``,
  next to the database), then ``BEGIN IMMEDIATE``; it holds both until ``COMMIT``. The lock hands over at once
  when its holder lets go (SQLite's own busy handler sleeps 1, 2, 5, 10... ms between tries), and a write
  transaction always starts from the newest committed state, so it never fails for having read a stale snapshot.
* **Readers never wait.** A read transaction (``transaction(write=False)``: the gateway's, for an operation that
  only reads) is a deferred ``BEGIN``: a WAL snapshot, taken without any lock, that writers in other processes do
  not disturb. If it turns out to write after all, its first write statement raises :class:`WriteNeeded` before
  running; the gateway then runs the operation again in a write transaction (and remembers to start it so).
* **Writes that can wait** (:meth:`Database.defer`: bookkeeping such as an access key's last use) are queued and
  run at the start of the next write transaction, so that reads stay reads.

SQL stays portable (standard types, ``?`` placeholders translated by the driver layer, ``ON CONFLICT`` upserts)
so that a PostgreSQL backend can take the same statements later.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger("turnout.store")

Row = sqlite3.Row

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")  # statements a reader may not run


class WriteNeeded(BaseException):
    """A read transaction (``transaction(write=False)``) was about to write: run its work again in a write
    transaction. A BaseException, so that no handler's ``except Exception`` mistakes it for its own failure."""


class WriterLock:
    """The lock write transactions take in turn across processes (``flock`` on a file beside the database)."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def acquire(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


class Database:
    """A SQLite database with migrations applied and a re-entrant transaction scope."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._reading = False  # the open transaction is a read transaction (its writes raise WriteNeeded)
        self._deferred: list[Callable[[], None]] = []
        self._writer = None if self.path == ":memory:" else WriterLock(self.path + "-writer.lock")
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed transaction survives a crash of this process (kill -9);
        # only an operating-system crash or power loss may roll back the last commits.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")
        migrate(self)

    def close(self) -> None:
        self._conn.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    @property
    def in_transaction(self) -> bool:
        """True while a :meth:`transaction` scope is open (writers off the request path wait for it to end)."""
        return self._depth > 0

    def defer(self, write: Callable[[], None]) -> None:
        """Run ``write`` at the start of the next write transaction (now, if one is open and may write)."""
        if self._depth and not self._reading:
            write()
        else:
            self._deferred.append(write)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Database]:
        """One transaction; a nested scope is a savepoint of the outer one. Rolls back on any exception.

        ``write=False`` opens a read transaction (see the module docstring); a nested scope is part of the outer
        transaction, whatever it asks for.
        """
        with self._lock:
            if self._depth:
                # A nested scope is a savepoint: a call made inside another's transaction (ECS calling ELB
                # through the gateway) that fails leaves nothing half-written, and the outer one goes on.
                name = f"nested_{self._depth}"
                self._conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield self
                except BaseException:
                    self._conn.execute(f"ROLLBACK TO {name}")
                    self._conn.execute(f"RELEASE {name}")
                    raise
                finally:
                    self._depth -= 1
                self._conn.execute(f"RELEASE {name}")
                return
            if not write:
                self._conn.execute("BEGIN")
                self._depth, self._reading = 1, True
                try:
                    yield self
                finally:
                    self._depth, self._reading = 0, False
                    self._conn.execute("ROLLBACK")  # it wrote nothing: nothing to commit
                return
            writer = self._writer
            if writer is not None:
                writer.acquire()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._depth = 1
                try:
                    self._run_deferred()
                    yield self
                except BaseException:
                    self._depth = 0
                    self._conn.execute("ROLLBACK")
                    raise
                self._depth = 0
                self._conn.execute("COMMIT")
            finally:
                if writer is not None:
                    writer.release()

    def changes(self) -> int:
        """Rows changed on this connection so far (tells whether a transaction wrote anything)."""
        return self._conn.total_changes

    def _run_deferred(self) -> None:
        while self._deferred:
            self._deferred.pop(0)()

    def _check(self, sql: str) -> None:
        if self._reading and sql.lstrip()[:7].upper().startswith(WRITES):
            raise WriteNeeded(sql)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self._reading:
            self._check(sql)
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        if self._reading:
            self._check(sql)
        return self._conn.executemany(sql, rows)

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    folder = resources.files("turnout.store") / "migrations"
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text()))
    return sorted(found)


def migrate(db: Database) -> None:
    """Apply every migration not yet applied, each in its own transaction."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = {row[0] for row in db.all("SELECT version FROM schema_migrations")}
    for version, name, sql in _migrations():
        if version in applied:
            continue
        log.info("applying migration %s", name)
        with db.transaction():
            for statement in _statements(sql):
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, datetime.now(UTC).isoformat()),
            )


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
