"""The Terraform AWS provider's (v6.x) calls for ``aws_cloudtrail`` (``internal/service/cloudtrail/trail.go``),
replayed through boto3, and its Read turned into the Terraform attributes it stores.

A configuration is a dict of Terraform attribute names (``event_selector`` and ``insight_selector`` as lists of
blocks, ``tags`` a map); :func:`tests.terraform.elbv2_support.plan_diff` compares it with a refresh.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

TRAIL_DEFAULTS: dict[str, Any] = {"include_global_service_events": True, "is_multi_region_trail": False,
                                  "is_organization_trail": False, "enable_log_file_validation": False,
                                  "enable_logging": True, "event_selector": [], "insight_selector": []}
SELECTOR_DEFAULTS: dict[str, Any] = {"read_write_type": "All", "include_management_events": True,
                                     "exclude_management_event_sources": set(), "data_resource": []}


def _expand_event_selectors(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """expandEventSelector, or the provider's single default selector when no block is configured."""
    if not blocks:
        return [{"IncludeManagementEvents": True, "ReadWriteType": "All", "DataResources": []}]
    out = []
    for block in blocks:
        selector: dict[str, Any] = {
            "IncludeManagementEvents": block["include_management_events"], "ReadWriteType": block["read_write_type"],
            "DataResources": [{"Type": r["type"], "Values": list(r["values"])} for r in block["data_resource"]],
        }
        if block["exclude_management_event_sources"]:
            selector["ExcludeManagementEventSources"] = sorted(block["exclude_management_event_sources"])
        out.append(selector)
    return out


def _flatten_event_selectors(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """flattenEventSelector: AWS's lone default selector reads as no block at all."""
    if len(selectors) == 1 and not selectors[0].get("DataResources") and selectors[0]["ReadWriteType"] == "All" \
            and not selectors[0].get("ExcludeManagementEventSources"):
        return []
    return [{"read_write_type": s["ReadWriteType"], "include_management_events": s["IncludeManagementEvents"],
             "exclude_management_event_sources": set(s.get("ExcludeManagementEventSources") or ()),
             "data_resource": [{"type": r["Type"], "values": r["Values"]} for r in s.get("DataResources") or ()]}
            for s in selectors]


class TrailReplay:
    def __init__(self, ct: Any) -> None:
        self.ct = ct

    def create(self, config: dict[str, Any]) -> str:
        request: dict[str, Any] = {"IncludeGlobalServiceEvents": config["include_global_service_events"],
                                   "Name": config["name"], "S3BucketName": config["s3_bucket_name"]}
        if config.get("tags"):
            request["TagsList"] = [{"Key": k, "Value": v} for k, v in config["tags"].items()]
        # d.GetOk: false booleans and empty strings are left out.
        for name, member in (("enable_log_file_validation", "EnableLogFileValidation"),
                             ("is_multi_region_trail", "IsMultiRegionTrail"),
                             ("is_organization_trail", "IsOrganizationTrail"),
                             ("s3_key_prefix", "S3KeyPrefix"), ("sns_topic_name", "SnsTopicName"),
                             ("kms_key_id", "KmsKeyId")):
            if config.get(name):
                request[member] = config[name]
        arn = str(self.ct.create_trail(**request)["TrailARN"])
        if config["enable_logging"]:  # "AWS CloudTrail sets newly-created trails to false."
            self.ct.start_logging(Name=arn)
        if config["event_selector"]:
            self.ct.put_event_selectors(TrailName=arn, EventSelectors=_expand_event_selectors(config["event_selector"]))
        if config["insight_selector"]:
            self.ct.put_insight_selectors(TrailName=arn, InsightSelectors=[
                {"InsightType": s["insight_type"]} for s in config["insight_selector"]])
        return arn

    def read(self, arn: str, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """resourceTrailRead; ``previous`` is the state before the refresh (what is kept of it when the Read does
        not set an attribute: event and insight selectors when the trail reports none)."""
        trails = self.ct.describe_trails(trailNameList=[arn])["trailList"]
        assert len(trails) == 1  # tfresource.AssertSingleValueResult
        trail = trails[0]
        state: dict[str, Any] = dict(previous or {})
        state.update({
            "arn": trail["TrailARN"], "home_region": trail["HomeRegion"], "name": trail["Name"],
            "include_global_service_events": trail["IncludeGlobalServiceEvents"],
            "is_multi_region_trail": trail["IsMultiRegionTrail"],
            "is_organization_trail": trail["IsOrganizationTrail"],
            "enable_log_file_validation": trail["LogFileValidationEnabled"],
            "s3_bucket_name": trail["S3BucketName"], "s3_key_prefix": trail.get("S3KeyPrefix", ""),
            "kms_key_id": trail.get("KmsKeyId", ""), "sns_topic_arn": trail.get("SnsTopicARN", ""),
            "cloud_watch_logs_group_arn": trail.get("CloudWatchLogsLogGroupArn", ""),
            "cloud_watch_logs_role_arn": trail.get("CloudWatchLogsRoleArn", ""),
        })
        state["enable_logging"] = self.ct.get_trail_status(Name=arn)["IsLogging"]
        if trail["HasCustomEventSelectors"]:
            selectors = self.ct.get_event_selectors(TrailName=arn)
            state["event_selector"] = _flatten_event_selectors(selectors.get("EventSelectors", []))
        if trail["HasInsightSelectors"]:
            try:
                insights = self.ct.get_insight_selectors(TrailName=arn)["InsightSelectors"]
            except ClientError as error:  # the provider tolerates InsightNotEnabledException only
                assert error.response["Error"]["Code"] == "InsightNotEnabledException"
            else:
                state["insight_selector"] = [{"insight_type": s["InsightType"]} for s in insights]
        tagged = self.ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
        state["tags"] = {t["Key"]: t["Value"] for r in tagged if r["ResourceId"] == arn for t in r.get("TagsList", [])}
        return state

    def update(self, arn: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        settings = {"enable_log_file_validation": "EnableLogFileValidation",
                    "include_global_service_events": "IncludeGlobalServiceEvents",
                    "is_multi_region_trail": "IsMultiRegionTrail", "is_organization_trail": "IsOrganizationTrail",
                    "kms_key_id": "KmsKeyId", "s3_bucket_name": "S3BucketName", "s3_key_prefix": "S3KeyPrefix",
                    "sns_topic_name": "SnsTopicName"}
        changed = {member: new.get(name, "") for name, member in settings.items() if old.get(name) != new.get(name)}
        if changed:
            self.ct.update_trail(Name=arn, **changed)
        if old["enable_logging"] != new["enable_logging"]:
            (self.ct.start_logging if new["enable_logging"] else self.ct.stop_logging)(Name=arn)
        if old["event_selector"] != new["event_selector"]:
            self.ct.put_event_selectors(TrailName=arn, EventSelectors=_expand_event_selectors(new["event_selector"]))
        if old["insight_selector"] != new["insight_selector"]:
            self.ct.put_insight_selectors(TrailName=arn, InsightSelectors=[
                {"InsightType": s["insight_type"]} for s in new["insight_selector"]])
        old_tags, new_tags = old.get("tags", {}), new.get("tags", {})
        removed = [{"Key": k} for k in old_tags if k not in new_tags]
        if removed:
            self.ct.remove_tags(ResourceId=arn, TagsList=removed)
        added = [{"Key": k, "Value": v} for k, v in new_tags.items() if old_tags.get(k) != v]
        if added:
            self.ct.add_tags(ResourceId=arn, TagsList=added)

    def delete(self, arn: str) -> None:
        """DeleteTrail; TrailNotFoundException means already deleted (the provider returns without error)."""
        try:
            self.ct.delete_trail(Name=arn)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "TrailNotFoundException"

    def gone(self, arn: str) -> bool:
        """The refresh after destroy: DescribeTrails answers an empty list, the provider's NotFound."""
        return self.ct.describe_trails(trailNameList=[arn])["trailList"] == []


def selector(**changes: Any) -> dict[str, Any]:
    return {**SELECTOR_DEFAULTS, **changes}
