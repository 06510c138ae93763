"""S3's wire pieces underneath the server: which operation a request is, virtual-hosted bucket names, aws-chunked
decoding with chunk signatures and trailers, and checksums."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest

from tests.e2e.s3_signing import Signed
from turnout.auth import s3payload
from turnout.auth.sigv4 import SignatureInfo
from turnout.core.context import HttpRequest
from turnout.gateway.s3route import address, bucket_of_host
from turnout.wire.errors import ServiceError
from turnout.wire.models import SERVICES
from turnout.wire.restxml_routes import find

MODEL = SERVICES["s3"].model


@pytest.mark.parametrize(("method", "shape", "query", "headers", "expected"), [
    ("GET", "root", {}, (), "ListBuckets"),
    ("PUT", "bucket", {}, (), "CreateBucket"),
    ("GET", "bucket", {}, (), "ListObjects"),
    ("GET", "bucket", {"list-type": "2"}, (), "ListObjectsV2"),
    ("GET", "bucket", {"tagging": ""}, (), "GetBucketTagging"),
    ("GET", "bucket", {"policy": ""}, (), "GetBucketPolicy"),
    ("GET", "bucket", {"versions": "", "encoding-type": "url"}, (), "ListObjectVersions"),
    ("POST", "bucket", {"delete": ""}, (), "DeleteObjects"),
    ("HEAD", "bucket", {}, (), "HeadBucket"),
    ("PUT", "object", {}, (), "PutObject"),
    ("PUT", "object", {"partNumber": "1", "uploadId": "u"}, (), "UploadPart"),
    ("PUT", "object", {}, ("x-amz-copy-source",), "CopyObject"),
    ("PUT", "object", {"partNumber": "1", "uploadId": "u"}, ("x-amz-copy-source",), "UploadPartCopy"),
    ("POST", "object", {"uploads": ""}, (), "CreateMultipartUpload"),
    ("POST", "object", {"uploadId": "u"}, (), "CompleteMultipartUpload"),
    ("GET", "object", {}, (), "GetObject"),
    ("GET", "object", {"tagging": ""}, (), "GetObjectTagging"),
    ("DELETE", "object", {"uploadId": "u"}, (), "AbortMultipartUpload"),
    ("PATCH", "bucket", {}, (), None),
])
def test_operation_from_method_path_and_markers(method: str, shape: str, query: dict[str, str],
                                                headers: tuple[str, ...], expected: str | None) -> None:
    assert find(MODEL, method, shape, query, headers) == expected


@pytest.mark.parametrize(("host", "bucket"), [
    ("127.0.0.1:4566", None), ("localhost:4566", None), ("s3.localhost:4566", None), ("[::1]:4566", None),
    ("my-bucket.localhost:4566", "my-bucket"), ("my.dotted.bucket.localhost", "my.dotted.bucket"),
    ("logs.s3.localhost:4566", "logs"), ("b1.s3.amazonaws.com", "b1"), ("b2.s3.eu-west-1.amazonaws.com", "b2"),
    ("s3.us-east-1.amazonaws.com", None),
])
def test_virtual_hosted_bucket(host: str, bucket: str | None) -> None:
    assert bucket_of_host(host) == bucket


def test_address_path_and_virtual() -> None:
    path_style = HttpRequest("GET", "/bucket/a/b%20c%2Bd", "", {"host": ["127.0.0.1:1"]}, b"")
    assert address(path_style) == ("bucket", "a/b c+d")
    virtual = HttpRequest("GET", "/a/%C3%A9", "", {"host": ["bucket.localhost:1"]}, b"")
    assert address(virtual) == ("bucket", "a/é")
    assert address(HttpRequest("GET", "/", "", {"host": ["bucket.localhost:1"]}, b"")) == ("bucket", None)


def test_crc32c_check_value() -> None:
    assert s3payload.crc32c(b"123456789") == 0xE3069283  # the CRC-32C (Castagnoli) check value


def test_crc64nvme_check_value_and_verification() -> None:
    assert s3payload.crc64nvme(b"123456789") == 0xAE8B14860A799888  # the CRC-64/NVME check value
    assert s3payload.checksum_of("crc64nvme", b"hello") == "M3eFcAZSQlc="  # what the JS SDK sends for b"hello"
    assert s3payload.check_checksums({"x-amz-checksum-crc64nvme": ["M3eFcAZSQlc="]}, {}, b"hello") == {
        "crc64nvme": "M3eFcAZSQlc="}
    with pytest.raises(ServiceError) as info:
        s3payload.check_checksums({"x-amz-checksum-crc64nvme": ["M3eFcAZSQlc="]}, {}, b"hellO")
    assert (info.value.code, info.value.message) == (
        "BadDigest", "The CRC64NVME you specified did not match the calculated checksum.")


def _info(signed: Signed) -> SignatureInfo:
    return SignatureInfo("test", signed.date, "us-east-1", "s3", tuple(sorted(signed.headers)), signed.signature,
                         signed.amz_date, False)


def test_signed_chunks_decode_and_a_changed_chunk_is_refused() -> None:
    signed = Signed("PUT", "/b/k", {"host": "h"}, s3payload.STREAMING_SIGNED)
    body = signed.chunk(b"hello ") + signed.chunk(b"world") + signed.chunk(b"")
    data, trailers = s3payload.decode_chunked(body, s3payload.STREAMING_SIGNED, _info(signed), signed.key)
    assert (data, trailers) == (b"hello world", {})
    with pytest.raises(ServiceError) as info:
        s3payload.decode_chunked(body.replace(b"world", b"WORLD"), s3payload.STREAMING_SIGNED, _info(signed),
                                 signed.key)
    assert (info.value.code, info.value.status) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ServiceError) as info:
        s3payload.decode_chunked(body[:-10], s3payload.STREAMING_SIGNED, _info(signed), signed.key)
    assert info.value.code == "IncompleteBody"


def test_unsigned_trailer_and_checksums() -> None:
    data = b"payload"
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    body = f"{len(data):x}\r\n".encode() + data + f"\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n".encode()
    signed = Signed("PUT", "/b/k", {"host": "h"}, s3payload.STREAMING_UNSIGNED_TRAILER)
    decoded, trailers = s3payload.decode_chunked(body, s3payload.STREAMING_UNSIGNED_TRAILER, _info(signed),
                                                 signed.key)
    assert decoded == data and trailers == {"x-amz-checksum-crc32": crc}
    assert s3payload.check_checksums({}, trailers, decoded) == {"crc32": crc}
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    with pytest.raises(ServiceError) as info:
        s3payload.check_checksums({"x-amz-checksum-sha256": [sha]}, {}, b"other")
    assert (info.value.code, info.value.message) == (
        "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert s3payload.check_checksums({"content-md5": [md5]}, {}, data) == {}
    with pytest.raises(ServiceError) as info:
        s3payload.check_checksums({"content-md5": [md5]}, {}, b"other")
    assert info.value.code == "BadDigest"


def test_declared_payload_hash() -> None:
    info = SignatureInfo("test", "20240101", "us-east-1", "s3", ("host",), "sig", "20240101T000000Z", False)
    assert s3payload.payload_hash({"x-amz-content-sha256": ["UNSIGNED-PAYLOAD"]}, info, b"x") == "UNSIGNED-PAYLOAD"
    with pytest.raises(ServiceError) as missing:
        s3payload.payload_hash({}, info, b"")
    assert missing.value.code == "InvalidRequest"
    with pytest.raises(ServiceError) as mismatch:
        s3payload.check_hash(hashlib.sha256(b"a").hexdigest(), b"b")
    assert mismatch.value.code == "XAmzContentSHA256Mismatch"
    assert mismatch.value.fields["S3ComputedContentSHA256"] == hashlib.sha256(b"b").hexdigest()
