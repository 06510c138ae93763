"""What the JavaScript SDK suite found in S3 (tests/js/s3.test.mjs), proved with boto3 and raw HTTP too:

* a 304 (``If-None-Match`` / ``If-Modified-Since``) is written without a body, with the ETag and Last-Modified a
  200 would carry: HTTP forbids a body on a 304, so a client does not read one, and its bytes were taken for the
  start of the next response on the same keep-alive connection;
* GetObject and HeadObject answer the object's stored checksums (``ChecksumType`` ``FULL_OBJECT``) when asked
  with ``x-amz-checksum-mode: ENABLED`` (and not for a range); PutObject names the checksum type with its checksum.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.e2e.s3_signing import EMPTY, Signed


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture
def bucket(s3: Any, unique: Callable[[str], str]) -> str:
    name = unique("cc").lower()
    s3.create_bucket(Bucket=name)
    return name


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _get(connection: http.client.HTTPConnection, port: int, path: str,
         extra: dict[str, str]) -> http.client.HTTPResponse:
    headers = {"host": f"127.0.0.1:{port}", **extra}
    signed = Signed("GET", path, headers, EMPTY)
    connection.request("GET", path, headers=signed.headers)
    return connection.getresponse()


def test_not_modified_has_no_body_and_the_connection_serves_the_next_request(server: Server, s3: Any,
                                                                            bucket: str) -> None:
    body = b"cached representation"
    etag = s3.put_object(Bucket=bucket, Key="page.html", Body=body)["ETag"]
    path = f"/{bucket}/page.html"
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        first = _get(connection, server.port, path, {"if-none-match": etag})
        assert first.status == 304
        assert first.read() == b""
        assert first.getheader("etag") == etag
        assert first.getheader("last-modified") is not None
        later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        second = _get(connection, server.port, path, {"if-modified-since": later})
        assert second.status == 304
        assert second.read() == b""
        # The same connection, kept alive, answers the next request cleanly.
        third = _get(connection, server.port, path, {})
        assert third.status == 200
        assert third.read() == body
    finally:
        connection.close()


def test_not_modified_through_boto3(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v")["ETag"]
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert response["ResponseMetadata"]["HTTPHeaders"]["etag"] == etag
    assert s3.get_object(Bucket=bucket, Key="k", IfNoneMatch='"other"')["Body"].read() == b"v"


def test_checksum_mode_answers_the_stored_checksum(server: Server, s3: Any, bucket: str) -> None:
    data = b"checksummed object body"
    put = s3.put_object(Bucket=bucket, Key="obj", Body=data, ChecksumAlgorithm="CRC32")
    assert (put["ChecksumCRC32"], put["ChecksumType"]) == (_crc32(data), "FULL_OBJECT")

    # botocore asks for checksums by default; a client that does not (checksum mode off) gets none.
    unasked = server.client("s3", response_checksum_validation="when_required")
    plain = unasked.get_object(Bucket=bucket, Key="obj")
    assert plain["Body"].read() == data
    assert "ChecksumCRC32" not in plain and "ChecksumType" not in plain
    assert "ChecksumCRC32" not in unasked.head_object(Bucket=bucket, Key="obj")
    got = s3.get_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")  # botocore checks the body against it
    assert got["Body"].read() == data
    assert (got["ChecksumCRC32"], got["ChecksumType"]) == (_crc32(data), "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (_crc32(data), "FULL_OBJECT")

    # A range is not the whole object: no whole-object checksum to check it against.
    part = s3.get_object(Bucket=bucket, Key="obj", Range="bytes=0-4", ChecksumMode="ENABLED")
    assert part["Body"].read() == data[:5]
    assert "ChecksumCRC32" not in part

    sha = s3.put_object(Bucket=bucket, Key="sha", Body=data, ChecksumAlgorithm="SHA256")
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert sha["ChecksumSHA256"] == expected
    assert s3.head_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")["ChecksumSHA256"] == expected
