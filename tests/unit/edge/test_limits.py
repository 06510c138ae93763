"""The edge's limits: which service a request's headers name, each protocol's limit and error shapes."""

from __future__ import annotations

import json

from turnout.edge.limits import MIB, Limits, guess_service, headers_too_large, request_timeout, too_large
from turnout.gateway.protocols import write_error
from turnout.wire.models import SERVICES


def scope(service: str) -> bytes:
    return f"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, " \
           f"Signature=00".encode()


def test_guess_service_from_signature_target_and_presigned_query() -> None:
    assert guess_service("", [(b"authorization", scope("s3"))]) is SERVICES["s3"]
    assert guess_service("", [(b"authorization", scope("iam"))]) is SERVICES["iam"]
    assert guess_service("", [(b"authorization", scope("ec2"))]) is SERVICES["ec2"]
    target = (b"x-amz-target", b"AmazonEC2ContainerServiceV20141113.ListClusters")
    assert guess_service("", [target]) is SERVICES["ecs"]
    presigned = "X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00"
    assert guess_service(presigned, []) is SERVICES["s3"]
    assert guess_service("", [(b"host", b"x")]) is None  # unsigned, nothing named: query's shape


def test_body_limits_per_protocol() -> None:
    limits = Limits()
    assert limits.body_limit(SERVICES["s3"]) == 16 * MIB
    assert limits.body_limit(SERVICES["ecs"]) == MIB
    assert limits.body_limit(SERVICES["iam"]) == MIB
    assert limits.body_limit(SERVICES["ec2"]) == MIB
    assert limits.body_limit(None) == MIB


def test_errors_in_each_protocols_shape() -> None:
    status, headers, body = write_error(SERVICES["s3"], too_large(SERVICES["s3"], 20, 10), "rid")
    assert status == 400
    assert b"<Code>EntityTooLarge</Code>" in body and b"<ProposedSize>20</ProposedSize>" in body
    assert b"<MaxSizeAllowed>10</MaxSizeAllowed>" in body
    status, headers, body = write_error(SERVICES["ecs"], too_large(SERVICES["ecs"], None, 10), "rid")
    assert status == 413 and (b"x-amzn-errortype", b"RequestEntityTooLargeException") in headers
    assert json.loads(body)["message"] == "Request body of more than 10 bytes exceeds the maximum of 10 bytes."
    status, _, body = write_error(SERVICES["iam"], too_large(SERVICES["iam"], 11, 10), "rid")
    assert status == 413 and b"<Code>RequestEntityTooLarge</Code>" in body
    assert b'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"' in body
    status, _, body = write_error(SERVICES["ec2"], headers_too_large(), "rid")
    assert status == 400 and b"<Code>RequestHeaderSectionTooLarge</Code>" in body
    assert request_timeout(SERVICES["s3"]).status == 400
    assert (request_timeout(SERVICES["ecs"]).code, request_timeout(SERVICES["ecs"]).status) == (
        "RequestTimeoutException", 408)
    assert request_timeout(None).code == "RequestTimeout"
