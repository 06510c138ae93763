"""IpAddress/NotIpAddress (IPv4 and IPv6) and the ARN operators (segment-wise matching)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.helpers import condition_holds

IP = "aws:SourceIp"
ARN = "aws:SourceArn"

IP_CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    ("IpAddress", "203.0.113.0/24", {IP: "203.0.113.9"}, True),
    ("IpAddress", "203.0.113.0/24", {IP: "203.0.114.9"}, False),
    ("IpAddress", "203.0.113.7", {IP: "203.0.113.7"}, True),  # no prefix: /32
    ("IpAddress", "203.0.113.7/24", {IP: "203.0.113.200"}, True),  # host bits are ignored
    ("IpAddress", "2001:DB8:1234:5678::/64", {IP: "2001:db8:1234:5678::1"}, True),
    ("IpAddress", "2001:db8::/32", {IP: "203.0.113.9"}, False),
    ("IpAddress", "0.0.0.0/0", {IP: "2001:db8::1"}, False),
    ("IpAddress", ["10.0.0.0/8", "2001:db8::/32"], {IP: "2001:db8::1"}, True),
    ("IpAddress", "10.0.0.0/8", {IP: "not-an-ip"}, False),
    ("IpAddress", "10.0.0.0/33", {IP: "10.0.0.1"}, False),
    ("IpAddress", "10.0.0.0/8", {}, False),
    ("NotIpAddress", "10.0.0.0/8", {IP: "192.0.2.1"}, True),
    ("NotIpAddress", "10.0.0.0/8", {IP: "10.1.2.3"}, False),
    ("NotIpAddress", "10.0.0.0/8", {IP: "2001:db8::1"}, True),
    ("NotIpAddress", "10.0.0.0/8", {IP: "garbage"}, False),
    ("NotIpAddress", "garbage", {IP: "10.1.2.3"}, False),
    ("NotIpAddress", "10.0.0.0/8", {}, True),
]


@pytest.mark.parametrize(("operator", "values", "context", "expected"), IP_CASES)
def test_ip_operators(operator: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {IP: values}}, context) is expected


TOPIC = "arn:aws:sns:us-east-1:123456789012:topic"
ARN_CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    ("ArnEquals", TOPIC, {ARN: TOPIC}, True),
    ("ArnLike", "arn:aws:sns:*:123456789012:*", {ARN: TOPIC}, True),
    ("ArnEquals", "arn:aws:sns:*:123456789012:*", {ARN: TOPIC}, True),  # ArnEquals takes wildcards too
    ("ArnLike", "arn:aws:sns:us-east-1:123456789012:TOPIC", {ARN: TOPIC}, False),
    ("ArnLike", "arn:aws:someservice:*:111122223333:finance/*",
     {ARN: "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}, False),
    ("StringLike", "arn:aws:someservice:*:111122223333:finance/*",
     {ARN: "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}, True),
    ("ArnLike", "arn:aws:s3:::bucket/*", {ARN: "arn:aws:s3:::bucket/a:b/c"}, True),
    ("ArnLike", "arn:aws:iam::*:user/${aws:username}", {ARN: "arn:aws:iam::1:user/bob", "aws:username": "bob"}, True),
    ("ArnLike", "arn:::bucket", {ARN: "arn:::bucket"}, False),  # not six segments: unusable
    ("ArnLike", "arn:aws:sns:*:*:*", {ARN: "sns-topic"}, False),
    ("ArnNotEquals", TOPIC, {ARN: TOPIC}, False),
    ("ArnNotLike", "arn:aws:sns:*:111111111111:*", {ARN: TOPIC}, True),
    ("ArnNotLike", "arn:aws:sns:*:111111111111:*", {ARN: "not an arn"}, False),
    ("ArnNotLike", "arn:aws:sns:*:111111111111:*", {}, True),
    ("ArnLikeIfExists", "arn:aws:sns:*:111111111111:*", {}, True),
]


@pytest.mark.parametrize(("operator", "values", "context", "expected"), ARN_CASES)
def test_arn_operators(operator: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {ARN: values}}, context) is expected
