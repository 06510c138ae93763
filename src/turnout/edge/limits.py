"""Request limits, and the AWS-style errors that refuse a request before it is buffered.

The numbers (see :class:`Limits`) and why:

* S3 bodies: 16 MiB. S3 takes up to 5 GB in one PUT (S3 user guide, "Uploading objects"), but Turnout keeps
  objects in SQLite and buffers a request's body in memory, so one request may carry at most 16 MiB; larger
  objects go through multipart upload (boto3's and the AWS CLI's transfer manager switch to it at 8 MiB and send
  8 MiB parts, which fit). Over the limit S3 answers 400 ``EntityTooLarge`` "Your proposed upload exceeds the
  maximum allowed size" with ``ProposedSize`` and ``MaxSizeAllowed`` (S3 API reference, "Error responses").
* JSON (ECS, CloudTrail) and query (IAM, STS, EC2, ELBv2) bodies: 1 MiB. AWS documents no general request size
  for these protocols; their largest inputs are far smaller (an ECS task definition is at most 64 KiB, an IAM
  managed policy 6,144 characters, EC2 user data 16 KB). Answered 413 ``RequestEntityTooLargeException`` (JSON:
  the name AWS's JSON services give that error) or ``RequestEntityTooLarge`` (query).
* Headers: the request line and header section at most 16 KiB and 100 header fields; S3 at most 8 KiB ("the
  PUT request header is limited to 8 KB", S3 user guide, "Working with object metadata"). Answered 400
  ``RequestHeaderSectionTooLarge`` "Your request header section exceeds the maximum allowed size." (S3's code,
  used in every protocol's shape).
* A connection with no request for ``idle_timeout`` seconds is closed, as is one whose request line and headers
  take longer than ``header_timeout`` (slowloris); a body that stops arriving for ``body_timeout`` seconds (for
  example one shorter than its Content-Length) is answered ``RequestTimeout`` (S3: 400 "Your socket connection to
  the server was not read from or written to within the timeout period.") and the connection closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from ..wire.errors import ServiceError
from ..wire.models import BY_SIGNING_NAME, BY_TARGET_PREFIX, SERVICES, ServiceSpec

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    s3_body: int = 16 * MIB
    json_body: int = 1 * MIB
    query_body: int = 1 * MIB
    header_bytes: int = 16 * KIB  # request line + header fields, every protocol
    s3_header_bytes: int = 8 * KIB
    header_count: int = 100
    idle_timeout: float = 5.0  # no request on an open connection (new or kept alive)
    header_timeout: float = 10.0  # from a request's first byte (or the connection's opening) to its last header
    body_timeout: float = 20.0  # no body bytes while the body is awaited
    large_bodies: int = 4  # bodies over 1 MiB (S3's) buffered at the same time; more wait their turn

    def body_limit(self, spec: ServiceSpec | None) -> int:
        if spec is not None and spec.protocol == "rest-xml":
            return self.s3_body
        if spec is not None and spec.protocol == "json":
            return self.json_body
        return self.query_body


LARGE_BODY = 1 * MIB
BODY_COMPLETE = "turnout.body_complete"  # ASGI scope key: the protocol has read the request's whole body
DRAIN_AT_MOST = 1024 * MIB  # a refused body is read (and dropped) to its end up to this size, then cut off

_S3_SCOPE = "/s3/aws4_request"


def guess_service(query_string: str, headers: list[tuple[bytes, bytes]]) -> ServiceSpec | None:
    """The service a request's headers (and query string) name, before its body is read; None if they name none.

    The signing scope decides (as :mod:`turnout.gateway.routing` does), then ``X-Amz-Target``; an unsigned request
    with neither is answered as query (IAM's shape), S3 only when it is signed for S3.
    """
    target: str | None = None
    auth: str | None = None
    for name, value in headers:
        if name == b"authorization" and auth is None:
            auth = value.decode("latin-1")
        elif name == b"x-amz-target" and target is None:
            target = value.decode("latin-1")
    scope = auth or (unquote(query_string) if "X-Amz-Credential" in query_string else "")
    if _S3_SCOPE in scope:
        return SERVICES["s3"]
    if target:
        found = BY_TARGET_PREFIX.get(target.rsplit(".", 1)[0])
        if found is not None:
            return found
    for signing, specs in BY_SIGNING_NAME.items():
        if f"/{signing}/aws4_request" in scope and len(specs) == 1:
            return specs[0]
    return None


def too_large(spec: ServiceSpec | None, size: int | None, limit: int) -> ServiceError:
    """The body is (or says it is) larger than ``limit`` bytes."""
    protocol = spec.protocol if spec is not None else "query"
    if protocol == "rest-xml":
        fields: dict[str, object] = {"MaxSizeAllowed": limit}
        if size is not None:
            fields = {"ProposedSize": size, **fields}
        return ServiceError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
                            fields=fields)
    message = f"Request body of {'more than ' if size is None else ''}{size or limit} bytes exceeds the maximum " \
              f"of {limit} bytes."
    if protocol == "json":
        return ServiceError("RequestEntityTooLargeException", message, 413)
    return ServiceError("RequestEntityTooLarge", message, 413)


def headers_too_large() -> ServiceError:
    return ServiceError("RequestHeaderSectionTooLarge",
                        "Your request header section exceeds the maximum allowed size.", 400)


def request_timeout(spec: ServiceSpec | None) -> ServiceError:
    """The body stopped arriving before its end."""
    message = "Your socket connection to the server was not read from or written to within the timeout period. " \
              "Idle connections will be closed."
    if spec is not None and spec.protocol == "rest-xml":
        return ServiceError("RequestTimeout", message, 400)
    if spec is not None and spec.protocol == "json":
        return ServiceError("RequestTimeoutException", message, 408)
    return ServiceError("RequestTimeout", message, 408)
