"""Whether a bucket policy is public (S3 user guide, "The meaning of 'public'"): what PutBucketPolicy refuses while
BlockPublicPolicy is on, and what GetBucketPolicyStatus reports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from turnout.services.s3.policy import is_public

BUCKET = "arn:aws:s3:::b/*"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": BUCKET, **extra}


@pytest.mark.parametrize("statement", [
    allow(),
    allow({"AWS": "*"}),
    allow({"AWS": ["arn:aws:iam::111122223333:root", "*"]}),
    allow(Condition={"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}}),  # a wildcard fixes nothing
    allow(Condition={"StringNotEquals": {"aws:SourceAccount": "111122223333"}}),  # negated
    allow(Condition={"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}),
    allow(Condition={"Null": {"aws:SourceArn": "false"}}),
    allow(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
    allow(Condition={"StringEquals": {"s3:prefix": "public/"}}),  # not a key that fixes the caller
    {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*",
     "Resource": BUCKET},
])
def test_public(statement: dict[str, Any]) -> None:
    assert is_public(policy(statement))


@pytest.mark.parametrize("statement", [
    allow({"AWS": "arn:aws:iam::111122223333:user/reader"}),
    allow({"Service": "cloudtrail.amazonaws.com"}),
    allow(Condition={"StringEquals": {"aws:SourceAccount": "111122223333"}}),
    allow(Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}}),
    allow(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
    allow(Condition={"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.7"]}}),
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": BUCKET},
])
def test_not_public(statement: dict[str, Any]) -> None:
    assert not is_public(policy(statement))


def test_one_public_statement_makes_the_policy_public() -> None:
    assert is_public(policy(allow({"Service": "cloudtrail.amazonaws.com"}), allow()))
