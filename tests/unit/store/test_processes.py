"""The database shared by several processes: writers take turns, readers never write, generations travel."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from turnout.store import generations
from turnout.store.db import Database, WriteNeeded


def _count_up(path: str, times: int) -> None:
    db = Database(path)
    for _ in range(times):
        with db.transaction():  # read, then write what was read: a stale snapshot would lose updates
            value = db.scalar("SELECT token FROM generations WHERE name = 'counter'")
            db.execute("UPDATE generations SET token = ? WHERE name = 'counter'", (value + 1,))
    db.close()


def test_writers_in_several_processes_take_turns_and_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    db = Database(path)
    with db.transaction():
        db.execute("INSERT INTO generations (name, token) VALUES ('counter', 0)")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count_up, args=(path, 150)) for _ in range(3)]
    for worker in workers:
        worker.start()
    _count_up(path, 150)
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert db.scalar("SELECT token FROM generations WHERE name = 'counter'") == 600


def test_a_read_transaction_refuses_to_write_and_keeps_nothing(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    with pytest.raises(WriteNeeded), db.transaction(write=False):
        assert db.scalar("SELECT COUNT(*) FROM generations") == 0
        with db.transaction():  # a nested scope joins the read transaction
            db.execute("  insert INTO generations (name, token) VALUES ('x', 1)")
    assert not db.in_transaction
    assert db.scalar("SELECT COUNT(*) FROM generations") == 0
    with db.transaction(write=False):
        assert db.all("SELECT * FROM generations") == []  # reads are fine


def test_deferred_writes_wait_for_the_next_write_transaction(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    done: list[str] = []

    def write() -> None:
        db.execute("INSERT INTO generations (name, token) VALUES ('later', 1)")
        done.append("written")

    db.defer(write)
    with db.transaction(write=False):
        db.scalar("SELECT 1")
    assert done == []
    with db.transaction():
        assert done == ["written"]
    assert db.scalar("SELECT token FROM generations WHERE name = 'later'") == 1
    with db.transaction():
        db.defer(lambda: done.append("at once"))  # a write transaction is open: run now
        assert done == ["written", "at once"]


def test_a_bump_through_one_connection_is_seen_through_another(tmp_path: Path) -> None:
    one, other = Database(tmp_path / "t.db"), Database(tmp_path / "t.db")
    seen = generations.of(other).token("iam:1")
    assert seen == 0
    with one.transaction():
        generations.of(one).bump("iam:1")
        assert generations.of(other).token("iam:1") == 0  # not committed yet
    changed = generations.of(other).token("iam:1")
    assert changed != 0
    assert generations.of(one).token("iam:1") == changed
    assert generations.of(other).token("iam:2") == 0
    with pytest.raises(RuntimeError), one.transaction():
        generations.of(one).bump("iam:1")
        raise RuntimeError("rolled back")
    assert generations.of(one).token("iam:1") == changed
    assert generations.of(other).token("iam:1") == changed


def test_followed_generations_look_at_the_database_only_once_the_shared_count_moves(tmp_path: Path) -> None:
    from turnout.workers import Tally

    tally = Tally(2, ("generations",))
    one, other = Database(tmp_path / "t.db"), Database(tmp_path / "t.db")
    for index, db in enumerate((one, other)):
        generations.of(db).follow(lambda: tally.total("generations"),
                                  lambda index=index: tally.add(index, "generations", 1))  # type: ignore[misc]
    assert generations.of(other).token("iam:1") == 0
    statements: list[str] = []
    other._conn.set_trace_callback(statements.append)
    assert generations.of(other).token("iam:1") == 0
    assert statements == []  # nothing counted since the last look: no statement at all
    with one.transaction():
        generations.of(one).bump("iam:1")
        assert tally.total("generations") == 0  # counted once committed, not before
    assert tally.each("generations") == [1, 0]
    changed = generations.of(other).token("iam:1")
    assert changed != 0 and statements  # the count moved: the other connection read the table again
    with pytest.raises(RuntimeError), one.transaction():
        generations.of(one).bump("iam:1")
        raise RuntimeError("rolled back")
    assert tally.total("generations") == 1  # a bump rolled back is never counted
    assert generations.of(one).token("iam:1") == changed == generations.of(other).token("iam:1")


def test_an_operation_named_as_a_read_that_writes_runs_again_as_a_write(tmp_path: Path) -> None:
    from turnout.core.principal import Principal
    from turnout.server import Settings, build_gateway

    gateway = build_gateway(Settings(data_dir=tmp_path, enforce_iam=False, cloudtrail=False))
    root = Principal.root("123456789012")
    first = gateway.invoke("ec2", "DescribeVpcs", {}, root)  # creates the account's default VPC on first use
    assert first.error is None and len(first.result["Vpcs"]) == 1
    assert ("ec2", "DescribeVpcs") in gateway._writers  # started as a write from now on...
    again = gateway.invoke("ec2", "DescribeVpcs", {}, root)
    assert again.error is None and again.result["Vpcs"] == first.result["Vpcs"]
    assert ("ec2", "DescribeVpcs") not in gateway._writers  # ...until a run of it writes nothing
    assert not gateway.db.in_transaction


def test_after_commit_runs_once_committed_and_never_after_a_rollback(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    seen: list[str] = []
    with db.transaction():
        db.after_commit(lambda: seen.append("committed"))
        with db.transaction():  # a nested scope's callback waits for the outermost commit
            db.after_commit(lambda: seen.append("nested"))
        assert seen == []
    assert seen == ["committed", "nested"]
    with pytest.raises(RuntimeError), db.transaction():
        db.after_commit(lambda: seen.append("rolled back"))
        raise RuntimeError("no")
    with db.transaction(write=False):
        db.after_commit(lambda: seen.append("read"))
    db.after_commit(lambda: seen.append("no transaction"))
    assert seen == ["committed", "nested", "read", "no transaction"]


def test_checkpoints_in_background_leave_commits_alone(tmp_path: Path) -> None:
    import threading

    db = Database(tmp_path / "t.db")
    db.checkpoint_in_background()
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(db.scalar("PRAGMA wal_autocheckpoint")))
    thread.start()  # a connection opened later, in another thread, is set so too
    thread.join()
    assert seen == [0] and db.scalar("PRAGMA wal_autocheckpoint") == 0
    for index in range(3000):  # about 1,500 pages: past SQLite's automatic checkpoint at 1,000
        with db.transaction():
            db.execute("INSERT INTO generations (name, token) VALUES (?, ?)", (f"n{index}-" + "x" * 1500, index))
    wal = tmp_path / "t.db-wal"
    assert wal.stat().st_size > 2 * 1000 * 4096  # never copied back and restarted by a commit
    busy, logged, copied = db.checkpoint()
    assert (busy, copied) == (0, logged) and logged > 2000


def test_the_log_starts_over_while_writes_keep_coming(tmp_path: Path) -> None:
    """A checkpoint that runs while another thread keeps committing still lets the log start over: the log holds
    only what came after the last checkpoint, not every commit since the start (it once grew without bound)."""
    import threading

    db = Database(tmp_path / "t.db")
    db.checkpoint_in_background()
    commits = 0
    stop = threading.Event()

    def write() -> None:
        nonlocal commits
        while not stop.is_set():
            with db.transaction():
                db.execute("INSERT INTO generations (name, token) VALUES (?, ?)", (f"w{commits}-" + "x" * 500, 0))
            commits += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(6):
            stop.wait(0.05)
            db.checkpoint()
    finally:
        stop.set()
        writer.join()
    busy, logged, copied = db.checkpoint()
    assert busy == 0 and copied == logged
    assert commits > 200
    assert logged < commits / 2, (logged, commits)  # each commit writes at least one page: it started over
