"""Buckets: create (location constraint and name rules), head, delete, list, location, tags and policy."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import TYPE_CHECKING, Any

from ...core import tagging
from ...wire.errors import ServiceError
from ..iam import principal_ids
from . import errors, store
from .policy import is_public, validate_policy

if TYPE_CHECKING:
    from ...core.context import RequestContext
    from .provider import S3Provider

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Bucket naming rules (S3 user guide, bucketnamingrules.html; facts file 2, section 6).
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
# CreateBucket: the location constraint "EU" is eu-west-1 (S3 API reference, CreateBucketConfiguration).
_ALIASES = {"EU": "eu-west-1"}
US_EAST_1 = "us-east-1"


def valid_name(name: str) -> bool:
    if not _NAME.match(name) or ".." in name or name.startswith(_BAD_PREFIXES) or name.endswith(_BAD_SUFFIXES):
        return False
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return True
    return False


def canonical_id(account: str) -> str:
    """The account's S3 canonical user id (64 hex characters; derived from the account id here)."""
    return hashlib.sha256(f"s3-canonical-user:{account}".encode()).hexdigest()


def owner(account: str) -> dict[str, str]:
    return {"ID": canonical_id(account)}


def require(p: S3Provider, name: str) -> store.Bucket:
    found = store.bucket(p.db, name)
    if found is None:
        raise errors.no_such_bucket(name)
    return found


def _region_of(ctx: RequestContext, params: dict[str, Any]) -> str:
    config = params.get("CreateBucketConfiguration") or {}
    constraint = config.get("LocationConstraint")
    region = ctx.region
    if not constraint:
        if region != US_EAST_1:
            raise _illegal(
                "The unspecified location constraint is incompatible for the region specific endpoint this "
                "request was sent to.")
        return US_EAST_1
    if constraint == US_EAST_1:
        # us-east-1 is named by leaving the constraint out (facts file 2, section 6: observed answer).
        raise _invalid_location(constraint)
    wanted = str(_ALIASES.get(constraint, constraint))
    if wanted != region:
        raise _illegal(
            f"The {constraint} location constraint is incompatible for the region specific endpoint this request "
            "was sent to.")
    return wanted


def _illegal(message: str) -> ServiceError:
    """The location-constraint errors (400): AWS's codes; messages as observed (facts file 2, section 6)."""
    return ServiceError("IllegalLocationConstraintException", message, 400)


def _invalid_location(constraint: str) -> ServiceError:
    return ServiceError("InvalidLocationConstraint", "The specified location-constraint is not valid", 400,
                        fields={"LocationConstraint": constraint})


def create_bucket(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Bucket"]
    if not valid_name(name):
        raise errors.invalid_bucket_name(name)
    region = _region_of(ctx, params)
    existing = store.bucket(p.db, name)
    if existing is not None:
        if existing.account_id != ctx.account_id:
            raise errors.bucket_already_exists(name)
        # Re-creating your own bucket: 200 in us-east-1, BucketAlreadyOwnedByYou elsewhere (CreateBucket API
        # reference; facts file 2, section 6).
        if existing.region == US_EAST_1 and region == US_EAST_1:
            return {"Location": f"/{name}"}
        raise errors.bucket_already_owned(name)
    store.create_bucket(p.db, name, ctx.account_id, region, p.now())
    config = params.get("CreateBucketConfiguration") or {}
    if config.get("Tags"):
        store.replace_tags(p.db, name, _tag_set(config["Tags"]))
    location = f"/{name}" if region == US_EAST_1 else f"http://{name}.s3.{region}.amazonaws.com/"
    return {"Location": location, "BucketArn": f"arn:aws:s3:::{name}"}


def head_bucket(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    return {"BucketRegion": found.region, "AccessPointAlias": False, "BucketArn": f"arn:aws:s3:::{found.name}"}


def delete_bucket(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    if store.has_objects(p.db, found.name):
        raise errors.bucket_not_empty(found.name)
    store.delete_bucket(p.db, found.name)
    return {"__status": 204}


def list_buckets(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("Prefix") or ""
    region = params.get("BucketRegion")
    found = [b for b in store.buckets_of(p.db, ctx.account_id)
             if b.name.startswith(prefix) and (region is None or b.region == region)]
    after = params.get("ContinuationToken")
    if after:
        found = [b for b in found if b.name > after]
    limit = params.get("MaxBuckets") or 10000
    page, rest = found[:limit], found[limit:]
    result: dict[str, Any] = {
        "Buckets": [{"Name": b.name, "CreationDate": _when(b.created_at), "BucketRegion": b.region,
                     "BucketArn": f"arn:aws:s3:::{b.name}"} for b in page],
        "Owner": owner(ctx.account_id),
    }
    if rest:
        result["ContinuationToken"] = page[-1].name
    if prefix:
        result["Prefix"] = prefix
    return result


def _when(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def get_bucket_location(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    # us-east-1 buckets answer an empty LocationConstraint (GetBucketLocation API reference).
    return {"LocationConstraint": None if found.region == US_EAST_1 else found.region}


# -- tags ----------------------------------------------------------------------------------------------------------


def _invalid_key(key: str) -> ServiceError:
    return errors.invalid_tag("The TagKey you have provided is invalid")


# A bucket's tag set: no key twice, keys of 1 to 128 characters, values of at most 256, none in AWS's namespace,
# at most 50 tags (messages as S3 words them).
TAG_RULES = tagging.TagRules(
    checks={
        "duplicate": lambda key: errors.invalid_tag("Cannot provide multiple Tags with the same key"),
        "empty": _invalid_key,
        "key_length": _invalid_key,
        "value_length": lambda value: errors.invalid_tag("The TagValue you have provided is invalid"),
        "reserved": lambda key: errors.invalid_tag("System tags cannot be added/updated by requester"),
    },
    too_many=lambda: errors.invalid_tag("Object tags cannot be greater than 50"),
    max_tags=50, count_request="last", key_max=128, value_max=256,
)


def _tag_set(tags: list[dict[str, Any]]) -> list[tagging.Tag]:
    given = tagging.read(tags)
    tagging.check(TAG_RULES, given)
    return given


def put_bucket_tagging(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    store.replace_tags(p.db, found.name, _tag_set(params["Tagging"].get("TagSet") or []))
    return {"__status": 204}


def get_bucket_tagging(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    tag_set = store.tags(p.db, found.name)
    if not tag_set:
        raise errors.not_configured("NoSuchTagSet", "The TagSet does not exist", found.name)
    return {"TagSet": tagging.shapes(tag_set)}


def delete_bucket_tagging(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    store.replace_tags(p.db, found.name, [])
    return {"__status": 204}


# -- policy --------------------------------------------------------------------------------------------------------


def put_bucket_policy(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    text = params["Policy"]
    validate_policy(text, found.name)
    if principal_ids.missing(p.db, text, found.account_id):
        # S3 refuses a principal that does not exist, as IAM does in trust policies (a policy naming a user
        # before it exists would otherwise let whoever creates that user later in).
        raise errors.malformed_policy("Invalid principal in policy")
    if is_public(text):
        # Every bucket keeps all four public access blocks (defaults.py): BlockPublicPolicy makes S3 "reject calls to
        # PUT Bucket policy if the specified bucket policy allows public access" (S3 user guide, "Blocking public
        # access to your Amazon S3 storage").
        assert ctx.principal is not None
        raise errors.public_policy_blocked(ctx.principal.arn, found.name)
    store.set_policy(p.db, found.name, text, principal_ids.bind(p.db, text))
    return {"__status": 204}


def get_bucket_policy(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    if found.policy is None:
        raise errors.not_configured("NoSuchBucketPolicy", "The bucket policy does not exist", found.name)
    return {"Policy": principal_ids.render(p.db, found.policy, found.policy_saved)}


def get_bucket_policy_status(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    if found.policy is None:
        raise errors.not_configured("NoSuchBucketPolicy", "The bucket policy does not exist", found.name)
    return {"PolicyStatus": {"IsPublic": is_public(found.policy)}}


def delete_bucket_policy(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = require(p, params["Bucket"])
    store.set_policy(p.db, found.name, None)
    return {"__status": 204}
