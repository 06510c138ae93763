"""Indexing written events (store.index_events): events of different callers and calls, interleaved, are each
found by every value they carry, in order, and by nothing else; the same as when written indexed (store.append)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turnout.services.cloudtrail import store
from turnout.services.cloudtrail.records import Draft, draft_of
from turnout.services.cloudtrail.store import postings
from turnout.store.db import Database

ACCOUNT = "000000000000"
T0 = 1_700_000_000


def _drafts() -> list[Draft]:
    out = []
    for n in range(60):
        user = ("alice", "bob", "carol")[n % 3]
        name = ("GetRole", "ListRoles")[n % 2]
        resources = ((("AWS::IAM::Role", f"role-{n % 4}"),) if name == "GetRole" else ())
        record = {"eventName": name, "eventSource": "iam.amazonaws.com", "readOnly": True, "requestID": f"r{n}"}
        region = "us-east-1" if n % 5 else "eu-west-1"
        out.append(draft_of(record, account_id=ACCOUNT, region=region, event_time=T0 + n // 7, username=user,
                            access_key_id=f"AKIA{user.upper()}", resources=resources))
    return out


def _found(db: Database, region: str, attribute: str, value: str) -> list[int]:
    return [seq for _, seq in postings.find(db, ACCOUNT, region, attribute, value, 0, T0 + 100, None, 1000)]


def _every_lookup(db: Database) -> dict[tuple[str, str, str], list[int]]:
    keys = [("", ""), ("Username", "alice"), ("Username", "bob"), ("Username", "carol"), ("EventName", "GetRole"),
            ("EventName", "ListRoles"), ("ReadOnly", "true"), ("AccessKeyId", "AKIABOB"),
            ("ResourceName", "role-2"), ("ResourceType", "AWS::IAM::Role"), ("EventSource", "iam.amazonaws.com")]
    return {(region, a, v): _found(db, region, a, v) for region in ("us-east-1", "eu-west-1") for a, v in keys}


def test_events_indexed_after_writing_are_found_as_when_written_indexed(tmp_path: Path) -> None:
    later = Database(tmp_path / "later.db")
    drafts = _drafts()
    assert store.write_events(later, drafts[:25]) == 25
    assert store.write_events(later, drafts[25:]) == 35
    assert store.indexed_seq(later) == 0
    assert store.index_events(later, limit=40) == 40  # two rounds, as the recorder's flush runs them
    assert store.index_events(later) == 20
    assert store.index_events(later) == 0 and store.indexed_seq(later) == 60

    at_once = Database(tmp_path / "at_once.db")
    assert store.append(at_once, drafts) == 60
    found = _every_lookup(later)
    assert found == _every_lookup(at_once)

    seqs = {region: [n + 1 for n in range(60) if (region == "us-east-1") == bool(n % 5)]
            for region in ("us-east-1", "eu-west-1")}
    assert found[("us-east-1", "", "")] == sorted(seqs["us-east-1"], reverse=True)  # newest first
    assert found[("eu-west-1", "Username", "alice")] == sorted(
        (s for s in seqs["eu-west-1"] if (s - 1) % 3 == 0), reverse=True)
    assert found[("us-east-1", "ResourceName", "role-2")] == sorted(
        (s for s in seqs["us-east-1"] if (s - 1) % 2 == 0 and (s - 1) % 4 == 2), reverse=True)
    assert found[("us-east-1", "AccessKeyId", "AKIABOB")] == sorted(
        (s for s in seqs["us-east-1"] if (s - 1) % 3 == 1), reverse=True)


# -- events not indexed yet (what LookupEvents copied just before it looks) ---------------------------------------

KEYS = [("", ""), ("Username", "alice"), ("EventName", "GetRole"), ("EventName", "DeleteRole"), ("ReadOnly", "true"),
        ("ReadOnly", "false"), ("AccessKeyId", "AKIABOB"), ("ResourceName", "role-2"),
        ("ResourceType", "AWS::IAM::Role"), ("EventSource", "iam.amazonaws.com"), ("Username", "nobody"),
        ("EventId", "not-a-list")]


def _with_late_ones() -> list[Draft]:
    """:func:`_drafts`, then events whose times go back (a clock set back: older than events written before)."""
    late = []
    for n in range(12):
        record = {"eventName": "DeleteRole", "eventSource": "iam.amazonaws.com", "readOnly": False,
                  "requestID": f"late{n}"}
        late.append(draft_of(record, account_id=ACCOUNT, region="us-east-1", event_time=T0 + 8 - n, username="alice",
                             access_key_id="AKIABOB", resources=(("AWS::IAM::Role", "role-2"),)))
    return _drafts() + late


def _lookups(db: Database, limit: int, before: tuple[int, int] | None) -> dict[tuple[str, str], list[Any]]:
    return {(attribute, value): store.find(db, ACCOUNT, "us-east-1", attribute, value, T0 + 1, T0 + 7, before, limit)
            for attribute, value in KEYS}


def test_events_not_indexed_yet_are_found_as_if_they_were(tmp_path: Path) -> None:
    """store.find over events of which only the oldest have their lookup entries gives what it gives once all
    have them, whatever the page size, cursor and time range: every key, values nobody has, times that go back."""
    drafts = _with_late_ones()
    indexed = Database(tmp_path / "indexed.db")
    assert store.append(indexed, drafts) == 72
    cursors = [None, (T0 + 5, 40), (T0 + 3, 1000), (T0 + 7, 1)]
    expected = {(limit, cursor): _lookups(indexed, limit, cursor) for limit in (1, 3, 51) for cursor in cursors}
    assert len(expected[(51, None)][("", "")]) > 10 and expected[(51, None)][("Username", "nobody")] == []
    for split in (0, 1, 30, 59, 65, 72):
        partly = Database(tmp_path / f"partly-{split}.db")
        assert store.append(partly, drafts[:split]) == split
        assert store.write_events(partly, drafts[split:]) == 72 - split
        assert store.indexed_seq(partly) == split and store.unindexed(partly) == 72 - split
        for (limit, cursor), found in expected.items():
            assert _lookups(partly, limit, cursor) == found, (split, limit, cursor)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(split=st.integers(0, 72), limit=st.integers(1, 80), start=st.integers(0, 12), length=st.integers(0, 12),
       cursor=st.none() | st.tuples(st.integers(T0, T0 + 12), st.integers(0, 80)))
def test_a_lookup_over_partly_indexed_events_is_the_lookup_over_indexed_ones(
        tmp_path_factory: Any, split: int, limit: int, start: int, length: int, cursor: tuple[int, int] | None) -> None:
    drafts = _with_late_ones()
    folder = tmp_path_factory.mktemp("partly")
    indexed, partly = Database(folder / "indexed.db"), Database(folder / "partly.db")
    store.append(indexed, drafts)
    store.append(partly, drafts[:split])
    store.write_events(partly, drafts[split:])
    for attribute, value in KEYS:
        args = (ACCOUNT, "us-east-1", attribute, value, T0 + start, T0 + start + length, cursor, limit)
        assert store.find(partly, *args) == store.find(indexed, *args)


def test_a_batch_whose_times_go_back_is_indexed_once(tmp_path: Path) -> None:
    """A call answered after a later one is written after it with an earlier time: the index still knows it has
    both, so the next indexing adds neither again and a lookup lists each once."""
    db = Database(tmp_path / "events.db")
    record = {"eventName": "GetRole", "eventSource": "iam.amazonaws.com", "readOnly": True, "requestID": "r"}
    drafts = [draft_of(record, account_id=ACCOUNT, region="us-east-1", event_time=T0 + 1 - n, username="alice",
                       access_key_id="AKIAALICE", resources=()) for n in range(2)]
    assert store.write_events(db, drafts) == 2
    assert store.index_events(db) == 2 and store.indexed_seq(db) == 2
    assert store.index_events(db) == 0
    assert store.append(db, drafts[:1]) == 1 and store.indexed_seq(db) == 3
    assert _found(db, "us-east-1", "", "") == [3, 1, 2]
    assert _found(db, "us-east-1", "Username", "alice") == [3, 1, 2]


def test_indexing_that_another_process_overtakes_adds_nothing_twice(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """index_events works the lists out before it takes the writer lock; when another process indexes the same
    events meanwhile, it starts again under the lock, so no event is listed twice."""
    events_module = importlib.import_module("turnout.services.cloudtrail.store.events")  # the package's "events"
    path = tmp_path / "events.db"
    ours, theirs = Database(path), Database(path)
    drafts = _drafts()
    assert store.write_events(ours, drafts[:40]) == 40
    real = events_module._lookup_lists
    overtaken = []

    def overtaking(rows: Any) -> Any:
        if not overtaken:  # the other process indexes the first 25 while we work out ours
            overtaken.append(0)
            overtaken[0] = store.index_events(theirs, limit=25)
        return real(rows)

    monkeypatch.setattr(events_module, "_lookup_lists", overtaking)
    assert store.index_events(ours) == 15 and overtaken == [25]
    assert store.indexed_seq(ours) == 40
    expected = Database(tmp_path / "at_once.db")
    store.append(expected, drafts[:40])
    assert _every_lookup(ours) == _every_lookup(expected)
