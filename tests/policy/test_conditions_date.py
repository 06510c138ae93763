"""Date operators: ISO 8601 forms, time zones, epoch seconds and milliseconds, unreadable dates."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.helpers import condition_holds
from turnout.policy.conditions.base import INVALID
from turnout.policy.conditions.date import parse_date

KEY = "aws:CurrentTime"

CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    ("DateEquals", "2024-01-01", {KEY: "2024-01-01T00:00:00Z"}, True),
    ("DateEquals", "2024-01-01T02:00:00+02:00", {KEY: "2024-01-01T00:00:00Z"}, True),
    ("DateEquals", "2024-01-01", {KEY: "1704067200"}, True),  # epoch seconds
    ("DateEquals", "2024-01-01", {KEY: "1704067200000"}, True),  # epoch milliseconds
    ("DateEquals", "2024-01-01", {KEY: "1704067200001"}, False),
    ("DateEquals", "2024", {KEY: "2024-01-01T00:00:00Z"}, True),
    ("DateNotEquals", "2024-01-01", {KEY: "2024-01-02"}, True),
    ("DateNotEquals", ["2024-01-01", "2024-01-02"], {KEY: "2024-01-02"}, False),
    ("DateNotEquals", "not a date", {KEY: "2024-01-02"}, False),
    ("DateNotEquals", "2024-01-01", {}, True),
    ("DateLessThan", "2024-01-01T00:00:00Z", {KEY: "2023-12-31T23:59:59Z"}, True),
    ("DateLessThan", "2024-01-01T00:00:00Z", {KEY: "2024-01-01T00:00:00Z"}, False),
    ("DateLessThanEquals", "2024-01-01T00:00:00Z", {KEY: "2024-01-01T00:00:00.000Z"}, True),
    ("DateGreaterThan", "2024-01-01T00:00:00Z", {KEY: "2024-01-01T00:00:00.5Z"}, True),
    ("DateGreaterThan", "2024-01-01T00:00:00Z", {KEY: "yesterday"}, False),
    ("DateGreaterThanEquals", "2024-01-01T10:00Z", {KEY: "2024-01-01T10:00:00Z"}, True),
    ("DateGreaterThan", "2020-01-01T00:00:01Z", {}, False),
]


@pytest.mark.parametrize(("operator", "values", "context", "expected"), CASES)
def test_date_operators(operator: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert condition_holds({operator: {KEY: values}}, context) is expected


@pytest.mark.parametrize("text", ["2024-13-01", "2024-02-30", "2024-01-01T25:00:00Z", "", "1.2.3", "2024-1-1"])
def test_unreadable_dates(text: str) -> None:
    assert parse_date(text) is INVALID


def test_epoch_forms_agree() -> None:
    assert parse_date("1704067200") == parse_date("1704067200000") == parse_date("2024-01-01T00:00:00Z")
