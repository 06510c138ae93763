"""The storage codec: what a store writes reads back equal, and instants sort as text in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from turnout.store.codec import dumps, iso, loads, when

instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1), timezones=st.just(UTC))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(instants)
def test_an_instant_reads_back_equal_and_in_utc(value: datetime) -> None:
    stored = iso(value)
    assert when(stored) == value
    assert stored.endswith("+00:00")


def test_an_instant_in_another_zone_is_stored_in_utc() -> None:
    value = datetime(2026, 12, 6, 23, 0, tzinfo=timezone(timedelta(hours=2)))
    assert iso(value) == "2026-12-06T21:00:00+00:00"


@given(instants, instants)
def test_stored_instants_sort_as_text_in_time_order(a: datetime, b: datetime) -> None:
    # Microseconds are written only when non-zero: compare instants with equal precision, as stored rows are.
    a, b = a.replace(microsecond=1 + a.microsecond % 999_999), b.replace(microsecond=1 + b.microsecond % 999_999)
    assert (iso(a) < iso(b)) == (a < b)


@given(json_values)
def test_a_structure_reads_back_equal(value: object) -> None:
    assert loads(dumps(value)) == value
    assert ", " not in dumps([1, 2]) and ": " not in dumps({"a": 1})


def test_none_stays_none() -> None:
    assert when(None) is None
    assert loads(None) is None
