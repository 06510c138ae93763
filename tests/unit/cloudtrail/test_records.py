"""CloudTrail records in process: the record built for each kind of caller (service principals and calls a
service makes with a customer's role included), request/response elements and their secrets, cross-account
events, the event id codec, the posting lists against a brute-force search, and the recorder's loss counting."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from turnout.core.principal import Principal
from turnout.services.cloudtrail import store
from turnout.services.cloudtrail.elements import HIDDEN, java_time, lower_first, request_parameters
from turnout.services.cloudtrail.recorder import CloudTrailRecorder, recorder_of
from turnout.services.cloudtrail.records import drafts
from turnout.services.cloudtrail.resources import resource
from turnout.services.cloudtrail.store import postings
from turnout.wire.models import SERVICES

from ..authz_support import InProcess, allow

ACCOUNT = "000000000000"
OTHER = "111111111111"
ECS = "ecs.amazonaws.com"


def trust(principal: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def env(tmp_path: Path) -> InProcess:
    return InProcess(tmp_path / "data")


def records_of(env: InProcess, **attribute: str) -> list[dict[str, Any]]:
    """The records LookupEvents finds in ACCOUNT/us-east-1 (newest first), for one attribute if given."""
    lookups = [{"AttributeKey": k, "AttributeValue": v} for k, v in attribute.items()]
    events = env.client("cloudtrail").lookup_events(LookupAttributes=lookups)["Events"]
    return [json.loads(event["CloudTrailEvent"]) for event in events]


# -- callers ---------------------------------------------------------------------------------------------------


def test_a_service_principal_assuming_a_role_and_calling_with_it(env: InProcess) -> None:
    iam = env.client("iam")
    role = iam.create_role(RoleName="infra", AssumeRolePolicyDocument=trust({"Service": ECS}))["Role"]
    iam.put_role_policy(RoleName="infra", PolicyName="elb",
                        PolicyDocument=json.dumps(allow("elasticloadbalancing:Describe*")))
    params = {"RoleArn": role["Arn"], "RoleSessionName": "ECSNetworkingWithELB"}
    assumed = env.gateway.invoke("sts", "AssumeRole", params, Principal.service(ECS), invoked_by=ECS)
    assert assumed.error is None and assumed.result is not None
    key = assumed.result["Credentials"]["AccessKeyId"]

    record = records_of(env, EventName="AssumeRole")[0]
    assert record["userIdentity"] == {"type": "AWSService", "invokedBy": ECS}
    assert (record["sourceIPAddress"], record["userAgent"], record["eventSource"]) == (ECS, ECS, "sts.amazonaws.com")
    assert record["recipientAccountId"] == ACCOUNT and "sharedEventID" not in record
    assert record["requestParameters"] == {"roleArn": role["Arn"], "roleSessionName": "ECSNetworkingWithELB"}
    credentials_element = record["responseElements"]["credentials"]
    assert credentials_element["accessKeyId"] == key
    assert "secretAccessKey" not in credentials_element and "sessionToken" not in credentials_element
    assert credentials_element["expiration"].endswith((" AM", " PM"))
    assert record["responseElements"]["assumedRoleUser"] == {
        "assumedRoleId": f"{role['RoleId']}:ECSNetworkingWithELB",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/infra/ECSNetworkingWithELB",
    }
    assert record["resources"] == [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role["Arn"]}]
    assert record["readOnly"] is False and record["eventVersion"] == "1.11"

    # ECS calling ELB with the session: the assumed role, and invokedBy.
    session = env.gateway.credentials.resolve(key).principal
    call = env.gateway.invoke("elbv2", "DescribeTargetGroups", {}, session, invoked_by=ECS)
    assert call.error is None
    found = env.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "ECSNetworkingWithELB"}])["Events"]
    assert [e["EventName"] for e in found] == ["DescribeTargetGroups", "AssumeRole"]
    assert found[0]["AccessKeyId"] == key and found[0]["EventSource"] == "elasticloadbalancing.amazonaws.com"
    record = json.loads(found[0]["CloudTrailEvent"])
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole" and identity["invokedBy"] == ECS
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/infra/ECSNetworkingWithELB"
    assert identity["principalId"] == f"{role['RoleId']}:ECSNetworkingWithELB"
    assert identity["accessKeyId"] == key and identity["accountId"] == ACCOUNT
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": role["RoleId"], "arn": role["Arn"], "accountId": ACCOUNT, "userName": "infra"}
    attributes = identity["sessionContext"]["attributes"]
    assert attributes["mfaAuthenticated"] == "false"
    datetime.strptime(attributes["creationDate"], "%Y-%m-%dT%H:%M:%SZ")
    assert (record["sourceIPAddress"], record["userAgent"], record["awsRegion"]) == (ECS, ECS, "us-east-1")
    assert record["readOnly"] is True and record["responseElements"] is None and record["requestParameters"] is None


def test_a_record_built_for_an_internal_context(env: InProcess) -> None:
    """The record of a context with ``invoked_by`` set and an AWSService principal, built directly."""
    iam = env.client("iam")
    role = iam.create_role(RoleName="infra", AssumeRolePolicyDocument=trust({"Service": ECS}))["Role"]
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    env.gateway.recorders.remove(recorder)  # build the draft ourselves
    ctx = env.gateway.invoke("sts", "AssumeRole", {"RoleArn": role["Arn"], "RoleSessionName": "ecs-service-scheduler"},
                             Principal.service(ECS), invoked_by=ECS)
    built = drafts(ctx)
    assert len(built) == 1
    draft = built[0]
    assert (draft.account_id, draft.region, draft.username, draft.access_key_id) == (
        ACCOUNT, "us-east-1", "ecs-service-scheduler", None)
    assert draft.event_time == int(ctx.received_at.timestamp())
    record = draft.record("0f0e5b52-0000-4000-8000-000000000001")
    assert record["eventID"] == "0f0e5b52-0000-4000-8000-000000000001" and record["requestID"] == ctx.request_id
    assert record["eventTime"] == ctx.received_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert record["userIdentity"] == {"type": "AWSService", "invokedBy": ECS}
    assert ("", "") in draft.lookups and ("ResourceName", "infra") in draft.lookups
    assert ("Username", "ecs-service-scheduler") in draft.lookups
    assert json.loads(draft.resources) == [["AWS::IAM::Role", "infra"]]


def test_iam_user_root_and_errors(env: InProcess) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = env.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as info:
        alice.get_role(RoleName="nope")
    message = info.value.response["Error"]["Message"]
    record = records_of(env, Username="alice")[0]
    assert record["userIdentity"] == {
        "type": "IAMUser", "principalId": record["userIdentity"]["principalId"],
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice", "accountId": ACCOUNT, "accessKeyId": key["AccessKeyId"],
        "userName": "alice"}
    assert record["userIdentity"]["principalId"].startswith("AIDA")
    assert (record["errorCode"], record["errorMessage"]) == ("AccessDenied", message)
    assert message.startswith(f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: iam:GetRole")
    assert record["responseElements"] is None and record["requestParameters"] == {"roleName": "nope"}

    root = records_of(env, EventName="CreateAccessKey")[0]
    assert root["userIdentity"] == {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                                    "accountId": ACCOUNT, "accessKeyId": "test"}
    element = root["responseElements"]["accessKey"]
    assert element["accessKeyId"] == key["AccessKeyId"] and element["userName"] == "alice"
    assert "secretAccessKey" not in element and key["SecretAccessKey"] not in json.dumps(root)
    events = env.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateAccessKey"}])["Events"]
    assert events[0]["Username"] == "root" and events[0]["AccessKeyId"] == "test"


def test_cross_account_assume_role_is_recorded_in_both_accounts(env: InProcess) -> None:
    theirs = env.client("iam", OTHER, "test")
    role = theirs.create_role(RoleName="shared", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    ours = env.client("iam")
    ours.create_user(UserName="bob")
    ours.put_user_policy(UserName="bob", PolicyName="assume", PolicyDocument=json.dumps(allow("sts:AssumeRole")))
    key = ours.create_access_key(UserName="bob")["AccessKey"]
    env.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
        RoleArn=role["Arn"], RoleSessionName="visit")
    mine = records_of(env, EventName="AssumeRole")
    trail_of_other = env.client("cloudtrail", OTHER, "test").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])["Events"]
    assert len(mine) == 1 and len(trail_of_other) == 1
    theirs_record = json.loads(trail_of_other[0]["CloudTrailEvent"])
    assert mine[0]["recipientAccountId"] == ACCOUNT and theirs_record["recipientAccountId"] == OTHER
    assert mine[0]["sharedEventID"] == theirs_record["sharedEventID"]
    assert mine[0]["eventID"] != theirs_record["eventID"]
    assert theirs_record["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/bob"
    assert trail_of_other[0]["Username"] == "bob"


# -- elements ---------------------------------------------------------------------------------------------------


def test_elements_names_times_and_secrets() -> None:
    assert lower_first("RoleName") == "roleName" and lower_first("DBInstanceIdentifier") == "dBInstanceIdentifier"
    assert java_time(datetime(2026, 11, 29, 4, 31, 59, tzinfo=UTC)) == "Nov 29, 2026, 4:31:59 AM"
    assert java_time(datetime(2026, 1, 2, 12, 0, 5, tzinfo=UTC)) == "Jan 2, 2026, 12:00:05 PM"
    assert java_time(datetime(2026, 1, 2, 0, 7, 0, tzinfo=UTC)) == "Jan 2, 2026, 12:07:00 AM"
    iam = SERVICES["iam"].model
    login = request_parameters(iam.operation_model("CreateLoginProfile"),
                               {"UserName": "u", "Password": "s3cret!", "PasswordResetRequired": True})
    assert login == {"userName": "u", "password": HIDDEN, "passwordResetRequired": True}
    tags = request_parameters(iam.operation_model("CreateRole"), {
        "RoleName": "r", "AssumeRolePolicyDocument": "{}", "Tags": [{"Key": "k", "Value": "v"}]})
    assert tags == {"roleName": "r", "assumeRolePolicyDocument": "{}", "tags": [{"key": "k", "value": "v"}]}
    assert request_parameters(iam.operation_model("ListRoles"), {}) is None


def test_create_role_response_elements(env: InProcess) -> None:
    document = trust({"Service": ECS})
    env.client("iam").create_role(RoleName="r1", AssumeRolePolicyDocument=document, Path="/app/")
    record = records_of(env, EventName="CreateRole")[0]
    assert record["requestParameters"] == {"path": "/app/", "roleName": "r1", "assumeRolePolicyDocument": document}
    role = record["responseElements"]["role"]
    assert role["arn"] == f"arn:aws:iam::{ACCOUNT}:role/app/r1" and role["roleName"] == "r1"
    assert role["assumeRolePolicyDocument"].startswith("%7B%22Version%22")  # IAM answers documents URL-encoded
    datetime.strptime(role["createDate"], "%b %d, %Y, %I:%M:%S %p")
    assert record["resources"] == [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role["arn"]}]


def test_resource_types_and_names() -> None:
    cases = {
        f"arn:aws:iam::{ACCOUNT}:role/app/r1": ("AWS::IAM::Role", "r1", ACCOUNT),
        "arn:aws:iam::aws:policy/ReadOnlyAccess": ("AWS::IAM::Policy", "arn:aws:iam::aws:policy/ReadOnlyAccess", ""),
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-0123": ("AWS::EC2::SecurityGroup", "sg-0123", ACCOUNT),
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-1": ("AWS::EC2::VPC", "vpc-1", ACCOUNT),
        f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/tg/0123": (
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/tg/0123", ACCOUNT),
        f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/c/s": (
            "AWS::ECS::Service", f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/c/s", ACCOUNT),
    }
    for arn, (rtype, name, account) in cases.items():
        found = resource(arn)
        assert found is not None and (found.type, found.name, found.account_id) == (rtype, name, account), arn
    assert resource(f"arn:aws:iam::{ACCOUNT}:role/*") is None and resource("*") is None


# -- the store ---------------------------------------------------------------------------------------------------


def test_event_ids_encode_their_seq() -> None:
    for seq in (1, 2, 999, 123_456_789, (1 << 48) - 1):
        eid = store.event_ids(seq, 1)[0]
        assert len(eid) == 36 and eid[14] == "4" and eid[19] in "89ab"
        assert store.seq_of(eid) == seq
    assert store.event_ids(5, 1)[0] != store.event_ids(5, 1)[0]
    assert store.seq_of("not-an-id") is None


def test_event_ids_made_together_are_each_a_fresh_version_4_uuid_of_its_seq() -> None:
    made = store.event_ids(1_000, 500)
    assert [store.seq_of(eid) for eid in made] == list(range(1_000, 1_500))
    assert all(len(eid) == 36 and eid[14] == "4" and eid[19] in "89ab" for eid in made)
    assert len({eid[:23] for eid in made}) == 500  # the random part differs from id to id
    assert {eid[19] for eid in made} == set("89ab")  # every variant digit occurs: its bits are random too
    assert store.event_ids(7, 0) == []


def test_postings_find_what_a_full_scan_finds(tmp_path: Path) -> None:
    """Random batches (some out of time order) against a brute-force search, page after page."""
    from turnout.store.db import Database

    db = Database(tmp_path / "p.db")
    rng = random.Random(11)
    everything: dict[tuple[str, str], list[tuple[int, int]]] = {}
    seq, now = 0, 1_800_000_000
    for _ in range(60):
        scoped: postings.Scoped = {("a", "r"): {}}
        for _ in range(rng.randrange(1, 400)):
            seq += 1
            now += rng.choice((0, 0, 0, 1, 2, 30))
            when = now - rng.randrange(0, 4000) if rng.random() < 0.05 else now  # a few arrive late
            for value in ("", rng.choice("xyz")):
                attribute = "" if value == "" else "Username"
                scoped[("a", "r")].setdefault((attribute, value), []).append((when, seq))
                everything.setdefault((attribute, value), []).append((when, seq))
        with db.transaction():
            postings.write(db, scoped)
    for (attribute, value), pairs in everything.items():
        ordered = sorted(pairs, reverse=True)
        for start, end in ((0, 1 << 40), (now - 3000, now - 100)):
            expected = [p for p in ordered if start <= p[0] <= end]
            got: list[tuple[int, int]] = []
            before = None
            while True:
                page = postings.find(db, "a", "r", attribute, value, start, end, before, 37)
                got.extend(page)
                if len(page) < 37:
                    break
                before = page[-1]
            assert got == expected, (attribute, value, start, end)
    assert postings.find(db, "a", "other", "", "", 0, 1 << 40, None, 10) == []
    assert postings.decode(postings.encode([(5, 1), (5, 2), (9, 7)])) == [(5, 1), (5, 2), (9, 7)]


def test_events_after_reads_in_seq_order(env: InProcess) -> None:
    iam = env.client("iam")
    iam.list_roles()
    iam.list_roles()  # the second is written from the shared shape of the first
    iam.create_user(UserName="carol")
    batch = store.events_after(env.gateway.db, 0, 100)
    assert [e.record["eventName"] for e in batch] == ["ListRoles", "ListRoles", "CreateUser"]
    assert [e.seq for e in batch] == sorted(e.seq for e in batch)
    first, second = batch[0], batch[1]
    assert first.record["requestID"] != second.record["requestID"] and first.record["eventID"] != second.record[
        "eventID"]
    assert first.read_only and not batch[2].read_only and first.account_id == ACCOUNT and first.region == "us-east-1"
    assert first.event_time.tzinfo is not None
    assert first.record["eventTime"] == first.event_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert store.events_after(env.gateway.db, batch[1].seq, 100)[0].seq == batch[2].seq
    assert store.last_seq(env.gateway.db) == batch[2].seq


# -- the recorder ------------------------------------------------------------------------------------------------


def test_a_recorder_behind_or_broken_loses_events_not_calls(env: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = recorder_of(env.gateway)
    assert isinstance(recorder, CloudTrailRecorder)
    iam = env.client("iam")
    recorder.auto_flush = False
    recorder.max_pending = 2
    for _ in range(4):  # calls made in process wait in the recorder (HTTP calls write theirs at once)
        env.gateway.invoke("iam", "ListRoles", {}, Principal.root(ACCOUNT))
    assert recorder.stats() == {"recorded": 0, "dropped": 2, "pending": 2}
    assert recorder.flush() == 2 and recorder.stats() == {"recorded": 2, "dropped": 2, "pending": 0}

    def broken(db: Any, drafts: Any) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "write_events", broken)
    recorder.auto_flush = True
    assert iam.list_roles()["Roles"] == []  # the call is answered
    assert recorder.stats() == {"recorded": 2, "dropped": 3, "pending": 0}


def test_an_internal_call_inside_a_transaction_is_written_after_it(env: InProcess) -> None:
    recorder = recorder_of(env.gateway)
    assert recorder is not None
    with env.gateway.db.transaction():
        env.gateway.invoke("iam", "ListRoles", {}, Principal.root(ACCOUNT))
        assert recorder.pending == 1  # not written inside another call's transaction
    env.client("iam").list_users()
    assert recorder.pending == 0
    assert [r["eventName"] for r in records_of(env)][-2:] == ["ListUsers", "ListRoles"]


def test_shape_keys_tell_lists_structures_and_order_apart() -> None:
    from turnout.services.cloudtrail import records

    assert records._frozen([["a", 1]]) != records._frozen({"a": 1})
    assert records._frozen(["a", "b"]) != records._frozen(["b", "a"])
    assert records._frozen({"b": [1], "a": "x"}) == records._frozen({"a": "x", "b": [1]})
    with pytest.raises(records._Unkeyed):
        records._frozen({"at": datetime(2026, 1, 1, tzinfo=UTC)})
