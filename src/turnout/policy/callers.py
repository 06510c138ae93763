"""Build a ``Request`` from a caller's ARN (or service name) instead of spelling out its type and account.

* ``arn:P:iam::A:root`` -> Root; ``arn:P:iam::A:user/...`` -> IAMUser;
  ``arn:P:sts::A:assumed-role/R/S`` -> AssumedRole (role ``arn:P:iam::A:role/R`` unless given);
  ``arn:P:sts::A:federated-user/N`` -> FederatedUser; ``arn:P:iam::A:role/...`` -> AssumedRole acting as the
  role itself; ``name.amazonaws.com`` (no ``arn:``) -> AWSService; None -> Anonymous.
* The caller's account is the fifth field of its ARN.
"""

from __future__ import annotations

from collections.abc import Mapping

from turnout.policy.model import (
    ANONYMOUS,
    ASSUMED_ROLE,
    AWS_SERVICE,
    FEDERATED_USER,
    FROM_RESOURCE,
    FROM_SESSION,
    IAM_USER,
    ROOT,
    ContextInput,
    Request,
    account_of_arn,
)


def principal_type_of(principal: str | None) -> str:
    if principal is None:
        return ANONYMOUS
    if not principal.startswith("arn:"):
        return AWS_SERVICE
    parts = principal.split(":", 5)
    name = parts[5] if len(parts) == 6 else ""
    if name == "root":
        return ROOT
    if name.startswith("assumed-role/") or name.startswith("role/"):
        return ASSUMED_ROLE
    if name.startswith("federated-user/"):
        return FEDERATED_USER
    return IAM_USER


def account_of(arn: str | None) -> str | None:
    return None if arn is None else account_of_arn(arn)


_NAME_KINDS = {"user/": IAM_USER, "role/": ASSUMED_ROLE}  # the common heads of an ARN's resource part
_new = object.__new__
MAX_PRINCIPALS = 4096  # callers whose reading is remembered; the table starts over beyond that
_READ: dict[str, tuple[str, str | None, str | None]] = {}  # principal -> read_principal(principal)


def read_principal(principal: str) -> tuple[str, str | None, str | None]:
    """(principal type, account, service principal name) of a caller named by ARN or service name: a pure
    function of the string, so ``make_request`` remembers it per caller (the decision itself never is)."""
    service = account = None
    parts = principal.split(":", 5)
    if len(parts) < 2 or parts[0] != "arn":
        kind = AWS_SERVICE
        service = principal
    elif len(parts) < 6:
        kind = IAM_USER
    else:
        account = parts[4] or None
        name = parts[5]
        found = _NAME_KINDS.get(name[:5])
        if found is not None:
            kind = found
        elif name == "root":
            kind = ROOT
        elif name.startswith("assumed-role/"):
            kind = ASSUMED_ROLE
        elif name.startswith("federated-user/"):
            kind = FEDERATED_USER
        else:
            kind = IAM_USER
    return kind, account, service


def make_request(
    principal: str | None,
    action: str,
    resource: str,
    *,
    resource_account: str | None = None,
    context: Mapping[str, ContextInput] | None = None,
    role_arn: str | None = None,
    principal_id: str | None = None,
) -> Request:
    """A Request for a caller named by ARN (or service principal name, or None for anonymous).

    The same as ``principal_type_of`` and ``account_of``, reading the principal's ARN once per caller
    (``read_principal``, remembered: a pure function of the string) and building the Request directly (what can
    wait, the resource's account and a session's role, is derived on first use): this runs for every
    authorization, and in CPython every call and every string method counts.
    """
    if principal is None:
        kind, account, service = ANONYMOUS, None, None
    else:
        found = _READ.get(principal)
        if found is None:
            if len(_READ) >= MAX_PRINCIPALS:
                _READ.clear()
            found = _READ[principal] = read_principal(principal)
        kind, account, service = found
    request: Request = _new(Request)
    request.principal_arn = principal
    request.principal_account = account
    request.principal_type = kind
    request.action = action
    request.action_lower = action.lower()
    request.resource = resource
    request._resource_account = FROM_RESOURCE if resource_account is None else resource_account  # read when needed
    request.principal_service = service
    request.principal_id = principal_id
    request._role_arn = FROM_SESSION if role_arn is None and kind == ASSUMED_ROLE else role_arn
    request.context = dict(context) if context else {}  # a snapshot: the lower-cased view is derived from it
    request.lowered = None
    return request
