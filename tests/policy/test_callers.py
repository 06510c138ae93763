"""Building requests from a caller's ARN: principal type, account, role behind a session, context keys."""

from __future__ import annotations

import pytest

from turnout.policy import Request, make_request, principal_type_of


@pytest.mark.parametrize(("principal", "kind", "account", "role"), [
    ("arn:aws:iam::123456789012:root", "Root", "123456789012", None),
    ("arn:aws:iam::123456789012:user/path/alice", "IAMUser", "123456789012", None),
    ("arn:aws:sts::123456789012:assumed-role/app/s1", "AssumedRole", "123456789012",
     "arn:aws:iam::123456789012:role/app"),
    ("arn:aws-cn:sts::123456789012:assumed-role/app/s1", "AssumedRole", "123456789012",
     "arn:aws-cn:iam::123456789012:role/app"),
    ("arn:aws:iam::123456789012:role/team/app", "AssumedRole", "123456789012",
     "arn:aws:iam::123456789012:role/team/app"),
    ("arn:aws:sts::123456789012:federated-user/bob", "FederatedUser", "123456789012", None),
    ("ecs.amazonaws.com", "AWSService", None, None),
    (None, "Anonymous", None, None),
])
def test_principal_kinds(principal: str | None, kind: str, account: str | None, role: str | None) -> None:
    request = make_request(principal, "s3:GetObject", "arn:aws:s3:::b/k")
    assert principal_type_of(principal) == kind
    assert (request.principal_type, request.principal_account, request.role_arn) == (kind, account, role)
    assert request.principal_service == (principal if kind == "AWSService" else None)


def test_request_derivations() -> None:
    request = make_request("arn:aws:iam::1:user/a", "IAM:PassRole", "arn:aws:iam::123456789012:role/r",
                           context={"IAM:PassedToService": "ecs.amazonaws.com", "aws:MultiFactorAuthPresent": True,
                                    "aws:MultiFactorAuthAge": 30, "aws:TagKeys": ("a", "b")})
    assert (request.service, request.action_lower) == ("iam", "iam:passrole")
    assert request.resource_account == "123456789012"
    assert request.values == {"iam:passedtoservice": "ecs.amazonaws.com", "aws:multifactorauthpresent": "true",
                              "aws:multifactorauthage": "30", "aws:tagkeys": ["a", "b"]}


def test_unknown_principal_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown principal type"):
        Request("arn", "1", "Robot", "s3:GetObject", "*")
