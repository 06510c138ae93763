"""The IAM policy evaluation engine (no dependency on the server).

Public API::

    policy = compile_policy(text, policy_id="arn:aws:iam::123456789012:policy/p")   # cached by text
    request = make_request("arn:aws:iam::123456789012:user/alice", "iam:PassRole", role_arn,
                           context={"iam:PassedToService": "ecs.amazonaws.com"})
    decision = evaluate(request, PolicySet(identity=[policy]))
    if not decision.allowed:
        message = access_denied_message(request, decision)
"""

from turnout.policy.callers import make_request, principal_type_of
from turnout.policy.evaluate import evaluate
from turnout.policy.messages import access_denied_message
from turnout.policy.model import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Decision,
    MatchedStatement,
    Policy,
    PolicySet,
    PolicyType,
    Position,
    Request,
    Statement,
)
from turnout.policy.parse import PolicySyntaxError, compile_policy

__all__ = [
    "ALLOW",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "Decision",
    "MatchedStatement",
    "Policy",
    "PolicySet",
    "PolicySyntaxError",
    "PolicyType",
    "Position",
    "Request",
    "Statement",
    "access_denied_message",
    "compile_policy",
    "evaluate",
    "make_request",
    "principal_type_of",
]
