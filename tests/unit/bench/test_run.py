"""``make bench``'s default run (bench/run.py): every entry names a registered benchmark, and its options are ones
that benchmark accepts, so a typo fails here rather than minutes into a run. No benchmark is run."""

from __future__ import annotations

import argparse
import importlib

import pytest
from bench.run import BENCHMARKS, DEFAULT_RUN


@pytest.mark.parametrize(("name", "options"), DEFAULT_RUN, ids=[name for name, _ in DEFAULT_RUN])
def test_each_default_entry_parses_with_its_benchmark(name: str, options: tuple[str, ...]) -> None:
    assert name in BENCHMARKS
    parser = argparse.ArgumentParser(exit_on_error=False)
    importlib.import_module(BENCHMARKS[name]).add_arguments(parser)
    parsed = parser.parse_args(list(options))
    for flag in options:
        if flag.startswith("--"):
            assert hasattr(parsed, flag[2:].replace("-", "_")), flag


def test_the_default_run_measures_cloudtrail_recording_alone() -> None:
    """Issue 11's recording cost, at one connection and at sixteen, without the million-event lookup part."""
    runs = dict(DEFAULT_RUN)
    assert len(runs) == len(DEFAULT_RUN)  # each benchmark once
    parser = argparse.ArgumentParser(exit_on_error=False)
    importlib.import_module(BENCHMARKS["cloudtrail"]).add_arguments(parser)
    parsed = parser.parse_args(list(runs["cloudtrail"]))
    assert parsed.parts == ["throughput"]
    assert parsed.conns == [1, 16]
