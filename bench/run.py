"""Turnout's benchmarks (``make bench``): ``python bench/run.py [BENCHMARK] [options]``.

BENCHMARK defaults to ``getrole``; ``python bench/run.py BENCHMARK --help`` lists its options.
Pass options through make with ``make bench BENCH_ARGS="--duration 5 --conns 1,8"``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

# Benchmark name -> module exposing add_arguments(parser) and run(args) -> exit code. Add siblings here.
BENCHMARKS = {
    "getrole": "bench.getrole",
}
DEFAULT = "getrole"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    name = args.pop(0) if args and not args[0].startswith("-") else DEFAULT
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; available: {', '.join(sorted(BENCHMARKS))}", file=sys.stderr)
        return 2
    repo = str(Path(__file__).resolve().parent.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    from bench.common import BenchError

    module = importlib.import_module(BENCHMARKS[name])
    parser = argparse.ArgumentParser(
        prog=f"bench/run.py {name}", description=module.__doc__,
        epilog=f"benchmarks: {', '.join(sorted(BENCHMARKS))} (default {DEFAULT})",
    )
    module.add_arguments(parser)
    options = parser.parse_args(args)
    try:
        code: int = module.run(options)
    except BenchError as exc:
        print(f"\nbenchmark {name} failed: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
