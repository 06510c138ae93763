"""CloudTrail never loses an event to another one (issue 11, finding 2): a call whose record holds text the
database cannot store (a lone UTF-16 surrogate) is recorded with that text escaped, and the calls batched with it
are all written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from turnout.core.principal import Principal
from turnout.services.cloudtrail import store
from turnout.services.cloudtrail.recorder import CloudTrailRecorder, recorder_of
from turnout.services.cloudtrail.records import draft_of

from ..authz_support import InProcess

ACCOUNT = "000000000000"
HOSTILE = "\ud800"  # a lone surrogate: valid in a Python str (and in JSON as an escape), with no UTF-8 form


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def _recorder(env: InProcess) -> CloudTrailRecorder:
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    return recorder


def _records(env: InProcess, name: str) -> list[dict[str, Any]]:
    cloudtrail = env.client("cloudtrail")
    pages = cloudtrail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
    return [json.loads(event["CloudTrailEvent"]) for page in pages for event in page["Events"]]


def test_a_hostile_call_batched_with_others_costs_no_event(env: InProcess) -> None:
    recorder = _recorder(env)
    recorder.auto_flush = False  # as in the server: calls made in process wait for the next HTTP call's write
    root = Principal.root(ACCOUNT)
    names = [f"user-{n}" for n in range(40)]
    for index, name in enumerate(names):
        env.gateway.invoke("iam", "CreateUser", {"UserName": name}, root)
        if index % 10 == 5:
            # The probe sent this between root's CreateUser calls. Through HTTP the JSON front end now
            # refuses the surrogate, so the call is made in process, where nothing stands before the recorder.
            env.gateway.invoke("ecs", "DescribeClusters", {"clusters": [HOSTILE]}, root)
    assert recorder.pending == 44
    env.client("iam").list_users()  # an HTTP read: its event is written with the 44 queued, in one transaction
    assert recorder.stats() == {"recorded": 45, "dropped": 0, "pending": 0}

    created = _records(env, "CreateUser")
    assert sorted(r["requestParameters"]["userName"] for r in created) == sorted(names)
    hostile = _records(env, "DescribeClusters")
    assert len(hostile) == 4
    # Escaped, not replaced: the record shows the six characters \ud800 where the surrogate was.
    assert {json.dumps(r["requestParameters"]) for r in hostile} == {'{"clusters": ["\\\\ud800"]}'}
    assert all(r["requestParameters"]["clusters"] == ["\\ud800"] for r in hostile)


def test_an_event_the_store_refuses_is_lost_alone(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = _recorder(env)
    recorder.auto_flush = False
    root = Principal.root(ACCOUNT)
    env.gateway.invoke("iam", "CreateUser", {"UserName": "before"}, root)
    env.gateway.invoke("iam", "ListRoles", {}, root)
    env.gateway.invoke("iam", "CreateUser", {"UserName": "after"}, root)
    real = store.write_events

    def refuse_list_roles(db: Any, drafts: Any) -> int:
        drafts = list(drafts)
        if any(draft.event_name == "ListRoles" for draft in drafts):
            raise RuntimeError("this event cannot be written")
        return real(db, drafts)

    monkeypatch.setattr(store, "write_events", refuse_list_roles)
    assert recorder.flush() == 2
    assert recorder.stats() == {"recorded": 2, "dropped": 1, "pending": 0}
    monkeypatch.setattr(store, "write_events", real)
    assert sorted(r["requestParameters"]["userName"] for r in _records(env, "CreateUser")) == ["after", "before"]


def test_escaped_drafts_keep_every_field_storable(tmp_path: Path) -> None:
    record = {"eventTime": "", "eventName": "Describe" + HOSTILE, "eventSource": "ecs.amazonaws.com",
              "requestID": "r-1",
              "requestParameters": {"clusters": [HOSTILE + "x"], "ok": "é漢"}, "readOnly": True}
    draft = draft_of(record, account_id=ACCOUNT, region="us-east-1", event_time=1_700_000_000,
                     username="u" + HOSTILE, access_key_id=None, resources=(("AWS::ECS::Cluster", HOSTILE),))
    escaped = draft.escaped()
    for value in (escaped.username, escaped.resources, escaped.event_name, *escaped.parts,
                  *(text for pair in escaped.lookups for text in pair)):
        assert value is not None
        value.encode("utf-8")  # would raise for a lone surrogate
    assert escaped.shape_id is None
    assert escaped.username == "u\\ud800"
    assert ("ResourceName", "\\ud800") in escaped.lookups
    loaded = escaped.record("id")
    assert loaded["requestParameters"] == {"clusters": ["\\ud800x"], "ok": "é漢"}
    assert loaded["eventName"] == "Describe\\ud800"
    assert json.loads(escaped.resources) == [["AWS::ECS::Cluster", "\\ud800"]]
