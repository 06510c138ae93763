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
    """LookupEvents under the mixed benchmark's load: a few milliseconds, outliers to 12 (it copies the journals
    first). Its first call is a short one here; the outliers only count in the average."""
    lanes = Lanes()
    key = ("cloudtrail", "LookupEvents")
    for seconds in (0.003, 0.004, 0.012, 0.003, 0.006, 0.011, 0.002, 0.004, 0.012, 0.003):
        lanes.took(key, seconds)
        assert not lanes.long(key)


def test_the_default_thresholds_send_a_heavy_read_to_the_threads_at_its_first_call() -> None:
    """GetAccountAuthorizationDetails over 1,000 roles: 11 to 15 ms of CPU, longer than a health check may wait."""
    lanes = Lanes()
    lanes.took(KEY, 0.011)
    assert lanes.long(KEY)
    for _ in range(20):
        lanes.took(KEY, 0.011)
    assert lanes.long(KEY)


def test_an_operation_that_grows_heavy_moves_once_its_average_does() -> None:
    """One outlier under twice the threshold does not move a short operation; calls that stay long do, within a
    few calls; one call over twice the threshold moves it at once."""
    lanes = Lanes(long_seconds=0.008, short_seconds=0.006)
    lanes.took(KEY, 0.001)
    lanes.took(KEY, 0.015)  # an outlier: averaged (4.5 ms)
    assert not lanes.long(KEY)
    moved_after = 0
    while not lanes.long(KEY):
        lanes.took(KEY, 0.012)  # the account grew: every call is long now
        moved_after += 1
    assert 1 <= moved_after <= 4
    other = ("iam", "ListRoles")
    lanes.took(other, 0.001)
    lanes.took(other, 0.017)  # over twice the threshold: believed at once
    assert lanes.long(other)
