"""SigV4 hardening (issue 11, finding 5), through a real server: the credential scope's Region and service, the
five-minute window, presigned URLs' bounds, payload signing outside S3, and each protocol's own codes.

Requests are signed by botocore's own signers (``SigV4Auth``, ``SigV4QueryAuth``) with the scope under test, which
no client would send: a Region that does not exist, another service, a body changed after signing.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import Server, error_of
from tests.e2e.test_auth import shift_signing_clock

ROOT = Credentials("test", "test")
ECS_TARGET = "AmazonEC2ContainerServiceV20141113"
JSON_TYPE = "application/x-amz-json-1.1"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
IAM_VERSION = "2010-05-08"
STAMP = r"\d{8}T\d{6}Z"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
EXPIRES_TOO_LONG = ("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be "
                    "less than 604800 seconds")


class Answer:
    """An HTTP answer and the AWS error in it (query/EC2/S3 XML, or JSON 1.1)."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.text = body.decode()
        self.code = self.message = ""
        if self.text.startswith("{"):
            data = json.loads(self.text)
            self.code = str(data.get("__type", "")).rsplit("#", 1)[-1]
            self.message = str(data.get("message", data.get("Message", "")))
        else:
            code = re.search(r"<Code>(.*?)</Code>", self.text)
            message = re.search(r"<Message>(.*?)</Message>", self.text, re.S)
            self.code = code.group(1) if code else ""
            self.message = message.group(1) if message else ""

    @property
    def error(self) -> tuple[str, str, int]:
        return self.code, self.message, self.status

    def field(self, name: str) -> str | None:
        found = re.search(rf"<{name}>(.*?)</{name}>", self.text)
        return found.group(1) if found else None


def send(request: AWSRequest, body: bytes | None = None) -> Answer:
    """Send a signed request; ``body`` replaces the signed one (a change made after signing)."""
    prepared = request.prepare()
    data = prepared.body if body is None else body
    if isinstance(data, str):
        data = data.encode()
    raw = urllib.request.Request(prepared.url, data=data or None, method=prepared.method,
                                 headers={k: v.decode() if isinstance(v, bytes) else v
                                          for k, v in prepared.headers.items()})
    try:
        with urllib.request.urlopen(raw, timeout=30) as response:
            return Answer(int(response.status), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read())


def signed(server: Server, service: str, region: str, *, method: str = "POST", path: str = "/",
           body: bytes = b"", headers: dict[str, str] | None = None, unsigned_payload: bool = False) -> AWSRequest:
    """A request signed with the credential scope ``region``/``service`` (botocore's SigV4 signer)."""
    request = AWSRequest(method=method, url=server.endpoint + path, data=body, headers=dict(headers or {}))
    if unsigned_payload:
        request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    botocore.auth.SigV4Auth(ROOT, service, region).add_auth(request)
    return request


def query_call(server: Server, service: str, region: str, params: dict[str, str], **kwargs: Any) -> AWSRequest:
    return signed(server, service, region, body=urlencode(params).encode(), headers={"Content-Type": FORM_TYPE},
                  **kwargs)


def ecs_call(server: Server, service: str, region: str, operation: str, params: dict[str, Any],
             **kwargs: Any) -> AWSRequest:
    return signed(server, service, region, body=json.dumps(params).encode(),
                  headers={"Content-Type": JSON_TYPE, "X-Amz-Target": f"{ECS_TARGET}.{operation}"}, **kwargs)


def presigned(server: Server, service: str, params: dict[str, str], expires: int, region: str = "us-east-1",
              path: str = "/") -> str:
    request = AWSRequest(method="GET", url=server.endpoint + path, params=params)
    signer = botocore.auth.S3SigV4QueryAuth if service == "s3" else botocore.auth.SigV4QueryAuth
    signer(ROOT, service, region, expires=expires).add_auth(request)
    return str(request.prepare().url)


def fetch(url: str) -> Answer:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return Answer(int(response.status), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read())


LIST_USERS = {"Action": "ListUsers", "Version": IAM_VERSION}
CALLER = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}


# -- the Region in the scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["xx-1", "", "..", "us-east-1%2F..%2Fus-west-2", "cn-north-1", "us-east-1 "])
def test_global_query_service_refuses_a_region_that_does_not_exist(server: Server, region: str) -> None:
    answer = send(query_call(server, "iam", region, LIST_USERS))
    assert answer.error == ("SignatureDoesNotMatch", "Credential should be scoped to a valid region. ", 403)


def test_regional_query_service_names_the_region(server: Server) -> None:
    params = {"Action": "DescribeLoadBalancers", "Version": "2015-12-01"}
    answer = send(query_call(server, "elasticloadbalancing", "xx-1", params))
    assert answer.error == ("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'xx-1'. ",
                            403)
    answer = send(query_call(server, "elasticloadbalancing", "", params))
    assert answer.error == ("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not ''. ", 403)


def test_json_service_refuses_a_region_that_does_not_exist(server: Server) -> None:
    for region in ("xx-1", "", "../../etc", "us-east-1/.."):
        answer = send(ecs_call(server, "ecs", region, "ListClusters", {}))
        assert answer.error == ("InvalidSignatureException", "Credential should be scoped to a valid region. ", 400)


def test_ec2_refuses_a_region_that_does_not_exist(server: Server) -> None:
    answer = send(query_call(server, "ec2", "xx-1", {"Action": "DescribeVpcs", "Version": "2016-11-15"}))
    assert (answer.code, answer.status) == ("AuthFailure", 401)


def test_every_real_region_is_accepted(server: Server) -> None:
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2", "me-south-1", "mx-central-1"):
        answer = send(ecs_call(server, "ecs", region, "ListClusters", {}))
        assert answer.status == 200, (region, answer.text)


def test_s3_answers_a_region_that_does_not_exist_as_a_wrong_region(server: Server, unique: Callable[[str], str]
                                                                    ) -> None:
    answer = send(signed(server, "s3", "xx-1", method="GET", unsigned_payload=True))
    assert answer.error == ("AuthorizationHeaderMalformed", "The authorization header is malformed; the region "
                            "'xx-1' is wrong; expecting 'us-east-1'", 400)
    assert answer.field("Region") == "us-east-1"
    bucket = unique("scope-region")
    server.client("s3", region="eu-west-1").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    answer = send(signed(server, "s3", "", method="GET", path=f"/{bucket}", unsigned_payload=True))
    assert answer.error == ("AuthorizationHeaderMalformed", "The authorization header is malformed; the region "
                            "'' is wrong; expecting 'eu-west-1'", 400)
    assert answer.field("Region") == "eu-west-1"
    # No bucket is ever made in a Region that does not exist.
    answer = send(signed(server, "s3", "xx-1", method="PUT", path=f"/{bucket}-xx", unsigned_payload=True,
                         body=b"<CreateBucketConfiguration><LocationConstraint>xx-1</LocationConstraint>"
                              b"</CreateBucketConfiguration>"))
    assert answer.code == "AuthorizationHeaderMalformed"
    names = {b["Name"] for b in server.client("s3").list_buckets()["Buckets"]}
    assert bucket in names and f"{bucket}-xx" not in names


# -- the service in the scope ---------------------------------------------------------------------------------


def test_wrong_service_is_a_signature_error_not_a_route(server: Server, unique: Callable[[str], str]) -> None:
    # STS's action signed for IAM: it was routed to IAM (InvalidAction); it is refused as a scope error.
    answer = send(query_call(server, "iam", "us-east-1", CALLER))
    assert answer.error == ("SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'. ", 403)
    # IAM's CreateUser signed for STS, or for S3: refused, and no user is created.
    name = unique("scope-svc")
    for service in ("sts", "s3", "ecs"):
        answer = send(query_call(server, service, "us-east-1",
                                 {"Action": "CreateUser", "UserName": name, "Version": IAM_VERSION}))
        assert answer.error == ("SignatureDoesNotMatch", "Credential should be scoped to correct service: 'iam'. ",
                                403), service
    assert error_of(server.client("iam").get_user, UserName=name)[0] == "NoSuchEntity"


def test_json_service_signed_for_another_service(server: Server) -> None:
    for service in ("cloudtrail", "iam", "s3"):
        answer = send(ecs_call(server, service, "us-east-1", "ListClusters", {}))
        assert answer.error == ("InvalidSignatureException", "Credential should be scoped to correct service: "
                                "'ecs'. ", 400), service


def test_s3_request_signed_for_another_service(server: Server) -> None:
    answer = send(signed(server, "iam", "us-east-1", method="GET", unsigned_payload=True))
    assert answer.error == ("AuthorizationHeaderMalformed", 'The authorization header is malformed; incorrect '
                            'service "iam". This endpoint belongs to "s3".', 400)
    url = presigned(server, "sts", {}, 60, path="/some-bucket/key")
    answer = fetch(url)
    assert answer.error == ("AuthorizationQueryParametersError", 'Error parsing the X-Amz-Credential parameter; '
                            'incorrect service "sts". This endpoint belongs to "s3".', 400)


# -- an unknown signing algorithm, in each protocol's code ------------------------------------------------------


def test_unknown_algorithm_per_protocol(server: Server) -> None:
    request = ecs_call(server, "ecs", "us-east-1", "ListClusters", {})
    request.headers["Authorization"] = request.headers["Authorization"].replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")
    answer = send(request)
    assert (answer.code, answer.status) == ("IncompleteSignatureException", 400)
    request = query_call(server, "iam", "us-east-1", LIST_USERS)
    request.headers["Authorization"] = request.headers["Authorization"].replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")
    answer = send(request)
    assert (answer.code, answer.status) == ("IncompleteSignature", 400)
    request = signed(server, "s3", "us-east-1", method="GET", unsigned_payload=True)
    request.headers["Authorization"] = request.headers["Authorization"].replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")
    answer = send(request)
    assert answer.error == ("InvalidRequest", "The authorization mechanism you have provided is not supported. "
                            "Please use AWS4-HMAC-SHA256.", 400)


# -- payload signing outside S3 ----------------------------------------------------------------------------------


def test_unsigned_payload_does_not_let_a_changed_body_through(server: Server, unique: Callable[[str], str]) -> None:
    name, other = unique("unsigned-a"), unique("unsigned-b")
    request = query_call(server, "iam", "us-east-1", {"Action": "CreateUser", "UserName": name,
                                                       "Version": IAM_VERSION}, unsigned_payload=True)
    changed = urlencode({"Action": "CreateUser", "UserName": other, "Version": IAM_VERSION}).encode()
    assert send(request, body=changed).error == ("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)
    # Not even the body that was signed goes through: IAM requires a signed payload.
    assert send(request).error == ("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)
    iam = server.client("iam")
    for user in (name, other):
        assert error_of(iam.get_user, UserName=user)[0] == "NoSuchEntity"
    request = ecs_call(server, "ecs", "us-east-1", "CreateCluster", {"clusterName": name}, unsigned_payload=True)
    answer = send(request, body=json.dumps({"clusterName": other}).encode())
    assert answer.error == ("InvalidSignatureException", SIGNATURE_MISMATCH, 400)
    clusters = server.client("ecs").describe_clusters(clusters=[name, other])["clusters"]
    assert clusters == []


def test_signed_payload_still_verifies(server: Server) -> None:
    assert send(query_call(server, "iam", "us-east-1", LIST_USERS)).status == 200
    assert send(ecs_call(server, "ecs", "us-east-1", "ListClusters", {})).status == 200


# -- the five-minute window -----------------------------------------------------------------------------------


def test_json_window_is_five_minutes(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    shift_signing_clock(monkeypatch, timedelta(minutes=-7))
    code, message, status = error_of(server.client("ecs").list_clusters)
    assert (code, status) == ("InvalidSignatureException", 400)
    assert re.fullmatch(rf"Signature expired: {STAMP} is now earlier than {STAMP} \({STAMP} - 5 min\.\)", message)
    code, message, status = error_of(server.client("ec2").describe_vpcs)
    assert (code, status) == ("RequestExpired", 400)
    assert message.endswith(" - 5 min.)")


def test_within_five_minutes_is_accepted(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    shift_signing_clock(monkeypatch, timedelta(minutes=-3))
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"
    shift_signing_clock(monkeypatch, timedelta(minutes=6))  # +3 in all: the two shifts add up
    assert server.client("ecs").list_clusters()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_s3_keeps_its_fifteen_minutes(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    shift_signing_clock(monkeypatch, timedelta(minutes=-10))
    assert server.client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


# -- presigned URLs --------------------------------------------------------------------------------------------


def test_presigned_url_lives_at_most_seven_days(server: Server) -> None:
    assert fetch(presigned(server, "sts", CALLER, 604800)).status == 200
    answer = fetch(presigned(server, "sts", CALLER, 604801))
    assert answer.error == ("SignatureDoesNotMatch", EXPIRES_TOO_LONG, 403)
    # Far past any date a server can compute (it was an OverflowError, a 500): refused like any other.
    answer = fetch(presigned(server, "iam", LIST_USERS, 99999999999999999999))
    assert answer.error == ("SignatureDoesNotMatch", EXPIRES_TOO_LONG, 403)
    answer = fetch(presigned(server, "iam", LIST_USERS, -99999999999999999999))
    assert answer.error == ("SignatureDoesNotMatch", "X-Amz-Expires must be non-negative", 403)


def test_presigned_url_dated_in_the_future(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    shift_signing_clock(monkeypatch, timedelta(minutes=30))
    answer = fetch(presigned(server, "sts", CALLER, 3600))
    assert (answer.code, answer.status) == ("SignatureDoesNotMatch", 403)
    assert re.fullmatch(rf"Signature not yet current: {STAMP} is still later than {STAMP} \({STAMP} \+ 5 min\.\)",
                        answer.message), answer.message


def test_presigned_url_past_its_expiry(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    shift_signing_clock(monkeypatch, timedelta(hours=-2))
    answer = fetch(presigned(server, "sts", CALLER, 3600))
    assert answer.error == ("RequestExpired", "Request has expired.", 400)


def test_s3_presigned_bounds(server: Server, monkeypatch: pytest.MonkeyPatch, unique: Callable[[str], str]) -> None:
    s3 = server.client("s3")
    bucket = unique("presign-bounds")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"body")
    answer = fetch(presigned(server, "s3", {}, 604801, path=f"/{bucket}/k"))
    assert answer.error == ("AuthorizationQueryParametersError", EXPIRES_TOO_LONG, 400)
    shift_signing_clock(monkeypatch, timedelta(hours=1))
    url = presigned(server, "s3", {}, 600, path=f"/{bucket}/k")
    answer = fetch(url)
    assert answer.error == ("AccessDenied", "Request is not yet valid", 403)
    signed_at = datetime.strptime(re.search(r"X-Amz-Date=(\w+)", url).group(1), "%Y%m%dT%H%M%SZ")  # type: ignore[union-attr]
    assert answer.field("X-Amz-Date") == str(int(signed_at.replace(tzinfo=UTC).timestamp() * 1000))
    assert answer.field("Expires") == (signed_at + timedelta(seconds=600)).strftime("%Y-%m-%dT%H:%M:%SZ")
