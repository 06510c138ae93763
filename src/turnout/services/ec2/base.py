"""What every EC2 operation module shares: the region's defaults, DryRun, NextToken pagination, shapes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ...core.context import RequestContext
from ...core.provider import Provider
from ...store.db import Database
from ...wire.errors import ServiceError
from ..pagination import decode_marker, encode_marker, page
from . import defaults, errors, tags

T = TypeVar("T")

# AWS's "All" default for these describes: without MaxResults every item is returned in one page.
_UNPAGED = 1_000_000


def _bad_token(_: str) -> ServiceError:
    # The EC2 error-code reference: "The specified pagination token is not valid or is expired."
    return ServiceError("InvalidPaginationToken", "The specified pagination token is not valid or is expired.")


class Ec2Base(Provider):
    """Base of the EC2 operation mixins (see ``provider.py``)."""

    service = "ec2"

    def _ensure(self, ctx: RequestContext) -> None:
        """The account's defaults in the request's region exist from here on."""
        defaults.ensure(self.db, ctx.account_id, ctx.region, ctx.received_at)

    @staticmethod
    def _dry_run(req: Mapping[str, Any]) -> None:
        """Called once a request is known to succeed, before it changes anything (IAM was checked already)."""
        if req.get("DryRun"):
            raise errors.dry_run()

    @staticmethod
    def _paged(items: list[T], key: Callable[[T], str], req: Mapping[str, Any]) -> tuple[list[T], str | None]:
        """A page of ``items`` (sorted by ``key``) per ``MaxResults``/``NextToken``, and the next token."""
        token = req.get("NextToken")
        if token and encode_marker(decode_marker(token, _bad_token) or "\0") != token:
            raise _bad_token(token)  # not a token Turnout issued (base64 decoding alone forgives too much)
        limit = req.get("MaxResults")
        return page(items, key, token or None, limit, default=_UNPAGED, error=_bad_token)

    def _select(
        self,
        items: list[T],
        id_of: Callable[[T], str],
        wanted: list[str],
        not_found: Callable[..., Exception],
        test: Callable[[T], bool],
        req: Mapping[str, Any],
    ) -> tuple[list[T], str | None]:
        """The Describe* pattern: the items named by ``wanted`` (all when none; unknown ids -> ``not_found`` of
        every missing id, as EC2 reports them together), those the filters keep, one page of them."""
        if wanted:
            have = {id_of(item) for item in items}
            missing = [i for i in dict.fromkeys(wanted) if i not in have]
            if missing:
                raise not_found(*missing)
            chosen = set(wanted)
            items = [item for item in items if id_of(item) in chosen]
        return self._paged([item for item in items if test(item)], id_of, req)

    def _existing(self, ctx: RequestContext, kind: str, resource_id: str,
                  lookup: Callable[[Database, str, str, str], T | None], not_found: Callable[[str], Exception]) -> T:
        """The resource ``resource_id`` of ``kind`` (``vpc``, ``subnet``, ``sg``) in the caller's account and region,
        found by ``lookup``: the kind's Malformed error for an id not of its form, ``not_found`` when absent."""
        errors.check_ids(kind, [resource_id])
        found = lookup(self.db, ctx.account_id, ctx.region, resource_id)
        if found is None:
            raise not_found(resource_id)
        return found

    def _tag_map(self, ctx: RequestContext) -> dict[str, dict[str, str]]:
        return tags.by_resource(self.db, ctx.account_id, ctx.region)


def with_tags(shape: dict[str, Any], resource_tags: Mapping[str, str] | None) -> dict[str, Any]:
    """AWS leaves ``tagSet`` out of a resource without tags."""
    if resource_tags:
        shape["Tags"] = tags.as_list(resource_tags)
    return shape


def result(key: str, items: list[Any], token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {key: items}
    if token is not None:
        out["NextToken"] = token
    return out
