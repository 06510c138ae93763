"""AWS's AccessDenied texts, built from a Decision (IAM User Guide, "Troubleshoot access denied errors").

* ``User: <arn> is not authorized to perform: <action> on resource: <arn> because no <type> allows the
  <action> action`` for an implicit deny, ``... with an explicit deny in <a type>`` for an explicit one.
* `` on resource: <arn>`` is left out when the resource is ``*``.
* Types, as AWS writes them: "identity-based policy", "permissions boundary", "session policy",
  "resource-based policy", "resource control policy", "VPC endpoint policy", "service control policy";
  explicit denies read "in an identity-based policy", "in a permissions boundary", "in the role trust
  policy"...
* AWS documents that an SCP denial can read "with an explicit deny in a service control policy" even when the
  denial is implicit; we always use that wording for SCPs.
* STS does not explain AssumeRole denials: an implicit deny by a role trust policy, like a denial by a
  built-in service rule, has no ``because`` clause.
"""

from __future__ import annotations

from turnout.policy.model import ANONYMOUS, EXPLICIT_DENY, Decision, PolicyType, Request

_ARTICLE = {
    PolicyType.IDENTITY: "an identity-based policy",
    PolicyType.RESOURCE: "a resource-based policy",
    PolicyType.TRUST: "the role trust policy",
    PolicyType.BOUNDARY: "a permissions boundary",
    PolicyType.SESSION: "a session policy",
    PolicyType.SCP: "a service control policy",
    PolicyType.RCP: "a resource control policy",
    PolicyType.ENDPOINT: "a VPC endpoint policy",
}


def caller_name(request: Request) -> str:
    if request.principal_type == ANONYMOUS or not request.principal_arn:
        return "anonymous"
    return request.principal_arn


def reason_clause(decision: Decision, action: str) -> str:
    """`` because ...`` / `` with an explicit deny in ...`` for a denial (empty when AWS gives no reason)."""
    denied_by = decision.denied_by
    if denied_by is None:
        return ""
    if decision.effect == EXPLICIT_DENY or denied_by is PolicyType.SCP:
        return f" with an explicit deny in {_ARTICLE[denied_by]}"
    if denied_by is PolicyType.TRUST:
        return ""
    return f" because no {denied_by.value} allows the {action} action"


def access_denied_message(request: Request, decision: Decision) -> str:
    """The AccessDenied message for a denied request (callers check ``decision.allowed`` first)."""
    action = request.action
    where = "" if request.resource == "*" else f" on resource: {request.resource}"
    return (
        f"User: {caller_name(request)} is not authorized to perform: {action}{where}"
        f"{reason_clause(decision, action)}"
    )
