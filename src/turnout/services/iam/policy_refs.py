"""Managed policies by ARN (customer policies in the store, AWS policies in the catalogue), shared by the
policy, version, attachment and inline-policy modules; entity lookups and IAM's errors for them."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...core.context import RequestContext
from ...reference import managed_policies as managed
from ...reference.managed_policies import catalogue, is_aws_managed
from ...store.db import Database
from ...wire.errors import ServiceError
from ..pagination import decode_marker, encode_marker
from .common import get_tags, invalid_input, no_such_entity
from .roles import protected_role
from .store import attachments as attachment_store
from .store import groups as group_store
from .store import policies as policy_store
from .store import users as user_store
from .store.records import Group, ManagedPolicy, Role, User

ATTACHED_POLICIES_QUOTA = 10  # PoliciesPerRole / PoliciesPerUser / PoliciesPerGroup
VERSIONS_QUOTA = 5

_POLICY_ARN = re.compile(r"arn:aws:iam::(?:\d{12}|aws):policy/(?:[\x21-\x7e]*/)?[\w+=,.@-]+")

Entity = Role | User | Group



def check_arn(arn: str) -> None:
    """IAM refuses a policy ARN that is not one: ``InvalidInput`` "ARN <arn> is not valid."."""
    if _POLICY_ARN.fullmatch(arn) is None:
        raise invalid_input(f"ARN {arn} is not valid.")


def split_arn(arn: str) -> tuple[str, str]:
    """(path, name) of a policy ARN already checked by :func:`check_arn`."""
    resource = arn.split(":policy", 1)[1]
    path, _, name = resource.rpartition("/")
    return path + "/", name


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """One managed policy: a customer policy (``row``) or an AWS managed one (``aws``)."""

    arn: str
    row: ManagedPolicy | None = None
    aws: managed.ManagedPolicy | None = None

    @property
    def is_aws(self) -> bool:
        return self.aws is not None

    @property
    def name(self) -> str:
        return self.aws.name if self.aws is not None else self._row.name

    @property
    def path(self) -> str:
        return self.aws.path if self.aws is not None else self._row.path

    @property
    def attachable(self) -> bool:
        return self.aws.attachable if self.aws is not None else True

    @property
    def _row(self) -> ManagedPolicy:
        assert self.row is not None
        return self.row

    def shape(self, attachments: int, boundaries: int, detail: bool, db: Database | None = None) -> dict[str, Any]:
        """The ``Policy`` structure; ``detail`` (GetPolicy, CreatePolicy) adds Description and Tags."""
        if self.aws is not None:
            aws = self.aws
            policy: dict[str, Any] = {
                "PolicyName": aws.name, "PolicyId": aws.policy_id, "Arn": aws.arn, "Path": aws.path,
                "DefaultVersionId": aws.default_version_id, "AttachmentCount": attachments,
                "PermissionsBoundaryUsageCount": boundaries, "IsAttachable": aws.attachable,
                "CreateDate": aws.create_date, "UpdateDate": aws.update_date,
            }
            if detail and aws.description is not None:
                policy["Description"] = aws.description
            return policy
        row = self._row
        policy = {
            "PolicyName": row.name, "PolicyId": row.policy_id, "Arn": row.arn, "Path": row.path,
            "DefaultVersionId": row.default_version, "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": boundaries, "IsAttachable": True,
            "CreateDate": row.created_at, "UpdateDate": row.updated_at,
        }
        if detail:
            if row.description is not None:
                policy["Description"] = row.description
            assert db is not None
            tags = get_tags(db, row.account_id, "policy", row.arn)
            if tags:
                policy["Tags"] = tags
        return policy


def find_policy(db: Database, account: str, arn: str) -> PolicyRef | None:
    if is_aws_managed(arn):
        aws = catalogue().get(arn)
        return None if aws is None else PolicyRef(arn, aws=aws)
    row = policy_store.get(db, account, arn)
    return None if row is None else PolicyRef(arn, row=row)


def policy_or_404(db: Database, account: str, arn: str) -> PolicyRef:
    """The policy ``arn`` names; ``NoSuchEntity`` "Policy <arn> was not found." (GetPolicy's wording)."""
    check_arn(arn)
    ref = find_policy(db, account, arn)
    if ref is None:
        raise no_such_entity(f"Policy {arn} was not found.")
    return ref


def customer_policy(ctx: RequestContext, action: str, arn: str) -> PolicyRef:
    """A customer managed policy the caller may change; AWS managed policies are refused (see below)."""
    check_arn(arn)
    if is_aws_managed(arn):
        raise aws_managed_denied(ctx, action, arn)
    return policy_or_404(ctx.gateway.db, ctx.account_id, arn)


def aws_managed_denied(ctx: RequestContext, action: str, arn: str) -> ServiceError:
    """AWS managed policies belong to AWS, not to the caller's account, so no caller may change them.

    AWS does not document the error of CreatePolicyVersion/DeletePolicy/DeletePolicyVersion/
    SetDefaultPolicyVersion/TagPolicy/UntagPolicy on ``arn:aws:iam::aws:policy/...``; Turnout answers as IAM
    does for an action on a resource outside the caller's reach: AccessDenied (403), in IAM's message format.
    """
    who = ctx.principal.arn if ctx.principal is not None else f"arn:aws:iam::{ctx.account_id}:root"
    return ServiceError(
        "AccessDenied", f"User: {who} is not authorized to perform: iam:{action} on resource: policy {arn}", 403
    )


# -- usage counts ------------------------------------------------------------------------------------------


def attachment_counts(db: Database, account: str, arn: str | None = None) -> dict[str, int]:
    """Attachments per policy ARN in ``account`` (of one policy when ``arn`` is given)."""
    return attachment_store.attachment_counts(db, account, arn)


def boundary_counts(db: Database, account: str, arn: str | None = None) -> dict[str, int]:
    """Roles and users using each policy as their permissions boundary."""
    return attachment_store.boundary_counts(db, account, arn)


def usage(db: Database, account: str, arn: str) -> tuple[int, int]:
    """(AttachmentCount, PermissionsBoundaryUsageCount) of one policy."""
    return attachment_counts(db, account, arn).get(arn, 0), boundary_counts(db, account, arn).get(arn, 0)


# -- entities ----------------------------------------------------------------------------------------------


def entity_row(db: Database, account: str, kind: str, name: str) -> User | Group:
    """The user or group ``name`` (roles: :func:`.role_parts.role_row`), or IAM's NoSuchEntity for it."""
    row = user_store.get(db, account, name) if kind == "user" else group_store.get(db, account, name)
    if row is None:
        raise no_such_entity(f"The {kind} with name {name} cannot be found.")
    return row


def check_modifiable(kind: str, entity: Entity) -> None:
    """A service-linked role's policies belong to its service: IAM refuses to change them (UnmodifiableEntity)."""
    if isinstance(entity, Role) and entity.linked_service is not None:
        raise protected_role(entity.name)


# -- Marker pagination over an already ordered sequence ----------------------------------------------------


def page_sorted(
    keys: list[str], count_default: int, params: dict[str, Any]
) -> tuple[int, int, str | None]:
    """Slice bounds [start, end) of the page after ``params["Marker"]`` over ascending ``keys``, and the next
    marker (same encoding as :func:`common.paged`). Binary search: cost does not grow with the page number."""
    start = 0
    marker = params.get("Marker")
    if marker:
        start = bisect_right(keys, decode_marker(marker, invalid_input))
    limit = params.get("MaxItems") or count_default
    end = min(start + limit, len(keys))
    next_marker = encode_marker(keys[end - 1]) if end < len(keys) and end > start else None
    return start, end, next_marker


def listing(
    items: list[Any], keys: list[str], params: dict[str, Any], result_key: str, shape: Callable[[Any], Any]
) -> dict[str, Any]:
    """IAM's list result over ``items`` ordered by ascending ``keys``; only the page's items are shaped."""
    start, end, marker = page_sorted(keys, 100, params)
    result: dict[str, Any] = {result_key: [shape(item) for item in items[start:end]], "IsTruncated": marker is not None}
    if marker is not None:
        result["Marker"] = marker
    return result


def check_policy_attachable(db: Database, account: str, arn: str, *, boundary: bool) -> None:
    """Refuse an ARN that names no managed policy (the account's or AWS's) usable here, with IAM's wording."""
    check_arn(arn)
    ref = find_policy(db, account, arn)
    if ref is None or not ref.attachable:
        if boundary:
            raise no_such_entity(f"Scope ARN: {arn} does not exist or is not attachable.")
        raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
