"""Authentication failures, each provoked through a real client (boto3 / botocore), with AWS's codes."""

from __future__ import annotations

import re
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import botocore
import botocore.auth
import pytest

from tests.conftest import error_of

INVALID_TOKEN = "The security token included in the request is invalid."
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
STAMP = r"\d{8}T\d{6}Z"



def shift_signing_clock(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """Make botocore sign as if its clock were off by ``delta`` (it reads the time through this function)."""
    real = botocore.auth.get_current_datetime

    def shifted(remove_tzinfo: bool = True) -> datetime:
        value: datetime = real(remove_tzinfo) + delta
        return value

    monkeypatch.setattr(botocore.auth, "get_current_datetime", shifted)


def user_key(iam: Any, name: str) -> dict[str, Any]:
    iam.create_user(UserName=name)
    key: dict[str, Any] = iam.create_access_key(UserName=name)["AccessKey"]
    return key


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


# -- missing or unknown credentials ------------------------------------------------------------------------


def test_unsigned_request(server: Any) -> None:
    for service, call in (("sts", "get_caller_identity"), ("iam", "list_users")):
        client = server.client(service, signature_version=botocore.UNSIGNED)
        assert error_of(getattr(client, call)) == (
            "MissingAuthenticationToken", "Request is missing Authentication Token", 403,
        )


def test_unknown_key(server: Any) -> None:
    sts = server.client("sts", key="AKIA" + "Z" * 16, secret="x" * 40)
    assert error_of(sts.get_caller_identity) == ("InvalidClientTokenId", INVALID_TOKEN, 403)


def test_inactive_key(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("auth-inactive")
    key = user_key(iam, name)
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert error_of(sts.get_caller_identity) == ("InvalidClientTokenId", INVALID_TOKEN, 403)


def test_session_token_checks(server: Any, sts: Any, iam: Any, unique: Callable[[str], str]) -> None:
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    key, secret = creds["AccessKeyId"], creds["SecretAccessKey"]
    wrong = server.client("sts", key=key, secret=secret, token=creds["SessionToken"][:-4] + "AAAA")
    assert error_of(wrong.get_caller_identity) == ("InvalidClientTokenId", INVALID_TOKEN, 403)
    missing = server.client("sts", key=key, secret=secret)
    assert error_of(missing.get_caller_identity) == ("InvalidClientTokenId", INVALID_TOKEN, 403)
    right = server.client("sts", key=key, secret=secret, token=creds["SessionToken"])
    assert right.get_caller_identity()["Account"] == "000000000000"
    # A long-term key sent with a session token is refused too.
    user = user_key(iam, unique("auth-tok"))
    with_token = server.client("sts", key=user["AccessKeyId"], secret=user["SecretAccessKey"],
                               token=creds["SessionToken"])
    assert error_of(with_token.get_caller_identity) == ("InvalidClientTokenId", INVALID_TOKEN, 403)


# -- bad signatures ----------------------------------------------------------------------------------------


def test_wrong_secret(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    key = user_key(iam, unique("auth-secret"))
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"][:-1] + "#")
    assert error_of(sts.get_caller_identity) == ("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)
    root = server.client("iam", key="test", secret="not-test")
    assert error_of(root.list_users) == ("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)


def test_body_tampered_after_signing(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("tamper")
    iam.create_user(UserName=name)
    client = server.client("iam")

    def tamper(request: Any, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        # Same length, other user: the signature covered the original body's hash.
        request.body = body.replace(name.encode(), name[:-1].encode() + b"X")

    client.meta.events.register("before-send.iam.GetUser", tamper)
    assert error_of(client.get_user, UserName=name) == ("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)


def test_signed_header_changed(server: Any) -> None:
    client = server.client("sts")

    def change_header(request: Any, **_: Any) -> None:
        authorization = request.headers["Authorization"]
        if isinstance(authorization, bytes):
            authorization = authorization.decode()
        assert "content-type" in authorization  # botocore signs Content-Type
        request.headers["Content-Type"] = "application/x-www-form-urlencoded"

    client.meta.events.register("before-send.sts.GetCallerIdentity", change_header)
    assert error_of(client.get_caller_identity) == ("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)


def test_signature_expired(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Seven minutes slow: outside the five minutes AWS allows services other than S3 (facts file 2, section 8).
    shift_signing_clock(monkeypatch, timedelta(minutes=-7))
    for service, call in (("sts", "get_caller_identity"), ("iam", "list_users")):
        code, message, status = error_of(getattr(server.client(service), call))
        assert (code, status) == ("SignatureDoesNotMatch", 403)
        assert re.fullmatch(
            rf"Signature expired: {STAMP} is now earlier than {STAMP} \({STAMP} - 5 min\.\)", message
        ), message


def test_signature_not_yet_current(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shift_signing_clock(monkeypatch, timedelta(minutes=7))
    code, message, status = error_of(server.client("sts").get_caller_identity)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert re.fullmatch(rf"Signature not yet current: {STAMP} is still later than {STAMP} \({STAMP} \+ 5 min\.\)",
                        message), message


def test_expired_session_token(fresh_server: Any) -> None:
    sts = fresh_server.client("sts")
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    session_sts = fresh_server.client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                                      token=creds["SessionToken"])
    assert session_sts.get_caller_identity()["Account"] == "000000000000"
    # A session cannot be waited out in a test (15 minutes at least): move its expiry into the past in the
    # running server's SQLite file. The store is in WAL mode, so this second connection may write while the
    # server holds its own; the server reads the session row on every request.
    db = sqlite3.connect(fresh_server.data_dir / "turnout.db")
    with db:
        changed = db.execute(
            "UPDATE sts_sessions SET expires_at = ? WHERE access_key_id = ?",
            ("2020-01-01T00:00:00+00:00", creds["AccessKeyId"]),
        ).rowcount
    db.close()
    assert changed == 1
    assert error_of(session_sts.get_caller_identity) == (
        "ExpiredToken", "The security token included in the request is expired", 403,
    )
    ecs = fresh_server.client("ecs", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                              token=creds["SessionToken"])
    assert error_of(ecs.list_clusters) == (
        "ExpiredTokenException", "The security token included in the request is expired", 400,
    )


# -- presigned requests ------------------------------------------------------------------------------------


def test_presigned_get_caller_identity(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("presign")
    key = user_key(iam, name)
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=300, HttpMethod="GET")
    assert "X-Amz-Signature=" in url
    status, body = fetch(url)
    assert status == 200, body
    assert f"<Arn>arn:aws:iam::000000000000:user/{name}</Arn>" in body
    assert "<Account>000000000000</Account>" in body

    status, body = fetch(url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"))
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body


def test_expired_presigned_url(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shift_signing_clock(monkeypatch, timedelta(minutes=-10))
    url = server.client("sts").generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
    )
    status, body = fetch(url)
    assert status == 400, body
    assert "<Code>RequestExpired</Code>" in body
    assert "<Message>Request has expired.</Message>" in body


# -- the JSON protocol (ECS): authentication runs before dispatch, so its codes come back even here --------


def test_json_protocol_codes(server: Any) -> None:
    unsigned = server.client("ecs", signature_version=botocore.UNSIGNED)
    assert error_of(unsigned.list_clusters) == (
        "MissingAuthenticationTokenException", "Missing Authentication Token", 400,
    )
    unknown = server.client("ecs", key="AKIA" + "Q" * 16, secret="x" * 40)
    assert error_of(unknown.list_clusters) == ("UnrecognizedClientException", INVALID_TOKEN, 400)
    bad_secret = server.client("ecs", key="test", secret="wrong")
    assert error_of(bad_secret.list_clusters) == ("InvalidSignatureException", SIGNATURE_MISMATCH, 400)


# -- the account root contract -----------------------------------------------------------------------------


def test_twelve_digit_key_is_account_root(server: Any) -> None:
    found = server.client("sts", key="210987654321", secret="test").get_caller_identity()
    assert (found["UserId"], found["Account"], found["Arn"]) == (
        "210987654321", "210987654321", "arn:aws:iam::210987654321:root",
    )
    wrong = server.client("sts", key="210987654321", secret="other")
    assert error_of(wrong.get_caller_identity)[0] == "SignatureDoesNotMatch"
