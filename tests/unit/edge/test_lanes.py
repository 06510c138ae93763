"""Where a call runs: an operation whose calls are long goes to the request threads, and comes back."""

from __future__ import annotations

from turnout.edge.lanes import Lanes

KEY = ("iam", "GetAccountAuthorizationDetails")


def test_an_operation_starts_on_the_loop_and_one_long_call_moves_it() -> None:
    lanes = Lanes(long_seconds=0.002)
    assert not lanes.long(KEY)
    lanes.took(KEY, 0.0005)
    assert not lanes.long(KEY)
    lanes.took(KEY, 0.050)  # one long call is believed at once
    assert lanes.long(KEY)
    assert not lanes.long(("iam", "GetRole"))  # other operations are not moved with it


def test_an_operation_whose_calls_become_short_comes_back() -> None:
    lanes = Lanes(long_seconds=0.002)
    lanes.took(KEY, 0.050)
    for _ in range(30):
        lanes.took(KEY, 0.0002)
    assert not lanes.long(KEY)
    lanes.took(KEY, 0.0002)
    assert not lanes.long(KEY)


def test_a_call_that_was_not_routed_runs_on_the_loop() -> None:
    lanes = Lanes()
    lanes.took(None, 10.0)
    assert not lanes.long(None)


def test_an_operation_between_the_thresholds_stays_where_it_is() -> None:
    """Above ``long_seconds`` an operation goes to the threads; it comes back only below ``short_seconds``, so that
    one whose calls take about the threshold does not go back and forth (each trip costs the loop)."""
    lanes = Lanes(long_seconds=0.020, short_seconds=0.015)
    for _ in range(20):
        lanes.took(KEY, 0.018)  # between the two: on the loop, where it started
    assert not lanes.long(KEY)
    lanes.took(KEY, 0.030)
    assert lanes.long(KEY)
    for _ in range(20):
        lanes.took(KEY, 0.018)  # between the two again: in the threads, where it went
    assert lanes.long(KEY)
    for _ in range(20):
        lanes.took(KEY, 0.010)
    assert not lanes.long(KEY)


def test_the_default_thresholds_keep_calls_of_a_few_milliseconds_on_the_loop() -> None:
    lanes = Lanes()
    for seconds in (0.001, 0.004, 0.009, 0.012, 0.003):  # writes and LookupEvents of the mixed benchmark
        lanes.took(KEY, seconds)
        assert not lanes.long(KEY)
    lanes.took(KEY, 0.035)  # GetAccountAuthorizationDetails over 1,000 roles
    assert lanes.long(KEY)
