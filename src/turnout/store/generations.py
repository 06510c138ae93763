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
"""

from __future__ import annotations

import secrets
import threading
import weakref

from .db import Database

TABLE = "generations"

_OF: weakref.WeakKeyDictionary[Database, Generations] = weakref.WeakKeyDictionary()


def of(db: Database) -> Generations:
    """The one :class:`Generations` of a database (its own bumps do not change ``data_version`` for the
    connection that made them, so every cache over one connection must read the same tokens)."""
    found = _OF.get(db)
    if found is None:
        found = _OF[db] = Generations(db)
    return found


class _Seen(threading.local):
    """What one thread's connection last read (``data_version`` is a connection's own)."""

    version: int | None = None  # data_version when the tokens were read; None: read them again
    tokens: dict[str, int] = {}  # replaced whole, never changed in place


class Generations:
    """The tokens of one database, as each thread's connection last read them (get it with :func:`of`)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._seen = _Seen()

    def bump(self, name: str) -> None:
        """Give ``name`` a new token (inside the write transaction of the change it stands for)."""
        self.db.execute(
            f"INSERT INTO {TABLE} (name, token) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET token = excluded.token",
            (name, secrets.randbits(62)),
        )
        self._seen.version = None

    def token(self, name: str) -> int:
        """``name``'s token now (0 if never bumped)."""
        return self._current().get(name, 0)

    def tokens(self, first: str, second: str) -> tuple[int, int]:
        """Two names' tokens, read at once."""
        current = self._current()
        return current.get(first, 0), current.get(second, 0)

    def _current(self) -> dict[str, int]:
        seen = self._seen
        version = self.db.scalar("PRAGMA data_version")
        if version != seen.version:
            seen.tokens = {row[0]: row[1] for row in self.db.all(f"SELECT name, token FROM {TABLE}")}
            # Inside a transaction the tokens may include its own uncommitted bumps: read them again next time.
            seen.version = None if self.db.in_transaction else version
        return seen.tokens
