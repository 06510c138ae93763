"""Bucket policy validation: ``MalformedPolicy`` (400) with S3's messages.

S3 checks a bucket policy when it is put: valid JSON, each statement with ``Effect``, ``Principal``, ``Action``
and ``Resource``; every resource must be the bucket or an object path of it ("Policy has invalid resource");
every action an ``s3:`` action or ``*`` ("Policy has invalid action"); principals well formed ("Invalid principal
in policy"). The wordings are S3's observed ones (AWS documents the code, not the messages). The policy is then
compiled by the IAM policy engine, which enforces it (:mod:`turnout.authz.resources_s3`).
"""

from __future__ import annotations

import re
from typing import Any

from ...policy.parse import PolicySyntaxError, compile_policy
from ...wire import jsontext
from . import errors

_ACCOUNT_PRINCIPAL = re.compile(r"^(?:\d{12}|arn:aws:(?:iam|sts)::\d{12}:.+|\*)$")
MAX_SIZE = 20 * 1024  # bucket policies are limited to 20 KB (S3 user guide, "Bucket policies")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def validate_policy(text: str, bucket: str) -> None:
    if len(text.encode()) > MAX_SIZE:
        raise errors.malformed_policy("Policies must be smaller than 20480 bytes")
    try:
        document = jsontext.loads(text)
    except ValueError:
        raise errors.malformed_policy("This policy contains invalid Json") from None
    if not isinstance(document, dict):
        raise errors.malformed_policy("Policies must be valid JSON and the first byte must be '{'")
    statements = document.get("Statement")
    if statements is None:
        raise errors.malformed_policy("Missing required field Statement")
    for statement in _list(statements):
        if not isinstance(statement, dict):
            raise errors.malformed_policy("Statement is not an object")
        _statement(statement, bucket)
    try:
        compile_policy(text, f"arn:aws:s3:::{bucket}#policy")
    except PolicySyntaxError as exc:
        raise errors.malformed_policy(str(exc)) from None


def _statement(statement: dict[str, Any], bucket: str) -> None:
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise errors.malformed_policy(f"Invalid effect: {effect}" if effect else "Missing required field Effect")
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if principal is None:
        raise errors.malformed_policy("Missing required field Principal")
    if not _principal_ok(principal):
        raise errors.malformed_policy("Invalid principal in policy")
    actions = statement.get("Action", statement.get("NotAction"))
    if actions is None:
        raise errors.malformed_policy("Missing required field Action")
    for action in _list(actions):
        if not isinstance(action, str) or not (action == "*" or action.lower().startswith("s3:")):
            raise errors.malformed_policy("Policy has invalid action")
    resources = statement.get("Resource", statement.get("NotResource"))
    if resources is None:
        raise errors.malformed_policy("Missing required field Resource")
    for resource in _list(resources):
        if not isinstance(resource, str) or not _resource_ok(resource, bucket):
            raise errors.malformed_policy("Policy has invalid resource")


def _resource_ok(resource: str, bucket: str) -> bool:
    if resource == "*":
        return True
    prefix = "arn:aws:s3:::"
    if not resource.startswith(prefix):
        return False
    name = resource[len(prefix):].split("/", 1)[0]
    return re.fullmatch(name.replace("*", ".*").replace("?", "."), bucket) is not None if "*" in name or \
        "?" in name else name == bucket


def _principal_ok(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict) or not principal:
        return False
    for kind, values in principal.items():
        for value in _list(values):
            if not isinstance(value, str):
                return False
            if kind == "AWS" and not _ACCOUNT_PRINCIPAL.match(value) and not _canonical_or_id(value):
                return False
            if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
                return False
    return True


def _canonical_or_id(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{64}|A[A-Z]{3}[A-Z0-9]{16,}", value))


# -- whether a policy is public ----------------------------------------------------------------------------------
# S3 calls a bucket policy public unless every Allow statement is limited to fixed principals, or by a condition on
# a key that fixes who calls or from where (S3 user guide, "Blocking public access to your Amazon S3 storage", "The
# meaning of 'public'"). The keys below are those the guide lists plus the principal keys; a negated, IfExists,
# Null or Bool condition, a wildcard value, or an IPv4 range wider than /8 fixes nothing. An approximation.
_FIXING_KEYS = frozenset({
    "aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount",
    "aws:userid", "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount", "s3:x-amz-server-side-encryption-aws-kms-key-id",
})
_MIN_PREFIX = 8


def _everyone(statement: dict[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in _list(principal.get("AWS", []))


def _fixes(operator: str, key: str, values: Any) -> bool:
    name = operator.lower().split(":")[-1]
    if key.lower() not in _FIXING_KEYS or name.endswith("ifexists") or "not" in name or name in ("null", "bool"):
        return False
    texts = [str(v) for v in _list(values)]
    if not texts or any("*" in t or "?" in t for t in texts):
        return False
    if key.lower() == "aws:sourceip":
        return all(":" in t or int(t.partition("/")[2] or 32) >= _MIN_PREFIX for t in texts)
    return True


def _fixed_by_condition(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    return any(_fixes(operator, key, values) for operator, block in condition.items() if isinstance(block, dict)
               for key, values in block.items())


def is_public(text: str) -> bool:
    """Whether the (valid) bucket policy ``text`` grants public access."""
    statements = _list(jsontext.loads(text).get("Statement"))
    return any(isinstance(s, dict) and s.get("Effect") == "Allow" and _everyone(s) and not _fixed_by_condition(s)
               for s in statements)
