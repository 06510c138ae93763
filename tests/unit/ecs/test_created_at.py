"""The createdAt ECS shows for a deployment is its instant rounded up to the whole millisecond (JSON 1.1
timestamps carry milliseconds): never earlier than the request that created it."""

from __future__ import annotations

from datetime import UTC, datetime

from turnout.services.ecs.common import created_when
from turnout.wire.values import epoch


def test_rounded_up_to_the_millisecond() -> None:
    assert created_when("2026-12-06T17:00:00.000400+00:00") == datetime(2026, 12, 6, 17, 0, 0, 1000, tzinfo=UTC)
    assert created_when("2026-12-06T17:00:00.999001+00:00") == datetime(2026, 12, 6, 17, 0, 1, tzinfo=UTC)


def test_whole_milliseconds_unchanged() -> None:
    assert created_when("2026-12-06T17:00:00.123000+00:00") == datetime(2026, 12, 6, 17, 0, 0, 123000, tzinfo=UTC)


def test_on_the_wire_not_before_the_request() -> None:
    sent = datetime(2026, 12, 6, 17, 0, 0, 500, tzinfo=UTC)  # the client's clock when it sent the request
    received = "2026-12-06T17:00:00.000700+00:00"  # the server's, 0.2 ms later: the same millisecond
    assert epoch(datetime.fromisoformat(received)) <= sent.timestamp()  # truncated, it would look older
    assert epoch(created_when(received)) > sent.timestamp()
