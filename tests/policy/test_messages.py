"""AccessDenied texts built from decisions."""

from __future__ import annotations

import pytest

from tests.policy.helpers import ACCOUNT, ROLE, SESSION, USER, allow, deny, policy
from turnout.policy import Decision, PolicySet, PolicyType, access_denied_message, evaluate, make_request

PASSROLE = "iam:PassRole"
TARGET = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
PREFIX = f"User: {SESSION} is not authorized to perform: {PASSROLE} on resource: {TARGET}"


@pytest.mark.parametrize(("effect", "denied_by", "suffix"), [
    ("ImplicitDeny", PolicyType.IDENTITY, " because no identity-based policy allows the iam:PassRole action"),
    ("ExplicitDeny", PolicyType.IDENTITY, " with an explicit deny in an identity-based policy"),
    ("ImplicitDeny", PolicyType.BOUNDARY, " because no permissions boundary allows the iam:PassRole action"),
    ("ExplicitDeny", PolicyType.BOUNDARY, " with an explicit deny in a permissions boundary"),
    ("ImplicitDeny", PolicyType.SESSION, " because no session policy allows the iam:PassRole action"),
    ("ExplicitDeny", PolicyType.SESSION, " with an explicit deny in a session policy"),
    ("ImplicitDeny", PolicyType.RESOURCE, " because no resource-based policy allows the iam:PassRole action"),
    ("ExplicitDeny", PolicyType.RESOURCE, " with an explicit deny in a resource-based policy"),
    ("ExplicitDeny", PolicyType.SCP, " with an explicit deny in a service control policy"),
    ("ImplicitDeny", PolicyType.SCP, " with an explicit deny in a service control policy"),
    ("ImplicitDeny", PolicyType.RCP, " because no resource control policy allows the iam:PassRole action"),
    ("ExplicitDeny", PolicyType.RCP, " with an explicit deny in a resource control policy"),
    ("ImplicitDeny", PolicyType.ENDPOINT, " because no VPC endpoint policy allows the iam:PassRole action"),
    ("ExplicitDeny", PolicyType.TRUST, " with an explicit deny in the role trust policy"),
    ("ImplicitDeny", PolicyType.TRUST, ""),
    ("ImplicitDeny", None, ""),
])
def test_message_per_policy_type(effect: str, denied_by: PolicyType | None, suffix: str) -> None:
    request = make_request(SESSION, PASSROLE, TARGET)
    decision = Decision(effect, denied_by)  # type: ignore[arg-type]
    assert access_denied_message(request, decision) == PREFIX + suffix


def test_seed_passrole_denial_text() -> None:
    request = make_request(SESSION, PASSROLE, TARGET, context={"iam:PassedToService": "ecs.amazonaws.com"})
    decision = evaluate(request, PolicySet(identity=[policy(allow("s3:*"))]))
    assert access_denied_message(request, decision) == (
        f"User: {SESSION} is not authorized to perform: iam:PassRole on resource: {TARGET} because no "
        "identity-based policy allows the iam:PassRole action"
    )


def test_resource_star_is_omitted_and_explicit_deny_named() -> None:
    request = make_request(USER, "ec2:DescribeInstances", "*")
    decision = evaluate(request, PolicySet(identity=[policy(allow(), deny("ec2:*"))]))
    assert access_denied_message(request, decision) == (
        f"User: {USER} is not authorized to perform: ec2:DescribeInstances with an explicit deny in an "
        "identity-based policy"
    )


def test_assume_role_denial_gives_no_reason() -> None:
    request = make_request(USER, "sts:AssumeRole", ROLE)
    decision = evaluate(request, PolicySet(identity=[policy(allow())], resource_kind="trust"))
    assert access_denied_message(request, decision) == (
        f"User: {USER} is not authorized to perform: sts:AssumeRole on resource: {ROLE}"
    )


def test_anonymous_caller() -> None:
    request = make_request(None, "s3:GetObject", "arn:aws:s3:::b/k")
    decision = evaluate(request, PolicySet())
    assert access_denied_message(request, decision) == (
        "User: anonymous is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no "
        "resource-based policy allows the s3:GetObject action"
    )
