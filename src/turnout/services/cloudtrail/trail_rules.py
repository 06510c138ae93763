"""The rules of trails: input checks, name/ARN resolution and CloudTrail's errors (the records and their SQL are
the store's: :mod:`.store.trails`).

Where AWS's exact wording is known (error messages seen from the service) it is used verbatim; where it is not,
the message is ours and the function says so in a one-line comment.
"""

from __future__ import annotations

import ipaddress
import re

from ...core import arns
from ...store.db import Database
from ...wire.errors import ServiceError, model_error
from ...wire.models import SERVICES
from .store import trails
from .store.trails import Trail

TRAILS_PER_REGION = 5  # "User: <account> already has 5 trails in <region>."
TAGS_PER_TRAIL = 50

TRAIL_ARN = re.compile(r"arn:aws:cloudtrail:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):trail/(?P<name>.+)")
_NAME_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_ADJACENT = re.compile(r"[._-]{2}")
_BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
MAX_PREFIX = 200


# -- errors ------------------------------------------------------------------------------------------------


def error(name: str, message: str) -> ServiceError:
    return model_error(SERVICES["cloudtrail"].model, name, message)


def trail_not_found(arn: str, account: str) -> ServiceError:
    return error("TrailNotFoundException", f"Unknown trail: {arn} for the user: {account}")


def invalid_name(message: str) -> ServiceError:
    return error("InvalidTrailNameException", message)


def invalid_arn(arn: str) -> ServiceError:
    # Our wording: AWS documents the exception and the ARN format, not its message.
    return error(
        "CloudTrailARNInvalidException",
        f"Invalid trail ARN: {arn}. "
        "The format of a trail ARN is arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail",
    )


def home_region_error(trail: Trail, region: str) -> ServiceError:
    # Our wording for the documented rule (a multi-region trail is changed only from its home region).
    return error(
        "InvalidHomeRegionException",
        f"The trail {trail.arn} can only be changed from its home region {trail.home_region}, not {region}.",
    )


def already_exists(name: str, account: str) -> ServiceError:
    return error("TrailAlreadyExistsException", f"Trail {name} already exists for customer: {account}")


# -- checks ------------------------------------------------------------------------------------------------


def check_name(name: str) -> None:
    """AWS's trail-name rules, in the order AWS reports them."""
    if not name:
        raise invalid_name("Trail name cannot be blank!")
    if len(name) < 3:
        raise invalid_name(
            "Trail name too short. Minimum allowed length: 3 characters. "
            f"Specified name length: {len(name)} characters."
        )
    if len(name) > 128:
        raise invalid_name(
            "Trail name too long. Maximum allowed length: 128 characters. "
            f"Specified name length: {len(name)} characters."
        )
    if not (name[0].isascii() and name[0].isalnum()):
        raise invalid_name("Trail name must starts with a letter or number.")
    if not (name[-1].isascii() and name[-1].isalnum()):
        raise invalid_name("Trail name must ends with a letter or number.")
    if not _NAME_CHARS.fullmatch(name):
        raise invalid_name(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), "
            "hyphens (-), and underscores (_)."
        )
    if _ADJACENT.search(name):
        raise invalid_name("Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_).")
    if _is_ip(name):
        raise invalid_name("Trail names must not be formatted as an IP address.")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_bucket(bucket: str) -> None:
    """S3's bucket-name rules for CloudTrail buckets (3-63 lower-case letters, digits, periods and dashes...)."""
    if 3 <= len(bucket) <= 63 and _BUCKET.fullmatch(bucket) and not _is_ip(bucket):
        return
    # Our wording: AWS documents the bucket naming rules, not this exception's message.
    raise error("InvalidS3BucketNameException", f"Bucket name {bucket} is not valid. Bucket names must be 3 to 63 "
                "lower-case letters, numbers, periods and dashes, start and end with a letter or number, and not "
                "be formatted as an IP address.")


def check_prefix(prefix: str) -> None:
    """At most 200 characters; no ``.``/``..`` segment (Turnout writes the key under its data directory)."""
    if len(prefix) > MAX_PREFIX:
        # Our wording for the documented 200-character limit.
        raise error("InvalidS3PrefixException", f"S3 prefix {prefix} is longer than the maximum length of 200.")
    segments = prefix.split("/")
    if any(s in (".", "..") for s in segments) or any(ord(c) < 32 for c in prefix):
        # Turnout's rule (S3 would take them literally): a prefix must stay a path under the data directory.
        raise error("InvalidS3PrefixException", f"S3 prefix {prefix} is not valid.")


# -- resolution --------------------------------------------------------------------------------------------


def resolve(db: Database, account: str, region: str, name_or_arn: str, *, home_only: bool = False) -> Trail:
    """The trail a ``Name``/``TrailName`` parameter designates.

    A name finds the trail of that name whose home is ``region``; a shadow trail (a multi-region trail seen from
    another region) is found only by its ARN, as on AWS. ``home_only``: the operation changes the trail, so a
    shadow trail is refused with InvalidHomeRegionException.
    """
    if name_or_arn.startswith("arn:"):
        match = TRAIL_ARN.fullmatch(name_or_arn)
        if match is None:
            raise invalid_arn(name_or_arn)
        check_name(match["name"])
        trail = trails.by_arn(db, name_or_arn)
        if trail is None or trail.account_id != account or (
            trail.home_region != region and not trail.is_multi_region
        ):
            raise trail_not_found(name_or_arn, account)
        if home_only and trail.home_region != region:
            raise home_region_error(trail, region)
        return trail
    check_name(name_or_arn)
    found = trails.by_name(db, account, region, name_or_arn)
    if found is None:
        raise trail_not_found(arns.cloudtrail_trail(region, account, name_or_arn), account)
    return found


def name_taken(db: Database, account: str, region: str, name: str, multi_region: bool, exclude: str = "") -> bool:
    """Whether a trail named ``name`` would clash: same home region, or either trail spanning every region."""
    for other in trails.named(db, account, name):
        if other.arn == exclude:
            continue
        if other.home_region == region or multi_region or other.is_multi_region:
            return True
    return False
