"""CreateTags, DeleteTags and DescribeTags over the resources Turnout's EC2 holds."""

from __future__ import annotations

from typing import Any

from ...core import tagging
from ...core.context import RequestContext
from . import tags
from .base import Ec2Base, result
from .filters import Filters
from .store import ResourceTag


class TagOperations(Ec2Base):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def create_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        given = tagging.read(req.get("Tags"))
        tags.check(given)
        resources = list(dict.fromkeys(req["Resources"]))
        for resource_id in resources:
            tags.check_exists(self.db, ctx.account_id, ctx.region, resource_id)
        self._dry_run(req)
        for resource_id in resources:
            tags.put(self.db, ctx.account_id, ctx.region, resource_id, given)
        return {}

    def delete_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        named = req.get("Tags")
        tags.check_deletable(named)
        resources = list(dict.fromkeys(req["Resources"]))
        for resource_id in resources:
            tags.check_exists(self.db, ctx.account_id, ctx.region, resource_id)
        self._dry_run(req)
        for resource_id in resources:
            tags.remove(self.db, ctx.account_id, ctx.region, resource_id, named)
        return {}

    def describe_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        tag_map = self._tag_map(ctx)
        filters: Filters[ResourceTag] = Filters({
            "key": lambda row: row.key,
            "value": lambda row: row.value,
            "resource-id": lambda row: row.resource_id,
            "resource-type": lambda row: row.resource_type,
        }, tags=lambda row: tag_map.get(row.resource_id, {}))
        test = filters.compile(req.get("Filters"))
        self._dry_run(req)
        rows = [row for row in tags.rows(self.db, ctx.account_id, ctx.region) if test(row)]
        chunk, token = self._paged(rows, lambda row: f"{row.resource_id}\t{row.key}", req)
        items = [{"ResourceId": r.resource_id, "ResourceType": r.resource_type, "Key": r.key, "Value": r.value}
                 for r in chunk]
        return result("Tags", items, token)
