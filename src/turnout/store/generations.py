"""Generations: how a process learns that another one changed what its caches hold.

``turnout serve --workers N`` runs N processes over one database; each keeps caches of what it read (compiled
IAM policies, for one) and must drop them as soon as any process changes what they were made from. A cache
names what it depends on (``iam:<account>``, say); a write that changes it calls :meth:`Generations.bump` in its
own transaction, which gives that name a new random token; the cache keeps the token it saw when it loaded an
entry, and the entry is stale when the token differs.

Reading tokens is cheap: ``PRAGMA data_version`` (a counter SQLite changes only when *another* connection
commits) says whether anything may have changed since the last look; the table is read again only then, or
after this process bumped a token itself. Tokens are random rather than counted, so that a bump rolled back
with its transaction can never come back as the token of another process's later bump.

The server makes it cheaper still (:meth:`Generations.follow`): every process counts the bumps it commits in memory
the workers share, and a thread looks at the database only when that count has moved since its last look (a
statement saved, twice a call). The count moves right after the commit, before the write is answered, so a call
made once a write has been answered sees its bump.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from .db import Database

TABLE = "generations"


def of(db: Database) -> Generations:
    """The one :class:`Generations` of a database (its own bumps do not change ``data_version`` for the
    connection that made them, so every cache over one connection must read the same tokens)."""
    return db.shared(Generations)


class _Seen(threading.local):
    """What one thread's connection last read (``data_version`` is a connection's own)."""

    version: int | None = None  # data_version when the tokens were read; None: read them again
    stamp: int | None = None  # the count of committed bumps (Generations.follow) when they were read
    tokens: dict[str, int] = {}  # replaced whole, never changed in place


class Generations:
    """The tokens of one database, as each thread's connection last read them (get it with :func:`of`)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._seen = _Seen()
        self._count: Callable[[], int] | None = None
        self._counted: Callable[[], None] | None = None

    def follow(self, count: Callable[[], int], counted: Callable[[], None]) -> None:
        """Trust ``count`` (the bumps every process that writes this database has committed) to say when tokens may
        have changed; ``counted`` adds this process's own bumps to it. Only for a database that no process writes
        without counting so (the server's: the data directory is locked to it)."""
        self._count, self._counted = count, counted

    def bump(self, name: str) -> None:
        """Give ``name`` a new token (inside the write transaction of the change it stands for)."""
        self.db.execute(
            f"INSERT INTO {TABLE} (name, token) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET token = excluded.token",
            (name, secrets.randbits(62)),
        )
        self._seen.version = None
        if self._counted is not None:
            self.db.after_commit(self._counted)

    def token(self, name: str) -> int:
        """``name``'s token now (0 if never bumped)."""
        return self._current().get(name, 0)

    def tokens(self, first: str, second: str) -> tuple[int, int]:
        """Two names' tokens, read at once."""
        current = self._current()
        return current.get(first, 0), current.get(second, 0)

    def _current(self) -> dict[str, int]:
        seen = self._seen
        stamp = None
        if self._count is not None:
            stamp = self._count()  # read first: a bump counted after it is seen at the next look
            if stamp == seen.stamp and seen.version is not None:
                return seen.tokens
        version = self.db.scalar("PRAGMA data_version")
        if version != seen.version:
            seen.tokens = {row[0]: row[1] for row in self.db.all(f"SELECT name, token FROM {TABLE}")}
            # Inside a write transaction the tokens may include its own uncommitted bumps: read them again next
            # time. A read transaction makes none.
            seen.version = None if self.db.in_transaction and not self.db.reading else version
        seen.stamp = stamp
        return seen.tokens
