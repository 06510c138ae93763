"""Policy documents: parsed and validated on write, with IAM's ``MalformedPolicyDocument`` messages.

Interface used by the operation modules::

    check(document: str, kind: str, *, principal_exists: Callable[[str], bool] | None = None) -> dict
        Parse and validate ``document``; return the parsed JSON object. Kinds:
          "trust"    a role trust policy (AssumeRolePolicyDocument); also enforces ACLSizePerRole (2048)
          "identity" an inline policy (PutRolePolicy/PutUserPolicy/PutGroupPolicy); no size check here,
                     the caller checks the entity's aggregate with check_inline_aggregate
          "managed"  a customer managed policy version (CreatePolicy/CreatePolicyVersion): identity rules,
                     plus Version must be 2012-10-17, plus PolicySize (6144)
          "boundary" same as "identity" (a permissions boundary is a managed identity policy)
        ``principal_exists`` (trust only) is asked about IAM user/role ARNs named as AWS principals; when it
        answers False the principal is invalid, as IAM refuses principals that do not exist.
        Raises ServiceError MalformedPolicyDocument (400) or LimitExceeded (409).

    check_size(document: str, quota_name: str, limit: int) -> None
        LimitExceeded "Cannot exceed quota for <quota_name>: <limit>" when the document, counted without
        whitespace, is longer than ``limit``.

    check_inline_aggregate(documents: Iterable[str], entity_type: str, entity_name: str) -> None
        LimitExceeded "Maximum policy size of <n> bytes exceeded for <entity_type> <name>" when the inline
        policies of a role (10240), user (2048) or group (5120) together, without whitespace, exceed the quota.
        Pass every inline document the entity will have after the write (the new one included).

    size_without_whitespace(document: str) -> int
        The size IAM counts against its quotas (whitespace is not counted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from ...wire import jsontext
from ...wire.errors import ServiceError
from .common import limit_exceeded

TRUST_POLICY_QUOTA = 2048  # ACLSizePerRole
MANAGED_POLICY_QUOTA = 6144  # PolicySize
INLINE_QUOTAS = {"role": 10240, "user": 2048, "group": 5120}  # RolePolicySize, UserPolicySize, GroupPolicySize

KINDS = frozenset({"trust", "identity", "managed", "boundary"})

TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
STATEMENT_ELEMENTS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
VERSIONS = frozenset({"2008-10-17", "2012-10-17"})

CONDITION_OPERATORS = frozenset(
    {
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
        "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
        "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
        "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
        "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
    }
)
SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")

SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
STS_ONLY = "AssumeRole policy may only specify STS AssumeRole actions."

_SID = re.compile(r"[0-9A-Za-z]*")
_VENDOR = re.compile(r"[A-Za-z0-9.-]+")
_ACCOUNT = re.compile(r"\d{12}")
_PARTITION = r"aws(?:-cn|-us-gov|-iso|-iso-b)?"
_AWS_PRINCIPAL_ARN = re.compile(
    rf"arn:{_PARTITION}:iam::(\d{{12}}):(root|user/.+|role/.+|federated-user/.+)"
    rf"|arn:{_PARTITION}:sts::(\d{{12}}):(assumed-role/[^/]+/.+|federated-user/.+)"
)
# An IAM unique id stands in for a principal that was deleted after the policy was written.
_UNIQUE_ID = re.compile(r"A(?:IDA|ROA)[A-Z0-9]{12,}")
# AWS checks service principals against its catalogue of services; Turnout has no such catalogue and
# accepts any lower-case DNS name under an AWS service domain instead (choice: AWS does not publish the list).
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)*\.(?:amazonaws\.com(?:\.cn)?|amazon\.com)")
_FEDERATED_ARN = re.compile(rf"arn:{_PARTITION}:iam::\d{{12}}:(?:saml-provider|oidc-provider)/.+")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/.*)?")


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def size_without_whitespace(document: str) -> int:
    return sum(1 for ch in document if not ch.isspace())


def check_size(document: str, quota_name: str, limit: int) -> None:
    if size_without_whitespace(document) > limit:
        raise limit_exceeded(f"Cannot exceed quota for {quota_name}: {limit}")


def check_inline_aggregate(documents: Iterable[str], entity_type: str, entity_name: str) -> None:
    limit = INLINE_QUOTAS[entity_type]
    if sum(size_without_whitespace(d) for d in documents) > limit:
        raise limit_exceeded(f"Maximum policy size of {limit} bytes exceeded for {entity_type} {entity_name}")


def check(
    document: str, kind: str, *, principal_exists: Callable[[str], bool] | None = None
) -> dict[str, Any]:
    """Parse and validate ``document`` as a policy of ``kind``; return the parsed JSON."""
    if kind not in KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")
    trust = kind == "trust"
    parsed = _parse(document, trust)
    statements = _syntax(parsed)
    if kind == "managed" and parsed.get("Version") != "2012-10-17":
        raise malformed("Policy document must be version 2012-10-17 or greater.")
    sids: set[str] = set()
    for statement in statements:
        if trust:
            _trust_statement(statement, principal_exists)
        else:
            _identity_statement(statement)
        sid = statement.get("Sid")
        if sid:
            if sid in sids:
                raise malformed("Statement IDs (SID) in a single policy must be unique.")
            sids.add(sid)
    if trust:
        check_size(document, "ACLSizePerRole", TRUST_POLICY_QUOTA)
    elif kind == "managed":
        check_size(document, "PolicySize", MANAGED_POLICY_QUOTA)
    return parsed


# -- grammar ---------------------------------------------------------------------------------------------


def _parse(document: str, trust: bool) -> dict[str, Any]:
    # CreateRole answers "This policy contains invalid Json"; CreatePolicy answers "Syntax errors in policy."
    # for text that is not JSON (both observed). Inline policies follow CreatePolicy (choice: not observed).
    message = "This policy contains invalid Json" if trust else SYNTAX
    try:
        parsed = jsontext.loads(document)
    except ValueError:
        raise malformed(message) from None
    if not isinstance(parsed, dict):
        raise malformed(message)
    return parsed


def _syntax(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The grammar every kind shares: elements, their JSON types; returns the statements."""
    if any(key not in TOP_LEVEL for key in doc):
        raise malformed(SYNTAX)
    version = doc.get("Version")
    if "Version" in doc and version not in VERSIONS:
        raise malformed(LEGACY)  # an unknown language version (the brief's choice; AWS's text is not published)
    if "Id" in doc and not isinstance(doc["Id"], str):
        raise malformed(SYNTAX)
    if "Statement" not in doc:
        raise malformed(SYNTAX)
    raw = doc["Statement"]
    statements = raw if isinstance(raw, list) else [raw]
    if not statements:
        raise malformed("Could not parse the policy: Statement is empty!")
    for statement in statements:
        if not isinstance(statement, dict) or any(key not in STATEMENT_ELEMENTS for key in statement):
            raise malformed(SYNTAX)
        if ("Action" in statement and "NotAction" in statement) or (
            "Resource" in statement and "NotResource" in statement
        ):
            raise malformed(SYNTAX)
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in statement and not _strings(statement[key]):
                raise malformed(SYNTAX)
        if "Sid" in statement and not isinstance(statement["Sid"], str):
            raise malformed(SYNTAX)
        _effect(statement)
        if "Condition" in statement:
            _condition(statement["Condition"])
    return statements


def _strings(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _effect(statement: dict[str, Any]) -> None:
    if "Effect" not in statement:
        raise malformed("Missing required field Effect")
    effect = statement["Effect"]
    if not isinstance(effect, str):
        raise malformed(SYNTAX)
    if effect in ("Allow", "Deny"):
        return
    if effect.lower() in ("allow", "deny"):
        raise malformed(LEGACY)  # "allow" in lower case: observed answer of CreatePolicy
    raise malformed(f"Invalid effect: {effect}")


def _condition(condition: Any) -> None:
    if not isinstance(condition, dict):
        raise malformed(SYNTAX)
    for operator, block in condition.items():
        if not isinstance(block, dict):
            raise malformed(SYNTAX)  # e.g. {"aws:SourceIp": "1.2.3.4"} without an operator (observed)
        base = operator
        for prefix in SET_PREFIXES:
            if base.startswith(prefix):
                base = base[len(prefix):]
                break
        if base.endswith("IfExists") and base != "IfExists":
            base = base[: -len("IfExists")]
        if base not in CONDITION_OPERATORS:
            raise malformed(f"Invalid Condition type : {operator}")
        for key, value in block.items():
            if ":" not in key:
                raise malformed(NO_VENDOR)
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str | bool | int | float) for v in values):
                raise malformed(SYNTAX)


# -- identity policies -------------------------------------------------------------------------------------


def _identity_statement(statement: dict[str, Any]) -> None:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise malformed("Policy document should not specify a principal.")
    sid = statement.get("Sid")
    if sid and _SID.fullmatch(sid) is None:
        raise malformed(
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression "
            "[0-9A-Za-z]*"
        )
    actions = statement.get("Action", statement.get("NotAction"))
    if actions is None or actions == []:
        raise malformed("Policy statement must contain actions.")
    resources = statement.get("Resource", statement.get("NotResource"))
    if resources is None or resources == []:
        raise malformed("Policy statement must contain resources.")
    for resource in _as_list(resources):
        _resource(resource)
    for action in _as_list(actions):
        _action(action)


def _action(action: str) -> None:
    if action == "*":
        return
    parts = action.split(":")
    if len(parts) == 1:
        raise malformed(NO_VENDOR)
    if len(parts) > 2:
        raise malformed("Actions/Condition can contain only one colon.")
    vendor = parts[0]
    if any(ch.isspace() for ch in vendor):
        raise malformed("Action vendors must not contain whitespace")  # AWS's text is not published (brief)
    if vendor != "*" and _VENDOR.fullmatch(vendor) is None:
        raise malformed(f"Vendor {vendor} is not valid")


def _resource(resource: str) -> None:
    if resource == "*":
        return
    parts = resource.split(":", 5)
    if len(parts) < 2 or parts[0] != "arn":
        # Observed: 'Resource 1234.dkr.ecr... must be in ARN format or "*".'; an ARN of another scheme is
        # answered the same way here (choice).
        raise malformed(f'Resource {resource} must be in ARN format or "*".')
    if len(parts) < 3 or parts[2] == "":
        raise malformed("Resource vendor must be fully qualified and cannot contain regexes.")


# -- trust policies ----------------------------------------------------------------------------------------


def _trust_statement(statement: dict[str, Any], principal_exists: Callable[[str], bool] | None) -> None:
    # Resource is refused before anything else: an identity policy sent as a trust policy (no Principal,
    # Action of another service, Resource) is answered "Has prohibited field Resource" (observed).
    if "Resource" in statement:
        raise malformed("Has prohibited field Resource")
    if "NotResource" in statement:
        raise malformed("AssumeRole policy must not contain resources.")
    effect = statement["Effect"]
    if "NotPrincipal" in statement:
        if effect == "Allow":
            raise malformed("Allow with NotPrincipal is not allowed.")
        raise malformed("AssumeRole policy must not contain NotPrincipal field.")
    if "Principal" not in statement:
        raise malformed("Missing required field Principal")
    _principal(statement["Principal"], principal_exists)
    actions = statement.get("Action", statement.get("NotAction"))
    if actions is None or actions == []:
        raise malformed("Missing required field Action")
    for action in _as_list(actions):
        if not action.lower().startswith("sts:"):
            raise malformed(STS_ONLY)


def _principal(principal: Any, principal_exists: Callable[[str], bool] | None) -> None:
    if principal == "*":
        return
    if isinstance(principal, str):
        raise malformed("Principal must be a JSON object.")  # choice: AWS's text for a bare string is not published
    if not isinstance(principal, dict):
        raise malformed(SYNTAX)
    if not principal:
        raise malformed("Missing required field Principal cannot be empty!")
    for key, value in principal.items():
        if not _strings(value) or value == []:
            raise malformed(SYNTAX)
        for item in _as_list(value):
            if not _principal_ok(key, item, principal_exists):
                raise malformed(f'Invalid principal in policy: "{key.upper()}":"{item}"')


def _principal_ok(key: str, value: str, principal_exists: Callable[[str], bool] | None) -> bool:
    if key == "Service":
        return _SERVICE_PRINCIPAL.fullmatch(value) is not None
    if key == "Federated":
        return _FEDERATED_ARN.fullmatch(value) is not None or _DOMAIN.fullmatch(value) is not None
    if key != "AWS":
        return False  # CanonicalUser names S3 users and has no meaning in a role's trust policy
    if value == "*" or _ACCOUNT.fullmatch(value) or _UNIQUE_ID.fullmatch(value):
        return True
    match = _AWS_PRINCIPAL_ARN.fullmatch(value)
    if match is None:
        return False
    kind = match.group(2) or ""
    if principal_exists is not None and kind.startswith(("user/", "role/")):
        return principal_exists(value)
    return True
