"""The server's CloudTrail journals: a call's event is one write to this process's file before its answer, and the
files are copied into the event store exactly once, by whichever process gets there, then deleted once abandoned."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import cloudtrail_bucket_policy
from turnout.core.principal import Principal
from turnout.services.cloudtrail import store
from turnout.services.cloudtrail.delivery import deliver_due
from turnout.services.cloudtrail.journal import DIRECTORY, Decoder, Encoder, Journal, decode, encode
from turnout.services.cloudtrail.recorder import CloudTrailRecorder, recorder_of

from ..authz_support import InProcess

ACCOUNT = "000000000000"


def _journaled(env: InProcess, directory: Path, **journal: Any) -> CloudTrailRecorder:
    """The recorder as a server process runs it: its own journal, no writes at once."""
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    recorder.auto_flush = False
    recorder.journal_dir = directory
    recorder.journal = Journal(directory, **journal)
    return recorder


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def _event_names(env: InProcess) -> list[str]:
    return [event.record["eventName"] for event in store.events_after(env.gateway.db, 0, 1000)]


def test_events_are_written_to_the_journal_not_the_database(env: InProcess, tmp_path: Path) -> None:
    recorder = _journaled(env, tmp_path / DIRECTORY)
    iam = env.client("iam")
    iam.create_user(UserName="j")  # a write: its event written to the journal inside its transaction
    iam.get_user(UserName="j")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="missing")
    assert _event_names(env) == []  # all three are in the file only
    journal = recorder.journal
    assert journal is not None
    found = journal.read(journal.name, 0)
    assert found is not None
    frames, end, damaged = found
    assert [draft.event_name for _, drafts in frames for draft in drafts] == ["CreateUser", "GetUser", "GetUser"]
    assert not damaged and end == journal.size(journal.name)
    assert recorder.stats()["recorded"] == 3

    assert recorder.flush() == 3
    assert _event_names(env) == ["CreateUser", "GetUser", "GetUser"]
    assert store.journal.position(env.gateway.db, journal.name) == end
    assert recorder.flush() == 0  # copied once
    assert os.path.exists(journal.directory / journal.name)  # still ours: kept


def test_internal_calls_are_journaled_too(env: InProcess, tmp_path: Path) -> None:
    recorder = _journaled(env, tmp_path / DIRECTORY)
    env.gateway.invoke("ecs", "ListClusters", {}, Principal.root(ACCOUNT), invoked_by="ecs.amazonaws.com")
    assert recorder.pending == 0 and _event_names(env) == []
    recorder.flush()
    assert _event_names(env) == ["ListClusters"]


def test_another_process_journal_is_copied_and_deleted_once_abandoned(env: InProcess, tmp_path: Path) -> None:
    directory = tmp_path / DIRECTORY
    recorder = _journaled(env, directory)
    other_env = InProcess(tmp_path / "data")  # a second process on the same data directory
    other = _journaled(other_env, directory)
    other_env.client("iam").list_users()
    other_journal = other.journal
    assert other_journal is not None
    name = other_journal.name

    assert recorder.flush() == 1  # every journal: the other's too, which it still holds
    assert (directory / name).exists()
    assert other.flush() == 0  # copied exactly once, whoever copies
    assert _event_names(env) == ["ListUsers"]

    other_env.client("iam").list_roles()
    other_journal.close()  # the other process stops (or dies): its lock is gone
    assert recorder.flush() == 1
    assert not (directory / name).exists()
    assert name not in store.journal.names(env.gateway.db)
    assert _event_names(env) == ["ListUsers", "ListRoles"]


def test_close_copies_and_deletes_its_own_journal(env: InProcess, tmp_path: Path) -> None:
    directory = tmp_path / DIRECTORY
    recorder = _journaled(env, directory)
    env.client("iam").list_users()
    recorder.close()
    assert _event_names(env) == ["ListUsers"]
    assert list(directory.iterdir()) == []
    env.client("iam").list_roles()  # after the stop: written to the database directly
    assert _event_names(env) == ["ListUsers", "ListRoles"]


def test_a_crash_left_journal_is_copied_at_the_next_start_and_its_torn_end_dropped(tmp_path: Path) -> None:
    directory = tmp_path / DIRECTORY
    crashed = InProcess(tmp_path / "data")
    first = _journaled(crashed, directory)
    crashed.client("iam").list_users()
    crashed.client("iam").list_groups()
    journal = first.journal
    assert journal is not None
    name = journal.name
    with open(directory / name, "ab") as file:  # a write cut short by the kill: never acknowledged
        file.write(encode(first_drafts(journal, name))[:-3])
    os.close(journal._fd)  # type: ignore[arg-type]  # the process is gone: its lock with it
    journal._fd = None
    crashed.gateway.db.close()

    restarted = InProcess(tmp_path / "data")
    recorder = recorder_of(restarted.gateway)
    assert recorder is not None
    recorder.journal_dir = directory  # a process with no journal of its own still copies what others left
    assert recorder.flush() == 2
    assert _event_names(restarted) == ["ListUsers", "ListGroups"]
    assert not (directory / name).exists()


def first_drafts(journal: Journal, name: str) -> list[Any]:
    found = journal.read(name, 0)
    assert found is not None
    return found[0][0][1]


def test_a_damaged_frame_ends_the_usable_part_and_is_logged(env: InProcess, tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    recorder = _journaled(env, tmp_path / DIRECTORY)
    iam = env.client("iam")
    iam.list_users()
    journal = recorder.journal
    assert journal is not None
    with open(journal.directory / journal.name, "r+b") as file:
        file.seek(10)
        file.write(b"\xff\xff")  # the payload no longer matches its CRC
    iam.list_roles()
    assert recorder.flush() == 0
    assert "is damaged" in caplog.text
    iam.list_groups()
    assert recorder.flush() == 1  # what comes after the damage is read again
    assert _event_names(env) == ["ListGroups"]


def test_a_hostile_event_is_escaped_and_costs_no_other(env: InProcess, tmp_path: Path) -> None:
    recorder = _journaled(env, tmp_path / DIRECTORY)
    root = Principal.root(ACCOUNT)
    env.client("iam").list_users()
    env.gateway.invoke("ecs", "DescribeClusters", {"clusters": ["\ud800"]}, root)
    env.client("iam").list_roles()
    assert recorder.flush() == 3
    assert _event_names(env) == ["ListUsers", "DescribeClusters", "ListRoles"]
    assert recorder.stats()["dropped"] == 0


def test_journals_rotate_and_every_file_is_copied_once(env: InProcess, tmp_path: Path) -> None:
    directory = tmp_path / DIRECTORY
    recorder = _journaled(env, directory, rotate_at=500)  # each file's first call is written in full: ~1 KB
    iam = env.client("iam")
    for _ in range(12):
        iam.list_users()
    assert len(list(directory.glob("*.events"))) > 2
    assert recorder.flush() == 12
    assert _event_names(env) == ["ListUsers"] * 12
    journal = recorder.journal
    assert journal is not None
    assert [path.name for path in directory.glob("*.events")] == [journal.name]  # the rotated ones are deleted


def test_events_are_numbered_in_the_order_the_calls_were_made_whichever_process_answered(
        env: InProcess, tmp_path: Path) -> None:
    directory = tmp_path / DIRECTORY
    recorder = _journaled(env, directory)
    other_env = InProcess(tmp_path / "data")
    other = _journaled(other_env, directory)
    here, there = env.client("iam"), other_env.client("iam")
    made = []
    for n in range(6):
        client = here if n % 3 else there  # each process's journal holds every other call or so
        client.create_user(UserName=f"ordered-{n}")
        client.get_user(UserName=f"ordered-{n}")
        made += ["CreateUser", "GetUser"]
    assert other.flush() == 12
    assert recorder.flush() == 0
    users = [event.record["requestParameters"]["userName"] for event in store.events_after(env.gateway.db, 0, 100)]
    assert users == [f"ordered-{n}" for n in range(6) for _ in range(2)]
    assert _event_names(env) == made


def test_repeated_calls_are_written_short_and_read_back_whole(env: InProcess, tmp_path: Path) -> None:
    directory = tmp_path / DIRECTORY
    recorder = _journaled(env, directory)
    iam = env.client("iam")
    ids = [iam.list_users()["ResponseMetadata"]["RequestId"] for _ in range(3)]
    journal = recorder.journal
    assert journal is not None
    first = journal.size(journal.name) or 0
    ids += [iam.list_users()["ResponseMetadata"]["RequestId"] for _ in range(20)]
    assert (journal.size(journal.name) or 0) - first < 20 * 100  # a repeat takes some 60 bytes, not a kilobyte
    assert recorder.flush() == 23
    records = [event.record for event in store.events_after(env.gateway.db, 0, 100)]
    assert [record["requestID"] for record in records] == ids
    assert all(record["eventName"] == "ListUsers" and record["userIdentity"]["type"] == "Root" for record in records)



def test_repeated_calls_with_lists_and_structures_are_written_short_and_each_keeps_its_parameters(
        env: InProcess, tmp_path: Path) -> None:
    """A call naming what it reads in a list (DescribeClusters, as pipelines poll DescribeServices) is a repeat
    too; calls with other lists, in another order or structures of other values are not the same record."""
    recorder = _journaled(env, tmp_path / DIRECTORY)
    ecs = env.client("ecs")
    for name in ("blue", "green"):
        ecs.create_cluster(clusterName=name)
    asks: list[dict[str, Any]] = [
        {"clusters": ["blue", "green"]}, {"clusters": ["green", "blue"]}, {"clusters": ["blue"]},
        {"clusters": ["blue"], "include": ["TAGS"]}, {"clusters": ["blue"], "include": ["SETTINGS"]}]
    journal = recorder.journal
    assert journal is not None
    for ask in asks:
        ecs.describe_clusters(**ask)
    first = journal.size(journal.name) or 0
    for _ in range(4):
        for ask in asks:
            ecs.describe_clusters(**ask)
    assert (journal.size(journal.name) or 0) - first < 20 * 100  # 20 repeats of some 60 bytes each
    recorder.flush()
    records = [event.record for event in store.events_after(env.gateway.db, 0, 100)
               if event.record["eventName"] == "DescribeClusters"]
    assert [record["requestParameters"] for record in records] == [
        {key: value for key, value in ask.items()} for ask in asks] * 5
    assert len({record["requestID"] for record in records}) == 25


def test_a_reader_beginning_mid_file_takes_the_shapes_written_before(env: InProcess, tmp_path: Path) -> None:
    directory = tmp_path / DIRECTORY
    writer = _journaled(env, directory)
    iam = env.client("iam")
    for _ in range(3):
        iam.list_users()
    assert writer.flush() == 3  # this process has read the shapes
    ids = [iam.list_users()["ResponseMetadata"]["RequestId"] for _ in range(4)]  # written short
    other = InProcess(tmp_path / "data")
    copier = recorder_of(other.gateway)
    assert copier is not None
    copier.journal_dir = directory  # another process, which never read the file's start
    assert copier.flush() == 4
    assert [event.record["requestID"] for event in store.events_after(env.gateway.db, 3, 100)] == ids


_text = st.text(max_size=30)
_drafts = st.lists(st.tuples(
    _text, _text, st.integers(0, 2**40), _text, _text, st.booleans(), st.none() | _text, st.none() | _text, _text,
    st.lists(st.tuples(_text, _text), max_size=3).map(tuple), st.tuples(_text, _text, _text, _text), _text,
    st.none() | st.integers(-(2**63), 2**63 - 1),
), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(st.lists(_drafts, max_size=5), st.integers(0, 40))
def test_frames_read_back_whole_and_never_half(batches: list[list[tuple[Any, ...]]], cut: int) -> None:
    from turnout.services.cloudtrail.records import Draft

    frames = [encode([Draft._make(fields) for fields in batch], written_at=n) for n, batch in enumerate(batches)]
    data = b"".join(frames)
    read, used, damaged = decode(data)
    assert not damaged and used == len(data)
    assert [written_at for written_at, _ in read] == list(range(len(batches)))
    assert [[tuple(draft) for draft in drafts] for _, drafts in read] == batches
    if frames:  # a frame cut anywhere is not read, and neither is anything after it
        torn = data[: len(data) - 1 - min(cut, len(frames[-1]) - 1)]
        read, used, damaged = decode(torn)
        assert not damaged and used == len(data) - len(frames[-1])
        assert len(read) == len(batches) - 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**40), st.text(max_size=40)), min_size=1,
                         max_size=3), max_size=12))
def test_frames_of_one_file_read_back_as_written(calls: list[list[tuple[int, int, str]]]) -> None:
    """Whatever mix of new and repeated shapes a file holds, one decoder reads back the drafts one encoder wrote."""
    from turnout.services.cloudtrail.records import Draft

    def draft(shape: int, event_time: int, request_id: str) -> Draft:
        return Draft("000000000000", "us-east-1", event_time, f"Op{shape}", "iam.amazonaws.com", True, None, None,
                     "[]", (("", ""),), (f"a{shape}", "b", "c", "d"), request_id, shape if shape else None)

    encoder = Encoder()
    written = [[draft(*call) for call in frame] for frame in calls]
    data = b"".join(encoder.frame(frame, written_at=n) for n, frame in enumerate(written))
    frames, used, damaged = Decoder().decode(data, 0)
    assert not damaged and used == len(data)
    assert [drafts for _, drafts in frames] == written


def test_a_repeat_is_written_from_its_shape_only_once_the_file_holds_that_shape(tmp_path: Path) -> None:
    """append_repeat (the request path of a repeated call) writes nothing until the file holds the shape in full
    (the first call's draft, or the first after a rotation), and its frame reads back as the whole draft."""
    from turnout.services.cloudtrail.records import Draft

    parts = ("before", "b", "c", "d")
    shape = Draft("000000000000", "us-east-1", 0, "ListUsers", "iam.amazonaws.com", True, None, "test", "[]",
                  (("", ""),), parts, "", 7)
    journal = Journal(tmp_path, rotate_at=10_000)
    assert not journal.append_repeat(7, parts, 100, "first")  # the file does not hold shape 7 yet
    assert journal.size(journal.name) == 0
    journal.append([shape._replace(event_time=100, request_id="first")])  # written in full: now a template
    held = journal.size(journal.name) or 0
    assert journal.append_repeat(7, parts, 101, "second")
    assert 0 < (journal.size(journal.name) or 0) - held < 60
    assert not journal.append_repeat(7, parts, 102, "é")  # a request id a repeat cannot hold
    found = journal.read(journal.name, 0)
    assert found is not None
    frames, _, damaged = found
    assert not damaged
    assert [drafts for _, drafts in frames] == [[shape._replace(event_time=100, request_id="first")],
                                                [shape._replace(event_time=101, request_id="second")]]
    first = journal.name
    journal.rotate_at = 0  # the next write opens a new file, which holds no shape
    assert not journal.append_repeat(7, parts, 103, "third")
    assert journal.name != first and journal.size(journal.name) == 0
    journal.close()
    with pytest.raises(OSError):
        journal.append_repeat(7, parts, 104, "closed")


def test_a_delivery_pass_copies_the_journals_only_for_a_logging_trail(env: InProcess, tmp_path: Path) -> None:
    """A timed delivery pass comes every 30 simulated seconds (milliseconds at a high --time-scale): with no trail
    logging it has nothing to deliver, and leaves the journals to the recorder's own copy."""
    _journaled(env, tmp_path / DIRECTORY)
    env.client("iam").list_users()
    assert deliver_due(env.gateway) == 0
    assert _event_names(env) == []  # still in the journal only
    cloudtrail = env.client("cloudtrail")
    s3 = env.client("s3")
    s3.create_bucket(Bucket="trail-bucket")
    s3.put_bucket_policy(Bucket="trail-bucket", Policy=cloudtrail_bucket_policy("trail-bucket", ACCOUNT))
    cloudtrail.create_trail(Name="the-trail", S3BucketName="trail-bucket")
    cloudtrail.start_logging(Name="the-trail")
    deliver_due(env.gateway)
    assert "ListUsers" in _event_names(env)  # a logging trail's pass copies first


@pytest.mark.parametrize("copy_at", [1, 10**9])
def test_the_background_copy_runs_once_enough_journal_waits_and_indexes_every_flush_seconds(
        env: InProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy_at: int) -> None:
    """The background process copies as soon as COPY_AT_BYTES of journal wait, without their lookup entries (a
    copy holds the writer lock: the shorter the better), and indexes only every FLUSH_SECONDS (each indexing
    rewrites the posting list of every value the events carry). Below COPY_AT_BYTES, the copy waits for that."""
    import asyncio
    import time

    from turnout.services.cloudtrail import recorder as recorder_module

    monkeypatch.setattr(recorder_module, "FLUSH_SECONDS", 60.0)
    monkeypatch.setattr(recorder_module, "LOOK_SECONDS", 0.01)
    monkeypatch.setattr(recorder_module, "COPY_AT_BYTES", copy_at)
    recorder = _journaled(env, tmp_path / DIRECTORY)
    db = env.gateway.db
    iam = env.client("iam")

    passes: list[bool] = []  # each finished pass: whether it indexed
    flush = recorder.flush

    def watched(*, index: bool = True) -> int:
        written = flush(index=index)
        passes.append(index)
        return written

    monkeypatch.setattr(recorder, "flush", watched)

    async def run() -> tuple[int, int]:
        recorder.start(copies=True)
        while not passes:  # the first pass: it copies and indexes what there is (nothing)
            await asyncio.sleep(0.01)
        assert passes == [True]
        for n in range(3):
            iam.create_user(UserName=f"bg-{n}")
        deadline = time.monotonic() + 0.5 if copy_at > 1 else time.monotonic() + 10
        while store.last_seq(db) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return store.last_seq(db), store.indexed_seq(db)

    try:
        copied, indexed = asyncio.run(run())
    finally:
        recorder.close()
    between = passes[1:-1]  # after the first, before close()'s
    if copy_at == 1:
        assert between and not any(between)  # copies alone
        assert (copied, indexed) == (3, 0)  # copied within the looks, indexed at the next FLUSH_SECONDS only
        assert [seq for _, seq in store.find(db, ACCOUNT, "us-east-1", "EventName", "CreateUser", 0, 2**40, None,
                                             10)] == [3, 2, 1]
    else:
        assert copied == 0 and between == []  # 3 events' bytes: it waits
    assert store.indexed_seq(db) == store.last_seq(db) == 3  # close() copies and indexes what is left


def test_a_copy_that_finds_everything_copied_by_another_process_takes_no_writer_lock(
        env: InProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LookupEvents right after the background process copied (the common case once it copies every few hundred
    calls) reads the positions and returns, instead of waiting for the writer lock to find nothing new."""
    directory = tmp_path / DIRECTORY
    ours = _journaled(env, directory)
    iam = env.client("iam")
    for n in range(3):
        iam.create_user(UserName=f"copied-{n}")
    other = CloudTrailRecorder(env.gateway.db, journal_dir=directory)  # another process's recorder: no journal
    assert other.flush(index=False) == 3
    db = env.gateway.db
    writes: list[bool] = []
    transaction = db.transaction

    def counted(*, write: bool = True) -> Any:
        writes.append(write)
        return transaction(write=write)

    monkeypatch.setattr(db, "transaction", counted)
    assert ours.flush(index=False) == 0
    assert writes and True not in writes  # read the positions: nothing waits
    iam.create_user(UserName="later")  # its own write transaction (counted) and its event in the journal
    writes.clear()
    assert ours.flush(index=False) == 1 and True in writes  # something waits: copied under the lock
