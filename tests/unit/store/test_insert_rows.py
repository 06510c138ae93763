"""Database.insert_rows: many rows in few statements, every row written once, the tail clause applied."""

from __future__ import annotations

from pathlib import Path

from turnout.store.db import ROWS_PER_INSERT, Database


def test_rows_past_one_statement_are_all_written_in_order(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    rows = [(n, f"row-{n}") for n in range(1, 2 * ROWS_PER_INSERT + 8)]
    with db.transaction():
        db.insert_rows("INSERT INTO t (id, name) VALUES", rows)
    assert [tuple(row) for row in db.all("SELECT id, name FROM t ORDER BY id")] == rows


def test_the_tail_clause_applies_to_every_row(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    with db.transaction():
        db.insert_rows("INSERT INTO t (id, name) VALUES", [(1, "first"), (2, "second")])
        db.insert_rows("INSERT INTO t (id, name) VALUES", [(2, "again"), (3, "third")], "ON CONFLICT (id) DO NOTHING")
        db.insert_rows("INSERT INTO t (id, name) VALUES", [])
    assert [tuple(row) for row in db.all("SELECT id, name FROM t ORDER BY id")] == [
        (1, "first"), (2, "second"), (3, "third")]
