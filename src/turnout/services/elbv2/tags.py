"""Tags on load balancers, target groups, listeners and rules: AddTags, RemoveTags, DescribeTags, tags given
at creation, and the tag lookup IAM conditions (``aws:ResourceTag/*``) read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core import tagging
from ...core.context import RequestContext
from ...store.db import Database
from . import store
from .errors import (
    duplicate_tag_keys,
    invalid_arn,
    lb_not_found,
    listener_not_found,
    rule_not_found,
    tg_not_found,
    too_many_tags,
    trust_store_not_found,
    validation,
)
from .store import LB_ARN, LISTENER_ARN, RULE_ARN, TG_ARN, TRUST_STORE_ARN, tags_of

TAGS_PER_RESOURCE = 50
# The tags of one request: no key twice, at most 50 (the resource's, once merged, too).
RULES = tagging.TagRules(checks={"duplicate": duplicate_tag_keys}, too_many=too_many_tags,
                         max_tags=TAGS_PER_RESOURCE, count_request="last")
ARNS_PER_CALL = 20  # DescribeTags: "You can specify up to 20 resources in a single call."

# ARN form -> (the store's lookup of the resource, error when it does not exist)
_KINDS: tuple[tuple[Any, Callable[[Database, str, str, str], object | None], Any], ...] = (
    (LB_ARN, store.load_balancer, lb_not_found),
    (TG_ARN, store.target_group, tg_not_found),
    (LISTENER_ARN, store.listener, listener_not_found),
    (RULE_ARN, store.rule, rule_not_found),
)


def check_resource(db: Database, account: str, region: str, arn: str) -> None:
    """Raise the resource type's NotFound error unless ``arn`` is an existing resource of the caller's."""
    if TRUST_STORE_ARN.match(arn):
        raise trust_store_not_found()  # Turnout has no trust stores
    for pattern, lookup, not_found in _KINDS:
        match = pattern.match(arn)
        if match is None:
            continue
        if match["account"] != account or match["region"] != region or lookup(db, account, region, arn) is None:
            raise not_found()
        return
    raise invalid_arn(arn, "resource")


def check_new_tags(tags: list[dict[str, Any]]) -> None:
    """Tags given in one request: no key twice, at most 50."""
    tagging.check(RULES, tagging.read(tags))


def get_tags(db: Database, account: str, region: str, arn: str) -> list[dict[str, str]]:
    return tagging.shapes(tags_of(db, account, region, arn))


def put_tags(db: Database, account: str, region: str, arn: str, tags: list[dict[str, Any]]) -> None:
    """Add or overwrite tags, enforcing the 50-tag quota (the caller checked duplicate keys)."""
    given = tagging.read(tags)
    tagging.merge(RULES, tags_of(db, account, region, arn), given)
    store.put_tags(db, account, region, arn, given)


def resource_tags(db: Database, account: str, region: str, arn: str) -> dict[str, str]:
    """``resource_tag_lookups["elasticloadbalancing"]``: a resource's tags for IAM conditions."""
    return {tag.key: tag.value for tag in tags_of(db, account, region, arn)}


class TagOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def add_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        tags = req["Tags"]
        check_new_tags(tags)
        for arn in req["ResourceArns"]:
            check_resource(self.db, account, region, arn)
        for arn in req["ResourceArns"]:
            put_tags(self.db, account, region, arn, tags)
        return {}

    def remove_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        for arn in req["ResourceArns"]:
            check_resource(self.db, account, region, arn)
        for arn in req["ResourceArns"]:
            for key in req["TagKeys"]:
                store.remove_tag(self.db, account, region, arn, key)
        return {}

    def describe_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        arns = list(dict.fromkeys(req["ResourceArns"]))
        if len(arns) > ARNS_PER_CALL:
            # Our wording for the documented limit.
            raise validation(f"You can specify up to {ARNS_PER_CALL} resource ARNs in a single call")
        for arn in arns:
            check_resource(self.db, account, region, arn)
        return {"TagDescriptions": [{"ResourceArn": arn, "Tags": get_tags(self.db, account, region, arn)}
                                    for arn in arns]}
