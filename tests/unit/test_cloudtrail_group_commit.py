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
    append = store.append

    def counting(db: Any, drafts: Any) -> int:
        written = append(db, drafts)
        batches.append(written)
        return written

    monkeypatch.setattr(store, "append", counting)
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
        monkeypatch.setattr(recorder, "flush", broken)
        await batch  # resolved, not left hanging nor raising into the request
        assert batch.done() and batch.exception() is None

    asyncio.run(run())
