"""Tags on clusters, task definitions and services: TagResource, UntagResource, ListTagsForResource, tags given at
creation, and the lookup IAM conditions (``aws:ResourceTag/*``) read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...core import tagging
from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from .common import ARN, cluster_not_found, error, invalid
from .store import clusters as cluster_store
from .store import services as service_store
from .store import tags as store
from .store import task_definitions as td_store
from .store import tasks as task_store

TAGS_PER_RESOURCE = 50


def _too_many() -> ServiceError:
    # Our wording for the documented quota ("Maximum number of tags per resource: 50").
    return invalid(f"The number of tags exceeds the limit of {TAGS_PER_RESOURCE} tags per resource.")


# Tags of one request: at most 50, each with a key, none with the ``aws:`` prefix (reserved for AWS use).
RULES = tagging.TagRules(
    checks={
        # The model leaves Tag.key optional; a tag without one cannot be stored (our wording).
        "empty": lambda key: invalid("Tag keys must be given and can not be empty."),
        # Our wording for the documented rule ("Do not use aws:, AWS:, or any upper or lowercase combination
        # of such as a prefix for either keys or values as it is reserved for AWS use.").
        "reserved": lambda key: invalid("Tag keys can not start with the reserved prefix 'aws:'."),
    },
    too_many=_too_many, max_tags=TAGS_PER_RESOURCE, count_request="first",
)


def check_new_tags(tags: list[dict[str, Any]]) -> None:
    """Tags of one request: at most 50, no ``aws:`` prefix (reserved for AWS use)."""
    tagging.check(RULES, tagging.read(tags))


def get_tags(db: Database, account: str, region: str, arn: str) -> list[dict[str, str]]:
    return tagging.shapes(store.tags_of(db, account, region, arn), "key", "value")


def put_tags(db: Database, account: str, region: str, arn: str, tags: list[dict[str, Any]]) -> None:
    """Add or overwrite tags (a key set again keeps its place), enforcing the 50-tag quota."""
    given = tagging.read(tags)
    tagging.merge(RULES, store.tags_of(db, account, region, arn), given)
    store.put_tags(db, account, region, arn, given)


def drop_tags(db: Database, account: str, region: str, arns: Iterable[str]) -> None:
    store.drop_tags(db, account, region, arns)


def resource_tags(db: Database, account: str, region: str, arn: str) -> dict[str, str]:
    """``resource_tag_lookups["ecs"]``: a resource's tags for IAM conditions."""
    return {tag.key: tag.value for tag in store.tags_of(db, account, region, arn)}


def check_resource(db: Database, account: str, region: str, arn: str) -> None:
    """Raise unless ``arn`` is an existing cluster, task definition, service or task of the caller's account and
    region."""
    match = ARN.match(arn)
    if match is None:
        raise invalid("Invalid arn syntax.")  # our wording for a malformed ARN
    kind = match["kind"]
    mine = match["account"] == account and match["region"] == region
    if kind == "cluster":
        cluster = cluster_store.cluster_by_arn(db, account, region, arn) if mine else None
        if cluster is None:
            raise cluster_not_found()
        if cluster.status != "ACTIVE":
            raise invalid("The specified cluster is inactive. Specify an active cluster and try again.")
        return
    if kind == "task-definition":
        if not mine or td_store.task_definition(db, account, region, arn) is None:
            # Our choice: AWS's TagResource documents ResourceNotFoundException for a missing resource.
            raise error("ResourceNotFoundException", "The specified resource could not be found.")
        return
    if kind in ("service", "task"):
        status: str | None = None
        if mine and kind == "service":
            status = service_store.status_of(db, account, region, arn)
        elif mine:
            status = None if task_store.task(db, account, region, arn) is None else "ACTIVE"
        if status is None or status == "INACTIVE":
            # Our choice, as for task definitions: TagResource documents ResourceNotFoundException.
            raise error("ResourceNotFoundException", "The specified resource could not be found.")
        return
    raise invalid("The specified resource type is not supported.")  # container instances...: not served here


class TagOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database

    def tag_resource(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region, arn = ctx.account_id, ctx.region, req["resourceArn"]
        check_resource(self.db, account, region, arn)
        check_new_tags(req["tags"])
        put_tags(self.db, account, region, arn, req["tags"])
        return {}

    def untag_resource(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region, arn = ctx.account_id, ctx.region, req["resourceArn"]
        check_resource(self.db, account, region, arn)
        store.delete_tags(self.db, account, region, arn, req["tagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region, arn = ctx.account_id, ctx.region, req["resourceArn"]
        check_resource(self.db, account, region, arn)
        return {"tags": get_tags(self.db, account, region, arn)}
