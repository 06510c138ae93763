"""The counters the worker processes share: each adds to its own row, any reads the sums, across a fork."""

from __future__ import annotations

import os
import sys

import pytest

from turnout.workers import Tally


def test_each_worker_adds_to_its_row_and_any_reads_the_totals() -> None:
    tally = Tally(3, ("recorded", "dataplane"))
    tally.add(0, "dataplane", 1)
    tally.add(2, "dataplane", 2)
    tally.add(1, "recorded", 5)
    assert tally.total("dataplane") == 3
    assert tally.totals() == {"recorded": 5, "dataplane": 3}


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs fork")
def test_a_forked_worker_adds_what_the_parent_reads() -> None:
    tally = Tally(2, ("dataplane",))
    pid = os.fork()
    if pid == 0:  # the worker
        tally.add(1, "dataplane", 7)
        os._exit(0)
    os.waitpid(pid, 0)
    tally.add(0, "dataplane", 1)
    assert tally.total("dataplane") == 8


def test_a_counter_is_read_worker_by_worker_and_a_restarted_worker_resets_its_own() -> None:
    tally = Tally(2, ("recorded", "connections"))
    tally.add(0, "connections", 3)
    tally.add(1, "connections", 1)
    tally.add(1, "connections", -1)
    assert tally.each("connections") == [3, 0]
    tally.set(0, "connections", 0)  # worker 0 died with its connections
    assert tally.each("connections") == [0, 0] and tally.total("recorded") == 0
