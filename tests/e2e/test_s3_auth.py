"""SigV4 for S3 against a real server: wrong secret, unknown key, anonymous calls, a body changed after signing,
presigned URLs, ``aws-chunked`` uploads (signed chunks, unsigned payload with a checksum trailer), checksums, and
virtual-hosted-style addressing."""

from __future__ import annotations

import base64
import socket
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore
import pytest
from botocore.config import Config

from tests.conftest import Server, error_of
from tests.e2e.s3_signing import Signed, send


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture
def bucket(s3: Any, unique: Callable[[str], str]) -> str:
    name = unique("ta").lower()
    s3.create_bucket(Bucket=name)
    return name


def test_wrong_secret_is_signature_does_not_match(server: Server, bucket: str) -> None:
    bad = server.client("s3", secret="not-the-secret")
    code, message, status = error_of(bad.list_objects_v2, Bucket=bucket)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")
    assert error_of(bad.put_object, Bucket=bucket, Key="k", Body=b"x")[0] == "SignatureDoesNotMatch"


def test_unknown_key_and_anonymous(server: Server, bucket: str) -> None:
    stranger = server.client("s3", key="AKIA" + "Q" * 16, secret="x" * 40)
    assert error_of(stranger.list_objects_v2, Bucket=bucket) == (
        "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403)
    anonymous = server.client("s3", signature_version=botocore.UNSIGNED)
    assert error_of(anonymous.list_objects_v2, Bucket=bucket) == ("AccessDenied", "Access Denied", 403)


def test_body_changed_after_signing(server: Server, bucket: str) -> None:
    s3 = server.client("s3")

    def tamper(request: Any, **_: Any) -> None:
        request.body = b"ORIGINAL"  # same length: the HTTP framing stays valid

    s3.meta.events.register("before-send.s3.PutObject", tamper)
    code, _, status = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"original")
    assert (code, status) == ("XAmzContentSHA256Mismatch", 400)
    assert error_of(server.client("s3").head_object, Bucket=bucket, Key="k")[2] == 404


def test_presigned_url(server: Server, bucket: str) -> None:
    s3 = server.client("s3", signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=60)
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"presigned body"
    forged = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(forged, timeout=10)
    assert info.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in info.value.read()


def _chunked_put(server: Server, bucket: str, key: str, parts: list[bytes], *, corrupt: bool = False
                 ) -> tuple[int, bytes]:
    data = b"".join(parts)
    headers = {"host": f"127.0.0.1:{server.port}", "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(data))}
    signed = Signed("PUT", f"/{bucket}/{key}", headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    body = b"".join(signed.chunk(part) for part in parts) + signed.chunk(b"")
    if corrupt:
        body = body.replace(parts[0][:4], b"XXXX", 1)
    return send(server.port, "PUT", f"/{bucket}/{key}", signed.headers, body)


def test_signed_chunked_upload(server: Server, s3: Any, bucket: str) -> None:
    parts = [b"a" * 65536, b"b" * 1000]
    status, _ = _chunked_put(server, bucket, "chunked", parts)
    assert status == 200
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["Body"].read() == b"".join(parts)
    assert "ContentEncoding" not in got  # aws-chunked is the transfer's encoding, not the object's
    status, body = _chunked_put(server, bucket, "chunked-bad", parts, corrupt=True)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert error_of(s3.head_object, Bucket=bucket, Key="chunked-bad")[2] == 404


def _trailer_put(server: Server, bucket: str, key: str, data: bytes, checksum: str) -> tuple[int, bytes]:
    headers = {"host": f"127.0.0.1:{server.port}", "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(data)), "x-amz-trailer": "x-amz-checksum-crc32",
               "x-amz-sdk-checksum-algorithm": "CRC32"}
    signed = Signed("PUT", f"/{bucket}/{key}", headers, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    body = (f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" +
            f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode())
    return send(server.port, "PUT", f"/{bucket}/{key}", signed.headers, body)


def test_unsigned_payload_with_checksum_trailer(server: Server, s3: Any, bucket: str) -> None:
    data = b"trailer checked" * 100
    good = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    status, body = _trailer_put(server, bucket, "trailer", data, good)
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="trailer")["Body"].read() == data
    bad = base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    status, body = _trailer_put(server, bucket, "trailer-bad", data, bad)
    assert status == 400 and b"<Code>BadDigest</Code>" in body


def test_header_checksum_mismatch(server: Server, bucket: str) -> None:
    s3 = server.client("s3")

    def wrong(request: Any, **_: Any) -> None:
        del request.headers["x-amz-checksum-crc32"]
        request.headers["x-amz-checksum-crc32"] = "AAAAAA=="

    s3.meta.events.register("before-sign.s3.PutObject", wrong)
    code, _, status = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"abc")
    assert (code, status) == ("BadDigest", 400)


@pytest.fixture
def localhost_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``<bucket>.localhost`` resolves to the loopback address in this process (as systemd-resolved would)."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    yield


def test_virtual_hosted_style(server: Server, bucket: str, localhost_names: None) -> None:
    import boto3

    virtual = boto3.client(
        "s3", endpoint_url=f"http://localhost:{server.port}", region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )
    seen: list[str] = []
    virtual.meta.events.register("before-send.s3", lambda request, **_: seen.append(request.url))
    virtual.put_object(Bucket=bucket, Key="v/key.txt", Body=b"virtual")
    assert seen[-1].startswith(f"http://{bucket}.localhost:{server.port}/v/key.txt")
    assert virtual.get_object(Bucket=bucket, Key="v/key.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in virtual.list_objects_v2(Bucket=bucket)["Contents"]] == ["v/key.txt"]
    assert virtual.head_bucket(Bucket=bucket)["BucketRegion"] == "us-east-1"
    status, body = send(server.port, "GET", "/v/key.txt",
                        {**Signed("GET", "/v/key.txt", {"host": f"{bucket}.s3.localhost:{server.port}"},
                                  "UNSIGNED-PAYLOAD").headers}, b"")
    assert (status, body) == (200, b"virtual")


def test_stale_requests(server: Server, bucket: str) -> None:
    old = datetime.now(UTC) - timedelta(minutes=20)
    signed = Signed("GET", f"/{bucket}", {"host": f"127.0.0.1:{server.port}"}, "UNSIGNED-PAYLOAD", when=old,
                    query="list-type=2")
    status, body = send(server.port, "GET", f"/{bucket}", signed.headers, b"", "list-type=2")
    assert status == 403 and b"<Code>RequestTimeTooSkewed</Code>" in body
    assert b"<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>" in body
    assert f"<RequestTime>{signed.amz_date}</RequestTime>".encode() in body
    s3 = server.client("s3", signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="soon-gone", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "soon-gone"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=10)
    text = info.value.read()
    assert info.value.code == 403 and b"<Code>AccessDenied</Code>" in text
    assert b"<Message>Request has expired</Message>" in text and b"<X-Amz-Expires>1</X-Amz-Expires>" in text
