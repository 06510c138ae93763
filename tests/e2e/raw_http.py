"""Signed requests with any body, sent over HTTP to a real server, and their answers parsed by botocore.

For tests that must send what no SDK would (a lone surrogate in a JSON string, a body nested 1,000 deep, a
wrong-typed member): botocore's serializer builds the request from parameters when it can, the body may then be
replaced, botocore's SigV4 signer signs it, and botocore's parser for the service's protocol reads the answer,
so a test can assert both the status and that an SDK would understand the response.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import OperationModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from tests.conftest import Server
from turnout.wire.models import SERVICES

TIMEOUT = 60


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    parsed: dict[str, Any]  # what botocore makes of it (``Error`` for an error)

    @property
    def code(self) -> str:
        return str(self.parsed.get("Error", {}).get("Code", ""))


def operation_model(service: str, operation: str) -> OperationModel:
    return SERVICES[service].model.operation_model(operation)


def serialize(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """botocore's request dict for ``params`` (not validated: any value its serializer can write)."""
    model = operation_model(service, operation)
    request: dict[str, Any] = create_serializer(model.metadata["protocol"], include_validation=False) \
        .serialize_to_request(params, model)
    return request


def send(server: Server, service: str, operation: str, params: dict[str, Any] | None = None, *,
         body: bytes | None = None, key: str = "test", secret: str = "test", region: str = "us-east-1",
         query: str | None = None) -> Answer:
    """Send ``operation`` signed: its parameters serialized by botocore, or ``body`` as given (then the
    operation's target / Action still come from the serializer). ``query`` replaces the URL's query string."""
    model = operation_model(service, operation)
    request = serialize(service, operation, params or {})
    data = request["body"] if body is None else body
    if isinstance(data, str):
        data = data.encode()
    elif isinstance(data, dict):  # the query serializer's form: encoded by AWSRequest
        data = data or None
    url = server.endpoint + request["url_path"]
    if query is not None:
        url += "?" + query
    elif request.get("query_string"):
        url += "?" + urlencode(request["query_string"], doseq=True)
    aws = AWSRequest(request["method"], url, data=data, headers=dict(request["headers"]))
    signing = SERVICES[service].signing_name
    signer = S3SigV4Auth if service == "s3" else SigV4Auth  # S3 signs its payload hash in a header
    signer(Credentials(key, secret), signing, region).add_auth(aws)
    return _send(aws.prepare(), model)


def send_url(url: str, service: str, operation: str) -> Answer:
    """GET a (presigned) URL as it is."""
    return _send(AWSRequest("GET", url).prepare(), operation_model(service, operation))


def _send(prepared: Any, model: OperationModel) -> Answer:
    parts = urlsplit(prepared.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=TIMEOUT)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        body = prepared.body
        if isinstance(body, str):
            body = body.encode()
        connection.request(prepared.method, target, body=body, headers=dict(prepared.headers))
        response = connection.getresponse()
        payload = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        status = response.status
    finally:
        connection.close()
    parser = create_parser(model.metadata["protocol"])
    parsed = parser.parse({"status_code": status, "headers": headers, "body": payload}, model.output_shape)
    return Answer(status, headers, payload, parsed)
