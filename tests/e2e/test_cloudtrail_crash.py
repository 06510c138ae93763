"""CloudTrail durability: a call that was answered has its event on disk, whatever happens next (kill -9).

Concurrent writers (threads, each with its own boto3 client) create IAM users and groups and note the request id
of every call that was answered; the server is killed with SIGKILL while they run; after a restart every noted
request id is in LookupEvents, and every acknowledged write is in IAM.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.conftest import Server

WRITERS = 6
KILL_AFTER = 240  # acknowledged calls before the kill (the writers keep going until it happens)


def _writer(server: Server, index: int, acked: list[tuple[str, str, str]], lock: threading.Lock,
            enough: threading.Event) -> None:
    iam = server.client("iam")
    n = 0
    while True:
        kind = "CreateUser" if n % 2 == 0 else "CreateGroup"
        name = f"crash-{index}-{n}"
        try:
            if kind == "CreateUser":
                answer: dict[str, Any] = iam.create_user(UserName=name)
            else:
                answer = iam.create_group(GroupName=name)
        except Exception:  # the server is gone: this call (and any after) was never acknowledged
            return
        with lock:
            acked.append((answer["ResponseMetadata"]["RequestId"], kind, name))
            if len(acked) >= KILL_AFTER:
                enough.set()
        n += 1


def _lookup_request_ids(server: Server, event_name: str) -> set[str]:
    trail = server.client("cloudtrail")
    found: set[str] = set()
    kwargs: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}],
                              "MaxResults": 50}
    while True:
        page = trail.lookup_events(**kwargs)
        for event in page["Events"]:
            found.add(json.loads(event["CloudTrailEvent"])["requestID"])
        token = page.get("NextToken")
        if not token:
            return found
        kwargs["NextToken"] = token


def test_every_acknowledged_call_is_in_the_trail_after_kill_minus_nine(fresh_server: Server) -> None:
    acked: list[tuple[str, str, str]] = []
    lock = threading.Lock()
    enough = threading.Event()
    threads = [threading.Thread(target=_writer, args=(fresh_server, i, acked, lock, enough), daemon=True)
               for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    assert enough.wait(120), "the writers did not get enough calls answered"
    fresh_server.kill()  # SIGKILL while the writers are still sending: no graceful shutdown, no final flush
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive()
    with lock:
        acknowledged = list(acked)
    assert len(acknowledged) >= KILL_AFTER

    fresh_server.start()
    recorded = _lookup_request_ids(fresh_server, "CreateUser") | _lookup_request_ids(fresh_server, "CreateGroup")
    missing = [(rid, kind, name) for rid, kind, name in acknowledged if rid not in recorded]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged calls are missing from CloudTrail"

    iam = fresh_server.client("iam")
    users = {u["UserName"] for page in iam.get_paginator("list_users").paginate() for u in page["Users"]}
    groups = {g["GroupName"] for page in iam.get_paginator("list_groups").paginate() for g in page["Groups"]}
    assert {name for _, kind, name in acknowledged if kind == "CreateUser"} <= users
    assert {name for _, kind, name in acknowledged if kind == "CreateGroup"} <= groups
