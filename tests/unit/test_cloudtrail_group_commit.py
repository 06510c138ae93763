"""The recorder's group commit: the calls answered together share one write, which resolves all of them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from turnout.auth.principal import Principal
from turnout.services.cloudtrail import store
from turnout.services.cloudtrail.recorder import CloudTrailRecorder, recorder_of

from .authz_support import InProcess

ACCOUNT = "000000000000"


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def _server_mode(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> tuple[CloudTrailRecorder, list[int]]:
    """The recorder as the server runs it (no write at once), and the size of every batch it writes."""
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    recorder.auto_flush = False
    batches: list[int] = []
    append = store.write_events

    def counting(db: Any, drafts: Any) -> int:
        written = append(db, drafts)
        batches.append(written)
        return written

    monkeypatch.setattr(store, "write_events", counting)
    return recorder, batches


def test_calls_answered_together_share_one_write(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, batches = _server_mode(env, monkeypatch)
    iam = env.client("iam")

    async def run() -> None:
        futures = []
        for n in range(3):  # three requests handled before the loop runs its callbacks
            iam.create_user(UserName=f"group-{n}")
            batch = recorder.committed()
            assert batch is not None
            futures.append(batch)
        assert futures[0] is futures[1] is futures[2]
        assert not futures[0].done() and recorder.pending == 3
        await asyncio.gather(*futures)
        assert recorder.pending == 0
        assert recorder.committed() is None  # nothing left to wait for

    asyncio.run(run())
    assert batches == [3]
    assert store.last_seq(env.gateway.db) == 3


def test_a_lone_call_is_written_at_once_and_the_next_gets_a_new_batch(
        env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, batches = _server_mode(env, monkeypatch)
    iam = env.client("iam")

    async def run() -> None:
        iam.create_user(UserName="lone-1")
        first = recorder.committed()
        assert first is not None
        await first
        assert batches == [1]
        iam.create_user(UserName="lone-2")
        second = recorder.committed()
        assert second is not None and second is not first
        await second

    asyncio.run(run())
    assert batches == [1, 1]


def test_internal_calls_wait_for_nothing_but_go_with_the_next_batch(
        env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, batches = _server_mode(env, monkeypatch)
    env.gateway.invoke("ecs", "ListClusters", {}, Principal.root(ACCOUNT), invoked_by="ecs.amazonaws.com")
    assert recorder.pending == 1 and batches == []  # queued, nobody waits for it

    async def run() -> None:
        env.client("iam").create_user(UserName="after-internal")
        batch = recorder.committed()
        assert batch is not None
        await batch

    asyncio.run(run())
    assert batches == [2]


def test_a_failed_write_still_answers_the_callers(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, _ = _server_mode(env, monkeypatch)

    def broken() -> int:
        raise RuntimeError("disk on fire")

    async def run() -> None:
        env.client("iam").create_user(UserName="broken")
        batch = recorder.committed()
        assert batch is not None
        monkeypatch.setattr(recorder, "_write", broken)
        await batch  # resolved, not left hanging nor raising into the request
        assert batch.done() and batch.exception() is None

    asyncio.run(run())


def test_events_written_unindexed_are_found_after_the_next_flush(tmp_path: Path) -> None:
    """The durable write leaves the lookup entries to the next flush; events a crash left unindexed are indexed
    by the first flush after the restart, with the same entries a write with its index would have made."""
    env = InProcess(tmp_path / "data")
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    recorder.auto_flush = False
    iam = env.client("iam")
    for n in range(5):
        iam.create_user(UserName=f"unindexed-{n}")
    db = env.gateway.db
    assert recorder._write() == 5  # what a group commit writes before its answers go out
    assert store.last_seq(db) == 5 and store.indexed_seq(db) == 0

    env.gateway.db.close()
    restarted = InProcess(tmp_path / "data")  # another process on the same data: the "crash" left 5 events unindexed
    pages = restarted.client("cloudtrail").get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])
    names = [event["EventName"] for page in pages for event in page["Events"]]
    assert names.count("CreateUser") == 5
    assert store.indexed_seq(restarted.gateway.db) == store.last_seq(restarted.gateway.db)  # LookupEvents: 6
    assert store.index_events(restarted.gateway.db) == 0  # nothing left to index


def test_indexing_later_makes_the_entries_an_indexed_write_makes(tmp_path: Path) -> None:
    later, at_once = InProcess(tmp_path / "later"), InProcess(tmp_path / "at-once")
    for env in (later, at_once):
        recorder = recorder_of(env.gateway)
        assert recorder is not None
        recorder.auto_flush = False
        iam = env.client("iam")
        for n in range(3):
            iam.create_user(UserName=f"same-{n}", Tags=[{"Key": "k", "Value": "v"}])
            iam.get_user(UserName=f"same-{n}")
        drafts = list(recorder._pending)
        recorder._pending.clear()
        if env is later:
            store.write_events(env.gateway.db, drafts)
            store.index_events(env.gateway.db)
        else:
            store.append(env.gateway.db, drafts)

    def index(env: InProcess) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in env.gateway.db.all(
            "SELECT account_id, region, attribute, value, regular, min_time, max_time, last_seq, entry_count, "
            "entries FROM cloudtrail_lookup ORDER BY account_id, region, attribute, value, id")]

    assert index(later) == index(at_once)
    assert len(index(later)) > 4
