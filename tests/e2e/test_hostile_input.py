"""Hostile input through a real server (issue 11, findings 2 and 4): deep nesting, lone surrogates, ECS tags
without a key, an absurd presigned lifetime. Every answer is a 4xx with the protocol's AWS error, botocore
understands it, and CloudTrail keeps every event around it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import Server, error_of, grant
from tests.e2e.raw_http import send, send_url

DEEP = '{"a":' + "[" * 1000 + "]" * 1000 + "}"  # the probe
DEEP_STATEMENT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:x": "y"}}}]}
).replace('"y"', "[" * 900 + '"y"' + "]" * 900)  # valid JSON, a plausible document, absurdly deep inside
SURROGATE = b'"\\ud800"'
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client("iam")


@pytest.fixture(scope="module")
def owners(iam: Any) -> dict[str, str]:
    """A user, group and role to hang inline policies on."""
    stamp = "hostile"
    names = {"user": f"{stamp}-user", "group": f"{stamp}-group", "role": f"{stamp}-role"}
    iam.create_user(UserName=names["user"])
    iam.create_group(GroupName=names["group"])
    iam.create_role(RoleName=names["role"], AssumeRolePolicyDocument=TRUST)
    names["policy"] = iam.create_policy(PolicyName=f"{stamp}-policy", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))[
        "Policy"]["Arn"]
    return names


def policy_calls(iam: Any, owners: dict[str, str]) -> dict[str, Callable[[str], Any]]:
    return {
        "CreatePolicy": lambda doc: iam.create_policy(PolicyName="deep", PolicyDocument=doc),
        "CreatePolicyVersion": lambda doc: iam.create_policy_version(PolicyArn=owners["policy"], PolicyDocument=doc),
        "CreateRole": lambda doc: iam.create_role(RoleName="deep", AssumeRolePolicyDocument=doc),
        "PutUserPolicy": lambda doc: iam.put_user_policy(UserName=owners["user"], PolicyName="p", PolicyDocument=doc),
        "PutGroupPolicy": lambda doc: iam.put_group_policy(GroupName=owners["group"], PolicyName="p",
                                                           PolicyDocument=doc),
        "PutRolePolicy": lambda doc: iam.put_role_policy(RoleName=owners["role"], PolicyName="p", PolicyDocument=doc),
        "UpdateAssumeRolePolicy": lambda doc: iam.update_assume_role_policy(RoleName=owners["role"],
                                                                            PolicyDocument=doc),
        "SimulateCustomPolicy": lambda doc: iam.simulate_custom_policy(PolicyInputList=[doc],
                                                                       ActionNames=["s3:GetObject"]),
        "SimulateCustomPolicy (resource policy)": lambda doc: iam.simulate_custom_policy(
            PolicyInputList=[owners["allow_all"]], ActionNames=["s3:GetObject"], ResourcePolicy=doc,
            ResourceArns=["arn:aws:s3:::bucket/key"], CallerArn=owners["user_arn"]),
        "SimulatePrincipalPolicy": lambda doc: iam.simulate_principal_policy(
            PolicySourceArn=owners["user_arn"], PolicyInputList=[doc], ActionNames=["s3:GetObject"]),
    }


@pytest.mark.parametrize("document", [DEEP, DEEP_STATEMENT], ids=["issue-probe", "deep-condition"])
def test_deeply_nested_policy_documents_are_malformed(iam: Any, owners: dict[str, str], document: str) -> None:
    owners = {**owners, "allow_all": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        "user_arn": iam.get_user(UserName=owners["user"])["User"]["Arn"]}
    answers = {}
    for name, call in policy_calls(iam, owners).items():
        code, _, status = error_of(call, document)
        answers[name] = (code, status)
    assert answers == {name: ("MalformedPolicyDocument", 400) for name in answers}


@pytest.mark.parametrize(("service", "operation"), [
    ("ecs", "DescribeClusters"), ("ecs", "CreateService"), ("ecs", "RegisterTaskDefinition"),
    ("cloudtrail", "LookupEvents"), ("cloudtrail", "CreateTrail"),
])
def test_deeply_nested_json_bodies_are_serialization_errors(server: Server, service: str, operation: str) -> None:
    for body in (DEEP.encode(), b"[" * 100_000, b'{"x":' + b"{" * 70 + b"}" * 70 + b"}"):
        answer = send(server, service, operation, body=body)
        assert (answer.status, answer.code) == (400, "SerializationException"), answer.body[:300]


ECS_SURROGATE_BODIES = {
    "DescribeClusters": b'{"clusters": [%s]}',
    "CreateCluster": b'{"clusterName": %s}',
    "DeleteCluster": b'{"cluster": %s}',
    "DescribeServices": b'{"cluster": "default", "services": [%s]}',
    "ListServices": b'{"cluster": %s}',
    "ListTasks": b'{"cluster": %s}',
    "DescribeTasks": b'{"tasks": [%s]}',
    "DescribeTaskDefinition": b'{"taskDefinition": %s}',
    "ListTaskDefinitions": b'{"familyPrefix": %s}',
    "RegisterTaskDefinition": b'{"family": "f", "containerDefinitions": [{"name": %s, "image": "x"}]}',
    "TagResource": b'{"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/default", '
                   b'"tags": [{"key": %s, "value": "v"}]}',
    "ListTagsForResource": b'{"resourceArn": %s}',
    "CreateService": b'{"serviceName": %s, "taskDefinition": "x"}',
}


@pytest.mark.parametrize("operation", sorted(ECS_SURROGATE_BODIES))
def test_lone_surrogates_in_ecs_strings_are_serialization_errors(server: Server, operation: str) -> None:
    answer = send(server, "ecs", operation, body=ECS_SURROGATE_BODIES[operation] % SURROGATE)
    assert (answer.status, answer.code) == (400, "SerializationException"), answer.body[:300]
    # A valid pair (an emoji written as two escapes) is text, and goes through to the operation itself.
    answer = send(server, "ecs", operation, body=ECS_SURROGATE_BODIES[operation] % b'"\\ud83d\\ude00"')
    assert answer.status < 500 and answer.code != "SerializationException", answer.body[:300]


def test_surrogate_bytes_in_a_json_body(server: Server) -> None:
    """A surrogate written as UTF-8 bytes (not valid UTF-8, but json.loads decodes bytes with surrogatepass)."""
    answer = send(server, "ecs", "DescribeClusters", body=b'{"clusters": ["\xed\xa0\x80"]}')
    assert (answer.status, answer.code) == (400, "SerializationException"), answer.body[:300]


def test_a_lone_surrogate_in_cloudtrail_strings(server: Server) -> None:
    body = b'{"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "\\udfff"}]}'
    answer = send(server, "cloudtrail", "LookupEvents", body=body)
    assert (answer.status, answer.code) == (400, "SerializationException")


def test_ecs_tags_without_a_key(server: Server) -> None:
    ecs = server.client("ecs")
    arn = ecs.create_cluster(clusterName="hostile-tags")["cluster"]["clusterArn"]
    for tags in ([{}], [{"value": "v"}]):
        answer = send(server, "ecs", "TagResource", body=json.dumps({"resourceArn": arn, "tags": tags}).encode())
        assert (answer.status, answer.code) == (400, "InvalidParameterException"), answer.body[:300]
    empty = json.dumps({"resourceArn": arn, "tags": [{"key": "", "value": "v"}]}).encode()
    answer = send(server, "ecs", "TagResource", body=empty)  # the model's length constraint
    assert (answer.status, answer.code) == (400, "ValidationException"), answer.body[:300]
    for tags in ([{}], [{"value": "v"}]):
        body = json.dumps({"clusterName": "hostile-tags-2", "tags": tags}).encode()
        answer = send(server, "ecs", "CreateCluster", body=body)
        assert (answer.status, answer.code) == (400, "InvalidParameterException"), answer.body[:300]
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []


@pytest.mark.parametrize("expires", ["99999999999999999999", "-1", "1e9", "nan"])
def test_a_presigned_url_with_an_absurd_lifetime(server: Server, expires: str) -> None:
    request = AWSRequest("GET", server.endpoint + "/?Action=GetUser&Version=2010-05-08")
    SigV4QueryAuth(Credentials("test", "test"), "iam", "us-east-1", expires=expires).add_auth(request)  # type: ignore[arg-type]
    answer = send_url(request.prepare().url, "iam", "GetUser")
    assert 400 <= answer.status < 500 and answer.code, answer.body[:300]


def lookup_all(server: Server, key: str, value: str) -> list[dict[str, Any]]:
    pages = server.client("cloudtrail").get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
    return [json.loads(event["CloudTrailEvent"]) for page in pages for event in page["Events"]]


def test_a_hostile_call_among_root_writes_costs_no_event(server: Server, iam: Any,
                                                         unique: Callable[[str], str]) -> None:
    """The issue's scenario: a user with no permissions sends ECS DescribeClusters with a lone surrogate between
    root's 40 CreateUser calls; every one of those events, and the attacker's own, is in LookupEvents."""
    attacker = unique("attacker")
    iam.create_user(UserName=attacker)
    grant(iam, ["iam:GetUser"], user=attacker)  # nothing of ECS
    key = iam.create_access_key(UserName=attacker)["AccessKey"]
    names = [unique("victim") for _ in range(40)]
    hostile = []
    for index, name in enumerate(names):
        iam.create_user(UserName=name)
        if index % 8 == 3:
            answer = send(server, "ecs", "DescribeClusters", body=b'{"clusters": ["\\ud800"]}',
                          key=key["AccessKeyId"], secret=key["SecretAccessKey"])
            assert answer.status == 400 and answer.code == "SerializationException"
            hostile.append(answer.headers["x-amzn-requestid"])
    recorded = {r["requestParameters"]["userName"] for r in lookup_all(server, "EventName", "CreateUser")}
    assert set(names) <= recorded
    mine = [r for r in lookup_all(server, "Username", attacker) if r["eventSource"] == "ecs.amazonaws.com"]
    assert sorted(r["requestID"] for r in mine) == sorted(hostile)
    assert {r["errorCode"] for r in mine} == {"SerializationException"}
    health = json.loads(__import__("urllib.request").request.urlopen(server.endpoint + "/_turnout/health").read())
    assert health["cloudtrail"]["dropped"] == 0
