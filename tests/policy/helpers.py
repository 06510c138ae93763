"""Small builders shared by the engine's table and scenario tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from turnout.policy import Decision, Policy, PolicySet, compile_policy, evaluate, make_request
from turnout.policy.model import ContextValue

ACCOUNT = "123456789012"
OTHER = "999999999999"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"
BUCKET_OBJECT = "arn:aws:s3:::bucket/key"


def policy(*statements: dict[str, Any], name: str = "p") -> Policy:
    return compile_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), policy_id=name)


def allow(action: str | list[str] = "*", resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str] = "*", resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def condition_holds(condition: dict[str, Any], context: Mapping[str, ContextValue]) -> bool:
    """Whether an Allow */* statement carrying ``condition`` grants a request with ``context``."""
    request = make_request(USER, "s3:GetObject", BUCKET_OBJECT, resource_account=ACCOUNT, context=context)
    decision = evaluate(request, PolicySet(identity=[policy(allow(Condition=condition))]))
    return decision.allowed


def decide(
    principal: str | None = USER,
    action: str = "s3:GetObject",
    target: str = BUCKET_OBJECT,
    *,
    resource_account: str | None = ACCOUNT,
    context: Mapping[str, ContextValue] | None = None,
    resource_policy: Policy | None = None,
    **policies: Any,
) -> Decision:
    """Evaluate a request for ``target``; ``policies`` are PolicySet fields (``resource_policy`` = its resource)."""
    request = make_request(principal, action, target, resource_account=resource_account, context=context or {})
    return evaluate(request, PolicySet(resource=resource_policy, **policies))
