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
    explain = commands.add_parser(
        "explain", help="explain a denied request (AccessDenied) by its request id",
        description="Print why a request was denied: the deciding policy type, the statements that matched, the "
        "condition keys it lacked. The request id is the x-amzn-RequestId a client saw (botocore: "
        "ResponseMetadata.RequestId) and the last field of the server's access-log line.",
    )
    explain.add_argument("request_id")
    explain.add_argument("--data-dir", type=Path, default=Path(".turnout"), help="the server's state directory")
    return parser


def _explain(data_dir: Path, request_id: str) -> int:
    from .authz.diagnostics import explain
    from .store.db import Database

    path = data_dir / "turnout.db"
    if not path.exists():
        print(f"turnout explain: no Turnout state in {data_dir}", file=sys.stderr)
        return 1
    denial = explain(Database(path), request_id)
    if denial is None:
        print(f"turnout explain: no denied request with id {request_id} in {data_dir}", file=sys.stderr)
        return 1
    print(denial.describe())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, getattr(args, "log_level", "warning").upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    if args.command == "serve":
        from .server import Settings, serve

        serve(Settings(args.host, args.port, args.data_dir, args.time_scale, args.enforce_iam, args.cloudtrail))
        return 0
    if args.command == "explain":
        return _explain(args.data_dir, args.request_id)
    if args.command == "trail":
        from .trailcli import run

        return run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
