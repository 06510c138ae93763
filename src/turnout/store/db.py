"""The database: one SQLite file in WAL mode, migrations, and one transaction per request.

Several processes share the file (``turnout serve --workers N``), and several threads in each; every thread has
its own connection (:class:`Database`):

* **Writers take turns.** A write transaction first takes its process's lock, then the *writer lock* (``flock``
  on ``<db>-writer.lock``, next to the database), then ``BEGIN IMMEDIATE``; it holds them until ``COMMIT``.
  The lock hands over at once when its holder lets go (SQLite's own busy handler sleeps 1, 2, 5, 10... ms
  between tries), and a write transaction always starts from the newest committed state, so it never fails for
  having read a stale snapshot.
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
from typing import Any, TypeVar

log = logging.getLogger("turnout.store")

T = TypeVar("T")

Row = sqlite3.Row

# The database's errors, for code outside the store layer that must tell them apart (start-up turns them into one
# clear line): the only name of SQLite's that code needs.
WAL_SIZE_LIMIT = 16 * 1024 * 1024  # bytes of log file kept when the log starts over (it is reused, not regrown)

DatabaseError = sqlite3.Error
DatabaseClosed = sqlite3.ProgrammingError  # what a use of a closed database raises (a server shutting down)

ROWS_PER_INSERT = 256  # rows of one INSERT statement at most (insert_rows): 256 x 14 values, within SQLite's 32,766
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


class _Thread(threading.local):
    """A thread's own connection and transaction state (a connection serves one thread at a time)."""

    conn: sqlite3.Connection | None = None
    depth = 0
    reading = False  # the open transaction is a read transaction (its writes raise WriteNeeded)
    unbegun = False  # a read transaction that has run no statement yet: BEGIN comes with its first (see below)
    after: list[Callable[[], None]] | None = None  # run once the open transaction has committed (after_commit)


class Database:
    """A SQLite database with migrations applied and a re-entrant transaction scope.

    Each thread that uses it gets a connection of its own (the server answers requests in a few threads,
    :mod:`turnout.server`), opened on first use; transactions are per thread. Writers of this process take turns
    through a lock before taking the writer lock shared with other processes (``flock`` does not tell apart
    threads of one process). ``":memory:"`` gives each thread another database: single-threaded use only.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._thread = _Thread()
        self._connections: list[sqlite3.Connection] = []
        self._connecting = threading.Lock()
        self._writing = threading.Lock()  # this process's writers, one at a time
        self._deferred: list[Callable[[], None]] = []
        self._writer = None if self.path == ":memory:" else WriterLock(self.path + "-writer.lock")
        self._auto_checkpoint = True
        self._shared: dict[Callable[[Database], Any], Any] = {}
        self._sharing = threading.RLock()  # re-entrant: one shared object may build another (a cache its generations)
        self._connect()
        migrate(self)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed transaction survives a crash of this process (kill -9);
        # only an operating-system crash or power loss may roll back the last commits.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")  # the log file's size once it starts over
        if not self._auto_checkpoint:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        with self._connecting:
            self._connections.append(conn)
        self._thread.conn = conn
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = self._thread.conn
        return conn if conn is not None else self._connect()

    def checkpoint_in_background(self) -> None:
        """Commits no longer copy the log back into the database (every 1,000 pages, with an ``fsync``: a stall of
        the request that happens to commit then); :meth:`checkpoint` does, called by the server off the requests."""
        with self._connecting:
            self._auto_checkpoint = False
            for conn in self._connections:
                conn.execute("PRAGMA wal_autocheckpoint=0")

    def checkpoint(self) -> tuple[int, int, int]:
        """Copy the log's committed pages back into the database, so that the log starts over; SQLite's answer
        for the final pass: (1 if it could not run, pages in the log, pages copied back).

        Two passes. The first copies the bulk while writers go on. A checkpoint that writers keep appending to
        never catches up, and SQLite starts the log over only after a checkpoint that copied all of it (the next
        writer then writes from its beginning): without the second pass the log grows for as long as writes
        come (seen: 12 MB a second under CloudTrail's events). So the second pass copies the few pages written
        meanwhile while holding the writer lock: writers wait for that much only. Readers are never waited for:
        pages a reader still needs are copied by a later checkpoint."""
        conn = self._conn
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        writer = self._writer
        with self._writing:
            if writer is not None:
                writer.acquire()
            try:
                busy, logged, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                if writer is not None:
                    writer.release()
        return int(busy), int(logged), int(copied)

    def close(self) -> None:
        with self._connecting:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def shared(self, make: Callable[[Database], T]) -> T:
        """The one object ``make`` builds for this database in this process, built at its first use (once, however
        many threads ask at the same time) and kept as long as the database: state other modules keep per database,
        such as :mod:`.generations` and the caches that follow it."""
        found = self._shared.get(make)
        if found is None:
            with self._sharing:
                found = self._shared.get(make)
                if found is None:
                    found = self._shared[make] = make(self)
        return found

    @property
    def in_transaction(self) -> bool:
        """True while a :meth:`transaction` scope is open in this thread."""
        return self._thread.depth > 0

    @property
    def reading(self) -> bool:
        """True inside a read transaction (``transaction(write=False)``) of this thread."""
        return self._thread.reading

    def defer(self, write: Callable[[], None]) -> None:
        """Run ``write`` at the start of the next write transaction (now, if one is open and may write)."""
        state = self._thread
        if state.depth and not state.reading:
            write()
        else:
            self._deferred.append(write)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this thread's open transaction has committed (never, if it rolls back); now, if
        none is open. For what must not see the transaction's work before it is there (waking the ECS engine)."""
        state = self._thread
        if not state.depth:
            callback()
            return
        if state.after is None:
            state.after = []
        state.after.append(callback)

    def _committed(self, state: _Thread, ok: bool) -> None:
        callbacks, state.after = state.after, None
        for callback in callbacks or () if ok else ():
            callback()

    def run_deferred(self) -> None:
        """Run the deferred writes now, if any (a server that only reads would otherwise keep them)."""
        if self._deferred and not self._thread.depth:
            with self.transaction():
                pass

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Database]:
        """One transaction; a nested scope is a savepoint of the outer one. Rolls back on any exception.

        ``write=False`` opens a read transaction (see the module docstring); a nested scope is part of the outer
        transaction, whatever it asks for.
        """
        state, conn = self._thread, self._conn
        if state.depth:
            # A nested scope is a savepoint: a call made inside another's transaction (ECS calling ELB
            # through the gateway) that fails leaves nothing half-written, and the outer one goes on.
            self._begin_read(state)
            name = f"nested_{state.depth}"
            conn.execute(f"SAVEPOINT {name}")
            state.depth += 1
            try:
                yield self
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            finally:
                state.depth -= 1
            conn.execute(f"RELEASE {name}")
            return
        if not write:
            # BEGIN waits for the first statement (_begin_read): a deferred BEGIN takes its snapshot at the first
            # read anyway, and a call answered from caches (GetRole's, most often) then runs no statement at all.
            state.depth, state.reading, state.unbegun = 1, True, True
            ok = False
            try:
                yield self
                ok = True
            finally:
                begun = not state.unbegun
                state.depth, state.reading, state.unbegun = 0, False, False
                if begun:
                    conn.execute("ROLLBACK")  # it wrote nothing: nothing to commit
                self._committed(state, ok)
            return
        writer = self._writer
        with self._writing:
            if writer is not None:
                writer.acquire()
            try:
                conn.execute("BEGIN IMMEDIATE")
                state.depth = 1
                try:
                    self._run_deferred()
                    yield self
                except BaseException:
                    state.depth = 0
                    conn.execute("ROLLBACK")
                    self._committed(state, False)
                    raise
                state.depth = 0
                conn.execute("COMMIT")
            finally:
                if writer is not None:
                    writer.release()
            self._committed(state, True)

    def changes(self) -> int:
        """Rows changed on this thread's connection so far (tells whether a transaction wrote anything)."""
        return self._conn.total_changes

    def _run_deferred(self) -> None:
        while self._deferred:
            try:
                write = self._deferred.pop(0)
            except IndexError:  # another thread took it
                return
            write()

    def _begin_read(self, state: _Thread) -> None:
        """The BEGIN of this thread's read transaction, before its first statement."""
        if state.unbegun:
            self._conn.execute("BEGIN")  # first: a BEGIN that fails leaves nothing to roll back
            state.unbegun = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        state = self._thread
        if state.reading:
            if sql.lstrip()[:7].upper().startswith(WRITES):
                raise WriteNeeded(sql)
            self._begin_read(state)
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        state = self._thread
        if state.reading:
            if sql.lstrip()[:7].upper().startswith(WRITES):
                raise WriteNeeded(sql)
            self._begin_read(state)
        return self._conn.executemany(sql, rows)

    def insert_rows(self, head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None:
        """``head`` (``INSERT INTO t (a, b) VALUES``) with ``rows``, many rows a statement, then ``tail`` (an
        ``ON CONFLICT`` clause).

        Rather than ``executemany``: the driver lets go of the interpreter for every statement step, and a thread
        writing in the background (CloudTrail's copy) then waits for it back once per row while the event loop
        holds it (up to the switch interval each time: a batch of 130 rows took 23 ms instead of 0.5, and the loop
        was interrupted as often). One statement of many rows is one step. Statements hold a power of two of rows
        (at most :data:`ROWS_PER_INSERT`), so that a few texts serve every batch from the driver's statement cache
        (preparing a statement of a thousand placeholders costs more than running it)."""
        if not rows:
            return
        width = len(rows[0])
        one = "(" + ", ".join("?" * width) + ")"
        start, count = 0, len(rows)
        while start < count:
            size = min(ROWS_PER_INSERT, 1 << ((count - start).bit_length() - 1))
            chunk = rows[start:start + size]
            self.execute(f"{head} {', '.join([one] * size)} {tail}", [value for row in chunk for value in row])
            start += size

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
