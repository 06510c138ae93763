"""Reading ARNs (core/arns.py): the account of an ARN, the name of a role's ARN."""

from __future__ import annotations

import pytest

from turnout.core import arns


@pytest.mark.parametrize(("arn", "account"), [
    ("arn:aws:iam::123456789012:role/app", "123456789012"),
    ("arn:aws:iam::aws:policy/ReadOnlyAccess", "aws"),
    ("arn:aws:s3:::bucket", ""),
    ("arn:aws:lambda:us-east-1:123456789012:function:hook:live", "123456789012"),
    ("arn:aws:lambda:us-east-1:123456789012", None),
    ("not:an:arn:at:all:really", None),
    ("*", None),
])
def test_account_of(arn: str, account: str | None) -> None:
    assert arns.account_of(arn) == account


@pytest.mark.parametrize(("arn", "name"), [
    ("arn:aws:iam::123456789012:role/app", "app"),
    ("arn:aws:iam::123456789012:role/service-role/team/app", "app"),
    ("arn:aws-cn:iam::123456789012:role/app", "app"),
    ("arn:aws:iam::123456789012:user/app", None),
    ("arn:aws:sts::123456789012:assumed-role/app/session", None),
    ("arn:aws:iam:us-east-1:123456789012:role/app", None),
    ("role/app", None),
])
def test_role_name(arn: str, name: str | None) -> None:
    assert arns.role_name(arn) == name
