"""Action and resource matching: wildcards, ARN segments, truncated ARNs, variables, NotAction/NotResource."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.helpers import USER, allow, decide, policy
from turnout.policy.matching import ShortArn, compile_actions, compile_resource

ACTIONS: list[tuple[str, str, bool]] = [
    ("*", "s3:GetObject", True),
    ("s3:*", "s3:GetObject", True),
    ("s3:GetObject", "S3:getobject", True),
    ("S3:Get*", "s3:GetObject", True),
    ("s3:Get??????", "s3:GetObject", True),
    ("s3:Get???", "s3:GetObject", False),
    ("s3:*Object", "s3:PutObject", True),
    ("s3:*Object", "s3:ListBucket", False),
    ("*:GetObject", "s3:GetObject", False),
    ("s3*:GetObject", "s3:GetObject", False),
    ("s3:", "s3:GetObject", False),
    ("s3: GetObject", "s3:GetObject", False),
    ("s3:GetObject,PutObject", "s3:GetObject", False),
    ("GetObject", "s3:GetObject", False),
    ("iam:*Report", "iam:GetOrganizationsAccessReport", True),
    ("iam:*Report", "iam:GetReportX", False),
]


@pytest.mark.parametrize(("pattern", "action", "expected"), ACTIONS)
def test_action_patterns(pattern: str, action: str, expected: bool) -> None:
    matcher, _ = compile_actions([pattern])
    lowered = action.lower()
    assert matcher.matches(lowered.partition(":")[0], lowered) is expected


ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-123"
RESOURCES: list[tuple[str, str, bool]] = [
    ("*", ARN, True),
    ("*", "*", True),
    (ARN, ARN, True),
    ("arn:aws:ec2:us-east-1:123456789012:instance/I-123", ARN, False),  # case-sensitive
    ("arn:aws:ec2:*:123456789012:instance/*", ARN, True),
    ("arn:aws:ec2:us-?ast-1:*:instance/i-*", ARN, True),
    ("arn:*:ec2:*:*:*", ARN, True),
    ("arn:aws:ec2:us-east-1:123456789012:*", "arn:aws:ec2:us-east-1:123456789012:a/b:c/d", True),
    ("arn:aws:ec2:us-*-1:123456789012:instance/*", ARN, True),
    ("arn:aws:ec2:u*t-1:123456789012:instance/*", ARN, True),
    ("arn:aws:ec2:us-e?st-1:*", ARN, True),  # a trailing * may cross colons
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", True),
    ("arn:aws:s3:::*/key", "arn:aws:s3:::bucket/key", True),
    ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket/key", False),
    ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket/key", True),
    ("arn:aws:s3:::bucket", "*", False),
    ("arn:aws:s3:::*", "*", False),
    ("arn:aws:ec2:us-east-1:12345678901?:instance/i-123", ARN, True),
    ("arn:aws:ec2:us-east-1:1234567890?:instance/i-123", ARN, False),
]


@pytest.mark.parametrize(("pattern", "resource", "expected"), RESOURCES)
def test_resource_patterns(pattern: str, resource: str, expected: bool) -> None:
    compiled = compile_resource(pattern)
    assert (compiled.state(resource, ShortArn.PAD, {}) == 1) is expected


QUEUE = "arn:aws:sqs:us-east-1:111111111111:q"
# (pattern, mode, state): 1 match, 0 no match, -1 error (the statement does not apply)
TRUNCATED: list[tuple[str, ShortArn, int]] = [
    ("arn:aws:sqs", ShortArn.PAD, 1),
    ("arn:aws:sqs:us-east-1", ShortArn.PAD, 1),
    ("arn:aws:sqs:us-west-2", ShortArn.PAD, -1),
    ("arn:aws:sqs", ShortArn.PAD_IF_WILDCARD, 0),
    ("arn:aws:sqs:*:111111111111", ShortArn.PAD_IF_WILDCARD, 1),
    ("arn:aws:sqs:*:222222222222", ShortArn.PAD_IF_WILDCARD, -1),
    ("arn:aws:sqs:*", ShortArn.LITERAL, 1),
    ("arn:aws:sqs:us-east-1:*", ShortArn.LITERAL, 1),
    ("arn:aws:sqs:*:111111111111", ShortArn.LITERAL, -1),
    ("arn:aws:sqs", ShortArn.LITERAL, -1),
    (QUEUE, ShortArn.LITERAL, 1),
]


@pytest.mark.parametrize(("pattern", "mode", "state"), TRUNCATED)
def test_truncated_arns(pattern: str, mode: ShortArn, state: int) -> None:
    assert compile_resource(pattern).state(QUEUE, mode, {}) == state


VARIABLES: list[tuple[str, dict[str, Any], str, bool]] = [
    ("arn:aws:s3:::home/${aws:username}/*", {"aws:username": "alice"}, "arn:aws:s3:::home/alice/x", True),
    ("arn:aws:s3:::home/${aws:username}/*", {"aws:username": "alice"}, "arn:aws:s3:::home/bob/x", False),
    ("arn:aws:s3:::home/${aws:username}/*", {}, "arn:aws:s3:::home/alice/x", False),
    ("arn:aws:s3:::home/${aws:username}", {"aws:username": "*"}, "arn:aws:s3:::home/bob", False),
    ("arn:aws:s3:::home/${aws:username}", {"aws:username": "*"}, "arn:aws:s3:::home/*", True),
    ("arn:aws:s3:::b-${aws:PrincipalTag/team, 'all'}/*", {}, "arn:aws:s3:::b-all/x", True),
    ("arn:aws:s3:::b/${*}", {}, "arn:aws:s3:::b/*", True),
    ("arn:aws:s3:::b/${*}", {}, "arn:aws:s3:::b/x", False),
]


@pytest.mark.parametrize(("pattern", "context", "resource", "expected"), VARIABLES)
def test_resource_variables(pattern: str, context: dict[str, Any], resource: str, expected: bool) -> None:
    decision = decide(USER, "s3:GetObject", resource, context=context, identity=[policy(allow(resource=pattern))])
    assert decision.allowed is expected


def test_not_action_and_not_resource() -> None:
    statement = {"Effect": "Allow", "NotAction": ["iam:*", "s3:Put*"], "NotResource": "arn:aws:s3:::secret/*"}
    identity = [policy(statement)]
    assert decide(action="s3:GetObject", target="arn:aws:s3:::open/x", identity=identity).allowed
    assert not decide(action="s3:PutObject", target="arn:aws:s3:::open/x", identity=identity).allowed
    assert not decide(action="s3:GetObject", target="arn:aws:s3:::secret/x", identity=identity).allowed
    assert not decide(action="iam:GetUser", target="*", identity=identity).allowed


def test_unresolved_variable_in_not_resource_excludes_nothing() -> None:
    statement = {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::home/${aws:username}/*"}
    assert decide(target="arn:aws:s3:::home/alice/x", identity=[policy(statement)]).allowed
    assert not decide(target="arn:aws:s3:::home/alice/x", context={"aws:username": "alice"},
                      identity=[policy(statement)]).allowed
