"""How far each CloudTrail journal file has been copied into the event store (``cloudtrail_journal``, migration
``0038_cloudtrail_journal.sql``). Read and moved inside the transaction that writes the copied events
(:mod:`turnout.services.cloudtrail.journal`)."""

from __future__ import annotations

from ....store.db import Database


def position(db: Database, name: str) -> int:
    """The number of bytes of journal ``name`` whose events are in the store (0: none yet)."""
    return int(db.scalar("SELECT position FROM cloudtrail_journal WHERE name = ?", (name,)) or 0)


def advance(db: Database, name: str, to: int) -> None:
    db.execute(
        "INSERT INTO cloudtrail_journal (name, position) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        (name, to),
    )


def forget(db: Database, name: str) -> None:
    """Drop a journal's position (its file is deleted)."""
    db.execute("DELETE FROM cloudtrail_journal WHERE name = ?", (name,))


def names(db: Database) -> list[str]:
    return [str(row[0]) for row in db.all("SELECT name FROM cloudtrail_journal")]
