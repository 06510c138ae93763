"""bench/getrole.py's check that a level's connections were shared out between the workers: the full run of
2026-12-08 measured one GetRole level with both connections on one worker (server CPU 106% where balanced runs use
160%), and reported the ratio as if both workers had served it."""

from __future__ import annotations

from bench.getrole import uneven
from bench.loadgen import LoadResult


def _level(connections: int, processes: list[float]) -> LoadResult:
    result = LoadResult(generator="wrk", connections=connections, generator_procs=1, duration_s=10.0, requests=1,
                        rps=1.0, p50_ms=1.0, p99_ms=1.0, max_ms=1.0, errors=0)
    result.server_processes_cpu_pct = processes
    return result


def test_both_connections_on_one_worker_is_uneven() -> None:
    assert uneven(_level(2, [91.0, 9.5, 0.2]))


def test_connections_shared_out_or_nothing_to_share_are_not() -> None:
    assert not uneven(_level(2, [80.1, 78.4, 7.5]))  # balanced
    assert not uneven(_level(1, [89.0, 0.5, 6.0]))  # one connection: one worker
    assert not uneven(_level(2, [97.0]))  # one process (bare, moto, --workers 1)
    assert not uneven(_level(2, [30.0, 5.0, 1.0]))  # too little load to tell
