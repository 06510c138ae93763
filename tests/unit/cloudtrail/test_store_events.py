"""The event store's reads for LookupEvents (``services/cloudtrail/store/events.py``): an event comes back as a
typed ``LookupEvent`` (resources decoded, the record's text whole, shared shapes or not), and an eventID leads to
its event only in its own account and region."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from turnout.services.cloudtrail import store
from turnout.services.cloudtrail.records import draft_of
from turnout.store.db import Database

ACCOUNT, REGION = "000000000000", "us-east-1"
T0 = 1_700_000_000


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "turnout.db")
    yield database
    database.close()


def _append(db: Database) -> None:
    # Records as recorded: eventTime, then requestID, then eventID (the store keeps a record's text in parts cut there).
    record = {"eventTime": "", "eventSource": "iam.amazonaws.com", "eventName": "GetRole",
              "requestParameters": {"roleName": "web"}, "requestID": "r1", "eventID": "", "readOnly": True}
    other = {"eventTime": "", "eventSource": "iam.amazonaws.com", "eventName": "CreateRole", "requestID": "r2",
             "eventID": "", "readOnly": False}
    store.append(db, [
        draft_of(record, account_id=ACCOUNT, region=REGION, event_time=T0, username="alice",
                 access_key_id="AKIAALICE", resources=(("AWS::IAM::Role", "web"),)),
        draft_of(other, account_id=ACCOUNT, region=REGION, event_time=T0 + 1, username=None, access_key_id=None),
    ])


def test_events_come_back_as_typed_lookup_events(db: Database) -> None:
    _append(db)
    found = store.events(db, [1, 2, 99])
    assert sorted(found) == [1, 2]
    first, second = found[1], found[2]
    assert isinstance(first, store.LookupEvent)
    assert (first.event_name, first.event_source, first.read_only) == ("GetRole", "iam.amazonaws.com", True)
    assert (first.username, first.access_key_id, first.event_time) == ("alice", "AKIAALICE", T0)
    assert first.resources == (("AWS::IAM::Role", "web"),)
    record = json.loads(first.record_text)
    assert record["eventID"] == first.event_id and record["requestParameters"] == {"roleName": "web"}
    assert (record["requestID"], record["eventTime"]) == ("r1", "2023-11-14T22:13:20Z")
    assert (second.read_only, second.username, second.access_key_id, second.resources) == (False, None, None, ())
    assert json.loads(second.record_text)["eventName"] == "CreateRole"
    assert store.events(db, []) == {}


def test_an_event_id_leads_to_its_event_in_its_account_and_region_only(db: Database) -> None:
    _append(db)
    eid = store.events(db, [2])[2].event_id
    assert store.by_event_id(db, ACCOUNT, REGION, eid) == (T0 + 1, 2)
    assert store.by_event_id(db, "111111111111", REGION, eid) is None
    assert store.by_event_id(db, ACCOUNT, "eu-west-1", eid) is None
    assert store.by_event_id(db, ACCOUNT, REGION, "not-an-event-id") is None
    assert store.by_event_id(db, ACCOUNT, REGION, store.event_ids(2, 1)[0]) is None  # right seq, not its id
