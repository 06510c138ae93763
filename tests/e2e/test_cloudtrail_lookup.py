"""LookupEvents through a real server: every lookup attribute, the time range, pagination walking every event
exactly once, NextToken bound to its query, AWS's errors, Insights, and per-account isolation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, grant

ACCOUNT = "000000000000"


@pytest.fixture
def cloudtrail(server: Server) -> Any:
    return server.client("cloudtrail")


def only(key: str, value: str) -> list[dict[str, str]]:
    return [{"AttributeKey": key, "AttributeValue": value}]


def error_of(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def actor(server: Server, iam: Any, unique: Callable[[str], str]) -> dict[str, Any]:
    """An IAM user that made 3 GetUser, 2 ListRoles and a denied DeleteRole, and a role it tagged twice."""
    name, role = unique("actor"), unique("target")
    iam.create_user(UserName=name)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))
    grant(iam, ["iam:GetUser", "iam:ListRoles", "iam:TagRole"], user=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    client = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    for _ in range(3):
        client.get_user()
    client.list_roles(MaxItems=1)
    client.tag_role(RoleName=role, Tags=[{"Key": "a", "Value": "1"}])
    client.list_roles(MaxItems=1)
    client.tag_role(RoleName=role, Tags=[{"Key": "b", "Value": "2"}])
    with pytest.raises(ClientError):
        client.delete_role(RoleName=role)
    return {"name": name, "role": role, "key": key["AccessKeyId"]}


def test_each_lookup_attribute(cloudtrail: Any, actor: dict[str, Any]) -> None:
    events = cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"]))["Events"]
    names = ["DeleteRole", "TagRole", "ListRoles", "TagRole", "ListRoles", "GetUser", "GetUser", "GetUser"]
    assert [e["EventName"] for e in events] == names
    assert all(e["Username"] == actor["name"] and e["AccessKeyId"] == actor["key"] for e in events)
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True) and all(t.tzinfo is not None for t in times)
    assert [e["ReadOnly"] for e in events] == ["false", "false", "true", "false", "true", "true", "true", "true"]

    by_key = cloudtrail.lookup_events(LookupAttributes=only("AccessKeyId", actor["key"]))["Events"]
    assert [e["EventId"] for e in by_key] == [e["EventId"] for e in events]

    # Resources: the role, by name and by type (the type is shared with other tests' events).
    on_role = cloudtrail.lookup_events(LookupAttributes=only("ResourceName", actor["role"]))["Events"]
    assert [e["EventName"] for e in on_role] == ["DeleteRole", "TagRole", "TagRole", "CreateRole"]
    assert on_role[0]["Resources"] == [{"ResourceType": "AWS::IAM::Role", "ResourceName": actor["role"]}]
    typed = cloudtrail.lookup_events(LookupAttributes=only("ResourceType", "AWS::IAM::Role"), MaxResults=50)["Events"]
    assert typed and all(any(r["ResourceType"] == "AWS::IAM::Role" for r in e["Resources"]) for e in typed)
    assert events[0]["EventId"] in {e["EventId"] for e in typed}

    # Writes only: the reads of the user are left out.
    writes = cloudtrail.lookup_events(LookupAttributes=only("ReadOnly", "false"), MaxResults=50)["Events"]
    assert all(e["ReadOnly"] == "false" for e in writes)
    mine = [e["EventName"] for e in writes if e.get("Username") == actor["name"]]
    assert mine == ["DeleteRole", "TagRole", "TagRole"]
    reads = cloudtrail.lookup_events(LookupAttributes=only("ReadOnly", "true"), MaxResults=50)["Events"]
    assert reads and all(e["ReadOnly"] == "true" for e in reads)

    for key, value in (("EventName", "TagRole"), ("EventSource", "iam.amazonaws.com")):
        found = cloudtrail.lookup_events(LookupAttributes=only(key, value), MaxResults=50)["Events"]
        assert found and all(e[key] == value for e in found)
    tagged = cloudtrail.lookup_events(LookupAttributes=only("EventName", "TagRole"), MaxResults=50)["Events"]
    assert events[1]["EventId"] in {e["EventId"] for e in tagged}

    one = cloudtrail.lookup_events(LookupAttributes=only("EventId", events[3]["EventId"]))["Events"]
    assert one == [events[3]]
    record = json.loads(one[0]["CloudTrailEvent"])
    assert record["eventID"] == events[3]["EventId"] and record["requestParameters"]["tags"] == [
        {"key": "a", "value": "1"}]
    assert cloudtrail.lookup_events(LookupAttributes=only("EventId", "b2b6b1b4-0000-4000-8000-000000000000"))[
        "Events"] == []
    # Values match exactly, case included.
    assert cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"].upper()))["Events"] == []


def test_pagination_walks_every_event_exactly_once(cloudtrail: Any, actor: dict[str, Any]) -> None:
    expected = [e["EventId"] for e in cloudtrail.lookup_events(
        LookupAttributes=only("Username", actor["name"]))["Events"]]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"LookupAttributes": only("Username", actor["name"]), "MaxResults": 3}
        if token:
            kwargs["NextToken"] = token
        page = cloudtrail.lookup_events(**kwargs)
        pages += 1
        assert len(page["Events"]) <= 3
        seen.extend(e["EventId"] for e in page["Events"])
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == expected and len(expected) == 8 and pages == 3
    # The paginator (MaxResults changing between pages is allowed).
    paginator = cloudtrail.get_paginator("lookup_events")
    walked = [e["EventId"] for page in paginator.paginate(LookupAttributes=only("Username", actor["name"]),
                                                            PaginationConfig={"PageSize": 5}) for e in page["Events"]]
    assert walked == expected


def test_next_token_is_bound_to_its_query(cloudtrail: Any, actor: dict[str, Any]) -> None:
    first = cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"]), MaxResults=2)
    token = first["NextToken"]
    assert cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"]), MaxResults=5,
                                    NextToken=token)["Events"]
    invalid = ("InvalidNextTokenException", "The NextToken is not valid for this request.", 400)
    assert error_of(lambda: cloudtrail.lookup_events(LookupAttributes=only("Username", "someone-else"),
                                                     NextToken=token)) == invalid
    assert error_of(lambda: cloudtrail.lookup_events(NextToken=token)) == invalid
    assert error_of(lambda: cloudtrail.lookup_events(
        LookupAttributes=only("Username", actor["name"]), StartTime=datetime(2026, 1, 1, tzinfo=UTC),
        NextToken=token)) == invalid
    assert error_of(lambda: cloudtrail.lookup_events(NextToken="not-a-token")) == invalid


def test_time_range(cloudtrail: Any, actor: dict[str, Any]) -> None:
    events = cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"]))["Events"]
    oldest, newest = events[-1]["EventTime"], events[0]["EventTime"]
    inside = cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"]), StartTime=oldest,
                                      EndTime=newest)["Events"]
    assert [e["EventId"] for e in inside] == [e["EventId"] for e in events]  # both ends included
    before = oldest - timedelta(seconds=1)
    assert cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"]), EndTime=before)["Events"] == []
    after = newest + timedelta(seconds=1)
    assert cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"]), StartTime=after)["Events"] == []
    # Beyond the 90 days of event history: accepted, read as 90 days ago.
    long_ago = datetime.now(UTC) - timedelta(days=200)
    assert len(cloudtrail.lookup_events(LookupAttributes=only("Username", actor["name"]),
                                        StartTime=long_ago)["Events"]) == 8


def test_errors(cloudtrail: Any) -> None:
    two = [{"AttributeKey": "Username", "AttributeValue": "a"}, {"AttributeKey": "EventName", "AttributeValue": "b"}]
    assert error_of(lambda: cloudtrail.lookup_events(LookupAttributes=two)) == (
        "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.", 400)
    assert error_of(lambda: cloudtrail.lookup_events(LookupAttributes=only("ReadOnly", "True"))) == (
        "InvalidLookupAttributesException", "Invalid value True for lookup attribute ReadOnly: specify true or false.",
        400)
    now = datetime.now(UTC)
    assert error_of(lambda: cloudtrail.lookup_events(StartTime=now, EndTime=now - timedelta(hours=1))) == (
        "InvalidTimeRangeException", "The start time must not be after the end time.", 400)
    code, message, status = error_of(lambda: cloudtrail.lookup_events(MaxResults=51))
    assert (code, status) == ("ValidationException", 400)
    assert message == ("1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: "
                       "Member must have value less than or equal to 50")


def test_insight_events(cloudtrail: Any, actor: dict[str, Any]) -> None:
    assert cloudtrail.lookup_events(EventCategory="insight")["Events"] == []
    assert cloudtrail.lookup_events(EventCategory="insight", LookupAttributes=only("EventName", "GetUser"))[
        "Events"] == []
    assert error_of(lambda: cloudtrail.lookup_events(EventCategory="insight",
                                                     LookupAttributes=only("Username", actor["name"]))) == (
        "InvalidLookupAttributesException", "The lookup attribute Username is not supported for Insights events.",
        400)


def test_events_belong_to_their_account_and_region(server: Server, actor: dict[str, Any]) -> None:
    other = server.client("cloudtrail", key="222222222222", secret="test")
    assert other.lookup_events(LookupAttributes=only("Username", actor["name"]))["Events"] == []
    west = server.client("cloudtrail", region="us-west-2")
    assert west.lookup_events(LookupAttributes=only("Username", actor["name"]))["Events"] == []
    # LookupEvents calls are events too (read-only ones).
    mine = server.client("cloudtrail", key="222222222222", secret="test").lookup_events(
        LookupAttributes=only("EventName", "LookupEvents"))["Events"]
    assert mine and mine[0]["Username"] == "root" and mine[0]["ReadOnly"] == "true"
    assert mine[0]["EventSource"] == "cloudtrail.amazonaws.com"
