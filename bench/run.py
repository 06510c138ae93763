"""Turnout's benchmarks (``make bench``): ``python bench/run.py [BENCHMARK[,BENCHMARK...] [options]]``.

With no argument, every benchmark of ``DEFAULT_RUN`` runs in turn with its options there (about 8 minutes).
``python bench/run.py BENCHMARK [options]`` runs one; ``python bench/run.py BENCHMARK --help`` lists its options.
Through make: ``make bench BENCH_ARGS="policy_engine"``, ``make bench BENCH_ARGS="getrole --duration 5 --conns 1,8"``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

# Benchmark name -> module exposing add_arguments(parser) and run(args) -> exit code. Add siblings here.
BENCHMARKS = {
    "getrole": "bench.getrole",
    "policy_engine": "bench.policy_engine",
    "enforcement": "bench.enforcement",
    "cloudtrail": "bench.cloudtrail",
    "deployments": "bench.deployments",
    "mixed": "bench.mixed",
    "request_path": "bench.request_path",
    "dataplane": "bench.dataplane",
    "guard": "bench.guard",
}
# what `make bench` runs, in this order, each with these options (none: its defaults). CloudTrail's recording cost
# (issue 11) is measured without the million-event LookupEvents part, which takes minutes of its own.
DEFAULT_RUN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("getrole", ()),
    ("cloudtrail", ("--parts", "throughput", "--conns", "1,16", "--rounds", "3", "--duration", "5")),
    ("policy_engine", ()),
    ("enforcement", ()),
    ("deployments", ()),
    ("mixed", ()),
    ("dataplane", ()),
    ("guard", ()),
)


def run_one(name: str, args: list[str]) -> int:
    from bench.common import BenchError

    module = importlib.import_module(BENCHMARKS[name])
    parser = argparse.ArgumentParser(
        prog=f"bench/run.py {name}", description=module.__doc__,
        epilog=f"benchmarks: {', '.join(BENCHMARKS)} (with no argument: {', '.join(run for run, _ in DEFAULT_RUN)})",
    )
    module.add_arguments(parser)
    options = parser.parse_args(args)
    try:
        code: int = module.run(options)
    except BenchError as exc:
        print(f"\nbenchmark {name} failed: {exc}", file=sys.stderr)
        return 1
    return code


def run_many(runs: list[tuple[str, tuple[str, ...]]]) -> int:
    """Each benchmark with its options; one that fails does not stop the others."""
    outcomes = []
    started = time.monotonic()
    for number, (name, options) in enumerate(runs, 1):
        shown = f"{name} {' '.join(options)}".strip()
        print(f"\n{'=' * 30} benchmark {number} of {len(runs)}: {shown} {'=' * 30}", flush=True)
        began = time.monotonic()
        try:
            code = run_one(name, list(options))
        except SystemExit as exc:  # a benchmark refusing to run (missing dependency...) must not stop the rest
            code = exc.code if isinstance(exc.code, int) else 1
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        outcomes.append((name, code, time.monotonic() - began))
    print(f"\n{'=' * 30} {len(runs)} benchmarks in {time.monotonic() - started:.0f} s {'=' * 30}")
    for name, code, seconds in outcomes:
        print(f"  {name:<15} {'ok' if code == 0 else f'FAILED (exit {code})':<16} {seconds:5.0f} s")
    return max((code for _, code, _ in outcomes), default=0)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    repo = str(Path(__file__).resolve().parent.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    if not args:
        return run_many(list(DEFAULT_RUN))
    if args[0] in ("-h", "--help"):
        print(__doc__.strip() + f"\n\nbenchmarks: {', '.join(BENCHMARKS)}")
        return 0
    if args[0].startswith("-"):
        print(f"options go after a benchmark name, e.g. `bench/run.py getrole {' '.join(args)}`; benchmarks: "
              f"{', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.pop(0).split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or not names:
        print(f"unknown benchmark {', '.join(map(repr, unknown))}; available: {', '.join(BENCHMARKS)}",
              file=sys.stderr)
        return 2
    if len(names) > 1:
        if args:
            print("options apply to one benchmark at a time: name a single benchmark", file=sys.stderr)
            return 2
        return run_many([(name, ()) for name in names])
    return run_one(names[0], args)


if __name__ == "__main__":
    sys.exit(main())
