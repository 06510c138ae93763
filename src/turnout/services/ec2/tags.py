"""EC2 tags: storage, AWS's tag restrictions, tag-on-create (``TagSpecifications``) and the authorizer's lookup."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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


def check(pairs: Iterable[tuple[str, str]]) -> None:
    """AWS's tag restrictions (EC2 User Guide, "Tag restrictions"). The wording of the length and empty-key
    messages is Turnout's: AWS's CreateTags reference lists no messages."""
    for key, value in pairs:
        if not key:
            raise errors.invalid_value("Tag key must not be empty")
        if key.lower().startswith("aws:"):
            raise errors.invalid_value("Tag keys starting with 'aws:' are reserved for internal use")
        if len(key) > KEY_MAX:
            raise errors.invalid_value(f"Tag key exceeds the maximum length of {KEY_MAX} characters")
        if len(value) > VALUE_MAX:
            raise errors.invalid_value(f"Tag value exceeds the maximum length of {VALUE_MAX} characters")


def pairs_of(tags: Iterable[Mapping[str, Any]] | None) -> list[tuple[str, str]]:
    out = []
    for tag in tags or []:
        key, value = tag.get("Key"), tag.get("Value")
        out.append((key if isinstance(key, str) else "", value if isinstance(value, str) else ""))
    return out


def specifications(req: Mapping[str, Any], allowed: str) -> list[tuple[str, str]]:
    """The tags a create asks for through ``TagSpecifications``; each must name ``allowed`` as its type."""
    out: list[tuple[str, str]] = []
    for spec in req.get("TagSpecifications") or []:
        kind = spec.get("ResourceType")
        if kind != allowed:
            raise errors.invalid_value(f"'{kind}' is not a valid taggable resource type for this operation.")
        out.extend(pairs_of(spec.get("Tags")))
    check(out)
    return out


def as_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


# -- storage -----------------------------------------------------------------------------------------------------


def of(db: Database, account: str, region: str, resource_id: str) -> dict[str, str]:
    rows = db.all("SELECT tag_key, tag_value FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? "
                  "ORDER BY tag_key", (account, region, resource_id))
    return {r[0]: r[1] for r in rows}


def by_resource(db: Database, account: str, region: str) -> dict[str, dict[str, str]]:
    """Every tagged resource of the account and region with its tags (for Describe calls)."""
    out: dict[str, dict[str, str]] = {}
    for row in db.all("SELECT resource_id, tag_key, tag_value FROM ec2_tags WHERE account_id = ? AND region = ? "
                      "ORDER BY resource_id, tag_key", (account, region)):
        out.setdefault(row[0], {})[row[1]] = row[2]
    return out


def rows(db: Database, account: str, region: str) -> list[tuple[str, str, str, str]]:
    """(resource id, resource type, key, value) of every tag of the account and region."""
    return [(r[0], r[1], r[2], r[3]) for r in db.all(
        "SELECT resource_id, resource_type, tag_key, tag_value FROM ec2_tags WHERE account_id = ? AND region = ? "
        "ORDER BY resource_id, tag_key", (account, region))]


def put(db: Database, account: str, region: str, resource_id: str, pairs: Iterable[tuple[str, str]]) -> None:
    """Add or overwrite tags, enforcing the 50-tags-per-resource quota."""
    kind = resource_type(resource_id) or "unknown"
    for key, value in pairs:
        db.execute(
            "INSERT INTO ec2_tags (account_id, region, resource_id, resource_type, tag_key, tag_value) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, resource_id, tag_key) "
            "DO UPDATE SET tag_value = excluded.tag_value",
            (account, region, resource_id, kind, key, value),
        )
    count = db.scalar("SELECT COUNT(*) FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ?",
                      (account, region, resource_id))
    if count > MAX_TAGS:
        # The EC2 error-code reference's description of TagLimitExceeded.
        raise ServiceError("TagLimitExceeded", "You've reached the limit on the number of tags that you can "
                           "assign to the specified resource.")


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
        if isinstance(value, str):
            db.execute("DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? AND tag_key = ? "
                       "AND tag_value = ?", (account, region, resource_id, key, value))
        else:
            db.execute("DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? AND tag_key = ?",
                       (account, region, resource_id, key))


def drop(db: Database, account: str, region: str, resource_id: str) -> None:
    db.execute("DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ?",
               (account, region, resource_id))


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
    if kind == "security-group-rule" and db.one(
        "SELECT 1 FROM ec2_security_group_rules WHERE account_id = ? AND region = ? AND rule_id = ?",
        (account, region, resource_id),
    ) is None:
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
