"""Tags on trails: TagsList at creation, AddTags, RemoveTags and ListTags (trail ARNs only: Turnout has no event
data stores or channels)."""

from __future__ import annotations

from typing import Any

from ...core import tagging
from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from .store import trail_tags as store
from .store import trails as trail_store
from .store.trail_tags import TrailTag
from .store.trails import Trail
from .trail_rules import TAGS_PER_TRAIL, TRAIL_ARN, error, home_region_error, invalid_arn

ARNS_PER_LIST = 20  # ListTags: "The list has a limit of 20 ARNs."


def invalid_tag(message: str) -> ServiceError:
    return error("InvalidTagParameterException", message)


def too_many_tags() -> ServiceError:
    return error(
        "TagsLimitExceededException",
        f"The number of tags per trail has exceeded the permitted amount. Currently, the limit is {TAGS_PER_TRAIL}.",
    )


# Tags of one request: none in the ``aws:`` namespace, no key twice (our wording for both rules); at most 50 on a
# trail.
RULES = tagging.TagRules(
    checks={
        "reserved": lambda key: invalid_tag(f"Tag key {key} is not valid: the aws: prefix is reserved for AWS use."),
        "duplicate": lambda key: invalid_tag(f"Tag key {key} is specified more than once."),
    },
    too_many=too_many_tags, max_tags=TAGS_PER_TRAIL,
)


def check_tags(tags: list[dict[str, Any]]) -> None:
    """Tags of one request: no key twice, none in the ``aws:`` namespace (our wording for both rules)."""
    tagging.check(RULES, tagging.read(tags))


def put_tags(db: Database, arn: str, tags: list[dict[str, Any]]) -> None:
    """Add tags (a key already there takes the new value), keeping at most 50 per trail."""
    stored = [tagging.Tag(tag.key, tag.value or "") for tag in store.tags_of(db, arn)]
    tagging.merge(RULES, stored, tagging.read(tags))
    store.put_tags(db, arn, [TrailTag(tag["Key"], tag.get("Value")) for tag in tags])


def get_tags(db: Database, arn: str) -> list[dict[str, str]]:
    """A trail's tags as ListTags answers them: a tag without a value has no ``Value``."""
    out = []
    for tag in store.tags_of(db, arn):
        shape = {"Key": tag.key}
        if tag.value is not None:
            shape["Value"] = tag.value
        out.append(shape)
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
        # A tag is removed by its key; a Value given with it is not compared (AWS does not document it).
        store.remove_tags(self.db, trail.arn, [tag["Key"] for tag in req["TagsList"]])
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
