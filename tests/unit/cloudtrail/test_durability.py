"""Without a server (no journal), an HTTP call's CloudTrail event is committed before its answer: a write's in the
write's own transaction, any other call's in one of its own; internal calls' events wait for the next write.
With a server's journal: tests/unit/cloudtrail/test_journal.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from turnout.core.principal import Principal
from turnout.services.cloudtrail import store
from turnout.services.cloudtrail.recorder import CloudTrailRecorder, recorder_of

from ..authz_support import InProcess

ACCOUNT = "000000000000"


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def _server_mode(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> tuple[CloudTrailRecorder, list[dict[str, Any]]]:
    """The recorder as the server runs it (internal calls' events wait), and what each of its writes saw."""
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    recorder.auto_flush = False
    writes: list[dict[str, Any]] = []
    append = store.write_events
    db = env.gateway.db

    def watching(database: Any, drafts: Any) -> int:
        drafts = list(drafts)
        writes.append({
            "events": len(drafts),
            "inside_the_call": db.in_transaction,  # its own transaction opens below: this one is the call's
            "users": db.scalar("SELECT COUNT(*) FROM iam_users"),
        })
        return append(database, drafts)

    monkeypatch.setattr(store, "write_events", watching)
    return recorder, writes


def test_a_write_and_its_event_are_committed_together(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, writes = _server_mode(env, monkeypatch)
    env.client("iam").create_user(UserName="together")
    assert writes == [{"events": 1, "inside_the_call": True, "users": 1}]  # the user's row, not yet committed
    assert recorder.pending == 0 and store.last_seq(env.gateway.db) == 1
    assert not env.gateway.db.in_transaction


def test_reads_and_failures_are_written_before_their_answers(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, writes = _server_mode(env, monkeypatch)
    iam = env.client("iam")
    iam.create_user(UserName="once")
    iam.get_user(UserName="once")
    assert writes[-1] == {"events": 1, "inside_the_call": False, "users": 1}
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="once")  # its transaction rolled back; the event has one of its own
    assert writes[-1] == {"events": 1, "inside_the_call": False, "users": 1}
    assert store.last_seq(env.gateway.db) == 3 and recorder.pending == 0


def test_internal_calls_wait_for_nothing_but_go_with_the_next_http_call(
        env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, writes = _server_mode(env, monkeypatch)
    env.gateway.invoke("ecs", "ListClusters", {}, Principal.root(ACCOUNT), invoked_by="ecs.amazonaws.com")
    assert recorder.pending == 1 and writes == []  # queued, nobody waits for it
    iam = env.client("iam")
    iam.create_user(UserName="after-internal")  # a write's transaction holds its own event only
    assert [w["events"] for w in writes] == [1] and recorder.pending == 1
    iam.get_user(UserName="after-internal")  # a read's own write takes the queued ones along
    assert [w["events"] for w in writes] == [1, 2] and recorder.pending == 0


def test_a_failed_event_write_still_answers_the_call(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, _ = _server_mode(env, monkeypatch)

    def broken() -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(recorder, "_write", broken)
    assert env.client("iam").create_user(UserName="broken")["User"]["UserName"] == "broken"
    assert env.client("iam").get_user(UserName="broken")["User"]["UserName"] == "broken"


def test_events_written_unindexed_are_found_and_indexed_by_the_next_flush(tmp_path: Path) -> None:
    """The durable write leaves the lookup entries to the next flush; LookupEvents finds events not indexed yet
    without indexing them; events a crash left unindexed are indexed by the first flush after the restart."""
    env = InProcess(tmp_path / "data")
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    recorder.auto_flush = False
    iam = env.client("iam")
    for n in range(5):
        iam.create_user(UserName=f"unindexed-{n}")
    db = env.gateway.db
    assert store.last_seq(db) == 5 and store.indexed_seq(db) == 0  # written with the calls, not indexed

    env.gateway.db.close()
    restarted = InProcess(tmp_path / "data")  # another process on the same data: the "crash" left 5 events unindexed
    pages = restarted.client("cloudtrail").get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])
    names = [event["EventName"] for page in pages for event in page["Events"]]
    assert names == ["CreateUser"] * 5
    # LookupEvents found the 5 without indexing them; its own event (6) is written with its answer, unindexed.
    assert store.indexed_seq(restarted.gateway.db) == 0 and store.last_seq(restarted.gateway.db) == 6
    recorder = recorder_of(restarted.gateway)
    assert recorder is not None
    recorder.flush()  # the background process's
    assert store.indexed_seq(restarted.gateway.db) == 6
    pages = restarted.client("cloudtrail").get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])
    assert [event["EventName"] for page in pages for event in page["Events"]] == names



def test_lookup_events_indexes_first_when_too_many_events_wait(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With no background flush (a gateway used in process), the events LookupEvents leaves unindexed pile up:
    beyond UNINDEXED_AT_MOST, it indexes them before it looks."""
    from turnout.services.cloudtrail import recorder as recorder_module

    monkeypatch.setattr(recorder_module, "UNINDEXED_AT_MOST", 3)
    env = InProcess(tmp_path / "data")
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    recorder.auto_flush = False
    iam, cloudtrail = env.client("iam"), env.client("cloudtrail")
    iam.create_user(UserName="first")
    assert len(cloudtrail.lookup_events()["Events"]) == 1  # 1 event waits: found without the index
    db = env.gateway.db
    assert store.indexed_seq(db) == 0 and store.unindexed(db) == 2
    for n in range(2):
        iam.create_user(UserName=f"more-{n}")
    assert [e["EventName"] for e in cloudtrail.lookup_events()["Events"]] == ["CreateUser", "CreateUser",
                                                                              "LookupEvents", "CreateUser"]
    assert store.indexed_seq(db) == 4 and store.unindexed(db) == 1  # 4 waited: indexed, then the lookup's own


def test_indexing_later_makes_the_entries_an_indexed_write_makes(tmp_path: Path) -> None:
    later, at_once = InProcess(tmp_path / "later"), InProcess(tmp_path / "at-once")
    recorder = recorder_of(later.gateway)
    assert recorder is not None
    recorder.auto_flush = False
    root = Principal.root(ACCOUNT)
    for n in range(3):  # internal calls: their drafts wait in the recorder
        later.gateway.invoke("iam", "CreateUser", {"UserName": f"same-{n}", "Tags": [{"Key": "k", "Value": "v"}]},
                             root)
        later.gateway.invoke("iam", "GetUser", {"UserName": f"same-{n}"}, root)
    drafts = list(recorder._pending)
    assert len(drafts) == 6
    recorder._pending.clear()
    # The same drafts (so the same times) both ways: written, then indexed; and written with their index.
    store.write_events(later.gateway.db, drafts)
    store.index_events(later.gateway.db)
    store.append(at_once.gateway.db, drafts)

    def index(env: InProcess) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in env.gateway.db.all(
            "SELECT account_id, region, attribute, value, regular, min_time, max_time, last_seq, entry_count, "
            "entries FROM cloudtrail_lookup ORDER BY account_id, region, attribute, value, id")]

    assert index(later) == index(at_once)
    assert len(index(later)) > 4
