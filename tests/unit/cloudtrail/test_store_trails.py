"""The trail store (``services/cloudtrail/store/trails.py``): a trail round-trips as a frozen record (JSON columns
decoded, instants aware), whole-row saves replace, reads find what they name, a delivery pass keeps the delivery
times it is not given, and a delete takes the trail's tags with it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from turnout.core import arns
from turnout.services.cloudtrail.store import trails
from turnout.services.cloudtrail.store.trails import LoggingWindow, Trail
from turnout.store.db import Database

ACCOUNT, OTHER = "000000000000", "111111111111"
CREATED = datetime(2026, 12, 6, 22, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "turnout.db")
    yield database
    database.close()


def _trail(name: str = "main", region: str = "us-east-1", account: str = ACCOUNT, **changes: object) -> Trail:
    trail = Trail(
        arn=arns.cloudtrail_trail(region, account, name), account_id=account, home_region=region, name=name,
        s3_bucket_name="logs", s3_key_prefix=None, sns_topic_name=None, include_global_service_events=True,
        is_multi_region=False, log_file_validation=False, cloud_watch_logs_log_group_arn=None,
        cloud_watch_logs_role_arn=None, kms_key_id=None, is_organization_trail=False, extra={},
        event_selectors=None, advanced_event_selectors=None, is_logging=False, start_logging_at=None,
        stop_logging_at=None, logging_windows=(), cursor_seq=0, last_pass_at=None, latest_delivery_at=None,
        latest_delivery_attempt_at=None, latest_delivery_error=None, created_at=CREATED,
    )
    return dataclasses.replace(trail, **changes)  # type: ignore[arg-type]


def test_a_trail_round_trips_with_every_field_set(db: Database) -> None:
    later = CREATED + timedelta(minutes=5, microseconds=7)
    trail = _trail(
        s3_key_prefix="a/b", sns_topic_name="topic", is_multi_region=True, log_file_validation=True,
        cloud_watch_logs_log_group_arn="arn:aws:logs:us-east-1:000000000000:log-group:g:*",
        cloud_watch_logs_role_arn="arn:aws:iam::000000000000:role/cw", kms_key_id="arn:aws:kms:us-east-1:0:key/k",
        extra={"RecursiveLogging": True},
        event_selectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": []}],
        insight_selectors=[{"InsightType": "ApiCallRateInsight"}], is_logging=True, start_logging_at=CREATED,
        stop_logging_at=later,
        logging_windows=(LoggingWindow(CREATED, later), LoggingWindow(later + timedelta(seconds=1))),
        cursor_seq=42, last_pass_at=later, latest_delivery_at=later, latest_delivery_attempt_at=later,
        latest_delivery_error="AccessDenied",
    )
    trails.save(db, trail)
    found = trails.by_arn(db, trail.arn)
    assert found == trail
    assert found is not None and found.logging_windows[0].start.tzinfo is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.name = "other"  # type: ignore[misc]


def test_advanced_selectors_and_defaults_round_trip(db: Database) -> None:
    advanced = [{"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    trail = _trail(advanced_event_selectors=advanced)
    trails.save(db, trail)
    found = trails.by_arn(db, trail.arn)
    assert found == trail
    assert found is not None and found.event_selectors is None and found.insight_selectors is None
    assert found.has_custom_event_selectors


def test_save_replaces_the_whole_row(db: Database) -> None:
    trail = _trail()
    trails.save(db, trail)
    changed = dataclasses.replace(trail, s3_bucket_name="other-bucket", is_logging=True, start_logging_at=CREATED,
                                  logging_windows=(LoggingWindow(CREATED),))
    trails.save(db, changed)
    assert trails.by_arn(db, trail.arn) == changed
    assert trails.every(db) == [changed]


def test_reads_find_the_trails_they_name(db: Database) -> None:
    home = _trail("alpha")
    shadow = _trail("beta", region="eu-west-1", is_multi_region=True)
    elsewhere = _trail("gamma", region="eu-west-1")
    foreign = _trail("alpha", account=OTHER)
    for trail in (shadow, elsewhere, home, foreign):
        trails.save(db, trail)
    assert trails.visible(db, ACCOUNT, "us-east-1") == [home, shadow]  # home trails first, then shadows
    assert trails.visible(db, ACCOUNT, "eu-west-1") == [shadow, elsewhere]
    assert trails.by_name(db, ACCOUNT, "us-east-1", "alpha") == home
    assert trails.by_name(db, ACCOUNT, "us-east-1", "beta") is None  # a shadow is found by its ARN only
    assert trails.named(db, ACCOUNT, "alpha") == [home]
    assert trails.in_account(db, ACCOUNT) == [shadow, elsewhere, home]  # by home region, then name
    assert [t.arn for t in trails.every(db)] == sorted(t.arn for t in (home, shadow, elsewhere, foreign))
    assert trails.by_arn(db, "arn:aws:cloudtrail:us-east-1:000000000000:trail/none") is None


def test_a_delivery_pass_keeps_the_delivery_times_it_is_not_given(db: Database) -> None:
    first, second = CREATED + timedelta(minutes=5), CREATED + timedelta(minutes=10)
    trail = _trail(is_logging=True, logging_windows=(LoggingWindow(CREATED),))
    trails.save(db, trail)
    trails.record_pass(db, trail.arn, cursor_seq=7, windows=trail.logging_windows, now=first, delivered=first,
                       attempted=first, error=None)
    trails.record_pass(db, trail.arn, cursor_seq=9, windows=(), now=second, delivered=None, attempted=None,
                       error="NoSuchBucket")
    found = trails.by_arn(db, trail.arn)
    assert found == dataclasses.replace(trail, cursor_seq=9, logging_windows=(), last_pass_at=second,
                                        latest_delivery_at=first, latest_delivery_attempt_at=first,
                                        latest_delivery_error="NoSuchBucket")


def test_delete_takes_the_trail_and_its_tags(db: Database) -> None:
    kept, gone = _trail("kept"), _trail("gone")
    for trail in (kept, gone):
        trails.save(db, trail)
        db.execute("INSERT INTO cloudtrail_trail_tags (trail_arn, tag_key, tag_value, seq) VALUES (?, 'k', 'v', 1)",
                   (trail.arn,))
    trails.delete(db, gone.arn)
    assert trails.every(db) == [kept]
    assert [r[0] for r in db.all("SELECT trail_arn FROM cloudtrail_trail_tags")] == [kept.arn]
