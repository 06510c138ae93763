"""The server follows generations through the workers' shared count (turnout.server.follow_generations)."""

from __future__ import annotations

from pathlib import Path

from turnout.server import TALLIED, Settings, build_gateway
from turnout.store import generations
from turnout.workers import Tally, Worker


def test_a_starting_worker_moves_the_count_so_every_process_looks_again(tmp_path: Path) -> None:
    """A worker killed between a commit and its count leaves the others' caches stale; its replacement's start moves
    the count, so they read the tokens again."""
    tally = Tally(2, TALLIED)
    settings = Settings(data_dir=tmp_path, cloudtrail=False, dataplane=False, guard="off")
    first = build_gateway(settings, worker=Worker(0, 2, tmp_path, tally))
    other = build_gateway(settings, worker=Worker(1, 2, tmp_path, tally))
    assert tally.each("generations") == [1, 1]  # each worker's start
    seen = generations.of(first.db).token("iam:000000000000")
    with other.db.transaction():  # a bump committed, then "killed" before it was counted
        other.db.execute("INSERT INTO generations (name, token) VALUES ('iam:000000000000', 42) "
                         "ON CONFLICT (name) DO UPDATE SET token = 42")
    assert generations.of(first.db).token("iam:000000000000") == seen  # the count did not move: not looked at
    build_gateway(settings, worker=Worker(1, 2, tmp_path, tally))  # the replacement starts
    assert generations.of(first.db).token("iam:000000000000") == 42
