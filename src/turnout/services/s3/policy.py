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
