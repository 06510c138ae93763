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
    IAM_USER,
    ROOT,
    ContextInput,
    Request,
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
    if arn is None or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    return parts[4] or None if len(parts) == 6 else None


def make_request(
    principal: str | None,
    action: str,
    resource: str,
    *,
    resource_account: str | None = None,
    context: Mapping[str, ContextInput] | None = None,
    role_arn: str | None = None,
) -> Request:
    """A Request for a caller named by ARN (or service principal name, or None for anonymous)."""
    kind = principal_type_of(principal)
    service = principal if kind == AWS_SERVICE else None
    return Request(
        principal_arn=principal,
        principal_account=account_of(principal),
        principal_type=kind,
        action=action,
        resource=resource,
        resource_account=resource_account if resource_account is not None else account_of(resource),
        context=dict(context or {}),
        principal_service=service,
        role_arn=role_arn,
    )
