"""EC2 tags: AWS's tag restrictions, tag-on-create (``TagSpecifications``), the tags of resources (stored by the EC2
store) and the authorizer's lookup."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...core import tagging
from ...core.tagging import Tag
from ...store.db import Database
from ...wire.errors import ServiceError
from . import errors, store

MAX_TAGS = 50
KEY_MAX = 127
VALUE_MAX = 255

# Resource id prefixes of the resources Turnout's EC2 holds, and their ``ResourceType``.
TYPES = {"vpc": "vpc", "subnet": "subnet", "sg": "security-group", "sgr": "security-group-rule",
         "rtb": "route-table", "eni": "network-interface"}


def resource_type(resource_id: str) -> str | None:
    prefix = resource_id.split("-", 1)[0]
    return TYPES.get(prefix) if "-" in resource_id else None


def _too_many() -> ServiceError:
    # The EC2 error-code reference's description of TagLimitExceeded.
    return ServiceError("TagLimitExceeded", "You've reached the limit on the number of tags that you can assign to "
                        "the specified resource.")


# AWS's tag restrictions (EC2 User Guide, "Tag restrictions"), at most 50 tags on a resource. The wording of the
# length and empty-key messages is Turnout's: AWS's CreateTags reference lists no messages.
RULES = tagging.TagRules(
    checks={
        "empty": lambda key: errors.invalid_value("Tag key must not be empty"),
        "reserved": lambda key: errors.invalid_value("Tag keys starting with 'aws:' are reserved for internal use"),
        "key_length": lambda key: errors.invalid_value(f"Tag key exceeds the maximum length of {KEY_MAX} characters"),
        "value_length": lambda value: errors.invalid_value(
            f"Tag value exceeds the maximum length of {VALUE_MAX} characters"),
    },
    too_many=_too_many, max_tags=MAX_TAGS, key_max=KEY_MAX, value_max=VALUE_MAX,
)
# DeleteTags: only the reserved prefix is refused.
DELETE_RULES = tagging.TagRules(checks={"reserved": RULES.checks["reserved"]})


def check(given: Sequence[Tag]) -> None:
    """AWS's tag restrictions, for the tags of one request."""
    tagging.check(RULES, given)


def check_deletable(named: list[Mapping[str, Any]] | None) -> None:
    """DeleteTags: no key in AWS's namespace."""
    tagging.check(DELETE_RULES, tagging.read(named))


def specifications(req: Mapping[str, Any], allowed: str) -> list[Tag]:
    """The tags a create asks for through ``TagSpecifications``; each must name ``allowed`` as its type."""
    out: list[Tag] = []
    for spec in req.get("TagSpecifications") or []:
        kind = spec.get("ResourceType")
        if kind != allowed:
            raise errors.invalid_value(f"'{kind}' is not a valid taggable resource type for this operation.")
        out.extend(tagging.read(spec.get("Tags")))
    check(out)
    return out


def mapping(given: Iterable[Tag]) -> dict[str, str]:
    """Tags as ``{key: value}`` (a key given twice: its last value, as stored)."""
    return {tag.key: tag.value for tag in given}


def as_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


# -- storage (``ec2_tags``, through the EC2 store) ------------------------------------------------------------------


def of(db: Database, account: str, region: str, resource_id: str) -> dict[str, str]:
    return mapping(store.tags_of(db, account, region, resource_id))


def by_resource(db: Database, account: str, region: str) -> dict[str, dict[str, str]]:
    """Every tagged resource of the account and region with its tags (for Describe calls)."""
    out: dict[str, dict[str, str]] = {}
    for tag in store.resource_tags(db, account, region):
        out.setdefault(tag.resource_id, {})[tag.key] = tag.value
    return out


def rows(db: Database, account: str, region: str) -> list[store.ResourceTag]:
    """Every tag of the account and region, by resource id then key."""
    return store.resource_tags(db, account, region)


def put(db: Database, account: str, region: str, resource_id: str, given: Sequence[Tag]) -> None:
    """Add or overwrite tags, enforcing the 50-tags-per-resource quota."""
    tagging.merge(RULES, store.tags_of(db, account, region, resource_id), given)
    store.put_tags(db, account, region, resource_id, resource_type(resource_id) or "unknown", given)


def remove(db: Database, account: str, region: str, resource_id: str, tags: list[Mapping[str, Any]] | None) -> None:
    """DeleteTags: all tags when none are named; a key given with a value goes only when the value matches (an
    empty string value matches only an empty value)."""
    if not tags:
        drop(db, account, region, resource_id)
        return
    for tag in tags:
        key = tag.get("Key")
        if not isinstance(key, str):
            continue
        value = tag.get("Value")
        store.delete_tag(db, account, region, resource_id, key, value if isinstance(value, str) else None)


def drop(db: Database, account: str, region: str, resource_id: str) -> None:
    store.drop_tags(db, account, region, resource_id)


def check_exists(db: Database, account: str, region: str, resource_id: str) -> None:
    """CreateTags/DeleteTags: the resource must be one Turnout holds, and exist."""
    kind = resource_type(resource_id)
    if kind is None:
        # Turnout's EC2 holds VPCs, subnets, security groups and their rules, route tables and network interfaces
        # only: any other id cannot name a
        # resource here (AWS answers a well-formed id of another type with that type's NotFound code).
        raise ServiceError("InvalidID", f"The ID '{resource_id}' is not valid")
    prefix = resource_id.split("-", 1)[0]
    if not errors.well_formed(prefix, resource_id):
        raise errors.malformed(prefix, resource_id)
    if kind == "vpc" and store.vpc(db, account, region, resource_id) is None:
        raise errors.vpc_not_found(resource_id)
    if kind == "subnet" and store.subnet(db, account, region, resource_id) is None:
        raise errors.subnet_not_found(resource_id)
    if kind == "security-group" and store.group(db, account, region, resource_id) is None:
        raise errors.group_not_found(resource_id)
    if kind == "route-table" and all(t.route_table_id != resource_id
                                     for t in store.route_tables(db, account, region)):
        raise errors.route_table_not_found(resource_id)
    if kind == "network-interface" and all(e.eni_id != resource_id for e in store.interfaces(db, account, region)):
        raise errors.interface_not_found(resource_id)
    if kind == "security-group-rule" and not store.rule_exists(db, account, region, resource_id):
        raise errors.rule_not_found(resource_id)


def lookup(db: Database, account: str, region: str, arn: str) -> dict[str, str]:
    """``resource_tag_lookups["ec2"]``: the stored tags of a resource named by its ARN (``.../vpc/vpc-x``)."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return {}
    _, _, resource_id = parts[5].partition("/")
    if not resource_id or resource_id == "*" or "/" in resource_id:
        return {}
    return of(db, account, region, resource_id)
