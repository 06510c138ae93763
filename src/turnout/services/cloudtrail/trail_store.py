"""Trails in the database: the row, its API shape, name/ARN resolution, input checks and CloudTrail's errors.

Where AWS's exact wording is known (error messages seen from the service) it is used verbatim; where it is not,
the message is ours and the function says so in a one-line comment.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...core import arns
from ...store.db import Database, Row
from ...wire.errors import ServiceError, model_error
from ...wire.models import SERVICES

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


# -- the row -----------------------------------------------------------------------------------------------


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass
class Trail:
    arn: str
    account_id: str
    home_region: str
    name: str
    s3_bucket_name: str
    s3_key_prefix: str | None
    sns_topic_name: str | None
    include_global_service_events: bool
    is_multi_region: bool
    log_file_validation: bool
    cloud_watch_logs_log_group_arn: str | None
    cloud_watch_logs_role_arn: str | None
    kms_key_id: str | None
    is_organization_trail: bool
    extra: dict[str, Any]
    event_selectors: list[dict[str, Any]] | None
    advanced_event_selectors: list[dict[str, Any]] | None
    is_logging: bool
    start_logging_at: datetime | None
    stop_logging_at: datetime | None
    logging_windows: list[list[str | None]]
    cursor_seq: int
    last_pass_at: datetime | None
    latest_delivery_at: datetime | None
    latest_delivery_attempt_at: datetime | None
    latest_delivery_error: str | None
    created_at: datetime
    insight_selectors: list[dict[str, Any]] | None = None  # PutInsightSelectors; None: Insights not enabled

    @classmethod
    def from_row(cls, row: Row) -> Trail:
        selectors = row["event_selectors"]
        advanced = row["advanced_event_selectors"]
        insights = row["insight_selectors"]
        return cls(
            arn=row["arn"], account_id=row["account_id"], home_region=row["home_region"], name=row["name"],
            s3_bucket_name=row["s3_bucket_name"], s3_key_prefix=row["s3_key_prefix"],
            sns_topic_name=row["sns_topic_name"],
            include_global_service_events=bool(row["include_global_service_events"]),
            is_multi_region=bool(row["is_multi_region"]), log_file_validation=bool(row["log_file_validation"]),
            cloud_watch_logs_log_group_arn=row["cloud_watch_logs_log_group_arn"],
            cloud_watch_logs_role_arn=row["cloud_watch_logs_role_arn"], kms_key_id=row["kms_key_id"],
            is_organization_trail=bool(row["is_organization_trail"]), extra=json.loads(row["extra"]),
            event_selectors=None if selectors is None else json.loads(selectors),
            advanced_event_selectors=None if advanced is None else json.loads(advanced),
            is_logging=bool(row["is_logging"]), start_logging_at=when(row["start_logging_at"]),
            stop_logging_at=when(row["stop_logging_at"]), logging_windows=json.loads(row["logging_windows"]),
            cursor_seq=int(row["cursor_seq"]), last_pass_at=when(row["last_pass_at"]),
            latest_delivery_at=when(row["latest_delivery_at"]),
            latest_delivery_attempt_at=when(row["latest_delivery_attempt_at"]),
            latest_delivery_error=row["latest_delivery_error"], created_at=datetime.fromisoformat(row["created_at"]),
            insight_selectors=None if insights is None else json.loads(insights),
        )

    @property
    def sns_topic_arn(self) -> str | None:
        topic = self.sns_topic_name
        if topic is None or topic.startswith("arn:"):
            return topic
        return arns.regional("sns", self.home_region, self.account_id, topic)

    @property
    def has_custom_event_selectors(self) -> bool:
        return self.event_selectors is not None or self.advanced_event_selectors is not None

    def settings(self) -> dict[str, Any]:
        """The members CreateTrail and UpdateTrail answer."""
        out: dict[str, Any] = {"Name": self.name, "S3BucketName": self.s3_bucket_name}
        optional = {
            "S3KeyPrefix": self.s3_key_prefix, "SnsTopicName": self.sns_topic_name, "SnsTopicARN": self.sns_topic_arn,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out.update({
            "IncludeGlobalServiceEvents": self.include_global_service_events,
            "IsMultiRegionTrail": self.is_multi_region,
            "TrailARN": self.arn,
            "LogFileValidationEnabled": self.log_file_validation,
        })
        more = {
            "CloudWatchLogsLogGroupArn": self.cloud_watch_logs_log_group_arn,
            "CloudWatchLogsRoleArn": self.cloud_watch_logs_role_arn,
            "KmsKeyId": self.kms_key_id,
        }
        out.update({k: v for k, v in more.items() if v is not None})
        out["IsOrganizationTrail"] = self.is_organization_trail
        if "RecursiveLogging" in self.extra:
            out["RecursiveLogging"] = bool(self.extra["RecursiveLogging"])
        return out

    def shape(self) -> dict[str, Any]:
        """The ``Trail`` structure of GetTrail and DescribeTrails."""
        out = self.settings()
        out["HomeRegion"] = self.home_region
        out["HasCustomEventSelectors"] = self.has_custom_event_selectors
        out["HasInsightSelectors"] = bool(self.insight_selectors)
        return out

    def info(self) -> dict[str, Any]:
        """The ``TrailInfo`` structure of ListTrails."""
        return {"TrailARN": self.arn, "Name": self.name, "HomeRegion": self.home_region}


# -- reads -------------------------------------------------------------------------------------------------


def by_arn(db: Database, arn: str) -> Trail | None:
    row = db.one("SELECT * FROM cloudtrail_trails WHERE arn = ?", (arn,))
    return None if row is None else Trail.from_row(row)


def in_account(db: Database, account: str) -> list[Trail]:
    rows = db.all("SELECT * FROM cloudtrail_trails WHERE account_id = ? ORDER BY home_region, name", (account,))
    return [Trail.from_row(r) for r in rows]


def visible(db: Database, account: str, region: str) -> list[Trail]:
    """The trails of ``region``: those whose home it is, then the multi-region trails of other regions (shadows)."""
    rows = db.all(
        "SELECT * FROM cloudtrail_trails WHERE account_id = ? AND (home_region = ? OR is_multi_region = 1) "
        "ORDER BY name",
        (account, region),
    )
    trails = [Trail.from_row(r) for r in rows]
    return [t for t in trails if t.home_region == region] + [t for t in trails if t.home_region != region]


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
        trail = by_arn(db, name_or_arn)
        if trail is None or trail.account_id != account or (
            trail.home_region != region and not trail.is_multi_region
        ):
            raise trail_not_found(name_or_arn, account)
        if home_only and trail.home_region != region:
            raise home_region_error(trail, region)
        return trail
    check_name(name_or_arn)
    row = db.one(
        "SELECT * FROM cloudtrail_trails WHERE account_id = ? AND home_region = ? AND name = ?",
        (account, region, name_or_arn),
    )
    if row is None:
        raise trail_not_found(arns.cloudtrail_trail(region, account, name_or_arn), account)
    return Trail.from_row(row)


def name_taken(db: Database, account: str, region: str, name: str, multi_region: bool, exclude: str = "") -> bool:
    """Whether a trail named ``name`` would clash: same home region, or either trail spanning every region."""
    for row in db.all(
        "SELECT arn, home_region, is_multi_region FROM cloudtrail_trails WHERE account_id = ? AND name = ?",
        (account, name),
    ):
        if row["arn"] == exclude:
            continue
        if row["home_region"] == region or multi_region or row["is_multi_region"]:
            return True
    return False


# -- writes ------------------------------------------------------------------------------------------------

_COLUMNS = (
    "arn", "account_id", "home_region", "name", "s3_bucket_name", "s3_key_prefix", "sns_topic_name",
    "include_global_service_events", "is_multi_region", "log_file_validation", "cloud_watch_logs_log_group_arn",
    "cloud_watch_logs_role_arn", "kms_key_id", "is_organization_trail", "extra", "event_selectors",
    "advanced_event_selectors", "is_logging", "start_logging_at", "stop_logging_at", "logging_windows",
    "cursor_seq", "last_pass_at", "latest_delivery_at", "latest_delivery_attempt_at", "latest_delivery_error",
    "created_at", "insight_selectors",
)


def _values(trail: Trail) -> tuple[Any, ...]:
    def opt(value: datetime | None) -> str | None:
        return None if value is None else iso(value)

    def js(value: Any) -> str | None:
        return None if value is None else json.dumps(value)

    return (
        trail.arn, trail.account_id, trail.home_region, trail.name, trail.s3_bucket_name, trail.s3_key_prefix,
        trail.sns_topic_name, int(trail.include_global_service_events), int(trail.is_multi_region),
        int(trail.log_file_validation), trail.cloud_watch_logs_log_group_arn, trail.cloud_watch_logs_role_arn,
        trail.kms_key_id, int(trail.is_organization_trail), json.dumps(trail.extra), js(trail.event_selectors),
        js(trail.advanced_event_selectors), int(trail.is_logging), opt(trail.start_logging_at),
        opt(trail.stop_logging_at), json.dumps(trail.logging_windows), trail.cursor_seq, opt(trail.last_pass_at),
        opt(trail.latest_delivery_at), opt(trail.latest_delivery_attempt_at), trail.latest_delivery_error,
        iso(trail.created_at), js(trail.insight_selectors),
    )


def save(db: Database, trail: Trail) -> None:
    """Insert or replace the whole row."""
    placeholders = ", ".join("?" for _ in _COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "arn")
    db.execute(
        f"INSERT INTO cloudtrail_trails ({', '.join(_COLUMNS)}) VALUES ({placeholders}) "
        f"ON CONFLICT (arn) DO UPDATE SET {updates}",
        _values(trail),
    )


def delete(db: Database, arn: str) -> None:
    db.execute("DELETE FROM cloudtrail_trail_tags WHERE trail_arn = ?", (arn,))
    db.execute("DELETE FROM cloudtrail_trails WHERE arn = ?", (arn,))
