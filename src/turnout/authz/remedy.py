"""The smallest change that would have allowed a denied request (``turnout explain``), built from its stored
:class:`~turnout.authz.diagnostics.Denial` and the policies as they are now (:class:`Facts`).

* **Implicit deny** (no statement allowed the call): an ``Allow`` of the exact action on the exact resource
  (:func:`turnout.policy.fixes.allow_statement`), with conditions narrowed as far as the request allows: every
  condition key that the caller's existing statements for that action test and that the request carried is pinned
  to the value the request carried (keys it did not carry cannot be required; they are listed as missing). Where it
  goes follows the policy type that decided:

  - identity-based policy: a new inline policy of the user or of the session's role (``PutUserPolicy`` /
    ``PutRolePolicy``);
  - permissions boundary: the statement added to the boundary's document (``CreatePolicyVersion`` with
    ``SetAsDefault``; an AWS managed boundary cannot be edited: another boundary must be set);
  - role trust policy (``sts:AssumeRole``): the role's current trust policy with a statement for the caller added
    (:func:`~turnout.policy.fixes.trust_statement` for a service principal, scoped with ``aws:SourceAccount`` /
    ``aws:SourceArn`` when the request carried them), as a whole document for ``UpdateAssumeRolePolicy``;
  - session policy: the session must be assumed again with a session policy that allows the call;
  - resource-based policy: the statement, with the caller as ``Principal``, belongs in the resource's policy.

* **Explicit deny**: no Allow helps. Each matching ``Deny`` statement is named (policy, Sid, position) and must be
  removed or narrowed; for a policy Turnout can show (inline, customer managed, trust) the document without that
  statement is given, ready for the same write (an inline policy left empty is deleted instead; an AWS managed
  policy cannot be edited: detach it).

* A denial by a built-in rule (``Decision.reason``, e.g. root may not assume roles) has no policy fix: the reason
  says what to do.

The name of the suggested inline policy (``turnout-fix-<service>-<Action>``) is our choice; AWS has no such tool.
An explicit-deny fix only removes the Deny: if nothing allows the call once it is gone, ``turnout explain`` on the
next denial gives the Allow to add.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import arns
from ..policy import Policy, PolicyType, Statement
from ..policy.fixes import allow_statement, policy_document, principal_trust_statement, render, trust_statement
from .diagnostics import Denial, MatchedInfo

EXPLICIT = "ExplicitDeny"
# Condition keys a fix never pins: times change with every request, and an age is a bound, not a value.
_UNPINNED = frozenset({"aws:currenttime", "aws:epochtime", "aws:tokenissuetime", "aws:multifactorauthage"})
_INLINE = re.compile(r"^(arn:[^:]+:iam::\d{12}:(user|role|group)/(?:.*/)?([^/#]+))#(.+)$")
_SESSION = re.compile(r"^arn:[^:]+:sts::\d{12}:assumed-role/([^/]+)/")
_USER = re.compile(r"^arn:[^:]+:iam::\d{12}:user/(?:.*/)?([^/]+)$")
_ROLE = re.compile(r"^arn:[^:]+:iam::\d{12}:role/(?:.*/)?([^/]+)$")
_ENTITY_PARAM = {"user": "UserName", "role": "RoleName", "group": "GroupName"}
_PUT_INLINE = {"user": "PutUserPolicy", "role": "PutRolePolicy", "group": "PutGroupPolicy"}
_DELETE_INLINE = {"user": "DeleteUserPolicy", "role": "DeleteRolePolicy", "group": "DeleteGroupPolicy"}


@dataclass(frozen=True, slots=True)
class Facts:
    """The state a fix is built from: the caller's identity policies and boundary (compiled, for the condition
    keys they test), policy documents by policy id (inline ``<entity ARN>#<name>``, managed ARN), and for
    ``sts:AssumeRole`` the role's current trust policy (None: the role does not exist)."""

    identity: Sequence[Policy] = ()
    boundary: Policy | None = None
    documents: Mapping[str, str] = field(default_factory=dict)
    trust_policy: str | None = None
    role_exists: bool = True


def policy_name(policy_id: str, policy_type: str | None = None) -> dict[str, str]:
    """How a policy id reads: an inline policy's name and owner, a managed policy's ARN, or for a resource-based
    or trust policy (``<resource ARN>#trust``, ``#resource``) the resource it belongs to."""
    if policy_type in (str(PolicyType.TRUST), str(PolicyType.RESOURCE)):
        resource = policy_id.rsplit("#", 1)[0]
        kind = "trust policy" if policy_type == str(PolicyType.TRUST) else "resource-based policy"
        return {"policyName": f"{kind} of {resource}", "resourceArn": resource}
    inline = _INLINE.match(policy_id)
    if inline is not None:
        return {"policyName": inline.group(4), "entityArn": inline.group(1), "entityType": inline.group(2)}
    if policy_id.startswith("arn:"):
        return {"policyArn": policy_id}
    return {"policyName": policy_id}


def statement_view(item: MatchedInfo) -> dict[str, Any]:
    """A matched statement for the JSON answer: policy (ARN or name), Sid, index (0-based) and position."""
    out: dict[str, Any] = {"policyType": item.policy_type, "policyId": item.policy_id,
                           **policy_name(item.policy_id, item.policy_type),
                           "effect": item.effect, "statementIndex": item.statement_index, "sid": item.sid}
    if item.start is not None:
        out["position"] = {"line": item.start[0], "column": item.start[1]}
    return out


def deciding(denial: Denial) -> list[MatchedInfo]:
    """The statements that decided: the matching Deny statements of an explicit deny; for an implicit deny, the
    statements that did allow in some policy type (the type that decided had none)."""
    if denial.effect == EXPLICIT:
        return [m for m in denial.matched if m.effect == "Deny"]
    return list(denial.matched)


def _context_value(denial: Denial, key_lower: str) -> tuple[str, str | list[str]] | None:
    for key, value in denial.context.items():
        if key.lower() == key_lower:
            return key, value
    return None


def _for_action(denial: Denial, policies: Sequence[Policy]) -> list[tuple[Policy, Statement]]:
    """The Allow statements of ``policies`` whose Action covers the denied action, in order."""
    service = denial.action.split(":", 1)[0].lower()
    action_lower = denial.action.lower()
    return [(policy, statement) for policy in policies for statement in policy.statements
            if statement.effect == "Allow" and not statement.not_action
            and statement.actions.matches(service, action_lower)]


def near_misses(denial: Denial, facts: Facts) -> list[dict[str, Any]]:
    """For an implicit deny, the Allow statements for the action in the policy type that decided, which did not
    apply (their Resource or Condition did not match the request): where to look first."""
    if denial.effect == EXPLICIT:
        return []
    if denial.denied_by == str(PolicyType.IDENTITY):
        policies: Sequence[Policy] = facts.identity
    elif denial.denied_by == str(PolicyType.BOUNDARY) and facts.boundary is not None:
        policies = [facts.boundary]
    else:
        return []
    out = []
    for policy, statement in _for_action(denial, policies):
        item = MatchedInfo(str(denial.denied_by), policy.policy_id, statement.index, statement.sid, "Allow",
                           (statement.start.line, statement.start.column) if statement.start else None, None)
        view = statement_view(item)
        view["conditionKeys"] = list(dict.fromkeys(clause.key for clause in statement.conditions))
        out.append(view)
    return out


def narrowed_conditions(denial: Denial, policies: Sequence[Policy]) -> dict[str, dict[str, str | list[str]]]:
    """Conditions pinning each key that an Allow statement of ``policies`` for the denied action tests and that the
    request carried, to the request's value (keys the request lacked are left out: they could never match)."""
    missing = {k.lower() for k in denial.missing_context_keys}
    tested: list[str] = []
    for _, statement in _for_action(denial, policies):
        for clause in statement.conditions:
            if clause.key_lower not in tested and clause.key_lower not in missing and not clause.is_null:
                tested.append(clause.key_lower)
    conditions: dict[str, dict[str, str | list[str]]] = {}
    for key_lower in tested:
        if key_lower in _UNPINNED:
            continue
        found = _context_value(denial, key_lower)
        if found is None:
            continue
        key, value = found
        if isinstance(value, list):
            operator = "ForAllValues:StringEquals"
        elif key_lower == "aws:sourceip":
            operator = "IpAddress"
        elif value in ("true", "false"):
            operator = "Bool"
        else:
            operator = "StringEquals"
        conditions.setdefault(operator, {})[key] = value
    return conditions


def _sid(action: str) -> str:
    return "Allow" + re.sub(r"[^A-Za-z0-9]", "", action.split(":", 1)[-1])


def _fix_name(action: str) -> str:
    service, _, name = action.partition(":")
    return f"turnout-fix-{service}-{name}"[:128]


def _principal_entity(principal_arn: str | None) -> tuple[str, str] | None:
    """(kind, name) of the IAM entity whose identity policies apply to the caller, or None (root, a service)."""
    if not principal_arn:
        return None
    for kind, pattern in (("user", _USER), ("role", _SESSION), ("role", _ROLE)):
        found = pattern.match(principal_arn)
        if found is not None:
            return kind, found.group(1)
    return None


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _statements(document: Mapping[str, Any]) -> list[Any]:
    found = document.get("Statement", [])
    return list(found) if isinstance(found, list) else [found]


def with_statement(text: str | None, statement: Mapping[str, Any]) -> dict[str, Any]:
    """The document ``text`` (an empty one if None or unreadable) with ``statement`` appended."""
    document = _load(text) or {}
    out = policy_document([*_statements(document), statement])
    if isinstance(document.get("Version"), str):
        out["Version"] = document["Version"]
    return out


def without_statement(text: str, index: int) -> dict[str, Any] | None:
    """The document ``text`` without its statement ``index`` (0-based); None if it cannot be read."""
    document = _load(text)
    if document is None:
        return None
    statements = _statements(document)
    if not 0 <= index < len(statements):
        return None
    out = dict(document)
    out["Statement"] = statements[:index] + statements[index + 1:]
    return out


def _role_name(resource: str) -> str | None:
    found = _ROLE.match(resource)
    return found.group(1) if found is not None else None


def _update_trust(role: str, document: Mapping[str, Any]) -> dict[str, Any]:
    return {"service": "iam", "operation": "UpdateAssumeRolePolicy",
            "parameters": {"RoleName": role, "PolicyDocument": json.dumps(document)}}


def _new_version(policy_arn: str, document: Mapping[str, Any]) -> dict[str, Any]:
    return {"service": "iam", "operation": "CreatePolicyVersion",
            "parameters": {"PolicyArn": policy_arn, "PolicyDocument": json.dumps(document), "SetAsDefault": True}}


def _aws_managed(policy_arn: str) -> bool:
    return arns.account_of(policy_arn) == "aws"


def trust_fix(denial: Denial, facts: Facts) -> dict[str, Any]:
    """``sts:AssumeRole`` refused by the role's trust policy: that policy with a statement for the caller."""
    role = _role_name(denial.resource) or denial.resource
    principal = denial.principal_arn or ""
    if principal and not principal.startswith("arn:"):
        account = _context_value(denial, "aws:sourceaccount")
        source = _context_value(denial, "aws:sourcearn")
        statement = trust_statement(
            principal, source_account=str(account[1]) if account else None,
            source_arn=str(source[1]) if source else None)
    else:
        arn = _context_value(denial, "aws:principalarn")
        statement = principal_trust_statement(str(arn[1]) if arn else principal)
    if not facts.role_exists:
        document = policy_document([statement])
        return {"kind": "create-role", "policyType": str(PolicyType.TRUST), "statement": statement,
                "document": document,
                "summary": f"The role {denial.resource} does not exist: create it with this trust policy (and the "
                           "permissions it needs).",
                "apply": {"service": "iam", "operation": "CreateRole",
                          "parameters": {"RoleName": role, "AssumeRolePolicyDocument": json.dumps(document)}}}
    document = with_statement(facts.trust_policy, statement)
    return {"kind": "add-statement", "policyType": str(PolicyType.TRUST), "target": {"roleName": role},
            "statement": statement, "document": document,
            "summary": f"Add this statement to the trust policy of role {role} (the whole corrected document is "
                       "given, for UpdateAssumeRolePolicy).",
            "apply": _update_trust(role, document)}


def allow_fix(denial: Denial, facts: Facts) -> dict[str, Any]:
    """An implicit deny: the Allow to add, and where."""
    decided = denial.denied_by
    if decided == str(PolicyType.TRUST):
        return trust_fix(denial, facts)
    policies: Sequence[Policy] = facts.identity
    if decided == str(PolicyType.BOUNDARY) and facts.boundary is not None:
        policies = [facts.boundary]
    statement = allow_statement([denial.action], [denial.resource], narrowed_conditions(denial, policies),
                                sid=_sid(denial.action))
    fix: dict[str, Any] = {"kind": "add-statement", "policyType": decided, "statement": statement}
    if decided == str(PolicyType.BOUNDARY):
        boundary = next(iter(denial.considered.get(str(PolicyType.BOUNDARY)) or []), None)
        fix["target"] = {"policyArn": boundary}
        if boundary and not _aws_managed(boundary):
            document = with_statement(facts.documents.get(boundary), statement)
            fix.update(document=document, apply=_new_version(boundary, document),
                       summary=f"Add this statement to the permissions boundary {boundary} (a new default "
                               "version with it).")
        else:
            fix["summary"] = (f"The permissions boundary {boundary} is an AWS managed policy and cannot be edited: "
                              "set a boundary that also allows this statement.")
        return fix
    if decided == str(PolicyType.SESSION):
        fix["summary"] = ("The session policy passed when the role was assumed does not allow this: assume the role "
                          "again with a session policy (Policy or PolicyArns) that includes this statement, or "
                          "without one.")
        return fix
    if decided == str(PolicyType.RESOURCE):
        fix["statement"] = {**statement, "Principal": {"AWS": denial.principal_arn or "*"}}
        fix["summary"] = f"Add this statement to the resource-based policy of {denial.resource}."
        return fix
    entity = _principal_entity(denial.principal_arn)
    if entity is None:
        fix["summary"] = f"{denial.principal_arn or 'The caller'} has no identity-based policies to add it to."
        return fix
    kind, name = entity
    document = policy_document([statement])
    policy = _fix_name(denial.action)
    fix.update(
        target={"entityType": kind, _ENTITY_PARAM[kind]: name, "policyName": policy},
        document=document,
        summary=f"Add this statement to an identity-based policy of {kind} {name} (for example a new inline "
                f"policy {policy}).",
        apply={"service": "iam", "operation": _PUT_INLINE[kind],
               "parameters": {_ENTITY_PARAM[kind]: name, "PolicyName": policy, "PolicyDocument": json.dumps(document)}},
    )
    return fix


def _remove(item: MatchedInfo, denial: Denial, facts: Facts) -> dict[str, Any]:
    """One blocking Deny: where it is, and the write that removes it when Turnout can show the document."""
    out: dict[str, Any] = {"statement": statement_view(item)}
    inline = _INLINE.match(item.policy_id)
    text = facts.documents.get(item.policy_id)
    if item.policy_type == str(PolicyType.TRUST):
        document = without_statement(facts.trust_policy, item.statement_index) if facts.trust_policy else None
        role = _role_name(denial.resource)
        if document is not None and role is not None:
            out["document"] = document
            out["apply"] = _update_trust(role, document)
    elif item.policy_type == str(PolicyType.RESOURCE):
        out["note"] = f"Remove or narrow it in the resource-based policy of {item.policy_id.rsplit('#', 1)[0]}."
    elif inline is not None and text is not None:
        kind, name, policy = inline.group(2), inline.group(3), inline.group(4)
        document = without_statement(text, item.statement_index)
        if document is not None and not document["Statement"]:
            out["apply"] = {"service": "iam", "operation": _DELETE_INLINE[kind],
                            "parameters": {_ENTITY_PARAM[kind]: name, "PolicyName": policy}}
        elif document is not None:
            out["document"] = document
            out["apply"] = {"service": "iam", "operation": _PUT_INLINE[kind], "parameters": {
                _ENTITY_PARAM[kind]: name, "PolicyName": policy, "PolicyDocument": json.dumps(document)}}
    elif item.policy_id.startswith("arn:") and _aws_managed(item.policy_id):
        out["note"] = f"{item.policy_id} is an AWS managed policy and cannot be edited: detach it."
    elif item.policy_id.startswith("arn:") and text is not None:
        document = without_statement(text, item.statement_index)
        if document is not None:
            out["document"] = document
            out["apply"] = _new_version(item.policy_id, document)
    return out


def deny_fix(denial: Denial, facts: Facts) -> dict[str, Any]:
    """An explicit deny: the Deny statements that block the call, to remove or narrow."""
    blocking = [m for m in denial.matched if m.effect == "Deny"]
    names = "; ".join(_where(m) for m in blocking) or "a Deny statement"
    return {"kind": "remove-deny", "policyType": denial.denied_by,
            "summary": f"Explicitly denied by {names}. It must be removed, or narrowed (a condition or resource that "
                       "no longer matches this request): no Allow statement can override an explicit deny.",
            "remove": [_remove(m, denial, facts) for m in blocking]}


def _where(item: MatchedInfo) -> str:
    named = policy_name(item.policy_id, item.policy_type)
    if "resourceArn" in named:
        policy = f"the {item.policy_type} of {named['resourceArn']}"
    else:
        policy = f"{item.policy_type} " + (named.get("policyArn") or f"inline policy {named.get('policyName')}" + (
            f" of {named['entityArn']}" if "entityArn" in named else ""))
    sid = f" (Sid {item.sid})" if item.sid else ""
    where = f", line {item.start[0]} column {item.start[1]}" if item.start else ""
    return f"statement {item.statement_index}{sid} of {policy}{where}"


def fix_for(denial: Denial, facts: Facts) -> dict[str, Any]:
    """The smallest change that would allow the call (see the module docstring)."""
    if denial.effect == EXPLICIT:
        return deny_fix(denial, facts)
    if denial.denied_by is None:
        return {"kind": "none", "summary": denial.reason or "A built-in rule denied the call: no policy change helps."}
    return allow_fix(denial, facts)


def explanation(denial: Denial, facts: Facts) -> dict[str, Any]:
    """The whole answer of ``turnout explain <request-id>`` (its ``--json``)."""
    out: dict[str, Any] = {
        "requestId": denial.request_id, "deniedAt": denial.denied_at, "accountId": denial.account_id,
        "principal": denial.principal_arn,
        "operation": denial.operation if denial.operation.strip(":") else denial.action, "action": denial.action,
        "resource": denial.resource, "effect": denial.effect, "decidedBy": denial.denied_by,
        "errorCode": denial.error_code, "message": denial.message, "policyTypes": denial.type_decisions,
        "considered": denial.considered, "decidingStatements": [statement_view(m) for m in deciding(denial)],
        "missingContextKeys": denial.missing_context_keys, "fix": fix_for(denial, facts),
        "nearMisses": near_misses(denial, facts),
    }
    if denial.reason:
        out["reason"] = denial.reason
    return out


def describe_fix(fix: Mapping[str, Any]) -> str:
    """The fix for a human: its summary, then the JSON to paste."""
    lines = [f"  fix: {fix.get('summary', '')}"]
    if fix.get("kind") == "remove-deny":
        for item in fix.get("remove", []):
            if "note" in item:
                lines.append(f"    {item['note']}")
            if "apply" in item and "document" in item:
                lines.append(f"    {item['apply']['operation']} with this document:")
                lines.extend("      " + line for line in render(item["document"]).splitlines())
            elif "apply" in item:
                lines.append(f"    {item['apply']['operation']} {json.dumps(item['apply']['parameters'])}")
        return "\n".join(lines)
    if "apply" in fix and "document" in fix:
        lines.append(f"  {fix['apply']['operation']} with this document:")
        lines.extend("    " + line for line in render(fix["document"]).splitlines())
    elif "statement" in fix:
        lines.append("  statement:")
        lines.extend("    " + line for line in render(fix["statement"]).splitlines())
    return "\n".join(lines)
