"""The ``turnout`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="turnout", description="A local, offline AWS control plane.")
    parser.add_argument("--version", action="version", version=f"turnout {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the AWS-compatible endpoint")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4566)
    serve.add_argument("--data-dir", type=Path, default=Path(".turnout"), help="state directory (SQLite)")
    serve.add_argument(
        "--time-scale", type=_positive, default=1.0,
        help="make simulated waits pass N times faster (timestamps are never scaled)",
    )
    serve.add_argument(
        "--no-enforce-iam", dest="enforce_iam", action="store_false",
        help="allow every authenticated call (IAM policies are stored but not enforced)",
    )
    serve.add_argument(
        "--no-cloudtrail", dest="cloudtrail", action="store_false",
        help="record no CloudTrail events (LookupEvents still answers from what was recorded before)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    from .trailcli import add_parser as add_trail_parser

    add_trail_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    if args.command == "serve":
        from .server import Settings, serve

        serve(Settings(args.host, args.port, args.data_dir, args.time_scale, args.enforce_iam, args.cloudtrail))
        return 0
    if args.command == "trail":
        from .trailcli import run

        return run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
