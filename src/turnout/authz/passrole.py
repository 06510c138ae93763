"""``iam:PassRole``: the one check every operation that takes a role ARN makes (ECS CreateService...).

PassRole is a permission, not an API call: the service receiving the role ARN asks whether the caller may
pass that role to it. The check evaluates ``iam:PassRole`` on the role's ARN with ``iam:PassedToService`` (the
service principal that will assume the role) and ``iam:AssociatedResourceArn`` (the resource the role will
act for; the key's casing is the Service Authorization Reference's, and condition keys are case-insensitive).

* A denial is AWS's AccessDenied naming ``iam:PassRole`` and the role (``AccessDenied``/403 for query
  protocols, ``AccessDeniedException``/400 for JSON protocols), like any denied call, and is recorded for
  :func:`turnout.authz.diagnostics.explain`.
* "You cannot use the PassRole permission to pass a cross-account role" (IAM User Guide): a role of another
  account is a cross-account resource with no resource-based policy, so the engine denies it to everyone, root
  included ("because no resource-based policy allows the iam:PassRole action").
* Permission is decided on the ARN as given, before looking the role up, so a caller without permission
  learns nothing about which roles exist. Then a role that does not exist fails, root included: AWS services
  refuse a role they cannot use with their own validation error, which the caller may supply (``missing``);
  by default it is the protocol's invalid-parameter error with IAM's wording for a missing role (our choice:
  the services do not document a common text).
* With enforcement off (``--no-enforce-iam``) only the existence check is made (in the caller's account).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core import arns
from ..wire.errors import ServiceError
from .authorizer import PolicyAuthorizer
from .checks import Check
from .ports import PassedRole

__all__ = [
    "ASSOCIATED_RESOURCE_ARN", "PASSED_TO_SERVICE", "PASS_ROLE", "PassedRole", "check_pass_role", "missing_role",
]

if TYPE_CHECKING:
    from ..core.context import RequestContext

PASS_ROLE = "iam:PassRole"
PASSED_TO_SERVICE = "iam:PassedToService"
ASSOCIATED_RESOURCE_ARN = "iam:AssociatedResourceArn"

_MISSING_CODES = {"json": "InvalidParameterException", "ec2": "InvalidParameterValue", "query": "ValidationError"}


def missing_role(ctx: RequestContext, role_arn: str) -> ServiceError:
    name = role_arn.rsplit("/", 1)[-1]
    return ServiceError(_MISSING_CODES.get(ctx.protocol, "ValidationError"),
                        f"The role with name {name} cannot be found.", 400)


def check_pass_role(
    ctx: RequestContext,
    role_arn: str,
    passed_to_service: str,
    associated_resource_arn: str | None = None,
    *,
    missing: Callable[[RequestContext, str], ServiceError] = missing_role,
) -> PassedRole:
    """Raise AWS's error unless the caller may pass ``role_arn`` to ``passed_to_service``; return the role."""
    context: dict[str, str | list[str]] = {PASSED_TO_SERVICE: passed_to_service}
    if associated_resource_arn is not None:
        context[ASSOCIATED_RESOURCE_ARN] = associated_resource_arn
    parsed = arns.parse(role_arn)
    role_account = parsed.account if parsed is not None else None
    authorizer = ctx.gateway.authorizer
    if isinstance(authorizer, PolicyAuthorizer):
        authorizer.authorize_check(ctx, Check(PASS_ROLE, role_arn, role_account or None, context))
    if parsed is None or parsed.service != "iam" or parsed.region or not parsed.resource.startswith("role/"):
        raise missing(ctx, role_arn)
    name = parsed.resource.rsplit("/", 1)[1]
    identities = ctx.gateway.identities
    role = identities.role_to_pass(ctx.account_id, name) if identities is not None else None
    if role is None or role.arn != role_arn:
        raise missing(ctx, role_arn)
    return role
