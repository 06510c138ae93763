"""Helpers shared by IAM's operation modules: timestamps, tags, pagination, entity lookups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ...core import tagging
from ...store.db import Database
from ...wire.errors import ServiceError
from ..pagination import decode_marker, encode_marker, page
from .store import tags as tag_store
from .store.records import Tag

T = TypeVar("T")


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


def paged(
    items: list[Any], key: Any, params: dict[str, Any], result_key: str
) -> dict[str, Any]:
    """IAM's list result: ``{result_key: [...], IsTruncated, Marker?}``."""
    chunk, marker = page(
        items, key, params.get("Marker"), params.get("MaxItems"), error=invalid_input
    )
    result: dict[str, Any] = {result_key: chunk, "IsTruncated": marker is not None}
    if marker is not None:
        result["Marker"] = marker
    return result


def page_of_entities(
    fetch: Callable[[str, str | None, int], list[T]], key: Callable[[T], str], params: dict[str, Any], result_key: str
) -> tuple[list[T], dict[str, Any]]:
    """:func:`paged` over the entities of a name-keyed table (users, groups, roles, instance profiles) under
    ``PathPrefix``, keyed by ``name_lower``: ``fetch(path_prefix, after, count)`` reads the page's entities only
    (MaxItems + 1 at most), so that a page costs what it holds, not what the account holds. Returns the page's
    entities, for the caller to shape into ``result[result_key]``, and the result without them."""
    prefix = params.get("PathPrefix", "/")
    marker = params.get("Marker")
    after = decode_marker(marker, invalid_input) if marker else None
    max_items = params.get("MaxItems")
    limit = max_items if max_items is not None else 100
    found = fetch(prefix, after, limit + 1)
    chunk = found[:limit]
    result: dict[str, Any] = {result_key: [], "IsTruncated": len(found) > limit and bool(chunk)}
    if result["IsTruncated"]:
        result["Marker"] = encode_marker(key(chunk[-1]))
    return chunk, result


def after_prefix(after: str | None, prefix: str) -> tuple[bool, str | None]:
    """For listings keyed by ``prefix + sort key`` and a marker key ``after``: whether any such key sorts after
    ``after``, and the sort key theirs must exceed (None: every one does)."""
    if after is None or after < prefix:
        return True, None
    if after.startswith(prefix):
        return True, after[len(prefix):]
    return False, None


# -- tags ------------------------------------------------------------------------------------------------


def tags_page(tags: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
    """A ``List*Tags`` result: the tags in the order they were added, paged by ``Marker``/``MaxItems``."""
    numbered = [(f"{index:06d}", tag) for index, tag in enumerate(tags)]
    result = paged(numbered, lambda item: item[0], params, "Tags")
    result["Tags"] = [tag for _, tag in result["Tags"]]
    return result


# IAM's tags: keys are the same whatever their casing; no key twice in a request; at most 50 per resource.
TAG_RULES = tagging.TagRules(
    checks={"duplicate": lambda key: invalid_input(
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.")},
    too_many=lambda: limit_exceeded("Cannot exceed quota for TagsPerResource: 50."),
    max_tags=50, ignore_case=True,
)


def tag_dicts(tags: list[Tag]) -> list[dict[str, str]]:
    return tagging.shapes(tags)


def get_tags(db: Database, account: str, resource_type: str, key: str) -> list[dict[str, str]]:
    return tag_dicts(tag_store.of(db, account, resource_type, key))


def put_tags(db: Database, account: str, resource_type: str, key: str, tags: list[dict[str, str]]) -> None:
    """Add or overwrite tags (keys are case-insensitive, as in IAM), enforcing the 50-tag quota."""
    given = tagging.read(tags)
    tagging.merge(TAG_RULES, tag_store.of(db, account, resource_type, key), given)
    tag_store.put(db, account, resource_type, key, given)


def remove_tags(db: Database, account: str, resource_type: str, key: str, tag_keys: list[str]) -> None:
    tag_store.remove(db, account, resource_type, key, tag_keys)


def check_duplicate_tag_keys(tags: list[dict[str, str]]) -> None:
    tagging.check(TAG_RULES, tagging.read(tags))
