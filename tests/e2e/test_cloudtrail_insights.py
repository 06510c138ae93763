"""CloudTrail Insights selectors with real clients against a real server: PutInsightSelectors and
GetInsightSelectors on trails (by name and ARN, shadow trails), HasInsightSelectors, the rules on the trail's event
selectors, AWS's errors, turning Insights off, and the selectors surviving a restart.

Each test runs in an account of its own (a 12-digit access key is that account's root)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, aws_cli, cli_ok, error_of, trail_bucket

CALL_RATE = {"InsightType": "ApiCallRateInsight"}
ERROR_RATE = {"InsightType": "ApiErrorRateInsight"}


def new_account() -> str:
    return f"{secrets.randbelow(10**11) + 10**11:012d}"


@pytest.fixture
def key() -> str:
    return new_account()


def cloudtrail_of(server: Server, key: str) -> Any:
    """The account's CloudTrail client, with the bucket its trails deliver to (``insights-<account>``, made with
    CloudTrail's bucket policy) as ``trail_bucket``."""
    client = server.client("cloudtrail", key=key)
    client.trail_bucket = trail_bucket(server, f"insights-{key}", account=key, key=key)
    return client


@pytest.fixture
def ct(server: Server, key: str) -> Any:
    return cloudtrail_of(server, key)


def make_trail(ct: Any, name: str = "insights-trail", **kwargs: Any) -> str:
    return str(ct.create_trail(Name=name, S3BucketName=ct.trail_bucket, **kwargs)["TrailARN"])


def answer(response: dict[str, Any]) -> dict[str, Any]:
    response.pop("ResponseMetadata", None)
    return response


def test_put_and_get_by_name_and_arn(ct: Any) -> None:
    arn = make_trail(ct)
    assert ct.get_trail(Name=arn)["Trail"]["HasInsightSelectors"] is False
    put = answer(ct.put_insight_selectors(TrailName="insights-trail", InsightSelectors=[CALL_RATE, ERROR_RATE]))
    assert put == {"TrailARN": arn, "InsightSelectors": [CALL_RATE, ERROR_RATE]}
    for name in ("insights-trail", arn):
        assert answer(ct.get_insight_selectors(TrailName=name)) == put
    assert ct.get_trail(Name=arn)["Trail"]["HasInsightSelectors"] is True
    assert ct.describe_trails(trailNameList=[arn])["trailList"][0]["HasInsightSelectors"] is True
    # A second put replaces the first.
    ct.put_insight_selectors(TrailName=arn, InsightSelectors=[ERROR_RATE])
    assert ct.get_insight_selectors(TrailName=arn)["InsightSelectors"] == [ERROR_RATE]


def test_event_categories_are_kept(ct: Any) -> None:
    arn = make_trail(ct)
    ct.put_event_selectors(TrailName=arn, EventSelectors=[{"ReadWriteType": "All", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::some-bucket/"]}]}])
    selectors = [{"InsightType": "ApiCallRateInsight", "EventCategories": ["Management", "Data"]},
                 {"InsightType": "ApiErrorRateInsight", "EventCategories": ["Data"]}]
    assert ct.put_insight_selectors(TrailName=arn, InsightSelectors=selectors)["InsightSelectors"] == selectors
    assert ct.get_insight_selectors(TrailName=arn)["InsightSelectors"] == selectors


def test_an_empty_list_turns_insights_off(ct: Any) -> None:
    arn = make_trail(ct)
    ct.put_insight_selectors(TrailName=arn, InsightSelectors=[CALL_RATE])
    assert answer(ct.put_insight_selectors(TrailName=arn, InsightSelectors=[])) == {
        "TrailARN": arn, "InsightSelectors": []}
    assert ct.get_trail(Name=arn)["Trail"]["HasInsightSelectors"] is False
    assert error_of(ct.get_insight_selectors, TrailName=arn) == (
        "InsightNotEnabledException", f"Trail {arn} does not have Insights enabled.", 400)


def test_a_trail_without_insights(ct: Any) -> None:
    arn = make_trail(ct)
    assert error_of(ct.get_insight_selectors, TrailName="insights-trail")[0] == "InsightNotEnabledException"
    # A new trail of the name of a deleted one has none of its Insights.
    ct.put_insight_selectors(TrailName=arn, InsightSelectors=[CALL_RATE])
    ct.delete_trail(Name=arn)
    assert make_trail(ct) == arn
    assert error_of(ct.get_insight_selectors, TrailName=arn)[0] == "InsightNotEnabledException"


@pytest.mark.parametrize(("selectors", "words"), [
    ([{"InsightType": "ApiLatencyInsight"}], "Value ApiLatencyInsight for InsightType is invalid"),
    ([{"InsightType": "ApiCallRateInsight", "EventCategories": ["Network"]}],
     "Value Network for EventCategories is invalid"),
    ([CALL_RATE, CALL_RATE], "The Insights type ApiCallRateInsight is specified more than once."),
    ([{"InsightType": "ApiErrorRateInsight", "EventCategories": ["Management", "Management"]}], "duplicates"),
    ([{"InsightType": "ApiCallRateInsight", "EventCategories": ["Data"]}], "must log data events"),
])
def test_invalid_selectors(ct: Any, selectors: list[dict[str, Any]], words: str) -> None:
    """Unknown types and categories are InvalidInsightSelectorsException, not the front end's ValidationException."""
    arn = make_trail(ct)
    code, message, status = error_of(ct.put_insight_selectors, TrailName=arn, InsightSelectors=selectors)
    assert (code, status) == ("InvalidInsightSelectorsException", 400)
    assert words in message
    assert ct.get_trail(Name=arn)["Trail"]["HasInsightSelectors"] is False  # nothing half-written


def test_insights_need_the_management_events_they_analyse(ct: Any) -> None:
    arn = make_trail(ct)
    ct.put_event_selectors(TrailName=arn, EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    code, message, _ = error_of(ct.put_insight_selectors, TrailName=arn, InsightSelectors=[CALL_RATE])
    assert code == "InvalidInsightSelectorsException" and "must log write management events" in message
    ct.put_insight_selectors(TrailName=arn, InsightSelectors=[ERROR_RATE])  # read events have error rates

    ct.put_event_selectors(TrailName=arn, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False,
                                                           "DataResources": [{"Type": "AWS::S3::Object",
                                                                              "Values": ["arn:aws:s3"]}]}])
    code, message, _ = error_of(ct.put_insight_selectors, TrailName=arn, InsightSelectors=[ERROR_RATE])
    assert code == "InvalidInsightSelectorsException" and "must log management events" in message

    # Advanced selectors: management events, read-only.
    ct.put_event_selectors(TrailName=arn, AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}]}])
    assert error_of(ct.put_insight_selectors, TrailName=arn,
                    InsightSelectors=[CALL_RATE])[0] == "InvalidInsightSelectorsException"
    ct.put_event_selectors(TrailName=arn, AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}]}])
    ct.put_insight_selectors(TrailName=arn, InsightSelectors=[CALL_RATE, ERROR_RATE])


def test_trail_and_event_data_store_errors(ct: Any, key: str) -> None:
    arn = make_trail(ct)
    missing = f"arn:aws:cloudtrail:us-east-1:{key}:trail/no-such-trail"
    assert error_of(ct.put_insight_selectors, TrailName="no-such-trail", InsightSelectors=[CALL_RATE]) == (
        "TrailNotFoundException", f"Unknown trail: {missing} for the user: {key}", 400)
    assert error_of(ct.get_insight_selectors, TrailName=missing)[0] == "TrailNotFoundException"
    assert error_of(ct.get_insight_selectors, TrailName="-bad-")[0] == "InvalidTrailNameException"
    assert error_of(ct.put_insight_selectors, TrailName=arn, EventDataStore="eds",
                    InsightSelectors=[CALL_RATE])[0] == "InvalidParameterCombinationException"
    assert error_of(ct.get_insight_selectors, EventDataStore="eds")[0] == "EventDataStoreNotFoundException"
    assert error_of(ct.get_insight_selectors)[0] == "InvalidParameterCombinationException"


def test_shadow_trails_are_read_everywhere_and_changed_at_home(server: Server, ct: Any, key: str) -> None:
    arn = make_trail(ct, IsMultiRegionTrail=True)
    ct.put_insight_selectors(TrailName=arn, InsightSelectors=[CALL_RATE])
    west = server.client("cloudtrail", key=key, region="us-west-2")
    assert west.get_insight_selectors(TrailName=arn)["InsightSelectors"] == [CALL_RATE]
    assert west.get_trail(Name=arn)["Trail"]["HasInsightSelectors"] is True
    assert error_of(west.put_insight_selectors, TrailName=arn,
                    InsightSelectors=[ERROR_RATE])[0] == "InvalidHomeRegionException"


def test_insights_survive_a_restart(fresh_server: Server) -> None:
    key = new_account()
    ct = cloudtrail_of(fresh_server, key)
    arn = make_trail(ct)
    ct.put_insight_selectors(TrailName=arn, InsightSelectors=[ERROR_RATE])
    fresh_server.kill()
    fresh_server.start()
    ct = fresh_server.client("cloudtrail", key=key)
    assert ct.get_insight_selectors(TrailName=arn)["InsightSelectors"] == [ERROR_RATE]
    assert ct.get_trail(Name=arn)["Trail"]["HasInsightSelectors"] is True


def test_the_aws_cli(server: Server, tmp_path: Path, key: str) -> None:
    ct = cloudtrail_of(server, key)
    arn = make_trail(ct)
    put = cli_ok(aws_cli(server, tmp_path, "cloudtrail", "put-insight-selectors", "--trail-name", arn,
                         "--insight-selectors", '[{"InsightType": "ApiCallRateInsight"}]', key=key))
    assert put == {"TrailARN": arn, "InsightSelectors": [CALL_RATE]}
    got = cli_ok(aws_cli(server, tmp_path, "cloudtrail", "get-insight-selectors", "--trail-name", arn,
                         key=key))
    assert got == put
