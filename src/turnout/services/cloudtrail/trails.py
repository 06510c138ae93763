"""Trails: CreateTrail, GetTrail, DescribeTrails, ListTrails, UpdateTrail, DeleteTrail, StartLogging, StopLogging,
GetTrailStatus; event selectors and tags come from the mixins in ``selectors.py`` and ``trail_tags.py``.

A trail's bucket must exist and its policy let CloudTrail write the trail's logs (CreateTrail and UpdateTrail check
it: ``check_delivery_bucket``); a logging trail's log files are objects of that bucket, at
``<prefix>/AWSLogs/...`` (``delivery.py``). Digest files (log file integrity validation) are not written:
``EnableLogFileValidation`` is stored and reported only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ...core import arns
from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from ..pagination import page
from ..s3.service_access import BucketProblem, cloudtrail_problem
from .selectors import SelectorOperations
from .store import trails as trail_store
from .store.trails import LoggingWindow, Trail
from .trail_rules import (
    TAGS_PER_TRAIL,
    TRAIL_ARN,
    TRAILS_PER_REGION,
    already_exists,
    check_bucket,
    check_name,
    check_prefix,
    error,
    invalid_arn,
    name_taken,
    resolve,
)
from .trail_tags import TagOperations, check_tags, put_tags, too_many_tags

LIST_PAGE = 50  # ListTrails has no MaxResults; AWS does not document its page size (our choice)


def _combination_error() -> ServiceError:
    return error("InvalidParameterCombinationException", "Multi-Region trail must include global service events.")


def _organization_error() -> ServiceError:
    # Our wording: Turnout emulates no AWS Organizations, so no account is in an organization.
    return error(
        "OrganizationsNotInUseException",
        "This operation cannot be performed because this account is not a member of an organization.",
    )


def _optional(value: str | None) -> str | None:
    """An optional string setting: an empty string clears it (UpdateTrail's way to remove a prefix or topic)."""
    return value if value else None


def _kms_key(value: str | None, region: str, account: str) -> str | None:
    """The key's ARN, as AWS reports ``KmsKeyId`` (a key id or alias name is turned into its ARN)."""
    if not value:
        return None
    if value.startswith("arn:"):
        return value
    resource = value if value.startswith("alias/") else f"key/{value}"
    return arns.regional("kms", region, account, resource)


def check_delivery_bucket(db: Database, bucket: str, prefix: str | None, account: str, region: str,
                          trail_arn: str) -> None:
    """CloudTrail checks the trail's bucket when a trail is created or its bucket or prefix change (facts file 2,
    section 5): it must exist (``S3BucketDoesNotExistException``; the wording is ours, AWS's is unknown) and its
    policy must let ``cloudtrail.amazonaws.com`` check the bucket's ACL and write under ``AWSLogs/<account>/``
    (``InsufficientS3BucketPolicyException``, observed wording)."""
    problem = cloudtrail_problem(db, bucket, prefix, account, region, trail_arn)
    if problem is BucketProblem.MISSING:
        raise error("S3BucketDoesNotExistException", f"S3 bucket does not exist: {bucket}")
    if problem is BucketProblem.POLICY:
        raise error("InsufficientS3BucketPolicyException",
                    f"Incorrect S3 bucket policy is detected for bucket: {bucket}")


def settings(trail: Trail) -> dict[str, Any]:
    """The members CreateTrail and UpdateTrail answer."""
    out: dict[str, Any] = {"Name": trail.name, "S3BucketName": trail.s3_bucket_name}
    optional = {
        "S3KeyPrefix": trail.s3_key_prefix, "SnsTopicName": trail.sns_topic_name, "SnsTopicARN": trail.sns_topic_arn,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    out.update({
        "IncludeGlobalServiceEvents": trail.include_global_service_events,
        "IsMultiRegionTrail": trail.is_multi_region,
        "TrailARN": trail.arn,
        "LogFileValidationEnabled": trail.log_file_validation,
    })
    more = {
        "CloudWatchLogsLogGroupArn": trail.cloud_watch_logs_log_group_arn,
        "CloudWatchLogsRoleArn": trail.cloud_watch_logs_role_arn,
        "KmsKeyId": trail.kms_key_id,
    }
    out.update({k: v for k, v in more.items() if v is not None})
    out["IsOrganizationTrail"] = trail.is_organization_trail
    if "RecursiveLogging" in trail.extra:
        out["RecursiveLogging"] = bool(trail.extra["RecursiveLogging"])
    return out


def shape(trail: Trail) -> dict[str, Any]:
    """The ``Trail`` structure of GetTrail and DescribeTrails."""
    out = settings(trail)
    out["HomeRegion"] = trail.home_region
    out["HasCustomEventSelectors"] = trail.has_custom_event_selectors
    out["HasInsightSelectors"] = bool(trail.insight_selectors)
    return out


def info(trail: Trail) -> dict[str, Any]:
    """The ``TrailInfo`` structure of ListTrails."""
    return {"TrailARN": trail.arn, "Name": trail.name, "HomeRegion": trail.home_region}


def _stamp(value: datetime | None) -> str:
    """GetTrailStatus's string times (``TimeLoggingStarted``...): ``2016-01-28T23:02:24Z``, or empty."""
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


class TrailOperations(SelectorOperations, TagOperations):
    """Mixed into the CloudTrail provider."""

    db: Database

    # -- create, read, update, delete ------------------------------------------------------------------------

    def create_trail(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region, name = ctx.account_id, ctx.region, req["Name"]
        check_name(name)
        multi = bool(req.get("IsMultiRegionTrail", False))
        include_global = req.get("IncludeGlobalServiceEvents", True) is not False
        if multi and not include_global:
            raise _combination_error()
        check_bucket(req["S3BucketName"])
        prefix = _optional(req.get("S3KeyPrefix"))
        if prefix is not None:
            check_prefix(prefix)
        if req.get("IsOrganizationTrail"):
            raise _organization_error()
        if name_taken(self.db, account, region, name, multi):
            raise already_exists(name, account)
        if len(trail_store.visible(self.db, account, region)) >= TRAILS_PER_REGION:
            raise error("MaximumNumberOfTrailsExceededException",
                        f"User: {account} already has {TRAILS_PER_REGION} trails in {region}.")
        tags = req.get("TagsList") or []
        check_tags(tags)
        if len(tags) > TAGS_PER_TRAIL:
            raise too_many_tags()
        check_delivery_bucket(self.db, req["S3BucketName"], prefix, account, region,
                              arns.cloudtrail_trail(region, account, name))
        from .delivery import head_seq

        trail = Trail(
            arn=arns.cloudtrail_trail(region, account, name), account_id=account, home_region=region, name=name,
            s3_bucket_name=req["S3BucketName"], s3_key_prefix=prefix,
            sns_topic_name=_optional(req.get("SnsTopicName")), include_global_service_events=include_global,
            is_multi_region=multi, log_file_validation=bool(req.get("EnableLogFileValidation", False)),
            cloud_watch_logs_log_group_arn=_optional(req.get("CloudWatchLogsLogGroupArn")),
            cloud_watch_logs_role_arn=_optional(req.get("CloudWatchLogsRoleArn")),
            kms_key_id=_kms_key(req.get("KmsKeyId"), region, account), is_organization_trail=False,
            extra={"RecursiveLogging": bool(req["RecursiveLogging"])} if "RecursiveLogging" in req else {},
            event_selectors=None, advanced_event_selectors=None, is_logging=False, start_logging_at=None,
            stop_logging_at=None, logging_windows=(), cursor_seq=head_seq(self.db), last_pass_at=None,
            latest_delivery_at=None, latest_delivery_attempt_at=None, latest_delivery_error=None,
            created_at=ctx.received_at,
        )
        trail_store.save(self.db, trail)
        if tags:
            put_tags(self.db, trail.arn, tags)
        return settings(trail)

    def get_trail(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return {"Trail": shape(resolve(self.db, ctx.account_id, ctx.region, req["Name"]))}

    def describe_trails(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        shadows = req.get("includeShadowTrails", True) is not False
        candidates = trail_store.visible(self.db, account, region)
        if not shadows:
            candidates = [t for t in candidates if t.home_region == region]
        wanted = req.get("trailNameList") or []
        if not wanted:
            return {"trailList": [shape(t) for t in candidates]}
        for item in wanted:  # every name is checked first: a malformed one fails the whole call
            if item.startswith("arn:"):
                match = TRAIL_ARN.fullmatch(item)
                if match is None:
                    raise invalid_arn(item)
                check_name(match["name"])
            else:
                check_name(item)
        found: dict[str, Trail] = {}
        for item in wanted:  # names that match no trail are left out, as on AWS
            for trail in candidates:
                if trail.arn == item or (trail.name == item and (trail.home_region == region or shadows)):
                    found.setdefault(trail.arn, trail)
        return {"trailList": [shape(t) for t in found.values()]}

    def list_trails(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trails = trail_store.in_account(self.db, ctx.account_id)

        def bad_token(_: str) -> ServiceError:
            # Our wording for a token Turnout did not hand out.
            return error("InvalidNextTokenException", "The NextToken is not valid.")

        chunk, token = page(trails, lambda t: t.arn, req.get("NextToken"), LIST_PAGE, error=bad_token)
        out: dict[str, Any] = {"Trails": [info(t) for t in chunk]}
        if token is not None:
            out["NextToken"] = token
        return out

    def update_trail(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        trail = resolve(self.db, account, region, req["Name"], home_only=True)
        if "IsMultiRegionTrail" in req:
            trail = replace(trail, is_multi_region=bool(req["IsMultiRegionTrail"]))
        if "IncludeGlobalServiceEvents" in req:
            trail = replace(trail, include_global_service_events=bool(req["IncludeGlobalServiceEvents"]))
        if trail.is_multi_region and not trail.include_global_service_events:
            raise _combination_error()
        if "S3BucketName" in req:
            check_bucket(req["S3BucketName"])
            trail = replace(trail, s3_bucket_name=req["S3BucketName"])
        if "S3KeyPrefix" in req:
            trail = replace(trail, s3_key_prefix=_optional(req["S3KeyPrefix"]))
            if trail.s3_key_prefix is not None:
                check_prefix(trail.s3_key_prefix)
        if req.get("IsOrganizationTrail"):
            raise _organization_error()
        if trail.is_multi_region and name_taken(self.db, account, region, trail.name, True, exclude=trail.arn):
            raise already_exists(trail.name, account)
        if "S3BucketName" in req or "S3KeyPrefix" in req:
            check_delivery_bucket(self.db, trail.s3_bucket_name, trail.s3_key_prefix, account, trail.home_region,
                                  trail.arn)
        if "SnsTopicName" in req:
            trail = replace(trail, sns_topic_name=_optional(req["SnsTopicName"]))
        if "EnableLogFileValidation" in req:
            trail = replace(trail, log_file_validation=bool(req["EnableLogFileValidation"]))
        if "CloudWatchLogsLogGroupArn" in req:
            trail = replace(trail, cloud_watch_logs_log_group_arn=_optional(req["CloudWatchLogsLogGroupArn"]))
        if "CloudWatchLogsRoleArn" in req:
            trail = replace(trail, cloud_watch_logs_role_arn=_optional(req["CloudWatchLogsRoleArn"]))
        if "KmsKeyId" in req:
            trail = replace(trail, kms_key_id=_kms_key(req["KmsKeyId"], region, account))
        if "RecursiveLogging" in req:
            trail = replace(trail, extra={**trail.extra, "RecursiveLogging": bool(req["RecursiveLogging"])})
        trail_store.save(self.db, trail)
        return settings(trail)

    def delete_trail(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trail = resolve(self.db, ctx.account_id, ctx.region, req["Name"], home_only=True)
        trail_store.delete(self.db, trail.arn)
        return {}

    # -- logging ---------------------------------------------------------------------------------------------

    def start_logging(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trail = resolve(self.db, ctx.account_id, ctx.region, req["Name"], home_only=True)
        if not trail.is_logging:
            from .delivery import head_seq

            cursor = trail.cursor_seq
            if not trail.logging_windows:
                # Nothing of an earlier logging period is left to deliver: start reading at the newest event.
                cursor = max(cursor, head_seq(self.db))
            trail = replace(trail, is_logging=True, start_logging_at=ctx.received_at, cursor_seq=cursor,
                            logging_windows=(*trail.logging_windows, LoggingWindow(ctx.received_at)))
            trail_store.save(self.db, trail)
        return {}

    def stop_logging(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trail = resolve(self.db, ctx.account_id, ctx.region, req["Name"], home_only=True)
        if trail.is_logging:
            windows = trail.logging_windows
            if windows and windows[-1].stop is None:
                windows = (*windows[:-1], replace(windows[-1], stop=ctx.received_at))
            trail = replace(trail, is_logging=False, stop_logging_at=ctx.received_at, logging_windows=windows)
            trail_store.save(self.db, trail)
        return {}

    def get_trail_status(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trail = resolve(self.db, ctx.account_id, ctx.region, req["Name"])
        out: dict[str, Any] = {"IsLogging": trail.is_logging}
        if trail.latest_delivery_error:
            out["LatestDeliveryError"] = trail.latest_delivery_error
        times = {
            "LatestDeliveryTime": trail.latest_delivery_at,
            "StartLoggingTime": trail.start_logging_at,
            "StopLoggingTime": trail.stop_logging_at,
        }
        out.update({k: v for k, v in times.items() if v is not None})
        out.update({
            "LatestDeliveryAttemptTime": _stamp(trail.latest_delivery_attempt_at),
            "LatestNotificationAttemptTime": "",
            "LatestNotificationAttemptSucceeded": "",
            "LatestDeliveryAttemptSucceeded": _stamp(trail.latest_delivery_at),
            "TimeLoggingStarted": _stamp(trail.start_logging_at),
            "TimeLoggingStopped": _stamp(trail.stop_logging_at),
        })
        return out
