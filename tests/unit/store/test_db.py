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
