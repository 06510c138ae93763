"""Tags on trails: TagsList at creation, AddTags, RemoveTags and ListTags (trail ARNs only: Turnout has no event
data stores or channels)."""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from . import trail_store
from .trail_store import TAGS_PER_TRAIL, TRAIL_ARN, Trail, error, home_region_error, invalid_arn

ARNS_PER_LIST = 20  # ListTags: "The list has a limit of 20 ARNs."


def invalid_tag(message: str) -> ServiceError:
    return error("InvalidTagParameterException", message)


def check_tags(tags: list[dict[str, Any]]) -> None:
    """Tags of one request: no key twice, none in the ``aws:`` namespace (our wording for both rules)."""
    seen: set[str] = set()
    for tag in tags:
        key = tag["Key"]
        if key.lower().startswith("aws:"):
            raise invalid_tag(f"Tag key {key} is not valid: the aws: prefix is reserved for AWS use.")
        if key in seen:
            raise invalid_tag(f"Tag key {key} is specified more than once.")
        seen.add(key)


def too_many_tags() -> ServiceError:
    return error(
        "TagsLimitExceededException",
        f"The number of tags per trail has exceeded the permitted amount. Currently, the limit is {TAGS_PER_TRAIL}.",
    )


def put_tags(db: Database, arn: str, tags: list[dict[str, Any]]) -> None:
    """Add tags (a key already there takes the new value), keeping at most 50 per trail."""
    seq = int(db.scalar("SELECT COALESCE(MAX(seq), 0) FROM cloudtrail_trail_tags WHERE trail_arn = ?", (arn,)))
    for tag in tags:
        seq += 1
        db.execute(
            "INSERT INTO cloudtrail_trail_tags (trail_arn, tag_key, tag_value, seq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (trail_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
            (arn, tag["Key"], tag.get("Value"), seq),
        )
    if int(db.scalar("SELECT COUNT(*) FROM cloudtrail_trail_tags WHERE trail_arn = ?", (arn,))) > TAGS_PER_TRAIL:
        raise too_many_tags()


def get_tags(db: Database, arn: str) -> list[dict[str, str]]:
    rows = db.all("SELECT tag_key, tag_value FROM cloudtrail_trail_tags WHERE trail_arn = ? ORDER BY seq", (arn,))
    out = []
    for row in rows:
        tag = {"Key": row["tag_key"]}
        if row["tag_value"] is not None:
            tag["Value"] = row["tag_value"]
        out.append(tag)
    return out


def _resource(db: Database, ctx: RequestContext, arn: str) -> Trail:
    """The trail a ``ResourceId`` names: a trail ARN of the caller's, visible in the request's region."""
    match = TRAIL_ARN.fullmatch(arn)
    if match is None:
        raise invalid_arn(arn)
    trail = trail_store.by_arn(db, arn)
    if trail is None or trail.account_id != ctx.account_id or (
        trail.home_region != ctx.region and not trail.is_multi_region
    ):
        # Our wording: AWS documents ResourceNotFoundException for a resource that does not exist.
        raise error("ResourceNotFoundException", f"Resource not found: {arn} for the user: {ctx.account_id}")
    return trail


class TagOperations:
    """AddTags, RemoveTags, ListTags; mixed into the CloudTrail provider through TrailOperations."""

    db: Database

    def add_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trail = _resource(self.db, ctx, req["ResourceId"])
        if trail.home_region != ctx.region:
            raise home_region_error(trail, ctx.region)
        tags = req["TagsList"]
        check_tags(tags)
        put_tags(self.db, trail.arn, tags)
        return {}

    def remove_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trail = _resource(self.db, ctx, req["ResourceId"])
        if trail.home_region != ctx.region:
            raise home_region_error(trail, ctx.region)
        for tag in req["TagsList"]:
            # A tag is removed by its key; a Value given with it is not compared (AWS does not document it).
            self.db.execute(
                "DELETE FROM cloudtrail_trail_tags WHERE trail_arn = ? AND tag_key = ?", (trail.arn, tag["Key"])
            )
        return {}

    def list_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("NextToken"):
            # Every answer fits one page, so no token was ever handed out (our wording).
            raise error("InvalidTokenException", "The NextToken is not valid.")
        ids = list(dict.fromkeys(req["ResourceIdList"]))
        if len(ids) > ARNS_PER_LIST:
            # Our wording for the documented limit of 20 ARNs.
            raise error("InvalidParameterException", f"ResourceIdList can have at most {ARNS_PER_LIST} ARNs.")
        trails = [_resource(self.db, ctx, arn) for arn in ids]
        return {"ResourceTagList": [{"ResourceId": t.arn, "TagsList": get_tags(self.db, t.arn)} for t in trails]}
