"""The seed's trail, replayed as the Terraform AWS provider (v6.x) applies, refreshes, updates and destroys an
``aws_cloudtrail`` with ``event_selector``, ``insight_selector``, tags and ``enable_logging``.

Every test runs in an account of its own (a 12-digit access key is that account's root). A "plan" is a refresh
(DescribeTrails, GetTrailStatus, GetEventSelectors, GetInsightSelectors and ListTags, flattened as the provider
flattens them) compared with the configuration.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Server, error_of, trail_bucket
from tests.terraform.cloudtrail_support import TRAIL_DEFAULTS, TrailReplay, selector
from tests.terraform.elbv2_support import plan_diff


@pytest.fixture
def ct(server: Server) -> Any:
    """A new account's CloudTrail client; its trails deliver to ``turnout-seed-trail-logs-<account>``, made with
    CloudTrail's bucket policy (``aws_s3_bucket`` and ``aws_s3_bucket_policy`` are applied before the trail)."""
    account = f"{secrets.randbelow(10**11) + 10**11:012d}"
    trail_bucket(server, f"turnout-seed-trail-logs-{account}", account=account, key=account)
    client = server.client("cloudtrail", key=account)
    client.trail_bucket = f"turnout-seed-trail-logs-{account}"
    return client


def trail_config(ct: Any, name: str, **changes: Any) -> dict[str, Any]:
    return {**TRAIL_DEFAULTS, "name": name, "s3_bucket_name": ct.trail_bucket,
            "is_multi_region_trail": True, "enable_log_file_validation": True,
            "event_selector": [selector(exclude_management_event_sources={"kms.amazonaws.com"})],
            "insight_selector": [{"insight_type": "ApiCallRateInsight"}],
            "tags": {"Name": name, "Project": "turnout-seed"}, **changes}


def test_aws_cloudtrail_apply_plan_update_destroy(ct: Any, unique: Callable[[str], str]) -> None:
    trails = TrailReplay(ct)
    config = trail_config(ct, unique("seed-trail"))
    arn = trails.create(config)

    state = trails.read(arn)
    assert plan_diff(config, state) == {}
    assert state["home_region"] == "us-east-1" and state["enable_logging"] is True
    assert trails.read(arn, state) == state  # terraform plan: the same again

    # Update: write-only management events, both Insights types, logging stopped, validation off, new tags.
    updated = {**config, "enable_logging": False, "enable_log_file_validation": False,
               "event_selector": [selector(read_write_type="WriteOnly",
                                           exclude_management_event_sources={"kms.amazonaws.com",
                                                                             "rdsdata.amazonaws.com"})],
               "insight_selector": [{"insight_type": "ApiCallRateInsight"}, {"insight_type": "ApiErrorRateInsight"}],
               "tags": {"Name": config["name"], "Environment": "test"}}
    trails.update(arn, config, updated)
    state = trails.read(arn, state)
    assert plan_diff(updated, state) == {}
    assert ct.get_trail_status(Name=arn)["IsLogging"] is False

    # Update: the selector blocks removed. The provider puts AWS's default event selector back and an empty list
    # of Insights selectors; the trail then reports no Insights, so the Read keeps the planned empty list.
    bare = {**updated, "event_selector": [], "insight_selector": []}
    trails.update(arn, updated, bare)
    assert ct.get_trail(Name=arn)["Trail"]["HasInsightSelectors"] is False
    assert error_of(ct.get_insight_selectors, TrailName=arn)[0] == "InsightNotEnabledException"
    assert plan_diff(bare, trails.read(arn, {**state, "insight_selector": []})) == {}

    trails.delete(arn)
    assert trails.gone(arn)
    trails.delete(arn)  # a second destroy: TrailNotFoundException, which the provider takes as done


def test_aws_cloudtrail_refresh_drops_a_trail_deleted_outside_terraform(ct: Any,
                                                                        unique: Callable[[str], str]) -> None:
    trails = TrailReplay(ct)
    arn = trails.create(trail_config(ct, unique("seed-trail")))
    ct.delete_trail(Name=arn)
    assert trails.gone(arn)


def test_aws_cloudtrail_insights_need_write_management_events(ct: Any, unique: Callable[[str], str]) -> None:
    """Apply fails as on AWS: ApiCallRateInsight on a trail that logs only read management events."""
    trails = TrailReplay(ct)
    config = trail_config(ct, unique("seed-trail"), event_selector=[selector(read_write_type="ReadOnly")])
    code, message, status = error_of(trails.create, config)
    assert (code, status) == ("InvalidInsightSelectorsException", 400)
    assert "write management events" in message
    # The trail was created before the failing call (Terraform taints it); its refresh reads no Insights.
    arn = ct.describe_trails()["trailList"][0]["TrailARN"]
    state = trails.read(arn)
    assert state["event_selector"] == config["event_selector"]
    assert "insight_selector" not in state
    trails.delete(arn)
    assert trails.gone(arn)
