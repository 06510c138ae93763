"""CreateTags, DeleteTags and DescribeTags over the resources Turnout's EC2 holds."""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from . import errors, tags
from .base import Ec2Base, result
from .filters import Filters

TagRow = tuple[str, str, str, str]  # resource id, resource type, key, value


class TagOperations(Ec2Base):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def create_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        pairs = tags.pairs_of(req.get("Tags"))
        tags.check(pairs)
        resources = list(dict.fromkeys(req["Resources"]))
        for resource_id in resources:
            tags.check_exists(self.db, ctx.account_id, ctx.region, resource_id)
        self._dry_run(req)
        for resource_id in resources:
            tags.put(self.db, ctx.account_id, ctx.region, resource_id, pairs)
        return {}

    def delete_tags(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        named = req.get("Tags")
        for key, _ in tags.pairs_of(named):
            if key.lower().startswith("aws:"):
                raise errors.invalid_value("Tag keys starting with 'aws:' are reserved for internal use")
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
        filters: Filters[TagRow] = Filters({
            "key": lambda row: row[2],
            "value": lambda row: row[3],
            "resource-id": lambda row: row[0],
            "resource-type": lambda row: row[1],
        }, tags=lambda row: tag_map.get(row[0], {}))
        test = filters.compile(req.get("Filters"))
        self._dry_run(req)
        rows = [row for row in tags.rows(self.db, ctx.account_id, ctx.region) if test(row)]
        chunk, token = self._paged(rows, lambda row: f"{row[0]}\t{row[2]}", req)
        items = [{"ResourceId": r[0], "ResourceType": r[1], "Key": r[2], "Value": r[3]} for r in chunk]
        return result("Tags", items, token)
