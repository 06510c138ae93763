"""In-process harness for the authorization tests: a Gateway on a temporary data directory, enforcing IAM, and
boto3 clients whose requests go straight to ``gateway.handle_http`` (botocore's ``before-send`` hook), so real
clients sign and parse while no server runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from turnout.authz.authorizer import PolicyAuthorizer
from turnout.core.context import HttpRequest, RequestContext
from turnout.gateway.gateway import Gateway
from turnout.gateway.protocols import write
from turnout.server import Settings, build_gateway


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class InProcess:
    """A gateway on ``data_dir`` (enforcing unless told otherwise) and boto3 clients that call it directly."""

    def __init__(self, data_dir: Path, *, enforce: bool = True) -> None:
        self.gateway: Gateway = build_gateway(Settings(data_dir=data_dir, enforce_iam=enforce))
        self.last: RequestContext | None = None

    @property
    def authorizer(self) -> PolicyAuthorizer:
        assert isinstance(self.gateway.authorizer, PolicyAuthorizer)
        return self.gateway.authorizer

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = {k.lower(): [v if isinstance(v, str) else v.decode()] for k, v in request.headers.items()}
        headers.setdefault("host", [url.netloc])
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()
        http = HttpRequest(request.method, url.path or "/", url.query, headers, body)
        ctx = self.gateway.handle_http(http)
        self.last = ctx
        status, response_headers, response_body = write(ctx)
        return AWSResponse(request.url, status, {k.decode(): v.decode() for k, v in response_headers},
                           _Raw(response_body))

    def client(self, service: str, key: str = "test", secret: str = "test", token: str | None = None) -> Any:
        client = boto3.client(
            service, endpoint_url="http://127.0.0.1:4566", region_name="us-east-1", aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token, config=Config(retries={"max_attempts": 1}),
        )
        client.meta.events.register("before-send", self._send)
        return client


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource,
                                                     **extra}]}
