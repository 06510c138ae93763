"""The global condition keys of a call (IAM User Guide, "AWS global condition context keys").

Two halves: :func:`principal_keys`, fixed for a caller (computed once per cached caller), and
:func:`request_keys`, which change with every request (time, source IP, region, the calling service).

* ``aws:PrincipalArn``: the user's ARN; for a role session, the ARN of the *role* (with its path), not the
  session's; ``arn:aws:iam::<account>:root`` for the root user; the federated user's ARN.
* ``aws:PrincipalType``: ``Account`` (root), ``User``, ``AssumedRole``, ``FederatedUser``. ``aws:userid``: the
  account id (root), the user's unique id, ``<role id>:<session name>`` for a role session, ``<account>:<name>``
  for a federated user. ``aws:username``: IAM users only.
* Service principals carry ``aws:PrincipalServiceName`` and ``aws:PrincipalIsAWSService`` = ``true`` (and none
  of the principal keys above); every other caller has ``aws:PrincipalIsAWSService`` = ``false``.
* ``aws:PrincipalTag/<key>``: the user's or role's tags; a session's tags override the role's.
* Temporary credentials add ``aws:TokenIssueTime`` and ``aws:MultiFactorAuthPresent`` (``aws:MultiFactorAuthAge``
  when MFA was used); long-term credentials carry neither. ``aws:SourceIdentity`` when the session has one.
* ``aws:SourceIp`` is absent for calls a service makes (AWS: the service's own address is not the caller's).
  ``aws:SecureTransport`` is ``false`` for requests over plain HTTP (Turnout serves HTTP); calls Turnout makes
  internally stand for AWS's service-to-service calls, which use TLS: ``true``.
* ``aws:ViaAWSService`` is ``true`` and ``aws:CalledVia``/``aws:CalledViaFirst``/``aws:CalledViaLast`` name the
  service when a service makes the call on the principal's behalf (``ctx.invoked_by``).
* ``aws:SourceAccount``/``aws:SourceArn``: for calls a service principal makes for a resource, taken from
  ``ctx.annotations`` (:data:`SOURCE_ACCOUNT`, :data:`SOURCE_ARN`), set by the service that makes the call.
* ``aws:RequestedRegion``: the request's region (STS: the regional endpoint's); ``us-east-1`` for IAM, as AWS
  documents for global services.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..core.principal import Principal
from ..policy.model import role_arn_of_session

if TYPE_CHECKING:
    from ..core.context import RequestContext

# ctx.annotations keys a service sets on calls it makes as a service principal for one of its resources.
SOURCE_ACCOUNT = "authz.source_account"
SOURCE_ARN = "authz.source_arn"

# Every key request_keys() can set (principal_keys() sets the others).
REQUEST_KEY_NAMES = (
    "aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport", "aws:RequestedRegion", "aws:ViaAWSService",
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:SourceIp", "aws:SourceAccount",
    "aws:SourceArn", "aws:MultiFactorAuthAge",
)

_PRINCIPAL_TYPES = {
    "Root": "Account",
    "IAMUser": "User",
    "AssumedRole": "AssumedRole",
    "FederatedUser": "FederatedUser",
}


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_stamp(text: str) -> str:
    return _stamp(datetime.fromisoformat(text))


def principal_keys(principal: Principal, tags: Mapping[str, str]) -> dict[str, Any]:
    """The keys that depend only on who is calling (``tags``: the user's or role's own tags)."""
    if principal.type == "AWSService":
        return {"aws:PrincipalServiceName": principal.arn, "aws:PrincipalIsAWSService": "true"}
    session = principal.session
    keys: dict[str, Any] = {
        "aws:PrincipalAccount": principal.account_id,
        "aws:PrincipalType": _PRINCIPAL_TYPES.get(principal.type, principal.type),
        "aws:userid": principal.principal_id,
        "aws:PrincipalIsAWSService": "false",
    }
    if principal.type == "AssumedRole":
        role_arn = session.issuer_arn if session is not None else role_arn_of_session(principal.arn)
        keys["aws:PrincipalArn"] = role_arn or principal.arn
    else:
        keys["aws:PrincipalArn"] = principal.arn
    if principal.type == "IAMUser" and principal.name:
        keys["aws:username"] = principal.name
    all_tags = dict(tags)
    if session is not None:
        all_tags.update(session.tags)  # session tags override the role's tags of the same key
    for key, value in all_tags.items():
        keys[f"aws:PrincipalTag/{key}"] = value
    if session is not None:
        keys["aws:TokenIssueTime"] = _iso_stamp(session.issued_at)
        keys["aws:MultiFactorAuthPresent"] = "true" if session.mfa_authenticated else "false"
        if session.source_identity is not None:
            keys["aws:SourceIdentity"] = session.source_identity
    return keys


@lru_cache(maxsize=1024)
def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_last_second: tuple[int, str] = (-1, "")


def _current_time(now: datetime) -> tuple[str, str]:
    """(aws:CurrentTime, aws:EpochTime); the text is built once per second."""
    global _last_second
    epoch = int(now.timestamp())
    cached = _last_second
    if cached[0] != epoch:
        cached = (epoch, _stamp(now))
        _last_second = cached
    return cached[1], str(epoch)


def request_keys(ctx: RequestContext) -> dict[str, Any]:
    """The keys that change with each request."""
    current, epoch = _current_time(ctx.received_at)
    service = ctx.service
    region = "us-east-1" if service is not None and service.name == "iam" else ctx.region
    internal = ctx.http is None
    keys: dict[str, Any] = {
        "aws:CurrentTime": current,
        "aws:EpochTime": epoch,
        "aws:SecureTransport": "true" if internal else "false",
        "aws:RequestedRegion": region,
    }
    principal = ctx.principal
    is_service = principal is not None and principal.type == "AWSService"
    via = None if is_service else ctx.invoked_by  # a service principal acting for itself is not "via" a service
    if via:
        keys["aws:ViaAWSService"] = "true"
        keys["aws:CalledVia"] = [via]
        keys["aws:CalledViaFirst"] = via
        keys["aws:CalledViaLast"] = via
    else:
        keys["aws:ViaAWSService"] = "false"
        if not is_service and _is_ip(ctx.source_ip):
            keys["aws:SourceIp"] = ctx.source_ip
    if is_service:
        annotations = ctx.annotations
        if SOURCE_ACCOUNT in annotations:
            keys["aws:SourceAccount"] = annotations[SOURCE_ACCOUNT]
        if SOURCE_ARN in annotations:
            keys["aws:SourceArn"] = annotations[SOURCE_ARN]
    session = principal.session if principal is not None else None
    if session is not None and session.mfa_authenticated:
        issued = datetime.fromisoformat(session.issued_at)
        keys["aws:MultiFactorAuthAge"] = str(max(0, int((ctx.received_at - issued).total_seconds())))
    return keys


def global_keys(ctx: RequestContext, tags: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every global key of the call (principal and request halves together)."""
    assert ctx.principal is not None
    return {**principal_keys(ctx.principal, tags or {}), **request_keys(ctx)}
