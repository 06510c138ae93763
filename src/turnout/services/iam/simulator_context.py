"""The policy simulator's inputs: ContextEntries turned into the engine's context values, the context keys a set of
policies reads, the policy documents given as text, and the checks IAM makes on ARNs, owners and exclusions.

Facts relied on (AWS API reference and answers observed from AWS):

* ContextKeyType is one of string, numeric, boolean, ip, binary, date and their ``...List`` forms; a list type
  makes a multivalued key. Values are checked against their type; AWS does not publish its messages for a bad
  value, so ours are our own wording (InvalidInput).
* The context keys of a policy are the keys its Condition blocks test and the policy variables it uses
  (``${aws:username}`` in a Resource counts: AWS lists it), deduplicated without regard to case, spelled as the
  policy first writes them.
* ``Invalid Entity Arn: <arn> does not clearly define entity type and name.`` answers a PolicySourceArn that is
  not a user, group or role (an assumed-role session ARN, observed); a source in another account is answered
  ``Invalid Policy Source Arn: caller's account <a> does not have access to policies in account <b>`` (observed).
* A ResourceOwner IAM cannot read is answered ``'<value>' is not a valid as a Resource Owner.`` (observed).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ...core import arns
from ...policy import Policy, PolicySyntaxError, compile_policy
from ...policy.conditions.base import INVALID
from ...policy.conditions.date import parse_date
from ...policy.conditions.numeric import parse_number
from ...policy.variables import Template, Var
from ...wire import jsontext
from ...wire.errors import ServiceError
from . import policydoc
from .common import invalid_input

ContextValue = str | list[str]

ENTITY_KINDS = ("user", "group", "role")
_BOOLEANS = {"true": "true", "false": "false"}
_ACCOUNT = re.compile(r"\d{12}")
_ROOT_ARN = re.compile(r"arn:aws(?:-[a-z-]+)?:iam::(\d{12}):root")
_LIST = "List"


# -- context entries -------------------------------------------------------------------------------------------


def _bad_value(name: str, kind: str, value: str) -> ServiceError:
    # Our wording: AWS does not publish the message for a value that does not fit its type.
    return invalid_input(f"Invalid value '{value}' for context key {name} of type {kind}.")


def _convert(name: str, kind: str, value: str) -> str:
    """One value in the engine's spelling, or InvalidInput when it does not fit ``kind`` (the base type)."""
    text = value.strip()
    if kind == "string":
        return value
    if kind == "numeric":
        if parse_number(text) is INVALID:
            raise _bad_value(name, kind, value)
        return text
    if kind == "boolean":
        found = _BOOLEANS.get(text.lower())
        if found is None:
            raise _bad_value(name, kind, value)
        return found
    if kind == "ip":
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise _bad_value(name, kind, value) from None
        return text
    if kind == "binary":
        try:
            base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _bad_value(name, kind, value) from None
        return text
    if parse_date(text) is INVALID:  # "date": W3C ISO 8601 or epoch seconds, as the Date operators read them
        raise _bad_value(name, kind, value)
    return text


def context_values(entries: Sequence[dict[str, Any]] | None) -> dict[str, ContextValue]:
    """ContextEntries as the engine's request context: a string per single-valued key, a list per list type."""
    found: dict[str, ContextValue] = {}
    seen: set[str] = set()
    for entry in entries or ():
        name = entry.get("ContextKeyName")
        kind = entry.get("ContextKeyType")
        values: list[str] = list(entry.get("ContextKeyValues") or ())
        if not name:
            raise invalid_input("Each context entry must include a ContextKeyName.")  # our wording
        if kind is None:
            raise invalid_input(f"The context entry {name} must include a ContextKeyType.")  # our wording
        lowered = name.lower()
        if lowered in seen:
            raise invalid_input(f"Duplicate context key: {name}.")  # our wording (keys are case-insensitive)
        seen.add(lowered)
        multivalued = kind.endswith(_LIST)
        base = kind[: -len(_LIST)] if multivalued else kind
        converted = [_convert(name, base, value) for value in values]
        if multivalued:
            found[name] = list(dict.fromkeys(converted))
        elif len(converted) == 1:
            found[name] = converted[0]
        else:
            raise invalid_input(f"The context key {name} of type {kind} takes exactly one value.")  # our wording
    return found


# -- context keys of policies ----------------------------------------------------------------------------------


def _variables(template: Template, found: dict[str, str]) -> None:
    for piece in template:
        if isinstance(piece, Var):
            found.setdefault(piece.key, piece.name)


def context_keys(policies: Iterable[Policy]) -> list[str]:
    """The condition keys and policy variables the policies read, in document order, first spelling kept."""
    found: dict[str, str] = {}
    for policy in policies:
        for statement in policy.statements:
            for pattern in statement.resources or ():
                _variables(pattern.template, found)
            for clause in statement.conditions:
                found.setdefault(clause.key_lower, clause.key)
                for value in clause.values:
                    _variables(value.template, found)
    return list(found.values())


def missing_keys(keys: Iterable[str], context: dict[str, ContextValue]) -> list[str]:
    """The keys the request context does not carry (compared without regard to case)."""
    given = {key.lower() for key in context}
    return [key for key in keys if key.lower() not in given]


# -- policy documents given as text ----------------------------------------------------------------------------


def identity_inputs(documents: Sequence[str] | None, member: str, kind: str = "identity") -> list[Policy]:
    """Identity-style documents (``kind`` as :func:`policydoc.check` takes it), validated and compiled; each is
    named ``<member>.<n>``, as AWS names them in MatchedStatements (``PolicyInputList.1``)."""
    compiled: list[Policy] = []
    for index, document in enumerate(documents or (), 1):
        policydoc.check(document, kind)
        compiled.append(compile_policy(document, policy_id=f"{member}.{index}"))
    return compiled


def resource_input(document: str, policy_id: str = "ResourcePolicy") -> Policy:
    """A resource-based policy: a JSON object whose statements all name a Principal (MalformedPolicyDocument)."""
    try:
        parsed = jsontext.loads(document)
    except ValueError:
        raise policydoc.malformed(policydoc.SYNTAX) from None
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise policydoc.malformed(policydoc.SYNTAX)
    raw = parsed["Statement"]
    statements = raw if isinstance(raw, list) else [raw]
    for statement in statements:
        if isinstance(statement, dict) and "Principal" not in statement and "NotPrincipal" not in statement:
            raise policydoc.malformed("Missing required field Principal")  # IAM's wording for a trust policy
    policy = compile_policy(document, policy_id=policy_id)
    if policy.errors:
        raise policydoc.malformed(policydoc.SYNTAX)
    return policy


def lenient_inputs(documents: Sequence[str] | None, member: str) -> list[Policy]:
    """Documents of any policy type, only required to be JSON objects (GetContextKeysFor*)."""
    compiled: list[Policy] = []
    for index, document in enumerate(documents or (), 1):
        try:
            compiled.append(compile_policy(document, policy_id=f"{member}.{index}"))
        except PolicySyntaxError:
            raise policydoc.malformed(policydoc.SYNTAX) from None
    return compiled


# -- ARNs and owners -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entity:
    """A user, group or role named by ARN."""

    arn: str
    kind: str
    name: str
    account: str


def entity(arn: str) -> Entity | None:
    """The user, group or role ``arn`` names (None for anything else, an assumed-role session included)."""
    parsed = arns.parse(arn)
    if parsed is None or parsed.service != "iam" or parsed.region or not _ACCOUNT.fullmatch(parsed.account):
        return None
    kind, slash, rest = parsed.resource.partition("/")
    name = rest.rsplit("/", 1)[-1]
    if not slash or kind not in ENTITY_KINDS or not name:
        return None
    return Entity(arn, kind, name, parsed.account)


def entity_or_error(arn: str) -> Entity:
    found = entity(arn)
    if found is None:
        raise invalid_input(f"Invalid Entity Arn: {arn} does not clearly define entity type and name.")
    return found


def owner_account(value: str | None) -> str | None:
    """ResourceOwner: an account id, or the account's root ARN (the form SimulateCustomPolicy documents)."""
    if value is None:
        return None
    if _ACCOUNT.fullmatch(value):
        return value
    found = _ROOT_ARN.fullmatch(value)
    if found is None:
        raise invalid_input(f"'{value}' is not a valid as a Resource Owner.")
    return found.group(1)


def account_of(arn: str) -> str | None:
    parsed = arns.parse(arn)
    return parsed.account if parsed is not None and _ACCOUNT.fullmatch(parsed.account) else None


# -- exclusions (SimulatePrincipalPolicy's PolicyExclusionList) ------------------------------------------------

_EXCLUDABLE_TYPES = frozenset({"inline", "aws-managed", "user-managed", "permission-boundary", "scp", "rcp"})


def _wildcard_ok(text: str) -> bool:
    return text.count("*") <= 1


@dataclass(frozen=True, slots=True)
class Exclusions:
    """The policies a simulation leaves out: by type, by managed policy ARN, by inline policy and entity."""

    types: frozenset[str] = frozenset()
    arn_patterns: tuple[str, ...] = ()
    inline: tuple[tuple[str, str, str], ...] = ()  # (policy name, entity kind, entity name pattern)

    def excludes(self, policy_id: str, *, boundary: bool = False) -> bool:
        """Whether the policy (an id as :mod:`turnout.authz.policies` names it) is left out."""
        if boundary:
            return "permission-boundary" in self.types or self._managed(policy_id)
        entity_arn, sep, policy_name = policy_id.partition("#")
        if sep:
            if "inline" in self.types:
                return True
            found = entity(entity_arn)
            return found is not None and any(
                name == policy_name and kind == found.kind and fnmatch.fnmatchcase(found.name, pattern)
                for name, kind, pattern in self.inline
            )
        return self._managed(policy_id)

    def _managed(self, arn: str) -> bool:
        aws_owned = ":iam::aws:policy/" in arn
        if ("aws-managed" if aws_owned else "user-managed") in self.types:
            return True
        return any(fnmatch.fnmatchcase(arn, pattern) for pattern in self.arn_patterns)


def exclusions(identifiers: Sequence[dict[str, Any]] | None) -> Exclusions:
    """PolicyExclusionList, checked: each entry names exactly one of PolicyType, PolicyArn, InlinePolicyIdentifier;
    wildcards (``*`` at most once, ``?`` any number) only in the policy or entity name. Our wording throughout:
    AWS documents the rules but not its messages. RCP and SCP entries are accepted and change nothing here."""
    types: set[str] = set()
    patterns: list[str] = []
    inline: list[tuple[str, str, str]] = []
    for identifier in identifiers or ():
        given = [key for key in ("PolicyType", "PolicyArn", "InlinePolicyIdentifier") if identifier.get(key)]
        if len(given) != 1:
            raise invalid_input(
                "Each PolicyIdentifier must specify exactly one of PolicyType, PolicyArn, or InlinePolicyIdentifier."
            )
        if "PolicyType" in given:
            types.add(identifier["PolicyType"])
        elif "PolicyArn" in given:
            patterns.append(_arn_pattern(identifier["PolicyArn"]))
        else:
            ref = identifier["InlinePolicyIdentifier"]
            if not _wildcard_ok(ref["AttachmentName"]):
                raise invalid_input(f"Invalid AttachmentName in PolicyExclusionList: {ref['AttachmentName']}.")
            inline.append((ref["PolicyName"], ref["AttachmentType"], ref["AttachmentName"]))
    return Exclusions(frozenset(types & _EXCLUDABLE_TYPES), tuple(patterns), tuple(inline))


def _arn_pattern(arn: str) -> str:
    parsed = arns.parse(arn)
    valid = (
        parsed is not None and parsed.service == "iam" and not parsed.region
        and (parsed.account == "aws" or _ACCOUNT.fullmatch(parsed.account) is not None)
        and parsed.resource.startswith("policy/") and len(parsed.resource) > len("policy/")
    )
    head = arn.rsplit("/", 1)[0]
    if not valid or "*" in head or "?" in head or not _wildcard_ok(arn):
        raise invalid_input(f"Invalid PolicyArn in PolicyExclusionList: {arn}.")
    return arn.replace("[", "[[]")  # fnmatch: only * and ? are wildcards here
