"""AWS Signature Version 4, verified as small pure steps: canonical request, string to sign, signature.

Both header-signed (``Authorization: AWS4-HMAC-SHA256 ...``) and presigned (``X-Amz-Signature`` in the query)
requests are supported, with the canonicalisation AWS specifies for services other than S3 (and botocore uses):
the path has its dot segments and repeated slashes removed and is percent-encoded once more; query parameters
are re-encoded (RFC 3986 unreserved characters kept) and sorted by name, then value; header values are trimmed
and their inner runs of whitespace folded to one space.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class MalformedSignature(ValueError):
    """The request carries SigV4 parts that cannot be read (``unsupported_algorithm``: it names another scheme)."""

    def __init__(self, message: str, *, unsupported_algorithm: bool = False) -> None:
        super().__init__(message)
        self.unsupported_algorithm = unsupported_algorithm


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """What a request says about its own signature."""

    access_key_id: str
    date: str  # yyyymmdd of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # yyyymmddThhmmssZ
    presigned: bool
    expires: int | None = None
    security_token: str | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"

    def timestamp(self) -> datetime:
        return _amz_time(self.amz_date)


@lru_cache(maxsize=64)  # requests signed in the same second share their X-Amz-Date: read it once
def _amz_time(text: str) -> datetime:
    """yyyymmddThhmmssZ, read by slicing: strptime costs more than the rest of signature parsing."""
    digits = text[:8] + text[9:15]
    if len(text) != 16 or not text.isascii() or text[8] != "T" or text[15] != "Z" or not digits.isdigit():
        raise MalformedSignature(f"bad X-Amz-Date {text!r}")
    try:
        return datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]), int(text[13:15]),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise MalformedSignature(f"bad X-Amz-Date {text!r}") from exc


def _parse_credential(credential: str) -> tuple[str, str, str, str]:
    """(access key, date, Region, service) of ``KEY/yyyymmdd/REGION/SERVICE/aws4_request``. Whatever lies between
    the date and the service is the Region, slashes included, so that a path-like one is refused as a Region that
    does not exist (by the authenticate step) rather than misread."""
    parts = credential.split("/")
    if len(parts) < 5 or parts[-1] != "aws4_request":
        raise MalformedSignature(f"bad credential scope {credential!r}")
    return parts[0], parts[1], "/".join(parts[2:-2]), parts[-2]


def read_signature(headers: Mapping[str, str], query: Mapping[str, str]) -> SignatureInfo | None:
    """Extract the signature a request carries; None when it carries none (lower-case header names)."""
    auth = headers.get("authorization")
    if auth is not None:
        if not auth.startswith(ALGORITHM + " "):
            raise MalformedSignature("unsupported authorization scheme", unsupported_algorithm=True)
        fields: dict[str, str] = {}
        for part in auth[len(ALGORITHM) + 1 :].split(","):
            key, sep, value = part.strip().partition("=")
            if not sep:
                raise MalformedSignature(f"bad authorization component {part!r}")
            fields[key] = value
        try:
            access_key, date, region, service = _parse_credential(fields["Credential"])
            signed = tuple(fields["SignedHeaders"].split(";"))
            signature = fields["Signature"]
        except KeyError as exc:
            raise MalformedSignature(f"authorization header lacks {exc.args[0]}") from exc
        amz_date = headers.get("x-amz-date") or _from_http_date(headers.get("date"))
        return SignatureInfo(
            access_key, date, region, service, signed, signature, amz_date, False,
            security_token=headers.get("x-amz-security-token"),
        )
    if "X-Amz-Signature" in query or "X-Amz-Credential" in query:
        try:
            if query.get("X-Amz-Algorithm") != ALGORITHM:
                raise MalformedSignature("unsupported X-Amz-Algorithm", unsupported_algorithm=True)
            access_key, date, region, service = _parse_credential(query["X-Amz-Credential"])
            # Any integer: the authenticate step refuses one outside 0..604800 with the protocol's answer before a
            # lifetime is ever computed from it.
            expires = int(query.get("X-Amz-Expires", "3600"))
            return SignatureInfo(
                access_key, date, region, service,
                tuple(query["X-Amz-SignedHeaders"].split(";")), query["X-Amz-Signature"],
                query["X-Amz-Date"], True, expires, query.get("X-Amz-Security-Token"),
            )
        except (KeyError, ValueError) as exc:
            if isinstance(exc, MalformedSignature):
                raise
            raise MalformedSignature(f"presigned request lacks {exc}") from exc
    return None


def _from_http_date(value: str | None) -> str:
    """The ``Date`` header (RFC 7231), which SigV4 accepts instead of ``X-Amz-Date``, in SigV4's form."""
    if not value:
        return ""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return value  # left for SignatureInfo.timestamp() to reject
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def canonical_path(path: str) -> str:
    """The canonical URI of ``path`` as sent on the wire (still percent-encoded): dot segments resolved, empty
    segments dropped (a trailing slash kept), then every segment encoded again, as AWS does for non-S3 services."""
    if path == "/":
        return path  # every query and JSON protocol call
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    normalized = "/" + "/".join(segments)
    if path.endswith("/") and segments:
        normalized += "/"
    return quote(normalized, safe="/~")


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(pairs: Iterable[tuple[str, str]], skip_signature: bool) -> str:
    encoded = sorted(
        (_encode(k), _encode(v)) for k, v in pairs if not (skip_signature and k == "X-Amz-Signature")
    )
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_headers(headers: Mapping[str, Sequence[str]], signed: Sequence[str]) -> str:
    lines = []
    for name in signed:
        values = headers.get(name, ())
        if len(values) == 1:  # the common case, without a generator per header
            lines.append(f"{name}:{' '.join(values[0].split())}")
        else:
            lines.append(f"{name}:" + ",".join(" ".join(v.split()) for v in values))
    return "\n".join(lines) + "\n"


def canonical_request(
    method: str,
    path: str,
    query_pairs: Iterable[tuple[str, str]],
    headers: Mapping[str, Sequence[str]],
    signed: Sequence[str],
    payload_hash: str,
    presigned: bool = False,
    raw_path: bool = False,
) -> str:
    return "\n".join(
        (
            method.upper(),
            path if raw_path else canonical_path(path),
            canonical_query(query_pairs, skip_signature=presigned),
            canonical_headers(headers, signed),
            ";".join(signed),
            payload_hash,
        )
    )


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


@lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def sign(key: bytes, to_sign: str) -> str:
    return hmac.digest(key, to_sign.encode(), "sha256").hex()  # one-shot HMAC: no HMAC object per request


def verify(
    info: SignatureInfo,
    secret: str,
    method: str,
    path: str,
    query_pairs: Sequence[tuple[str, str]],
    headers: Mapping[str, Sequence[str]],
    body: bytes,
    *,
    payload_hash: str | None = None,
) -> bool:
    """True when ``info.signature`` is the signature of this request under ``secret``.

    ``path`` is the path as sent (still percent-encoded); ``query_pairs`` the decoded query parameters in any
    order; ``headers`` lower-case names with every value received for each.

    Without ``payload_hash`` (every service but S3) the payload is always signed: see below.

    ``payload_hash`` given (S3, whose payload checks are :mod:`turnout.auth.s3payload`'s): the hash the canonical
    request ends with, and S3's canonical URI, which is the path exactly as sent (S3 neither normalises nor
    encodes it again: the S3 API reference, "Signature Calculations for the Authorization Header").
    """
    if payload_hash is not None:
        canonical = canonical_request(method, path, query_pairs, headers, info.signed_headers, payload_hash,
                                      info.presigned, raw_path=True)
        key = signing_key(secret, info.date, info.region, info.service)
        return hmac.compare_digest(sign(key, string_to_sign(info.amz_date, info.scope, canonical)), info.signature)
    # Services other than S3 require a signed payload: the canonical request always ends with the hash of the
    # body received, whatever ``x-amz-content-sha256`` declares, so ``UNSIGNED-PAYLOAD`` lets no body through
    # unsigned. A presigned URL with no body may have been signed over ``UNSIGNED-PAYLOAD`` (some SDKs' presigners
    # sign no payload); it carries nothing that could have been changed.
    candidates = [hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256]
    if info.presigned and not body:
        candidates.append(UNSIGNED_PAYLOAD)
    key = signing_key(secret, info.date, info.region, info.service)
    for payload_hash in candidates:
        canonical = canonical_request(
            method, path, query_pairs, headers, info.signed_headers, payload_hash, info.presigned
        )
        expected = sign(key, string_to_sign(info.amz_date, info.scope, canonical))
        if hmac.compare_digest(expected, info.signature):
            return True
    return False
