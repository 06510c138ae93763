"""SigV4 verification (``turnout.auth.sigv4``) against requests signed by botocore's own signers."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import botocore.auth
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from turnout.auth import regions
from turnout.auth.sigv4 import (
    EMPTY_SHA256,
    MalformedSignature,
    SignatureInfo,
    canonical_path,
    canonical_request,
    read_signature,
    sign,
    signing_key,
    string_to_sign,
    verify,
)

KEY, SECRET, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token/+="
NOW = datetime(2024, 3, 1, 12, 30, 45, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclasses.dataclass
class Received:
    """A request as Turnout's gateway hands it to ``verify``."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, list[str]]
    body: bytes

    def info(self) -> SignatureInfo:
        info = read_signature({k: v[0] for k, v in self.headers.items()}, dict(self.query))
        assert info is not None
        return info

    def verify(self, secret: str = SECRET, info: SignatureInfo | None = None) -> bool:
        return verify(info or self.info(), secret, self.method, self.path, self.query, self.headers, self.body)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))


def signed(
    url: str = "https://iam.amazonaws.com/",
    *,
    method: str = "POST",
    body: bytes | str | dict[str, str] = b"Action=ListRoles&Version=2010-05-08",
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    service: str = "iam",
    region: str = "us-east-1",
    token: str | None = None,
    signer: Callable[[Credentials, str, str], Any] = SigV4Auth,
    context: dict[str, Any] | None = None,
) -> Received:
    request = AWSRequest(method=method, url=url, data=body, params=params or {},
                         headers={"Content-Type": FORM, **(headers or {})})
    request.context.update(context or {})
    signer(Credentials(KEY, SECRET, token), service, region).add_auth(request)
    prepared = request.prepare()
    split = urlsplit(prepared.url)
    received: dict[str, list[str]] = {"host": [split.netloc]}
    for name, value in prepared.headers.items():
        received.setdefault(name.lower(), []).append(value)
    raw = prepared.body or b""
    return Received(prepared.method, split.path or "/", parse_qsl(split.query, keep_blank_values=True), received,
                    raw.encode() if isinstance(raw, str) else raw)


def test_header_signed_query_request_verifies() -> None:
    request = signed()
    info = request.info()
    assert (info.access_key_id, info.date, info.region, info.service) == (KEY, "20240301", "us-east-1", "iam")
    assert info.amz_date == "20240301T123045Z" and not info.presigned
    assert info.signed_headers == ("content-type", "host", "x-amz-date")
    assert request.verify()
    assert not request.verify(secret=SECRET + "x")


def test_json_request_with_session_token_verifies() -> None:
    request = signed(
        "https://ecs.us-west-2.amazonaws.com/", body=b'{"cluster": "c"}', service="ecs", region="us-west-2",
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListServices"},
        token=TOKEN,
    )
    assert request.info().security_token == TOKEN
    assert "x-amz-security-token" in request.info().signed_headers
    assert request.verify()


MUTATIONS: dict[str, Callable[[Received], None]] = {
    "method": lambda r: setattr(r, "method", "PUT"),
    "path": lambda r: setattr(r, "path", "/other"),
    "query added": lambda r: r.query.append(("extra", "1")),
    "query value": lambda r: setattr(r, "query", [("a", "2")]),
    "signed header": lambda r: r.headers.__setitem__("content-type", ["text/plain"]),
    "signed header added value": lambda r: r.headers["content-type"].append("x"),
    "body": lambda r: setattr(r, "body", r.body + b"&MaxItems=1"),
    "date": lambda r: r.headers.__setitem__("x-amz-date", ["20240301T123046Z"]),
    "host": lambda r: r.headers.__setitem__("host", ["sts.amazonaws.com"]),
}


@pytest.mark.parametrize("change", MUTATIONS, ids=list(MUTATIONS))
def test_any_change_to_a_signed_part_fails(change: str) -> None:
    request = signed("https://iam.amazonaws.com/?a=1")
    assert request.verify()
    MUTATIONS[change](request)
    assert not request.verify()


def test_a_different_scope_fails() -> None:
    request = signed()
    info = request.info()
    assert request.verify(info=info)
    assert not request.verify(info=dataclasses.replace(info, region="eu-west-1"))
    assert not request.verify(info=dataclasses.replace(info, service="sts"))
    assert not request.verify(info=dataclasses.replace(info, date="20240302"))
    assert not request.verify(info=dataclasses.replace(info, amz_date="20240301T123046Z"))
    # The key id only picks the secret: it is not part of what is signed.
    assert request.verify(info=dataclasses.replace(info, access_key_id="AKIDOTHER"))


def test_unsigned_headers_may_change() -> None:
    request = signed()
    request.headers["user-agent"] = ["something else"]
    request.headers["x-forwarded-for"] = ["10.0.0.1"]
    assert request.verify()


def test_header_values_are_trimmed_and_whitespace_folded() -> None:
    request = signed(headers={"X-Amz-Meta": "  a   b \t c  "})
    assert "x-amz-meta" in request.info().signed_headers
    assert request.verify()
    request.headers["x-amz-meta"] = ["a b c"]
    assert request.verify()
    request.headers["x-amz-meta"] = ["a bc"]
    assert not request.verify()


def test_repeated_headers_are_joined_with_commas() -> None:
    request = AWSRequest(method="POST", url="https://iam.amazonaws.com/", data=b"", headers={"Content-Type": FORM})
    request.headers.add_header("X-Amz-Multi", "one")
    request.headers.add_header("X-Amz-Multi", "two")
    SigV4Auth(Credentials(KEY, SECRET), "iam", "us-east-1").add_auth(request)
    headers: dict[str, list[str]] = {"host": ["iam.amazonaws.com"]}
    for name, value in request.headers.items():  # as sent: preparing the request would merge the two
        headers.setdefault(name.lower(), []).append(value)
    assert headers["x-amz-multi"] == ["one", "two"]
    received = Received("POST", "/", [], headers, b"")
    assert received.verify()
    received.headers["x-amz-multi"] = ["two", "one"]
    assert not received.verify()


def test_repeated_query_keys_and_unicode_values_in_the_url() -> None:
    query = urlencode([("b", "x y"), ("a", "2"), ("a", "1"), ("ü", "漢字 ~*'()!"), ("empty", "")],
                      quote_via=quote, safe="-_.~")
    request = signed(f"https://iam.amazonaws.com/?{query}", body=b"")
    assert ("a", "2") in request.query and ("ü", "漢字 ~*'()!") in request.query
    assert request.verify()
    request.query.reverse()  # the order received does not matter: the canonical query is sorted
    assert request.verify()
    request.query = [(k, "3" if (k, v) == ("a", "1") else v) for k, v in request.query]
    assert not request.verify()


def test_query_parameters_signed_from_params() -> None:
    request = signed(method="GET", body=b"", params={"Action": "ListRoles", "Marker": "a b+c/=é", "Tilde": "~"})
    assert ("Marker", "a b+c/=é") in request.query
    assert request.verify()


def test_presigned_url_verifies() -> None:
    request = signed(
        "https://sts.amazonaws.com/", method="GET", body={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
        service="sts", token=TOKEN, signer=lambda c, s, r: SigV4QueryAuth(c, s, r, expires=60),
    )
    info = request.info()
    assert info.presigned and info.expires == 60 and info.security_token == TOKEN
    assert info.signed_headers == ("host",)
    assert "authorization" not in request.headers
    assert request.verify()
    request.query = [(k, "GetSessionToken" if k == "Action" else v) for k, v in request.query]
    assert not request.verify()


def test_presigned_url_ignores_unsigned_headers_and_allows_unsigned_payload() -> None:
    request = signed("https://iam.amazonaws.com/", method="GET", body=b"",
                     params={"Action": "ListRoles", "Version": "2010-05-08"},
                     signer=lambda c, s, r: SigV4QueryAuth(c, s, r, expires=300))
    request.headers["content-type"] = ["text/plain"]
    assert request.verify()
    info = request.info()
    canonical = canonical_request("GET", "/", request.query, request.headers, info.signed_headers,
                                  "UNSIGNED-PAYLOAD", presigned=True)
    by_hand = dataclasses.replace(info, signature=sign(signing_key(SECRET, info.date, info.region, info.service),
                                                       string_to_sign(info.amz_date, info.scope, canonical)))
    assert request.verify(info=by_hand)


def test_unsigned_payload_is_refused_outside_s3() -> None:
    """Services other than S3 require a signed payload: a request signed over UNSIGNED-PAYLOAD does not verify,
    whatever its body, the one signed or another (issue 11, finding 5)."""
    request = signed(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert request.headers["x-amz-content-sha256"] == ["UNSIGNED-PAYLOAD"]
    assert not request.verify()
    request.body = b"Action=DeleteRole&Version=2010-05-08&RoleName=admin"
    assert not request.verify()


def test_payload_signing_disabled_is_refused_outside_s3() -> None:
    request = signed(context={"payload_signing_enabled": False})
    assert request.headers["x-amz-content-sha256"] == ["UNSIGNED-PAYLOAD"]
    assert not request.verify()


def test_presigned_unsigned_payload_carries_no_body() -> None:
    """A presigned URL signed over UNSIGNED-PAYLOAD verifies without a body, and not with one."""
    request = signed("https://iam.amazonaws.com/", method="GET", body=b"",
                     params={"Action": "ListRoles", "Version": "2010-05-08"},
                     signer=lambda c, s, r: SigV4QueryAuth(c, s, r, expires=300))
    info = request.info()
    canonical = canonical_request("GET", "/", request.query, request.headers, info.signed_headers,
                                  "UNSIGNED-PAYLOAD", presigned=True)
    by_hand = dataclasses.replace(info, signature=sign(signing_key(SECRET, info.date, info.region, info.service),
                                                       string_to_sign(info.amz_date, info.scope, canonical)))
    assert request.verify(info=by_hand)
    request.body = b"Action=DeleteRole&Version=2010-05-08&RoleName=admin"
    assert not request.verify(info=by_hand)


def test_declared_payload_hash_must_match_the_body() -> None:
    body = b"Action=ListRoles&Version=2010-05-08"
    request = signed(body=body, headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
    assert request.verify()
    request.body = b"Action=DeleteRole&Version=2010-05-08"
    assert not request.verify()


def test_empty_body() -> None:
    request = signed(method="GET", body=b"", params={"Action": "ListRoles"})
    assert request.body == b""
    assert request.verify()
    request.body = b"x"
    assert not request.verify()
    assert hashlib.sha256(b"").hexdigest() == EMPTY_SHA256


def test_date_header_instead_of_x_amz_date() -> None:
    request = signed(headers={"Date": "Fri, 01 Mar 2024 12:30:45 GMT"})
    assert "x-amz-date" not in request.headers
    assert request.info().amz_date == "20240301T123045Z"
    assert request.info().timestamp() == NOW
    assert request.verify()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://iam.amazonaws.com", "/"),
        ("https://iam.amazonaws.com/a%20b/c%2Fd/", "/a%20b/c%2Fd/"),
        ("https://iam.amazonaws.com/x/./y/../z//w", "/x/./y/../z//w"),
        ("https://iam.amazonaws.com/~user/%C3%A9+x", "/~user/%C3%A9+x"),
    ],
)
def test_paths_are_normalised_and_encoded_again(url: str, path: str) -> None:
    request = signed(url)
    assert request.path == path
    assert request.verify()


def test_canonical_path() -> None:
    assert canonical_path("") == "/"
    assert canonical_path("/") == "/"
    assert canonical_path("/a/./b/../c//d/") == "/a/c/d/"
    assert canonical_path("/a%20b") == "/a%2520b"
    assert canonical_path("/../..") == "/"


def test_aws_documentation_example() -> None:
    # The GET ListUsers example of the AWS General Reference ("Create a signed AWS API request").
    headers = {"content-type": [FORM], "host": ["iam.amazonaws.com"], "x-amz-date": ["20150830T123600Z"]}
    query = [("Version", "2010-05-08"), ("Action", "ListUsers")]
    canonical = canonical_request("GET", "/", query, headers, ["content-type", "host", "x-amz-date"], EMPTY_SHA256)
    assert canonical == (
        f"GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:{FORM}\nhost:iam.amazonaws.com\n"
        f"x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n{EMPTY_SHA256}"
    )
    to_sign = string_to_sign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", canonical)
    signature = sign(signing_key(SECRET, "20150830", "us-east-1", "iam"), to_sign)
    assert signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240301/us-east-1/iam, SignedHeaders=host, "
                           "Signature=00"}, {}),
        ({"authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240301/us-east-1/iam/aws4_request, Signature=00"},
         {}),
        ({"authorization": "AWS4-HMAC-SHA256 Credential"}, {}),
        ({"authorization": "AWS AKID:signature"}, {}),
        ({}, {"X-Amz-Algorithm": "AWS4-HMAC-SHA1", "X-Amz-Credential": "AKID/20240301/us-east-1/iam/aws4_request",
              "X-Amz-Signature": "00"}),
        ({}, {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": "AKID/20240301/us-east-1/iam/aws4_request",
              "X-Amz-Signature": "00", "X-Amz-SignedHeaders": "host", "X-Amz-Date": "x", "X-Amz-Expires": "soon"}),
        ({}, {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": "AKID/20240301/us-east-1/iam/aws4_request",
              "X-Amz-Signature": "00"}),
    ],
)
def test_malformed_signatures(headers: dict[str, str], query: dict[str, str]) -> None:
    with pytest.raises(MalformedSignature):
        read_signature(headers, query)


def test_unsigned_request_and_bad_dates() -> None:
    assert read_signature({"content-type": FORM}, {"Action": "ListRoles"}) is None
    info = read_signature(
        {"authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240301/us-east-1/iam/aws4_request, "
                          "SignedHeaders=host, Signature=00", "date": "not a date"}, {})
    assert info is not None
    with pytest.raises(MalformedSignature):
        info.timestamp()


def test_form_pairs_matches_parse_qsl() -> None:
    from urllib.parse import parse_qsl

    from turnout.gateway.routing import form_pairs

    for body in [
        "Action=GetRole&Version=2010-05-08&RoleName=r1",
        "A=&B=1&&C=%2Fpath%2F&D=a+b&E=%E2%9C%93&F",
        "Tags.member.1.Key=k%3Dv&Tags.member.1.Value=x%26y",
        "",
    ]:
        assert form_pairs(body) == parse_qsl(body, keep_blank_values=True), body


def test_credential_scope_region_keeps_what_lies_between_date_and_service() -> None:
    """A path-like Region is read whole (and then refused as a Region that does not exist), never misread as a
    shorter scope; a scope without the aws4_request terminator stays malformed."""
    for region in ("../../etc", "us-east-1/..", ""):
        info = read_signature({"authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20240301/{region}/iam/aws4_request, "
                                                "SignedHeaders=host, Signature=00", "x-amz-date": "20240301T000000Z"},
                              {})
        assert info is not None and (info.region, info.service) == (region, "iam")
        assert not regions.exists(info.region)
    with pytest.raises(MalformedSignature):
        read_signature({"authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240301/us-east-1/iam/aws5, "
                                         "SignedHeaders=host, Signature=00"}, {})
    assert regions.exists("us-east-1") and regions.exists("eu-west-1")
    assert not regions.exists("cn-north-1")  # another partition than Turnout's ARNs
    assert not regions.exists("aws-global")


def test_unknown_algorithm_is_marked() -> None:
    with pytest.raises(MalformedSignature) as info:
        read_signature({"authorization": "AWS4-HMAC-SHA512 Credential=AKID/20240301/us-east-1/iam/aws4_request, "
                                         "SignedHeaders=host, Signature=00"}, {})
    assert info.value.unsupported_algorithm
