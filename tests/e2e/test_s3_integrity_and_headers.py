"""What the JavaScript SDK suite found in S3 (tests/js/s3.test.mjs), proved with boto3 and raw HTTP too:

* a 304 (``If-None-Match`` / ``If-Modified-Since``) is written without a body, with the ETag and Last-Modified a
  200 would carry: HTTP forbids a body on a 304, so a client does not read one, and its bytes were taken for the
  start of the next response on the same keep-alive connection;
* GetObject and HeadObject answer the object's stored checksums (``ChecksumType`` ``FULL_OBJECT``) when asked
  with ``x-amz-checksum-mode: ENABLED`` (and not for a range); PutObject names the checksum type with its checksum;
* CRC64NVME (the JS SDK can send it) is verified like the other checksums, and an object uploaded without a
  checksum gets S3's default CRC64NVME (PutObject, CopyObject, a multipart upload created without an algorithm);
  UploadPart answers the part's checksum;
* the response-* query parameters (response-content-type...) override GetObject's and HeadObject's headers.
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

from tests.conftest import Server, error_of
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


def _byte_step(value: int) -> int:
    for _ in range(8):
        value = (value >> 1) ^ 0x9A6C9329AC4BC9B5 if value & 1 else value >> 1
    return value


_STEPS = [_byte_step(byte) for byte in range(256)]


def _crc64nvme(data: bytes) -> str:
    """CRC-64/NVME written out here (reflected polynomial, all-ones start and end), apart from the server's."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc = _STEPS[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return base64.b64encode((crc ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")).decode()


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


def test_default_crc64nvme_for_uploads_without_a_checksum(server: Server, s3: Any, bucket: str) -> None:
    assert _crc64nvme(b"123456789") == base64.b64encode((0xAE8B14860A799888).to_bytes(8, "big")).decode()
    data = b"no checksum sent with this body"
    bare = server.client("s3", request_checksum_calculation="when_required")
    put = bare.put_object(Bucket=bucket, Key="bare", Body=data)
    assert (put["ChecksumCRC64NVME"], put["ChecksumType"]) == (_crc64nvme(data), "FULL_OBJECT")
    assert "ChecksumCRC32" not in put
    head = s3.head_object(Bucket=bucket, Key="bare", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == _crc64nvme(data)

    copied = s3.copy_object(Bucket=bucket, Key="copied", CopySource=f"{bucket}/bare")["CopyObjectResult"]
    assert (copied["ChecksumCRC64NVME"], copied["ChecksumType"]) == (_crc64nvme(data), "FULL_OBJECT")
    with_crc32 = s3.put_object(Bucket=bucket, Key="crc32", Body=data)  # botocore's default CRC32
    assert "ChecksumCRC64NVME" not in with_crc32
    replaced = s3.copy_object(Bucket=bucket, Key="replaced", CopySource=f"{bucket}/crc32",
                              MetadataDirective="REPLACE", ContentType="text/plain")["CopyObjectResult"]
    assert replaced["ChecksumCRC64NVME"] == _crc64nvme(data)


def test_crc64nvme_header_is_verified(server: Server, bucket: str) -> None:
    data = b"sent with a CRC64NVME"

    def header(value: str) -> Callable[..., None]:
        def set_it(request: Any, **_: Any) -> None:
            for name in [n for n in request.headers if n.lower().startswith("x-amz-checksum-")]:
                del request.headers[name]
            request.headers["x-amz-checksum-crc64nvme"] = value
        return set_it

    good = server.client("s3", request_checksum_calculation="when_required")
    good.meta.events.register("before-sign.s3.PutObject", header(_crc64nvme(data)))
    assert good.put_object(Bucket=bucket, Key="nvme", Body=data)["ChecksumCRC64NVME"] == _crc64nvme(data)
    bad = server.client("s3", request_checksum_calculation="when_required")
    bad.meta.events.register("before-sign.s3.PutObject", header(_crc64nvme(b"something else")))
    code, message, status = error_of(bad.put_object, Bucket=bucket, Key="nvme-bad", Body=data)
    assert (code, message, status) == (
        "BadDigest", "The CRC64NVME you specified did not match the calculated checksum.", 400)
    assert error_of(good.head_object, Bucket=bucket, Key="nvme-bad")[2] == 404


def test_multipart_part_checksums_and_default_object_checksum(s3: Any, bucket: str) -> None:
    first, last = b"a" * (5 * 1024 * 1024), b"tail"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    parts = []
    for number, body in ((1, first), (2, last)):
        answer = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=number, Body=body)
        assert answer["ChecksumCRC32"] == _crc32(body)  # botocore sent the part's CRC32: answered back
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload,
                                        MultipartUpload={"Parts": parts})
    whole = first + last
    assert (done["ChecksumCRC64NVME"], done["ChecksumType"]) == (_crc64nvme(whole), "FULL_OBJECT")
    assert s3.head_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")["ChecksumCRC64NVME"] == _crc64nvme(whole)

    # An upload that asked for an algorithm: its composite checksum is not computed, and no default is added.
    asked = s3.create_multipart_upload(Bucket=bucket, Key="asked", ChecksumAlgorithm="CRC32")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="asked", UploadId=asked, PartNumber=1, Body=last,
                          ChecksumAlgorithm="CRC32")
    finished = s3.complete_multipart_upload(Bucket=bucket, Key="asked", UploadId=asked, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}]})
    assert "ChecksumCRC64NVME" not in finished


def test_response_header_overrides(server: Server, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="report.csv", Body=b"a,b\n1,2\n", ContentType="text/csv")
    overrides = {"ResponseContentType": "application/octet-stream",
                 "ResponseContentDisposition": 'attachment; filename="r.csv"', "ResponseCacheControl": "no-store",
                 "ResponseContentLanguage": "en", "ResponseContentEncoding": "identity",
                 "ResponseExpires": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)}
    got = s3.get_object(Bucket=bucket, Key="report.csv", **overrides)
    assert got["Body"].read() == b"a,b\n1,2\n"
    headers = got["ResponseMetadata"]["HTTPHeaders"]
    assert (headers["content-type"], headers["content-disposition"], headers["cache-control"],
            headers["content-language"], headers["content-encoding"], headers["expires"]) == (
        "application/octet-stream", 'attachment; filename="r.csv"', "no-store", "en", "identity",
        "Wed, 02 Jan 2030 03:04:05 GMT")
    head = s3.head_object(Bucket=bucket, Key="report.csv", ResponseContentType="text/plain")
    assert head["ContentType"] == "text/plain"
    # The stored headers are unchanged, and a range (206) is not overridden.
    assert s3.head_object(Bucket=bucket, Key="report.csv")["ContentType"] == "text/csv"
    ranged = s3.get_object(Bucket=bucket, Key="report.csv", Range="bytes=0-2", ResponseContentType="text/plain")
    assert ranged["ContentType"] == "text/csv"


