"""Managed policies (customer and AWS): create, get, list, delete, tags.

:class:`PolicyOperations` also brings in the versions, attachments and inline-policy operations, so the
provider lists one mixin for all of them.
"""

from __future__ import annotations

import functools
import itertools
from bisect import bisect_right
from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...reference.managed_policies import catalogue
from ..pagination import decode_marker, encode_marker
from . import policydoc
from .attachments import AttachmentOperations
from .common import (
    after_prefix,
    check_duplicate_tag_keys,
    delete_conflict,
    get_tags,
    invalid_input,
    put_tags,
    remove_tags,
    tags_page,
)
from .inline_policies import InlinePolicyOperations
from .policy_refs import PolicyRef, attachment_counts, boundary_counts, customer_policy, policy_or_404, usage
from .policy_versions import PolicyVersionOperations
from .store import policies as policy_store
from .store.records import ManagedPolicy, PolicyVersion

# ListPolicies with Scope=All returns the AWS managed policies first, then the account's own (AWS does not
# document the order of a mixed listing; this one keeps pagination stable and cheap).
_AWS_KEY = "0:{:06d}"
_LOCAL_PREFIX = "1:"


@functools.cache
def aws_listing_keys() -> list[str]:
    """The listing keys of the AWS managed policies, in listing order (ascending)."""
    return [_AWS_KEY.format(aws.position) for aws in catalogue().listed]


class PolicyOperations(PolicyVersionOperations, AttachmentOperations, InlinePolicyOperations):
    """Mixed into :class:`IamProvider`."""

    db: Any

    def create_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        name = req["PolicyName"]
        path = req.get("Path", "/")
        document = req["PolicyDocument"]
        tags = req.get("Tags") or []
        check_duplicate_tag_keys(tags)
        policydoc.check(document, "managed")
        if policy_store.name_taken(self.db, account, name):
            raise self.error(  # type: ignore[attr-defined]
                "EntityAlreadyExists", f"A policy called {name} already exists. Duplicate names are not allowed."
            )
        arn = arns.policy(account, name, path)
        now = ctx.received_at
        policy_store.insert(
            self.db,
            ManagedPolicy(account, arn, name, name.lower(), ids.unique_id("policy"), path, req.get("Description"),
                          default_version="v1", next_version=2, created_at=now, updated_at=now),
            PolicyVersion(account, arn, "v1", document, now),
        )
        if tags:
            put_tags(self.db, account, "policy", arn, tags)
        ref = policy_or_404(self.db, account, arn)
        return {"Policy": ref.shape(0, 0, detail=True, db=self.db)}

    def get_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        ref = policy_or_404(self.db, ctx.account_id, req["PolicyArn"])
        attachments, boundaries = usage(self.db, ctx.account_id, ref.arn)
        return {"Policy": ref.shape(attachments, boundaries, detail=True, db=self.db)}

    def list_policies(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        scope = req.get("Scope", "All")
        prefix = req.get("PathPrefix", "/")
        only_attached = bool(req.get("OnlyAttached"))
        usage_filter = req.get("PolicyUsageFilter")
        attached = attachment_counts(self.db, account)
        bounded = boundary_counts(self.db, account)

        def wanted(arn: str) -> bool:
            # PermissionsPolicy / PermissionsBoundary narrow to the policies used that way. Every managed
            # policy can serve as a permissions policy, so PermissionsPolicy alone (without OnlyAttached)
            # keeps them all (AWS documents the filter only in terms of usage).
            if usage_filter == "PermissionsBoundary":
                return bounded.get(arn, 0) > 0
            if usage_filter == "PermissionsPolicy":
                return attached.get(arn, 0) > 0 or not only_attached
            return not only_attached or attached.get(arn, 0) > 0 or bounded.get(arn, 0) > 0

        # Walk the listing from the marker on and stop one item past the page: a page's cost does not grow with
        # the ~1,400 AWS managed policies or the account's own ones before it.
        marker = req.get("Marker")
        after = decode_marker(marker, invalid_input) if marker else None
        limit = req.get("MaxItems") or 100
        found: list[tuple[str, PolicyRef]] = []
        if scope in ("All", "AWS"):
            listed = catalogue().listed
            start = 0 if after is None else bisect_right(aws_listing_keys(), after)
            for aws in itertools.islice(listed, start, None):
                if aws.path.startswith(prefix) and wanted(aws.arn):
                    found.append((_AWS_KEY.format(aws.position), PolicyRef(aws.arn, aws=aws)))
                    if len(found) > limit:
                        break
        if scope in ("All", "Local") and len(found) <= limit:
            any_left, bound = after_prefix(after, _LOCAL_PREFIX)
            for row in policy_store.by_name_after(self.db, account, bound) if any_left else ():
                if row.path.startswith(prefix) and wanted(row.arn):
                    found.append((_LOCAL_PREFIX + row.name_lower, PolicyRef(row.arn, row=row)))
                    if len(found) > limit:
                        break
        chunk = found[:limit]
        result: dict[str, Any] = {
            "Policies": [ref.shape(attached.get(ref.arn, 0), bounded.get(ref.arn, 0), detail=False)
                         for _, ref in chunk],
            "IsTruncated": len(found) > limit and bool(chunk),
        }
        if result["IsTruncated"]:
            result["Marker"] = encode_marker(chunk[-1][0])
        return result

    def delete_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        ref = customer_policy(ctx, "DeletePolicy", req["PolicyArn"])
        attachments, boundaries = usage(self.db, account, ref.arn)
        if attachments or boundaries:
            raise delete_conflict("Cannot delete a policy attached to entities.")
        if policy_store.version_count(self.db, account, ref.arn) > 1:
            raise delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's "
                "versions. The default version is deleted with the policy."
            )
        policy_store.delete(self.db, account, ref.arn)

    # -- tags --------------------------------------------------------------------------------------------

    def tag_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        ref = customer_policy(ctx, "TagPolicy", req["PolicyArn"])
        check_duplicate_tag_keys(req["Tags"])
        put_tags(self.db, ctx.account_id, "policy", ref.arn, req["Tags"])

    def untag_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        ref = customer_policy(ctx, "UntagPolicy", req["PolicyArn"])
        remove_tags(self.db, ctx.account_id, "policy", ref.arn, req["TagKeys"])

    def list_policy_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        ref = policy_or_404(self.db, ctx.account_id, req["PolicyArn"])
        tags = [] if ref.is_aws else get_tags(self.db, ctx.account_id, "policy", ref.arn)
        return tags_page(tags, req)
