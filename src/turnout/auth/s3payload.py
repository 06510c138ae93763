"""S3's payload rules for SigV4: ``x-amz-content-sha256``, ``aws-chunked`` bodies and checksums.

* ``x-amz-content-sha256`` is required on header-signed S3 requests and is what the canonical request ends with:
  the hex SHA-256 of the body (checked: ``XAmzContentSHA256Mismatch``), ``UNSIGNED-PAYLOAD``, or a streaming
  form (AWS S3 API reference, sig-v4-header-based-auth.html; facts file 2, section 6).
* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``: the body is ``aws-chunked``; each chunk
  ``hex(size);chunk-signature=<sig>\\r\\n<data>\\r\\n`` is signed over ``AWS4-HMAC-SHA256-PAYLOAD``, the date,
  scope, the previous signature (the seed is the request's), the hash of "" and the chunk's hash
  (sigv4-streaming.html). A trailer is signed with ``AWS4-HMAC-SHA256-TRAILER`` over the trailer's hash.
* ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` (botocore's flexible checksums over TLS): ``hex(size)\\r\\n<data>\\r\\n``
  chunks, then the ``x-amz-trailer`` checksum (``x-amz-checksum-crc32:<base64>``), checked against the data.
* ``x-amz-checksum-<algorithm>`` headers and ``Content-MD5`` are checked against the (decoded) body:
  ``BadDigest``.

The decoded body replaces the request's body before parsing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import zlib
from collections.abc import Callable

from ..wire.errors import ServiceError
from .sigv4 import ALGORITHM, EMPTY_SHA256, UNSIGNED_PAYLOAD, SignatureInfo, sign

STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER})
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


def _reflected_table(polynomial: int) -> list[int]:
    """The byte table of a reflected CRC with the (reflected) ``polynomial``."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ polynomial if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _reflected_table(0x82F63B78)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC32C
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# CRC-64/NVME: polynomial 0xAD93D23594C93659 (reflected 0x9A6C9329AC4BC9B5), input and output reflected, initial
# value and final XOR all ones; the check value of b"123456789" is 0xAE8B14860A799888.
_CRC64NVME = _reflected_table(0x9A6C9329AC4BC9B5)
_ONES64 = 0xFFFFFFFFFFFFFFFF


def crc64nvme(data: bytes) -> int:
    crc = _ONES64
    table = _CRC64NVME
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _ONES64


CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "crc32c": lambda data: crc32c(data).to_bytes(4, "big"),
    "crc64nvme": lambda data: crc64nvme(data).to_bytes(8, "big"),
    "sha1": lambda data: hashlib.sha1(data).digest(),  # S3's checksum, not a security use
    "sha256": lambda data: hashlib.sha256(data).digest(),
}
_NAMES = {"crc32": "CRC32", "crc32c": "CRC32C", "crc64nvme": "CRC64NVME", "sha1": "SHA1", "sha256": "SHA256"}


def bad_digest(algorithm: str) -> ServiceError:
    return ServiceError("BadDigest", f"The {_NAMES.get(algorithm, algorithm.upper())} you specified did not match "
                        "the calculated checksum.", 400)


def checksum_of(algorithm: str, data: bytes) -> str | None:
    """The base64 checksum of ``data``; None for an algorithm not computed here (SHA512, XXHASH...)."""
    compute = CHECKSUMS.get(algorithm)
    return base64.b64encode(compute(data)).decode() if compute is not None else None


def payload_hash(headers: dict[str, list[str]], info: SignatureInfo, body: bytes) -> str:
    """The payload hash the request's canonical request ends with; raises S3's error for a missing header or a
    body that is not the one hashed."""
    values = headers.get("x-amz-content-sha256")
    declared = values[0] if values else None
    if declared is None:
        if info.presigned:
            return UNSIGNED_PAYLOAD  # presigned URLs sign no payload (sigv4-query-string-auth.html)
        raise ServiceError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
    if declared == UNSIGNED_PAYLOAD or declared in STREAMING:
        return declared
    if len(declared) != 64 or any(c not in "0123456789abcdef" for c in declared):
        raise ServiceError("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                           "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.", 400,
                           fields={"ArgumentName": "x-amz-content-sha256", "ArgumentValue": declared})
    return declared


def check_hash(declared: str, body: bytes) -> None:
    """A hex ``x-amz-content-sha256`` must be the body's hash (checked once the signature is verified)."""
    if declared == UNSIGNED_PAYLOAD or declared in STREAMING:
        return
    computed = hashlib.sha256(body).hexdigest()
    if computed != declared:
        raise ServiceError(
            "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was "
            "computed.", 400, fields={"ClientComputedContentSHA256": declared, "S3ComputedContentSHA256": computed},
        )


def _incomplete() -> ServiceError:
    return ServiceError("IncompleteBody", "The request body terminated unexpectedly", 400)


def decode_chunked(body: bytes, declared: str, info: SignatureInfo, key: bytes
                   ) -> tuple[bytes, dict[str, str]]:
    """The data of an ``aws-chunked`` body and its trailer headers, chunk signatures verified when signed."""
    signed = declared in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER)
    previous = info.signature
    scope = info.scope
    out: list[bytes] = []
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise _incomplete()
        header = body[pos:end].decode("latin-1")
        size_text, _, extension = header.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise _incomplete() from None
        data = body[end + 2:end + 2 + size]
        if len(data) != size:
            raise _incomplete()
        if signed:
            name, _, signature = extension.partition("=")
            if name.strip() != "chunk-signature":
                raise ServiceError("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)
            to_sign = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", info.amz_date, scope, previous, EMPTY_SHA256,
                                 hashlib.sha256(data).hexdigest()))
            expected = sign(key, to_sign)
            if not hmac.compare_digest(expected, signature.strip()):
                raise ServiceError("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)
            previous = expected
        out.append(data)
        pos = end + 2 + size
        if size == 0:
            break
        if body[pos:pos + 2] != b"\r\n":
            raise _incomplete()
        pos += 2
    trailers = _trailers(body[pos:], declared, info, key, previous)
    return b"".join(out), trailers


def _trailers(rest: bytes, declared: str, info: SignatureInfo, key: bytes, previous: str) -> dict[str, str]:
    if declared == STREAMING_SIGNED:
        return {}
    text = rest.decode("latin-1")
    trailers: dict[str, str] = {}
    signature: str | None = None
    trailer_lines: list[str] = []
    for line in text.split("\r\n"):
        if not line.strip():
            continue
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "x-amz-trailer-signature":
            signature = value.strip()
        else:
            trailers[name] = value.strip()
            trailer_lines.append(f"{name}:{value.strip()}\n")
    if declared == STREAMING_SIGNED_TRAILER:
        digest = hashlib.sha256("".join(trailer_lines).encode()).hexdigest()
        to_sign = "\n".join(("AWS4-HMAC-SHA256-TRAILER", info.amz_date, info.scope, previous, digest))
        if signature is None or not hmac.compare_digest(sign(key, to_sign), signature):
            raise ServiceError("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)
    return trailers


def check_checksums(headers: dict[str, list[str]], trailers: dict[str, str], body: bytes) -> dict[str, str]:
    """Verify ``Content-MD5`` and every ``x-amz-checksum-*`` header or trailer against ``body``; the checksums
    (algorithm -> base64 value) the request carried."""
    md5 = headers.get("content-md5")
    if md5:
        try:
            sent = base64.b64decode(md5[0], validate=True)
        except (binascii.Error, ValueError):
            sent = b""
        if len(sent) != 16:
            raise ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
        if sent != hashlib.md5(body).digest():  # S3's integrity check, not a security use
            raise ServiceError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)
    found: dict[str, str] = {}
    sources = {name: values[0] for name, values in headers.items() if values}
    sources.update(trailers)
    for name, value in sources.items():
        if not name.startswith("x-amz-checksum-") or name == "x-amz-checksum-type":
            continue
        algorithm = name[len("x-amz-checksum-"):]
        computed = checksum_of(algorithm, body)
        if computed is not None and computed != value:
            raise bad_digest(algorithm)
        found[algorithm] = value
    return found


__all__ = ["ALGORITHM", "STREAMING", "check_checksums", "check_hash", "checksum_of", "decode_chunked",
           "payload_hash"]
