"""The global condition keys of a call, for each kind of caller and request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from turnout.authz.globalkeys import (
    REQUEST_KEY_NAMES,
    SOURCE_ACCOUNT,
    SOURCE_ARN,
    global_keys,
    principal_keys,
    request_keys,
)
from turnout.core.context import HttpRequest, RequestContext
from turnout.core.principal import Principal, Session
from turnout.wire.models import SERVICES

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app/deployer"
WHEN = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)


def session(**extra: Any) -> Session:
    fields: dict[str, Any] = {
        "issuer_type": "Role", "issuer_arn": ROLE_ARN, "issuer_id": "AROAEXAMPLE", "issuer_name": "deployer",
        "session_name": "s1", "issued_at": "2024-05-01T12:00:00.123456+00:00",
        "expires_at": "2024-05-01T13:00:00+00:00",
    }
    fields.update(extra)
    return Session(**fields)


def assumed(**extra: Any) -> Principal:
    return Principal(ACCOUNT, "AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/s1", "AROAEXAMPLE:s1",
                     "s1", "ASIAEXAMPLE", session(**extra))


def context(principal: Principal, *, service: str = "elbv2", internal: bool = False, ip: str = "192.0.2.7",
            invoked_by: str | None = None, region: str = "eu-west-1") -> RequestContext:
    http = None if internal else HttpRequest("POST", "/", "", {}, b"", ip)
    ctx = RequestContext(None, "rid", WHEN, http=http, service=SERVICES[service], region=region)  # type: ignore[arg-type]
    ctx.principal = principal
    ctx.source_ip = ip
    ctx.invoked_by = invoked_by
    return ctx


def test_root() -> None:
    assert principal_keys(Principal.root(ACCOUNT), {}) == {
        "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:root",
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "Account",
        "aws:userid": ACCOUNT,
        "aws:PrincipalIsAWSService": "false",
    }


def test_user() -> None:
    user = Principal(ACCOUNT, "IAMUser", f"arn:aws:iam::{ACCOUNT}:user/ops/alice", "AIDAEXAMPLE", "alice", "AKIAX")
    assert principal_keys(user, {"team": "blue", "Cost-Center": "42"}) == {
        "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/ops/alice",
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "User",
        "aws:userid": "AIDAEXAMPLE",
        "aws:username": "alice",
        "aws:PrincipalIsAWSService": "false",
        "aws:PrincipalTag/team": "blue",
        "aws:PrincipalTag/Cost-Center": "42",
    }


def test_user_session_of_get_session_token() -> None:
    user_session = session(issuer_type="IAMUser", issuer_arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
                           issuer_id="AIDAEXAMPLE", issuer_name="alice", session_name="alice")
    user = Principal(ACCOUNT, "IAMUser", f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAEXAMPLE", "alice", "ASIAX",
                     user_session)
    keys = principal_keys(user, {})
    assert keys["aws:PrincipalType"] == "User" and keys["aws:username"] == "alice"
    assert keys["aws:TokenIssueTime"] == "2024-05-01T12:00:00Z"
    assert keys["aws:MultiFactorAuthPresent"] == "false"


def test_role_session() -> None:
    principal = assumed(tags={"team": "green", "Env": "prod"}, source_identity="alice@example.com")
    keys = principal_keys(principal, {"team": "red", "owner": "ops"})
    assert keys == {
        "aws:PrincipalArn": ROLE_ARN,  # the role's ARN with its path, not the session's
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "AssumedRole",
        "aws:userid": "AROAEXAMPLE:s1",
        "aws:PrincipalIsAWSService": "false",
        "aws:PrincipalTag/team": "green",  # the session tag overrides the role's
        "aws:PrincipalTag/owner": "ops",
        "aws:PrincipalTag/Env": "prod",
        "aws:TokenIssueTime": "2024-05-01T12:00:00Z",
        "aws:MultiFactorAuthPresent": "false",
        "aws:SourceIdentity": "alice@example.com",
    }
    assert "aws:username" not in keys


def test_service_principal() -> None:
    service = Principal.service("ecs.amazonaws.com")
    assert principal_keys(service, {}) == {
        "aws:PrincipalServiceName": "ecs.amazonaws.com", "aws:PrincipalIsAWSService": "true",
    }
    ctx = context(service, internal=True, ip="AWS Internal")
    ctx.annotations[SOURCE_ACCOUNT] = ACCOUNT
    ctx.annotations[SOURCE_ARN] = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/c/s"
    keys = request_keys(ctx)
    assert keys["aws:SourceAccount"] == ACCOUNT
    assert keys["aws:SourceArn"] == f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/c/s"
    assert keys["aws:ViaAWSService"] == "false" and "aws:SourceIp" not in keys and "aws:CalledVia" not in keys


def test_request_over_http() -> None:
    keys = request_keys(context(Principal.root(ACCOUNT)))
    assert keys == {
        "aws:CurrentTime": "2024-05-01T12:30:15Z",
        "aws:EpochTime": str(int(WHEN.timestamp())),
        "aws:SecureTransport": "false",
        "aws:RequestedRegion": "eu-west-1",
        "aws:ViaAWSService": "false",
        "aws:SourceIp": "192.0.2.7",
    }
    assert set(keys) <= set(REQUEST_KEY_NAMES)
    # Source and destination annotations are read for service principals only.
    ctx = context(Principal.root(ACCOUNT))
    ctx.annotations[SOURCE_ACCOUNT] = ACCOUNT
    assert "aws:SourceAccount" not in request_keys(ctx)


def test_iam_is_requested_in_us_east_1() -> None:
    assert request_keys(context(Principal.root(ACCOUNT), service="iam", region="eu-west-1"))[
        "aws:RequestedRegion"] == "us-east-1"
    # STS's regional endpoints are requested in their region.
    assert request_keys(context(Principal.root(ACCOUNT), service="sts", region="eu-west-1"))[
        "aws:RequestedRegion"] == "eu-west-1"


def test_call_made_by_a_service_for_a_principal() -> None:
    keys = request_keys(context(assumed(), internal=True, ip="ecs.amazonaws.com", invoked_by="ecs.amazonaws.com"))
    assert keys["aws:ViaAWSService"] == "true"
    assert keys["aws:CalledVia"] == ["ecs.amazonaws.com"]
    assert keys["aws:CalledViaFirst"] == keys["aws:CalledViaLast"] == "ecs.amazonaws.com"
    assert keys["aws:SecureTransport"] == "true"
    assert "aws:SourceIp" not in keys


def test_ipv6_source_and_mfa_age() -> None:
    principal = assumed(mfa_authenticated=True)
    merged = global_keys(context(principal, ip="2001:db8::1"), {"team": "x"})
    assert merged["aws:SourceIp"] == "2001:db8::1"
    assert merged["aws:MultiFactorAuthPresent"] == "true"
    assert merged["aws:MultiFactorAuthAge"] == str(30 * 60 + 15)
    assert merged["aws:PrincipalTag/team"] == "x"
