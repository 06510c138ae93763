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
