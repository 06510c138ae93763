"""The authenticate step: verify SigV4 and resolve the caller, with AWS's errors per protocol."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from ..auth import credentials, regions, s3payload
from ..auth.sigv4 import MalformedSignature, SignatureInfo, signing_key, verify
from ..core.context import HttpRequest, RequestContext
from ..wire.errors import ServiceError

# How far a request's time may be from the server's. Services other than S3: five minutes ("a request must reach
# AWS within five minutes of the time stamp", IAM user guide, reference_sigv.html; the observed "Signature expired"
# text reads "- 5 min.": facts file 2, section 8). S3: 15 minutes (MaxAllowedSkewMilliseconds 900000, same source).
SKEW = timedelta(minutes=5)
S3_SKEW = timedelta(minutes=15)
MAX_PRESIGNED_EXPIRY = 604800  # seconds: a presigned URL lives at most 7 days (S3 API reference, query auth)
# S3's answer past that, as S3 wrote it in public reports (aws/aws-cli#5464, bryanjos/aws_auth#31).
EXPIRES_TOO_LONG = ("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be "
                    "less than 604800 seconds")
EXPIRES_NEGATIVE = "X-Amz-Expires must be non-negative"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"

# (code, status) per failure and protocol family. Query services (IAM, STS, ELBv2) answer 403 with the Query
# codes; JSON 1.1 services answer 400 with their ...Exception codes; EC2 answers AuthFailure.
_CODES: dict[str, dict[str, tuple[str, int]]] = {
    "missing": {
        "query": ("MissingAuthenticationToken", 403),
        "ec2": ("MissingAuthenticationToken", 401),
        "json": ("MissingAuthenticationTokenException", 400),
        "rest-xml": ("AccessDenied", 403),
    },
    "unknown_key": {
        "query": ("InvalidClientTokenId", 403),
        "ec2": ("AuthFailure", 401),
        "json": ("UnrecognizedClientException", 400),
        "rest-xml": ("InvalidAccessKeyId", 403),
    },
    "bad_signature": {
        "query": ("SignatureDoesNotMatch", 403),
        "ec2": ("AuthFailure", 401),
        "json": ("InvalidSignatureException", 400),
        "rest-xml": ("SignatureDoesNotMatch", 403),
    },
    "skew": {
        "query": ("SignatureDoesNotMatch", 403),
        "ec2": ("RequestExpired", 400),
        "json": ("InvalidSignatureException", 400),
        "rest-xml": ("RequestTimeTooSkewed", 403),
    },
    "expired_url": {
        "query": ("RequestExpired", 400),
        "ec2": ("RequestExpired", 400),
        "json": ("RequestExpired", 400),
        "rest-xml": ("AccessDenied", 403),
    },
    "expired_token": {
        "query": ("ExpiredToken", 403),
        "ec2": ("RequestExpired", 400),
        "json": ("ExpiredTokenException", 400),
        "rest-xml": ("ExpiredToken", 400),
    },
    "incomplete": {
        "query": ("IncompleteSignature", 400),
        "ec2": ("IncompleteSignature", 400),
        "json": ("IncompleteSignatureException", 400),
        "rest-xml": ("AuthorizationHeaderMalformed", 400),
    },
}
_EC2_AUTH_FAILURE = "AWS was not able to validate the provided access credentials"


# S3's own wordings (facts file 2, section 8; "Access Denied" and the key message: S3's error responses).
_S3_MESSAGES = {
    "missing": "Access Denied",
    "unknown_key": "The AWS Access Key Id you provided does not exist in our records.",
    "bad_signature": s3payload.SIGNATURE_MISMATCH,
    "skew": "The difference between the request time and the current time is too large.",
    "expired_url": "Request has expired",
    "expired_token": "The provided token has expired.",
}


def auth_error(ctx: RequestContext, failure: str, message: str) -> ServiceError:
    code, status = _CODES[failure][ctx.protocol]
    if code == "AuthFailure":
        message = _EC2_AUTH_FAILURE
    if ctx.protocol == "rest-xml":
        message = _S3_MESSAGES.get(failure, message)
        fields: dict[str, str] = {}
        if failure == "unknown_key" and ctx.signature is not None:
            fields["AWSAccessKeyId"] = ctx.signature.access_key_id
        return ServiceError(code, message, status, fields=fields)
    return ServiceError(code, message, status)


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def _check_scope(ctx: RequestContext, info: SignatureInfo) -> None:
    """The credential scope names a Region that exists and the service the request is for (facts file 2,
    section 8: the wording per protocol, each ending in ". "). A wrong service is a signature error, never a
    route to that service. S3 answers a bad Region in its precheck, naming the bucket's (services/s3)."""
    assert ctx.service is not None
    expected = ctx.service.signing_name
    if ctx.protocol == "rest-xml":
        if info.service != expected:
            raise _s3_scope_error(info, f'incorrect service "{info.service}". This endpoint belongs to "{expected}".')
        return
    if not regions.exists(info.region):
        if ctx.protocol == "json" or ctx.service.is_global:
            raise auth_error(ctx, "bad_signature", "Credential should be scoped to a valid region. ")
        raise auth_error(ctx, "bad_signature", f"Credential should be scoped to a valid region, not '{info.region}'. ")
    if info.service != expected:
        raise auth_error(ctx, "bad_signature", f"Credential should be scoped to correct service: '{expected}'. ")


def _s3_scope_error(info: SignatureInfo, detail: str) -> ServiceError:
    """S3's form of a credential scope error: AuthorizationHeaderMalformed for a header, or
    AuthorizationQueryParametersError for a presigned URL (facts file 2, section 8)."""
    if info.presigned:
        return ServiceError("AuthorizationQueryParametersError",
                            f"Error parsing the X-Amz-Credential parameter; {detail}", 400)
    return ServiceError("AuthorizationHeaderMalformed", f"The authorization header is malformed; {detail}", 400)


def authenticate(ctx: RequestContext) -> None:
    if ctx.principal is not None:
        return  # an internal call made with a principal already resolved
    http = ctx.http
    info = ctx.signature
    assert http is not None
    if info is None:
        json_style = ctx.protocol == "json"
        message = "Missing Authentication Token" if json_style else "Request is missing Authentication Token"
        raise auth_error(ctx, "missing", message)
    _check_scope(ctx, info)
    try:
        credential = ctx.gateway.credentials.resolve(info.access_key_id)
    except credentials.UnknownAccessKey:
        raise auth_error(ctx, "unknown_key", INVALID_TOKEN) from None
    try:
        signed_at = info.timestamp()
    except MalformedSignature:
        raise auth_error(ctx, "incomplete", "Authorization header requires existence of either a 'X-Amz-Date' "
                         "or a 'Date' header.") from None
    if info.date != info.amz_date[:8]:
        raise auth_error(
            ctx, "bad_signature",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{info.date}' != '{info.amz_date[:8]}', from '{info.amz_date}'.",
        )
    if "host" not in info.signed_headers:
        raise auth_error(ctx, "incomplete", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    s3 = ctx.protocol == "rest-xml"
    declared = s3payload.payload_hash(http.headers, info, http.body) if s3 else None
    if not verify(info, credential.secret, http.method, http.path, ctx.query_pairs, http.headers, http.body,
                  payload_hash=declared):
        raise auth_error(ctx, "bad_signature", SIGNATURE_MISMATCH)
    now = ctx.gateway.clock.now()
    if s3:
        _s3_time(ctx, info, signed_at, now)
    else:
        _time(ctx, info, signed_at, now)
    if declared is not None:
        ctx.annotations["s3.checksums"] = _s3_body(http, info, credential.secret, declared)
    if credential.session_token is not None:
        token = info.security_token
        if token is None or not hmac.compare_digest(token, credential.session_token):
            raise auth_error(ctx, "unknown_key", INVALID_TOKEN)
        if credential.expires_at is not None and now >= credential.expires_at:
            raise auth_error(ctx, "expired_token", EXPIRED_TOKEN)
    elif info.security_token:
        raise auth_error(ctx, "unknown_key", INVALID_TOKEN)
    session = credential.principal.session
    if (
        session is not None
        and session.issuer_type in ("IAMUser", "Root")
        and not session.mfa_authenticated
        and ctx.service is not None
        and ctx.service.name == "iam"
    ):
        # GetSessionToken credentials without MFA "cannot call IAM API operations" (STS API reference,
        # GetSessionToken); IAM refuses them as an invalid token.
        raise auth_error(ctx, "unknown_key", INVALID_TOKEN)
    if credential.principal.is_root:
        ctx.gateway.ensure_account(credential.principal.account_id)
    ctx.principal = credential.principal
    ctx.gateway.note_key_used(ctx)


def _time(ctx: RequestContext, info: SignatureInfo, signed_at: datetime, now: datetime) -> None:
    """Services other than S3: the request's time within five minutes of the server's (the texts of facts file 2,
    section 8); a presigned URL valid for at most 7 days from its date, never dated in the future."""
    if info.presigned and info.expires is not None:
        if not 0 <= info.expires <= MAX_PRESIGNED_EXPIRY:
            # AWS documents the 7-day bound (sigv4-query-string-auth.html); the code and wording for services other
            # than S3 are not documented: Turnout answers the protocol's signature error with S3's wording.
            raise auth_error(ctx, "bad_signature", EXPIRES_NEGATIVE if info.expires < 0 else EXPIRES_TOO_LONG)
        if now > signed_at + timedelta(seconds=info.expires):
            raise auth_error(ctx, "expired_url", "Request has expired.")
    elif signed_at < now - SKEW:
        raise auth_error(
            ctx, "skew",
            f"Signature expired: {info.amz_date} is now earlier than {_stamp(now - SKEW)} ({_stamp(now)} - 5 min.)",
        )
    if signed_at > now + SKEW:
        raise auth_error(
            ctx, "skew",
            f"Signature not yet current: {info.amz_date} is still later than {_stamp(now + SKEW)} "
            f"({_stamp(now)} + 5 min.)",
        )


def _s3_body(http: HttpRequest, info: SignatureInfo, secret: str, declared: str) -> dict[str, str]:
    """S3: the body checked against its declared hash, decoded from ``aws-chunked`` (chunk signatures and
    trailer checked), and its checksums verified; the decoded body replaces the request's."""
    body = http.body
    trailers: dict[str, str] = {}
    if declared in s3payload.STREAMING:
        key = signing_key(secret, info.date, info.region, info.service)
        body, trailers = s3payload.decode_chunked(body, declared, info, key)
        length = http.header("x-amz-decoded-content-length")
        if length is not None and length.strip() != str(len(body)):
            raise ServiceError("IncompleteBody", "You did not provide the number of bytes specified by the "
                               "Content-Length HTTP header", 400)
    else:
        s3payload.check_hash(declared, body)
    checksums = s3payload.check_checksums(http.headers, trailers, body)
    http.body = body
    return checksums


def _s3_time(ctx: RequestContext, info: SignatureInfo, signed_at: datetime, now: datetime) -> None:
    """S3's own answers for a stale request, with the fields it adds (facts file 2, section 8: observed): a
    presigned URL past ``X-Amz-Date + X-Amz-Expires`` is ``AccessDenied`` "Request has expired"; one dated more
    than the allowed skew ahead is ``AccessDenied`` "Request is not yet valid" with ``<X-Amz-Date>`` in epoch
    milliseconds (as S3 wrote it in public reports: minio/minio#2638, dmjio/s3-signer#16); one valid for more than
    7 days is ``AuthorizationQueryParametersError``; a header-signed request more than 15 minutes off the server's
    clock is ``RequestTimeTooSkewed``."""
    server_time = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if info.presigned:
        if info.expires is None:
            return
        if not 0 <= info.expires <= MAX_PRESIGNED_EXPIRY:
            raise ServiceError("AuthorizationQueryParametersError",
                               EXPIRES_NEGATIVE if info.expires < 0 else EXPIRES_TOO_LONG, 400)
        expires = (signed_at + timedelta(seconds=info.expires)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if signed_at > now + S3_SKEW:
            raise ServiceError("AccessDenied", "Request is not yet valid", 403, fields={
                "X-Amz-Date": int(signed_at.timestamp() * 1000), "Expires": expires, "ServerTime": server_time})
        if now > signed_at + timedelta(seconds=info.expires):
            raise ServiceError("AccessDenied", "Request has expired", 403, fields={
                "X-Amz-Expires": info.expires, "Expires": expires, "ServerTime": server_time})
        return
    if abs(now - signed_at) > S3_SKEW:
        raise ServiceError("RequestTimeTooSkewed", _S3_MESSAGES["skew"], 403, fields={
            "RequestTime": info.amz_date, "ServerTime": server_time, "MaxAllowedSkewMilliseconds": 900000})
