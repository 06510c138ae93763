"""Built-in rules of AWS services that no policy can change.

* ``sts:GetCallerIdentity`` needs no permission, and an explicit deny does not stop it (STS API reference:
  "No permissions are required to perform this operation. If an administrator attaches a policy to your
  identity that explicitly denies access to the sts:GetCallerIdentity action, you can still perform this
  operation").
* ``sts:GetSessionToken`` needs no permission either (STS API reference: "No permissions are required for users
  to perform this operation. The purpose of the sts:GetSessionToken operation is to authenticate the user using
  MFA. You cannot use policies to control authentication operations"); who may call it at all (not a session)
  is the STS provider's check.
* AWS-owned IAM resources are read-only to customers: AWS managed policies (``arn:aws:iam::aws:policy/...``),
  roles under the ``/aws-reserved/`` path (IAM Identity Center), and AWS managed KMS aliases (``alias/aws/...``).
  Only reads pass: IAM actions named ``Get*``, ``List*``, ``Generate*`` or ``Simulate*`` (our reading of which
  actions are reads; the outcome for the others is an implicit deny, checked after explicit denies).
"""

from __future__ import annotations

from typing import Final

ALWAYS_ALLOWED: Final = frozenset({"sts:getcalleridentity", "sts:getsessiontoken"})

AWS_MANAGED_RESOURCE: Final = "the resource is owned by AWS and cannot be modified"
_READ_PREFIXES: Final = ("get", "list", "generate", "simulate")
_KMS_ALIAS_WRITES: Final = frozenset({"kms:createalias", "kms:deletealias", "kms:updatealias"})


def always_allowed(action_lower: str) -> bool:
    return action_lower in ALWAYS_ALLOWED


def protected_resource(action_lower: str, resource: str) -> str | None:
    """A reason when the action would modify an AWS-owned resource, else None."""
    if "role/aws-reserved/" not in resource and ":aws:policy/" not in resource and "alias/aws/" not in resource:
        return None  # (each rule below needs one of these in the ARN: a cheap first look)
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    service, account, name = parts[2], parts[4], parts[5]
    if service == "iam" and action_lower.startswith("iam:"):
        aws_owned = (account == "aws" and name.startswith("policy/")) or name.startswith("role/aws-reserved/")
        if aws_owned and not action_lower[4:].startswith(_READ_PREFIXES):
            return AWS_MANAGED_RESOURCE
    if service == "kms" and name.startswith("alias/aws/") and action_lower in _KMS_ALIAS_WRITES:
        return AWS_MANAGED_RESOURCE
    return None
