"""Indexing written events (store.index_events): events of different callers and calls, interleaved, are each
found by every value they carry, in order, and by nothing else; the same as when written indexed (store.append)."""

from __future__ import annotations

from pathlib import Path

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
