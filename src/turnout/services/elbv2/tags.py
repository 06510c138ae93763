"""Tags on load balancers, target groups, listeners and rules: AddTags, RemoveTags, DescribeTags, tags given
at creation, and the tag lookup IAM conditions (``aws:ResourceTag/*``) read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...authz.resources_base import resource_tag_lookups
from ...gateway.context import RequestContext
from ...store.db import Database
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
from .store import LB_ARN, LISTENER_ARN, RULE_ARN, TG_ARN, TRUST_STORE_ARN

TAGS_PER_RESOURCE = 50
ARNS_PER_CALL = 20  # DescribeTags: "You can specify up to 20 resources in a single call."

# ARN form -> (table holding the resource, error when it does not exist)
_KINDS = (
    (LB_ARN, "elbv2_load_balancers", lb_not_found),
    (TG_ARN, "elbv2_target_groups", tg_not_found),
    (LISTENER_ARN, "elbv2_listeners", listener_not_found),
    (RULE_ARN, "elbv2_rules", rule_not_found),
)


def check_resource(db: Database, account: str, region: str, arn: str) -> None:
    """Raise the resource type's NotFound error unless ``arn`` is an existing resource of the caller's."""
    if TRUST_STORE_ARN.match(arn):
        raise trust_store_not_found()  # Turnout has no trust stores
    for pattern, table, not_found in _KINDS:
        match = pattern.match(arn)
        if match is None:
            continue
        if match["account"] != account or match["region"] != region or db.one(
            f"SELECT 1 FROM {table} WHERE account_id = ? AND region = ? AND arn = ?", (account, region, arn)
        ) is None:
            raise not_found()
        return
    raise invalid_arn(arn, "resource")


def check_new_tags(tags: list[dict[str, Any]]) -> None:
    """Tags given in one request: no key twice, at most 50."""
    seen: set[str] = set()
    for tag in tags:
        key = tag["Key"]
        if key in seen:
            raise duplicate_tag_keys(key)
        seen.add(key)
    if len(seen) > TAGS_PER_RESOURCE:
        raise too_many_tags()


def get_tags(db: Database, account: str, region: str, arn: str) -> list[dict[str, str]]:
    rows = db.all(
        "SELECT tag_key, tag_value FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ? "
        "ORDER BY seq",
        (account, region, arn),
    )
    return [{"Key": r["tag_key"], "Value": r["tag_value"]} for r in rows]


def put_tags(db: Database, account: str, region: str, arn: str, tags: list[dict[str, Any]]) -> None:
    """Add or overwrite tags, enforcing the 50-tag quota (the caller checked duplicate keys)."""
    seq = int(db.scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ?",
        (account, region, arn),
    ))
    for tag in tags:
        seq += 1
        db.execute(
            "INSERT INTO elbv2_tags (account_id, region, resource_arn, tag_key, tag_value, seq) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, resource_arn, tag_key) "
            "DO UPDATE SET tag_value = excluded.tag_value",
            (account, region, arn, tag["Key"], tag.get("Value") or "", seq),
        )
    count = db.scalar("SELECT COUNT(*) FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ?",
                      (account, region, arn))
    if count > TAGS_PER_RESOURCE:
        raise too_many_tags()


def drop_tags(db: Database, account: str, region: str, arns: Iterable[str]) -> None:
    for arn in arns:
        db.execute("DELETE FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ?",
                   (account, region, arn))


def resource_tags(db: Database, account: str, region: str, arn: str) -> dict[str, str]:
    """``resource_tag_lookups["elasticloadbalancing"]``: a resource's tags for IAM conditions."""
    return {tag["Key"]: tag["Value"] for tag in get_tags(db, account, region, arn)}


resource_tag_lookups.setdefault("elasticloadbalancing", resource_tags)


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
                self.db.execute(
                    "DELETE FROM elbv2_tags WHERE account_id = ? AND region = ? AND resource_arn = ? AND tag_key = ?",
                    (account, region, arn, key),
                )
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
