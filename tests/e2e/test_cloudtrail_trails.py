"""CloudTrail trails with real boto3 clients against a real server: CreateTrail and AWS's name rules and errors,
GetTrail, DescribeTrails (shadow trails), ListTrails (paging), UpdateTrail, DeleteTrail, Start/StopLogging and
GetTrailStatus, event selectors (basic and advanced) and tags.

Each test runs in an account of its own (a 12-digit access key is that account's root), so the five-trails-per-
region quota and ListTrails see only the test's trails."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.conftest import Server, cloudtrail_bucket_policy, error_of

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
    "ap-south-1", "ap-northeast-1", "ap-southeast-1",
]


class Account:
    """A fresh account's root user, with CloudTrail clients per region."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.id = f"{secrets.randbelow(10**11) + 10**11:012d}"
        self._clients: dict[str, Any] = {}
        self._buckets: set[str] = set()

    def ct(self, region: str = "us-east-1") -> Any:
        if region not in self._clients:
            self._clients[region] = self.server.client("cloudtrail", key=self.id, region=region)
        return self._clients[region]

    def arn(self, name: str, region: str = "us-east-1") -> str:
        return f"arn:aws:cloudtrail:{region}:{self.id}:trail/{name}"

    def bucket(self, name: str = "bucket") -> str:
        """``<name>-<account>``, a bucket of this account whose policy lets CloudTrail deliver its trails' logs
        (bucket names are global: the account id keeps them apart)."""
        bucket = f"{name}-{self.id}"
        if bucket not in self._buckets:
            s3 = self.server.client("s3", key=self.id)
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_bucket_policy(bucket, self.id))
            self._buckets.add(bucket)
        return bucket


@pytest.fixture
def acct(server: Server) -> Account:
    return Account(server)


# -- create, get, describe ----------------------------------------------------------------------------------


def test_create_trail_answers_its_settings_and_defaults(acct: Account) -> None:
    ct = acct.ct()
    out = ct.create_trail(Name="audit-trail", S3BucketName=acct.bucket("my-trail-bucket"), S3KeyPrefix="logs/prod")
    out.pop("ResponseMetadata")
    assert out == {
        "Name": "audit-trail", "S3BucketName": acct.bucket("my-trail-bucket"), "S3KeyPrefix": "logs/prod",
        "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": False, "TrailARN": acct.arn("audit-trail"),
        "LogFileValidationEnabled": False, "IsOrganizationTrail": False,
    }
    trail = ct.get_trail(Name="audit-trail")["Trail"]
    assert trail == {
        "Name": "audit-trail", "S3BucketName": acct.bucket("my-trail-bucket"), "S3KeyPrefix": "logs/prod",
        "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": False, "HomeRegion": "us-east-1",
        "TrailARN": acct.arn("audit-trail"), "LogFileValidationEnabled": False, "HasCustomEventSelectors": False,
        "HasInsightSelectors": False, "IsOrganizationTrail": False,
    }
    assert ct.get_trail(Name=acct.arn("audit-trail"))["Trail"] == trail


def test_create_trail_with_every_setting(acct: Account) -> None:
    ct = acct.ct("eu-west-1")
    out = ct.create_trail(
        Name="everything", S3BucketName=acct.bucket("bucket.with.dots"), SnsTopicName="trail-topic",
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True, EnableLogFileValidation=True, KmsKeyId="alias/trail-key",
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:eu-west-1:{acct.id}:log-group:trail:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{acct.id}:role/trail-to-logs",
    )
    assert out["SnsTopicARN"] == f"arn:aws:sns:eu-west-1:{acct.id}:trail-topic"
    assert out["IsMultiRegionTrail"] is True and out["LogFileValidationEnabled"] is True
    assert out["KmsKeyId"] == f"arn:aws:kms:eu-west-1:{acct.id}:alias/trail-key"
    trail = ct.get_trail(Name="everything")["Trail"]
    assert trail["HomeRegion"] == "eu-west-1" and trail["TrailARN"] == acct.arn("everything", "eu-west-1")
    assert trail["CloudWatchLogsRoleArn"] == f"arn:aws:iam::{acct.id}:role/trail-to-logs"


@pytest.mark.parametrize(("name", "message"), [
    ("", "Trail name cannot be blank!"),
    ("ab", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."),
    ("a" * 129,
     "Trail name too long. Maximum allowed length: 128 characters. Specified name length: 129 characters."),
    ("-trail", "Trail name must starts with a letter or number."),
    ("trail!", "Trail name must ends with a letter or number."),
    ("my#trail", "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), "
                 "hyphens (-), and underscores (_)."),
    ("my-_trail", "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_)."),
    ("192.168.5.4", "Trail names must not be formatted as an IP address."),
])
def test_trail_name_rules(acct: Account, name: str, message: str) -> None:
    assert error_of(acct.ct().create_trail, Name=name, S3BucketName=acct.bucket("bucket")) == (
        "InvalidTrailNameException", message, 400)


def test_create_trail_errors(acct: Account) -> None:
    ct = acct.ct()
    ct.create_trail(Name="taken", S3BucketName=acct.bucket("bucket"))
    assert error_of(ct.create_trail, Name="taken", S3BucketName=acct.bucket("bucket")) == (
        "TrailAlreadyExistsException", f"Trail taken already exists for customer: {acct.id}", 400)
    code, message, _ = error_of(ct.create_trail, Name="bad-bucket", S3BucketName="Bad_Bucket")
    assert code == "InvalidS3BucketNameException" and "Bad_Bucket" in message
    code, _, _ = error_of(ct.create_trail, Name="bad-bucket", S3BucketName="192.168.1.1")
    assert code == "InvalidS3BucketNameException"
    assert error_of(ct.create_trail, Name="no-global", S3BucketName=acct.bucket("bucket"), IsMultiRegionTrail=True,
                IncludeGlobalServiceEvents=False) == (
        "InvalidParameterCombinationException", "Multi-Region trail must include global service events.", 400)
    code, _, _ = error_of(ct.create_trail, Name="long-prefix", S3BucketName=acct.bucket("bucket"),
                          S3KeyPrefix="p" * 201)
    assert code == "InvalidS3PrefixException"
    code, _, _ = error_of(ct.create_trail, Name="dots-prefix", S3BucketName=acct.bucket("bucket"), S3KeyPrefix="a/../b")
    assert code == "InvalidS3PrefixException"
    code, _, _ = error_of(ct.create_trail, Name="org-trail", S3BucketName=acct.bucket("bucket"),
                          IsOrganizationTrail=True)
    assert code == "OrganizationsNotInUseException"
    assert [t["Name"] for t in ct.describe_trails()["trailList"]] == ["taken"]  # nothing half-written


def test_a_multi_region_name_is_taken_in_every_region(acct: Account) -> None:
    acct.ct("us-west-2").create_trail(Name="everywhere", S3BucketName=acct.bucket("bucket"), IsMultiRegionTrail=True)
    assert error_of(acct.ct("us-east-1").create_trail, Name="everywhere", S3BucketName=acct.bucket("bucket"))[0] == (
        "TrailAlreadyExistsException")
    acct.ct("us-east-1").create_trail(Name="local-only", S3BucketName=acct.bucket("bucket"))
    # single-region: per region
    acct.ct("eu-west-1").create_trail(Name="local-only", S3BucketName=acct.bucket("bucket"))
    assert error_of(acct.ct("eu-west-1").update_trail, Name="local-only", IsMultiRegionTrail=True)[0] == (
        "TrailAlreadyExistsException")


def test_five_trails_per_region(acct: Account) -> None:
    acct.ct("us-west-2").create_trail(Name="shadow-one", S3BucketName=acct.bucket("bucket"), IsMultiRegionTrail=True)
    ct = acct.ct()
    for n in range(4):
        ct.create_trail(Name=f"trail-{n}", S3BucketName=acct.bucket("bucket"))
    assert error_of(ct.create_trail, Name="trail-5", S3BucketName=acct.bucket("bucket")) == (
        "MaximumNumberOfTrailsExceededException", f"User: {acct.id} already has 5 trails in us-east-1.", 400)
    acct.ct("us-east-2").create_trail(Name="trail-5", S3BucketName=acct.bucket("bucket"))


def test_unknown_trail_and_malformed_arn(acct: Account) -> None:
    ct = acct.ct()
    for call in (ct.get_trail, ct.get_trail_status, ct.delete_trail, ct.start_logging, ct.stop_logging):
        assert error_of(call, Name="missing") == (
            "TrailNotFoundException", f"Unknown trail: {acct.arn('missing')} for the user: {acct.id}", 400)
    assert error_of(ct.get_event_selectors, TrailName="missing")[0] == "TrailNotFoundException"
    assert error_of(ct.get_trail, Name=acct.arn("missing"))[1] == (
        f"Unknown trail: {acct.arn('missing')} for the user: {acct.id}")
    code, message, status = error_of(ct.get_trail, Name=f"arn:aws:cloudtrail:us-east-1:{acct.id}:trail")
    assert (code, status) == ("CloudTrailARNInvalidException", 400) and "arn:aws:cloudtrail" in message
    assert error_of(ct.get_trail, Name="x")[0] == "InvalidTrailNameException"


def test_describe_trails_with_shadow_trails(acct: Account) -> None:
    acct.ct("us-west-2").create_trail(Name="org-wide", S3BucketName=acct.bucket("bucket"), IsMultiRegionTrail=True)
    ct = acct.ct()
    ct.create_trail(Name="local", S3BucketName=acct.bucket("bucket"))
    assert [t["Name"] for t in ct.describe_trails()["trailList"]] == ["local", "org-wide"]
    assert [t["HomeRegion"] for t in ct.describe_trails()["trailList"]] == ["us-east-1", "us-west-2"]
    assert [t["Name"] for t in ct.describe_trails(includeShadowTrails=False)["trailList"]] == ["local"]
    named = ct.describe_trails(trailNameList=["org-wide", "local", "not-there"])["trailList"]
    assert [t["Name"] for t in named] == ["org-wide", "local"]
    by_arn = ct.describe_trails(trailNameList=[acct.arn("org-wide", "us-west-2")])["trailList"]
    assert [t["TrailARN"] for t in by_arn] == [acct.arn("org-wide", "us-west-2")]
    assert error_of(ct.describe_trails, trailNameList=["arn:aws:s3:::bucket"])[0] == "CloudTrailARNInvalidException"
    # a shadow trail is read by its ARN, never by its name, and changed only from its home region
    assert error_of(ct.get_trail, Name="org-wide")[0] == "TrailNotFoundException"
    shadow = ct.get_trail(Name=acct.arn("org-wide", "us-west-2"))["Trail"]
    assert shadow["HomeRegion"] == "us-west-2" and shadow["IsMultiRegionTrail"] is True
    assert ct.get_trail_status(Name=acct.arn("org-wide", "us-west-2"))["IsLogging"] is False
    for call in (ct.start_logging, ct.stop_logging, ct.delete_trail):
        assert error_of(call, Name=acct.arn("org-wide", "us-west-2"))[0] == "InvalidHomeRegionException"
    assert error_of(ct.update_trail, Name=acct.arn("org-wide", "us-west-2"), S3KeyPrefix="x")[0] == (
        "InvalidHomeRegionException")
    # a single-region trail of another region is not seen at all
    acct.ct("eu-west-1").create_trail(Name="elsewhere", S3BucketName=acct.bucket("bucket"))
    assert error_of(ct.get_trail, Name=acct.arn("elsewhere", "eu-west-1"))[0] == "TrailNotFoundException"


def test_list_trails_spans_regions_and_pages(acct: Account) -> None:
    expected = []
    for region in REGIONS:
        for n in range(5):
            acct.ct(region).create_trail(Name=f"t{n}-{region}", S3BucketName=acct.bucket("bucket"))
            expected.append({"TrailARN": acct.arn(f"t{n}-{region}", region), "Name": f"t{n}-{region}",
                             "HomeRegion": region})
    first = acct.ct().list_trails()
    assert len(first["Trails"]) == 50 and "NextToken" in first
    second = acct.ct().list_trails(NextToken=first["NextToken"])
    assert "NextToken" not in second
    listed = first["Trails"] + second["Trails"]
    assert sorted(listed, key=lambda t: t["TrailARN"]) == sorted(expected, key=lambda t: t["TrailARN"])
    paginated = [t for page in acct.ct().get_paginator("list_trails").paginate() for t in page["Trails"]]
    assert paginated == listed


# -- update, delete -----------------------------------------------------------------------------------------


def test_update_trail(acct: Account) -> None:
    ct = acct.ct()
    ct.create_trail(Name="changing", S3BucketName=acct.bucket("bucket-one"), S3KeyPrefix="before")
    out = ct.update_trail(Name="changing", S3BucketName=acct.bucket("bucket-two"), S3KeyPrefix="after/here",
                          EnableLogFileValidation=True)
    assert (out["S3BucketName"], out["S3KeyPrefix"], out["LogFileValidationEnabled"]) == (
        acct.bucket("bucket-two"), "after/here", True)
    out = ct.update_trail(Name=acct.arn("changing"), S3KeyPrefix="")
    assert "S3KeyPrefix" not in out
    assert error_of(ct.update_trail, Name="changing", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False) == (
        "InvalidParameterCombinationException", "Multi-Region trail must include global service events.", 400)
    assert ct.update_trail(Name="changing", IsMultiRegionTrail=True)["IsMultiRegionTrail"] is True
    assert error_of(ct.update_trail, Name="changing", IncludeGlobalServiceEvents=False)[0] == (
        "InvalidParameterCombinationException")
    assert error_of(ct.update_trail, Name="changing", S3BucketName="x")[0] == "InvalidS3BucketNameException"
    trail = ct.get_trail(Name="changing")["Trail"]
    assert (trail["S3BucketName"], trail["IsMultiRegionTrail"], "S3KeyPrefix" in trail) == (
        acct.bucket("bucket-two"), True, False)
    assert error_of(ct.update_trail, Name="missing", S3KeyPrefix="x")[0] == "TrailNotFoundException"


def test_delete_trail(acct: Account) -> None:
    ct = acct.ct()
    ct.create_trail(Name="short-lived", S3BucketName=acct.bucket("bucket"),
                    TagsList=[{"Key": "team", "Value": "infra"}])
    ct.delete_trail(Name="short-lived")
    assert error_of(ct.get_trail, Name="short-lived")[0] == "TrailNotFoundException"
    assert ct.describe_trails()["trailList"] == []
    # the name is free again, without the old tags
    ct.create_trail(Name="short-lived", S3BucketName=acct.bucket("bucket"))
    assert ct.list_tags(ResourceIdList=[acct.arn("short-lived")])["ResourceTagList"] == [
        {"ResourceId": acct.arn("short-lived"), "TagsList": []}]


# -- logging and status -------------------------------------------------------------------------------------


def test_start_stop_logging_and_status(acct: Account) -> None:
    ct = acct.ct()
    ct.create_trail(Name="switched", S3BucketName=acct.bucket("bucket"))
    status = ct.get_trail_status(Name="switched")
    status.pop("ResponseMetadata")
    assert status == {
        "IsLogging": False, "LatestDeliveryAttemptTime": "", "LatestNotificationAttemptTime": "",
        "LatestNotificationAttemptSucceeded": "", "LatestDeliveryAttemptSucceeded": "", "TimeLoggingStarted": "",
        "TimeLoggingStopped": "",
    }
    ct.start_logging(Name="switched")
    status = ct.get_trail_status(Name="switched")
    assert status["IsLogging"] is True and "StopLoggingTime" not in status
    started = status["StartLoggingTime"]
    assert status["TimeLoggingStarted"] == started.strftime("%Y-%m-%dT%H:%M:%SZ")
    ct.start_logging(Name=acct.arn("switched"))  # already logging: nothing changes
    assert ct.get_trail_status(Name="switched")["StartLoggingTime"] == started
    ct.stop_logging(Name="switched")
    status = ct.get_trail_status(Name="switched")
    assert status["IsLogging"] is False and status["StopLoggingTime"] >= started
    assert status["TimeLoggingStopped"] == status["StopLoggingTime"].strftime("%Y-%m-%dT%H:%M:%SZ")


# -- event selectors ----------------------------------------------------------------------------------------


def test_event_selectors(acct: Account) -> None:
    ct = acct.ct()
    ct.create_trail(Name="selective", S3BucketName=acct.bucket("bucket"))
    default = ct.get_event_selectors(TrailName="selective")
    assert default["TrailARN"] == acct.arn("selective")
    assert default["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                          "DataResources": [], "ExcludeManagementEventSources": []}]
    out = ct.put_event_selectors(TrailName="selective", EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    assert out["EventSelectors"] == [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
                                      "DataResources": [], "ExcludeManagementEventSources": []}]
    assert ct.get_event_selectors(TrailName="selective")["EventSelectors"] == out["EventSelectors"]
    assert ct.get_trail(Name="selective")["Trail"]["HasCustomEventSelectors"] is True
    with_data = [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True,
                  "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::some-bucket/"]}],
                  "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]
    assert ct.put_event_selectors(TrailName="selective", EventSelectors=with_data)["EventSelectors"] == with_data
    advanced = [{"Name": "writes", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                      {"Field": "readOnly", "Equals": ["false"]}]}]
    out = ct.put_event_selectors(TrailName="selective", AdvancedEventSelectors=advanced)
    assert out["AdvancedEventSelectors"] == advanced and "EventSelectors" not in out
    got = ct.get_event_selectors(TrailName=acct.arn("selective"))
    assert got["AdvancedEventSelectors"] == advanced and "EventSelectors" not in got


def test_event_selector_errors(acct: Account) -> None:
    ct = acct.ct()
    ct.create_trail(Name="strict", S3BucketName=acct.bucket("bucket"))
    put = ct.put_event_selectors
    assert error_of(put, TrailName="strict")[0] == "InvalidParameterCombinationException"
    assert error_of(put, TrailName="strict", EventSelectors=[{"ReadWriteType": "All"}],
                AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
                )[0] == "InvalidParameterCombinationException"
    assert error_of(put, TrailName="strict", EventSelectors=[{"ReadWriteType": "All"}] * 6)[0] == (
        "InvalidEventSelectorsException")
    assert error_of(put, TrailName="strict", EventSelectors=[
        {"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::*"]}]}]) == (
        "InvalidEventSelectorsException", "Value arn:aws:s3:::* for DataResources.Values is invalid.", 400)
    assert error_of(put, TrailName="strict", EventSelectors=[
        {"DataResources": [{"Type": "AWS::Nothing::Here", "Values": ["arn:aws:s3"]}]}]) == (
        "InvalidEventSelectorsException", "Value AWS::Nothing::Here for DataResources.Type is invalid.", 400)
    assert error_of(put, TrailName="strict", AdvancedEventSelectors=[
        {"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}])[0] == "InvalidEventSelectorsException"
    assert error_of(put, TrailName="strict", AdvancedEventSelectors=[
        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                            {"Field": "noSuchField", "Equals": ["x"]}]}])[0] == "InvalidEventSelectorsException"
    assert error_of(put, TrailName="missing", EventSelectors=[{"ReadWriteType": "All"}])[0] == "TrailNotFoundException"
    assert ct.get_trail(Name="strict")["Trail"]["HasCustomEventSelectors"] is False


# -- tags ---------------------------------------------------------------------------------------------------


def test_tag_rules(acct: Account) -> None:
    ct = acct.ct()
    arn = ct.create_trail(Name="rules", S3BucketName=acct.bucket("bucket"))["TrailARN"]
    assert error_of(ct.add_tags, ResourceId=arn, TagsList=[{"Key": "AWS:x"}, {"Key": "AWS:x"}]) == (
        "InvalidTagParameterException", "Tag key AWS:x is not valid: the aws: prefix is reserved for AWS use.", 400)
    assert error_of(ct.add_tags, ResourceId=arn, TagsList=[{"Key": "k"}, {"Key": "k", "Value": "v"}]) == (
        "InvalidTagParameterException", "Tag key k is specified more than once.", 400)
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "novalue"}, {"Key": "k", "Value": "v"}])
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{n}", "Value": "v"} for n in range(48)])  # 50 with k0 again
    assert error_of(ct.add_tags, ResourceId=arn, TagsList=[{"Key": "one-more"}])[:2] == (
        "TagsLimitExceededException",
        "The number of tags per trail has exceeded the permitted amount. Currently, the limit is 50.")
    listed = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]
    assert len(listed) == 50
    assert listed[:2] == [{"Key": "novalue"}, {"Key": "k", "Value": "v"}]


def test_tags(acct: Account) -> None:
    ct = acct.ct()
    arn = ct.create_trail(Name="tagged", S3BucketName=acct.bucket("bucket"),
                          TagsList=[{"Key": "team", "Value": "infra"}, {"Key": "env", "Value": "dev"}])["TrailARN"]
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "env", "Value": "prod"}, {"Key": "cost", "Value": "42"}])
    listed = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert listed == [{"ResourceId": arn, "TagsList": [
        {"Key": "team", "Value": "infra"}, {"Key": "env", "Value": "prod"}, {"Key": "cost", "Value": "42"}]}]
    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "team"}, {"Key": "absent"}])
    assert [t["Key"] for t in ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]] == ["env", "cost"]
    code, _, _ = error_of(ct.add_tags, ResourceId=arn, TagsList=[{"Key": f"k{n}", "Value": "v"} for n in range(49)])
    assert code == "TagsLimitExceededException"
    assert len(ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]) == 2  # all or nothing
    assert error_of(ct.add_tags, ResourceId=arn, TagsList=[{"Key": "aws:owner", "Value": "me"}])[0] == (
        "InvalidTagParameterException")
    assert error_of(ct.add_tags, ResourceId=acct.arn("no-such-trail"), TagsList=[{"Key": "k", "Value": "v"}])[0] == (
        "ResourceNotFoundException")
    assert error_of(ct.list_tags, ResourceIdList=["not-an-arn"])[0] == "CloudTrailARNInvalidException"
    assert error_of(ct.create_trail, Name="over-tagged", S3BucketName=acct.bucket("bucket"),
                TagsList=[{"Key": f"k{n}", "Value": "v"} for n in range(51)])[0] == "TagsLimitExceededException"
