"""The SQLite store: migrations, one transaction per scope, rollback leaves nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnout.store.db import Database


def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    versions = [row[0] for row in db.all("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions and versions[0] == 1
    db.close()
    again = Database(tmp_path / "t.db")  # reopening applies nothing twice
    assert [row[0] for row in again.all("SELECT version FROM schema_migrations ORDER BY version")] == versions
    assert again.scalar("PRAGMA journal_mode") == "wal"


def test_transaction_rolls_back_everything_on_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    with pytest.raises(RuntimeError), db.transaction():
        db.execute("INSERT INTO accounts (account_id, created_at) VALUES ('111111111111', 'x')")
        with db.transaction():  # a nested scope's work is undone with the outer transaction
            db.execute("INSERT INTO accounts (account_id, created_at) VALUES ('222222222222', 'x')")
        raise RuntimeError("boom")
    assert db.scalar("SELECT COUNT(*) FROM accounts") == 0


def test_failed_nested_scope_undoes_only_its_own_writes(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    with db.transaction():
        db.execute("INSERT INTO accounts (account_id, created_at) VALUES ('111111111111', 'x')")
        with pytest.raises(RuntimeError), db.transaction():
            db.execute("INSERT INTO accounts (account_id, created_at) VALUES ('222222222222', 'x')")
            raise RuntimeError("inner call failed")
        with db.transaction():
            db.execute("INSERT INTO accounts (account_id, created_at) VALUES ('333333333333', 'x')")
    ids = [row[0] for row in db.all("SELECT account_id FROM accounts ORDER BY account_id")]
    assert ids == ["111111111111", "333333333333"]


def test_committed_transaction_is_visible_to_another_connection(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    with db.transaction():
        db.execute("INSERT INTO accounts (account_id, created_at) VALUES ('111111111111', 'x')")
    other = Database(tmp_path / "t.db")
    assert other.scalar("SELECT account_id FROM accounts") == "111111111111"


def _traced(db: Database) -> list[str]:
    """The statements this thread's connection runs from now on."""
    seen: list[str] = []
    db._conn.set_trace_callback(seen.append)
    return seen


def test_a_read_transaction_that_runs_no_statement_sends_none(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    seen = _traced(db)
    with db.transaction(write=False):  # a call answered from caches
        assert db.in_transaction and db.reading
    assert seen == []
    assert not db.in_transaction


def test_a_read_transaction_begins_with_its_first_statement_and_reads_one_snapshot(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    other = Database(tmp_path / "t.db")  # another process's connection
    seen = _traced(db)
    with db.transaction(write=False):
        assert db.scalar("SELECT COUNT(*) FROM accounts") == 0
        with other.transaction():
            other.execute("INSERT INTO accounts (account_id, created_at) VALUES ('111111111111', 'x')")
        assert db.scalar("SELECT COUNT(*) FROM accounts") == 0  # the snapshot of its first read
    assert seen == ["BEGIN", "SELECT COUNT(*) FROM accounts", "SELECT COUNT(*) FROM accounts", "ROLLBACK"]
    assert db.scalar("SELECT COUNT(*) FROM accounts") == 1


def test_a_scope_nested_in_a_read_transaction_not_yet_begun_begins_it_first(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    seen = _traced(db)
    with db.transaction(write=False), db.transaction(write=False):
        db.scalar("SELECT 1")
    assert seen == ["BEGIN", "SAVEPOINT nested_1", "SELECT 1", "RELEASE nested_1", "ROLLBACK"]


def test_shared_builds_one_object_per_database_even_when_threads_race(tmp_path: Path) -> None:
    import threading
    import time

    built: list[Database] = []

    class Slow:
        def __init__(self, db: Database) -> None:
            built.append(db)
            time.sleep(0.05)  # long enough for every other thread to ask meanwhile

    db, other = Database(tmp_path / "a.db"), Database(tmp_path / "b.db")
    got: list[Slow] = []
    threads = [threading.Thread(target=lambda: got.append(db.shared(Slow))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8 and all(found is got[0] for found in got)
    assert built == [db]
    assert other.shared(Slow) is not got[0] and built == [db, other]  # another database has its own


def test_a_shared_object_may_build_another_while_it_is_built(tmp_path: Path) -> None:
    class Inner:
        def __init__(self, db: Database) -> None:
            self.db = db

    class Outer:
        def __init__(self, db: Database) -> None:
            self.inner = db.shared(Inner)  # as the role cache takes its database's generations

    db = Database(tmp_path / "a.db")
    outer = db.shared(Outer)
    assert outer.inner is db.shared(Inner) and db.shared(Outer) is outer
