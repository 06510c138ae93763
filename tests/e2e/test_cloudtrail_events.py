"""CloudTrail recording through a real server: the seed's IAM steps with the AWS CLI, AccessDenied, role
sessions, secrets, regions, the health counters, and a graceful restart keeping every event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, assumer, grant

ACCOUNT = "000000000000"
POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
SEED_TRUST = (
    '{ "Version": "2012-10-17", "Statement": [ { "Sid": "AllowAccessToECSForInfrastructureManagement", '
    '"Effect": "Allow", "Principal": { "Service": "ecs.amazonaws.com" }, "Action": "sts:AssumeRole" } ] }'
)


def lookup(server: Server, key: str, value: str, region: str = "us-east-1", **client: Any) -> list[dict[str, Any]]:
    """Every event LookupEvents finds for one attribute (all pages), newest first."""
    cloudtrail = server.client("cloudtrail", region=region, **client)
    pages = cloudtrail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
    return [event for page in pages for event in page["Events"]]


def record(event: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(event["CloudTrailEvent"])
    return loaded


def aws(server: Server, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(cwd / "no-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(cwd / "no-credentials")}
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "awscli", *args, "--endpoint-url", server.endpoint, "--output",
                           "json"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_seed_steps_are_recorded(server: Server, tmp_path: Path, unique: Callable[[str], str]) -> None:
    role_name = unique("ecsInfrastructureRoleForLoadBalancers")
    (tmp_path / "ecs-infrastructure-trust-policy.json").write_text(SEED_TRUST + "\n")
    created = aws(server, tmp_path, "iam", "create-role", "--role-name", role_name, "--assume-role-policy-document",
                  "file://ecs-infrastructure-trust-policy.json")
    assert created.returncode == 0, created.stderr
    role = json.loads(created.stdout)["Role"]
    attached = aws(server, tmp_path, "iam", "attach-role-policy", "--role-name", role_name, "--policy-arn", POLICY_ARN)
    assert attached.returncode == 0, attached.stderr

    # Found by the role's name with the AWS CLI, newest first.
    found = aws(server, tmp_path, "cloudtrail", "lookup-events", "--lookup-attributes",
                f"AttributeKey=ResourceName,AttributeValue={role_name}")
    assert found.returncode == 0, found.stderr
    events = json.loads(found.stdout)["Events"]
    assert [e["EventName"] for e in events] == ["AttachRolePolicy", "CreateRole"]
    attach, create = events
    for event in events:
        assert (event["Username"], event["AccessKeyId"], event["EventSource"], event["ReadOnly"]) == (
            "root", "test", "iam.amazonaws.com", "false")
        # AWS CLI v1 prints timestamps as the service sends them: JSON services send epoch seconds.
        assert abs(event["EventTime"] - time.time()) < 300
    assert create["Resources"] == [{"ResourceType": "AWS::IAM::Role", "ResourceName": role_name}]
    assert attach["Resources"] == [{"ResourceType": "AWS::IAM::Role", "ResourceName": role_name},
                                   {"ResourceType": "AWS::IAM::Policy", "ResourceName": POLICY_ARN}]

    created_record = record(create)
    assert created_record["userIdentity"] == {"type": "Root", "principalId": ACCOUNT,
                                              "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT,
                                              "accessKeyId": "test"}
    assert (created_record["eventVersion"], created_record["eventName"], created_record["awsRegion"]) == (
        "1.11", "CreateRole", "us-east-1")
    assert created_record["userAgent"].startswith("aws-cli/")
    assert created_record["sourceIPAddress"] == "127.0.0.1"
    assert created_record["requestParameters"] == {"roleName": role_name,
                                                   "assumeRolePolicyDocument": SEED_TRUST + "\n"}
    element = created_record["responseElements"]["role"]
    assert (element["arn"], element["roleId"], element["roleName"], element["path"]) == (
        role["Arn"], role["RoleId"], role_name, "/")
    assert (created_record["eventType"], created_record["managementEvent"], created_record["eventCategory"]) == (
        "AwsApiCall", True, "Management")
    assert created_record["recipientAccountId"] == ACCOUNT and created_record["readOnly"] is False
    assert created_record["eventID"] == create["EventId"] and "tlsDetails" not in created_record
    assert len(created_record["requestID"]) == 36

    attach_record = record(attach)
    assert attach_record["requestParameters"] == {"roleName": role_name, "policyArn": POLICY_ARN}
    assert attach_record["responseElements"] is None  # AttachRolePolicy answers nothing
    assert attach_record["resources"] == [
        {"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role["Arn"]},
        {"type": "AWS::IAM::Policy", "ARN": POLICY_ARN},
    ]


def test_access_denied_is_recorded_with_its_code_and_message(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    name = unique("denied")
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    client = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError) as info:
        client.delete_role(RoleName=unique("victim"))
    error = info.value.response
    assert error["Error"]["Code"] == "AccessDenied"

    events = lookup(server, "Username", name)
    assert [e["EventName"] for e in events] == ["DeleteRole"]
    assert events[0]["AccessKeyId"] == key["AccessKeyId"]
    denied = record(events[0])
    assert (denied["errorCode"], denied["errorMessage"]) == ("AccessDenied", error["Error"]["Message"])
    assert denied["errorMessage"].startswith(f"User: {user['Arn']} is not authorized to perform: iam:DeleteRole")
    assert denied["requestID"] == error["ResponseMetadata"]["RequestId"]
    assert denied["responseElements"] is None
    assert denied["userIdentity"] == {"type": "IAMUser", "principalId": user["UserId"], "arn": user["Arn"],
                                      "accountId": ACCOUNT, "accessKeyId": key["AccessKeyId"], "userName": name}
    assert [e["EventId"] for e in lookup(server, "AccessKeyId", key["AccessKeyId"])] == [events[0]["EventId"]]


def test_validation_errors_are_recorded(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("bad") + "!" * 3
    with pytest.raises(ClientError) as info:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=SEED_TRUST)
    code = info.value.response["Error"]["Code"]
    requests = [record(e) for e in lookup(server, "EventName", "CreateRole")]
    mine = [r for r in requests if r["requestID"] == info.value.response["ResponseMetadata"]["RequestId"]]
    assert len(mine) == 1 and mine[0]["errorCode"] == code == "ValidationError"
    assert mine[0]["errorMessage"] == info.value.response["Error"]["Message"]


def test_a_role_session_is_found_by_its_session_name(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    role_name, session_name = unique("app"), unique("session")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                       "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}]}))["Role"]
    grant(iam, ["iam:ListRoles"], role=role_name)
    sts = assumer(server, iam, unique, actions=("sts:AssumeRole", "sts:SetSourceIdentity"))
    assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=session_name, SourceIdentity="alice@example")
    creds = assumed["Credentials"]
    session = server.client("iam", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                            token=creds["SessionToken"])
    session.list_roles(MaxItems=1)

    events = lookup(server, "Username", session_name)
    assert [e["EventName"] for e in events] == ["ListRoles"]
    assert events[0]["AccessKeyId"] == creds["AccessKeyId"]
    identity = record(events[0])["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert identity["principalId"] == assumed["AssumedRoleUser"]["AssumedRoleId"]
    assert identity["accessKeyId"] == creds["AccessKeyId"]
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": role["RoleId"], "arn": role["Arn"], "accountId": ACCOUNT,
        "userName": role_name}
    assert identity["sessionContext"]["sourceIdentity"] == "alice@example"
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert "invokedBy" not in identity

    # The AssumeRole itself: no secret and no session token in the record.
    assume = [record(e) for e in lookup(server, "ResourceName", role_name) if e["EventName"] == "AssumeRole"]
    assert len(assume) == 1
    element = assume[0]["responseElements"]
    assert element["credentials"]["accessKeyId"] == creds["AccessKeyId"]
    assert set(element["credentials"]) == {"accessKeyId", "expiration"}
    assert element["sourceIdentity"] == "alice@example"
    text = json.dumps(assume[0])
    assert creds["SecretAccessKey"] not in text and creds["SessionToken"] not in text


def test_regions_iam_in_us_east_1_sts_where_called(server: Server, unique: Callable[[str], str]) -> None:
    iam = server.client("iam", region="eu-west-1")
    name = unique("regional")
    iam.create_user(UserName=name)
    events = lookup(server, "ResourceName", name)
    assert [record(e)["awsRegion"] for e in events] == ["us-east-1"]
    assert lookup(server, "ResourceName", name, region="eu-west-1") == []

    key = iam.create_access_key(UserName=name)["AccessKey"]
    creds = {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    server.client("sts", region="us-west-2", **creds).get_caller_identity()
    west = lookup(server, "AccessKeyId", key["AccessKeyId"], region="us-west-2")
    assert [e["EventName"] for e in west] == ["GetCallerIdentity"]
    west_record = record(west[0])
    assert west_record["awsRegion"] == "us-west-2" and west_record["eventSource"] == "sts.amazonaws.com"
    assert west_record["requestParameters"] is None and west_record["responseElements"] is None
    assert lookup(server, "AccessKeyId", key["AccessKeyId"]) == []


def test_health_reports_the_recorder(server: Server, iam: Any) -> None:
    iam.list_roles(MaxItems=1)
    with urllib.request.urlopen(server.endpoint + "/_turnout/health", timeout=5) as response:
        health = json.loads(response.read())
    counters = health["cloudtrail"]
    assert counters["enabled"] is True and counters["dropped"] == 0
    assert counters["recorded"] >= 1 and counters["pending"] >= 0
    assert health["services"]["cloudtrail"] == "available"


def test_a_graceful_restart_keeps_every_event(fresh_server: Server, unique: Callable[[str], str]) -> None:
    iam = fresh_server.client("iam")
    name = unique("durable")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    grant(iam, ["iam:GetUser"], user=name)
    user = fresh_server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    for _ in range(25):
        user.get_user()
    # No LookupEvents before the stop: the events are still in the recorder's queue or just written.
    fresh_server.stop()  # SIGTERM: the server writes what is pending before closing the database
    fresh_server.start()
    events = lookup(fresh_server, "Username", name)
    assert [e["EventName"] for e in events] == ["GetUser"] * 25
    assert len({e["EventId"] for e in events}) == 25
    with urllib.request.urlopen(fresh_server.endpoint + "/_turnout/health", timeout=5) as response:
        assert json.loads(response.read())["cloudtrail"]["dropped"] == 0


def test_no_cloudtrail_records_nothing(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", ["--no-cloudtrail"]).start()
    try:
        srv.client("iam").list_roles()
        assert srv.client("cloudtrail").lookup_events()["Events"] == []
        with urllib.request.urlopen(srv.endpoint + "/_turnout/health", timeout=5) as response:
            assert json.loads(response.read())["cloudtrail"] == {"enabled": False, "recorded": 0, "dropped": 0,
                                                                  "pending": 0}
    finally:
        srv.stop()
