"""Route a request to a service and operation by what the request says: X-Amz-Target, or Action + Version; the
SigV4 credential scope's service only when the request names none. The scope's service never chooses the service of
a request that names one: the authenticate step refuses a scope for another service as a signature error."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from ..auth.sigv4 import MalformedSignature, read_signature
from ..core.context import RequestContext
from ..wire.errors import ServiceError, unknown_operation
from ..wire.models import BY_SIGNING_NAME, BY_TARGET_PREFIX, BY_VERSION, SERVICES, ServiceSpec
from .authenticate import auth_error
from .s3route import is_s3, route_s3

FORM_TYPE = "application/x-www-form-urlencoded"


def form_pairs(body: str) -> list[tuple[str, str]]:
    """``parse_qsl(body, keep_blank_values=True)``, faster for the common case of fields needing no decoding."""
    pairs: list[tuple[str, str]] = []
    for field in body.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in field or "+" in field:
            name, value = unquote_plus(name), unquote_plus(value)
        pairs.append((name, value))
    return pairs


class _FirstValues(Mapping[str, str]):
    """The first value of each header, without copying the headers."""

    __slots__ = ("_headers",)

    def __init__(self, headers: dict[str, list[str]]) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        return self._headers[name][0]

    def get(self, name: str, default: Any = None) -> Any:  # Mapping.get would raise and catch a KeyError per absent one
        values = self._headers.get(name)
        return values[0] if values else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


def route(ctx: RequestContext) -> None:
    http = ctx.http
    assert http is not None
    if http.query_string:
        ctx.query_pairs = parse_qsl(http.query_string, keep_blank_values=True)
        ctx.form = dict(ctx.query_pairs)
    if is_s3(http, ctx.form):
        ctx.service = SERVICES["s3"]
        try:
            ctx.signature = read_signature(_FirstValues(http.headers), ctx.form)
        except MalformedSignature as exc:
            if exc.unsupported_algorithm:
                # S3's answer to another signing scheme (as S3 wrote it in public reports, e.g.
                # danialfarid/ng-file-upload#833, tpyo/amazon-s3-php-class#120)
                raise ServiceError("InvalidRequest", "The authorization mechanism you have provided is not "
                                   "supported. Please use AWS4-HMAC-SHA256.", 400) from None
            raise ServiceError("AuthorizationHeaderMalformed", f"The authorization header is malformed; {exc}.",
                               400) from None
        route_s3(ctx)
        if ctx.signature is not None:
            ctx.region = ctx.signature.region
        return
    target = http.header("x-amz-target")
    content_type = http.header("content-type") or ""
    if target is None and (http.method == "POST" and (not content_type or content_type.startswith(FORM_TYPE))):
        try:
            ctx.form.update(form_pairs(http.body.decode()))
        except UnicodeDecodeError:
            raise ServiceError("MalformedQueryString", "The request body is not valid UTF-8.") from None
    # Until the service is known, errors are written in the protocol the request looks like.
    ctx.service = _guess(target, ctx.form)
    try:
        ctx.signature = read_signature(_FirstValues(http.headers), ctx.form)
    except MalformedSignature as exc:
        # The code of the protocol the request looks like: IncompleteSignatureException for ECS and CloudTrail.
        raise auth_error(ctx, "incomplete", f"Authorization header requires a valid signature ({exc}).") from None
    service = ctx.service or _by_signature(ctx)
    ctx.service = service
    if ctx.signature is not None:
        ctx.region = ctx.signature.region
    if service.protocol == "json":
        if target is None or "." not in target:
            raise unknown_operation("json", target or "")
        name = target.rsplit(".", 1)[1]
    else:
        name = ctx.form.get("Action", "")
    operation = service.operation(name)
    if operation is None:
        raise unknown_operation(service.protocol, name, ctx.form.get("Version"))
    ctx.operation = operation


def _guess(target: str | None, form: dict[str, str]) -> ServiceSpec | None:
    if target:
        return BY_TARGET_PREFIX.get(target.rsplit(".", 1)[0])
    return BY_VERSION.get(form.get("Version", ""))


def _by_signature(ctx: RequestContext) -> ServiceSpec:
    """The service of a request that names none (no known X-Amz-Target prefix, no known Version): its credential
    scope's, when that is a service of the query or JSON protocols."""
    signing = ctx.signature.service if ctx.signature is not None else None
    if signing is None:
        raise ServiceError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
    candidates = [spec for spec in BY_SIGNING_NAME.get(signing, ()) if spec.protocol != "rest-xml"]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates and signing in BY_SIGNING_NAME:
        # Signed for S3 but shaped like a query or JSON call that names no service Turnout knows.
        raise unknown_operation(ctx.protocol, ctx.form.get("Action", ""), ctx.form.get("Version"))
    if not candidates:
        raise ServiceError(
            "InvalidAction", f"The service {signing} is not served by Turnout (served: {', '.join(SERVICES)}).",
        )
    version = ctx.form.get("Version")
    raise ServiceError("InvalidAction", f"Could not find operation for version {version or 'NO_VERSION_SPECIFIED'}")
