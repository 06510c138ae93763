"""A small SigV4 signer for hand-built S3 requests (the ``aws-chunked`` forms boto3 does not send over plain
HTTP), written from the S3 API reference's signing steps, independently of the server's verifier."""

from __future__ import annotations

import hashlib
import hmac
import http.client
from datetime import UTC, datetime
from urllib.parse import quote, unquote

REGION = "us-east-1"
EMPTY = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (REGION, "s3", "aws4_request"):
        key = _hmac(key, part)
    return key


class Signed:
    """One header-signed S3 request; ``chunk`` signs the chunks that follow it."""

    def __init__(self, method: str, path: str, headers: dict[str, str], payload_hash: str,
                 key_id: str = "test", secret: str = "test", query: str = "", when: datetime | None = None) -> None:
        now = when or datetime.now(UTC)
        self.amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        self.date = self.amz_date[:8]
        self.scope = f"{self.date}/{REGION}/s3/aws4_request"
        self.key = signing_key(secret, self.date)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.headers["x-amz-date"] = self.amz_date
        self.headers["x-amz-content-sha256"] = payload_hash
        names = sorted(self.headers)
        canonical = "\n".join([
            method, quote(path, safe="/~"), canonical_query(query),
            "".join(f"{n}:{self.headers[n].strip()}\n" for n in names),
            ";".join(names), payload_hash,
        ])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        self.signature = hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()
        self.previous = self.signature
        self.headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{self.scope}, "
                                         f"SignedHeaders={';'.join(names)}, Signature={self.signature}")
        self.method, self.path = method, path

    def chunk(self, data: bytes) -> bytes:
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, self.previous, EMPTY,
                             hashlib.sha256(data).hexdigest()])
        signature = hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()
        self.previous = signature
        return f"{len(data):x};chunk-signature={signature}\r\n".encode() + data + b"\r\n"


def canonical_query(query: str) -> str:
    pairs = sorted((quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
                   for k, _, v in (part.partition("=") for part in query.split("&") if part))
    return "&".join(f"{k}={v}" for k, v in pairs)


def send(port: int, method: str, path: str, headers: dict[str, str], body: bytes, query: str = "") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        target = quote(path, safe="/~") + (f"?{query}" if query else "")
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
