"""The one endpoint: health, routing by signing name / target / version, errors for what is not served."""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.request
from typing import Any

import botocore.exceptions
import pytest

from tests.conftest import Server


def _error(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str, int]:
    response: dict[str, Any] = exc.value.response
    return response["Error"]["Code"], response["Error"].get("Message", ""), response["ResponseMetadata"][
        "HTTPStatusCode"
    ]


def test_health_reports_ready_version_and_services(server: Server) -> None:
    with urllib.request.urlopen(server.endpoint + "/_turnout/health") as response:
        assert response.status == 200
        body = json.loads(response.read())
    assert body["status"] == "ready"
    assert re.fullmatch(r"\d+\.\d+\.\d+", body["version"])
    assert body["services"]["iam"] == "available"
    assert body["services"]["sts"] == "available"


def test_health_on_a_kept_alive_connection_between_calls(server: Server) -> None:
    """The connection answers health checks itself (ahead of queued calls): HEAD, GET and API calls still
    alternate on one connection, each answer whole, and a health check asking to close closes."""
    import socket

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("HEAD", "/_turnout/health")
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b"" and int(head.headers["content-length"]) > 0
    body = "Action=ListRoles&Version=2010-05-08"
    signed = AWSRequest(method="POST", url=server.endpoint + "/", data=body.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("test", "test"), "iam", "us-east-1").add_auth(signed)
    for _ in range(2):
        conn.request("GET", "/_turnout/health")
        health = conn.getresponse()
        assert health.status == 200 and json.loads(health.read())["status"] == "ready"
        conn.request("POST", "/", body=body.encode(), headers=dict(signed.headers.items()))
        listed = conn.getresponse()
        assert listed.status == 200 and b"<ListRolesResult>" in listed.read()
    conn.close()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(b"GET /_turnout/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := raw.recv(65536):  # the server closes after the answer
            received += chunk
    head_part, _, payload = received.partition(b"\r\n\r\n")
    assert head_part.startswith(b"HTTP/1.1 200") and b"connection: close" in head_part.lower()
    assert json.loads(payload)["status"] == "ready"


def test_unknown_internal_path_is_404(server: Server) -> None:
    with pytest.raises(urllib.request.HTTPError) as exc:
        urllib.request.urlopen(server.endpoint + "/_turnout/nothing")
    assert exc.value.code == 404


@pytest.mark.parametrize(
    ("service", "call", "kwargs"),
    [
        ("ecs", "list_container_instances", {}),  # json 1.1, routed by X-Amz-Target
        ("cloudtrail", "list_event_data_stores", {}),  # json 1.1, another target prefix
        ("elbv2", "describe_trust_stores", {}),  # query, signing name elasticloadbalancing + Version
        ("ec2", "describe_instances", {}),  # ec2 protocol, its own error envelope
    ],
)
def test_modelled_but_unimplemented_operations_answer_not_implemented(
    server: Server, service: str, call: str, kwargs: dict[str, Any]
) -> None:
    client = server.client(service)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        getattr(client, call)(**kwargs)
    code, message, status = _error(exc)
    assert (code, status) == ("NotImplemented", 501)
    operation = client.meta.method_to_api_mapping[call]
    assert message == f"The operation {operation} of service {service} is not implemented by Turnout."
    assert f"not implemented: {service}.{operation}" in server.log()


def test_unknown_query_action_is_invalid_action(server: Server) -> None:
    iam = server.client("iam")
    iam.meta.events.register(
        "before-sign.iam.GetUser",
        lambda request, **_: setattr(request, "data", {"Action": "FlyToTheMoon", "Version": "2010-05-08"}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.get_user()
    code, message, status = _error(exc)
    assert (code, status) == ("InvalidAction", 400)
    assert message == "Could not find operation FlyToTheMoon for version 2010-05-08"


def test_validation_error_has_aws_wording(server: Server) -> None:
    iam = server.client("iam")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.get_role(RoleName="not a valid name!")
    code, message, status = _error(exc)
    assert (code, status) == ("ValidationError", 400)
    assert message == (
        "1 validation error detected: Value 'not a valid name!' at 'roleName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_malformed_json_body_is_a_serialization_error(server: Server) -> None:
    ecs = server.client("ecs")
    ecs.meta.events.register("before-sign.ecs.ListClusters", lambda request, **_: setattr(request, "data", b"{not"))
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        ecs.list_clusters()
    code, _, status = _error(exc)
    assert (code, status) == ("SerializationException", 400)


def test_each_request_logs_one_line_with_operation_status_principal_and_time(server: Server) -> None:
    sts = server.client("sts")
    request_id = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    assert request_id
    lines: list[str] = []
    for _ in range(100):  # the access log is written in batches, a few times a second
        lines = [line for line in server.log().splitlines() if request_id in line]
        if lines:
            break
        time.sleep(0.05)
    assert len(lines) == 1, server.log()[-2000:]
    assert re.search(
        rf"turnout\.access sts\.GetCallerIdentity 200 arn:aws:iam::000000000000:root \d+\.\d+ms {request_id}$",
        lines[0],
    )


def test_request_ids_are_unique_uuids(server: Server) -> None:
    sts = server.client("sts")
    ids = {sts.get_caller_identity()["ResponseMetadata"]["RequestId"] for _ in range(5)}
    assert len(ids) == 5
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", i) for i in ids)


def test_ec2_missing_parameter_uses_ec2_error_style(server: Server) -> None:
    from botocore.config import Config

    ec2 = server.client("ec2", parameter_validation=False)
    assert isinstance(ec2.meta.config, Config)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        ec2.create_subnet()  # VpcId is required
    code, message, status = _error(exc)
    assert (code, status) == ("MissingParameter", 400)
    assert message == "The request must contain the parameter VpcId"


def test_credential_scope_date_must_match_request_date(server: Server) -> None:
    sts = server.client("sts")

    def shift_date(request: Any, **_: Any) -> None:
        stamp = request.headers["X-Amz-Date"]
        stamp = stamp.decode() if isinstance(stamp, bytes) else stamp
        request.headers["X-Amz-Date"] = "20200101" + stamp[8:]

    sts.meta.events.register("before-send.sts.GetCallerIdentity", shift_date)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sts.get_caller_identity()
    code, message, status = _error(exc)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP:"
    )
    assert "!= '20200101'" in message
