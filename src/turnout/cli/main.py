"""The ``turnout`` command."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from .. import __version__


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("must be between 1 and 64")
    return value


def _task_command(text: str) -> str:
    from ..dataplane.processes import parse_command_rule

    try:
        parse_command_rule(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _lambda_endpoint(text: str) -> tuple[str, str]:
    """``NAME=URL`` of ``serve --lambda``: a Lambda function name and the http(s) URL that stands for it."""
    from urllib.parse import urlsplit

    from ..dataplane.lambda_hooks import NAME_PATTERN

    name, sep, url = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=URL, got {text!r}")
    if re.fullmatch(NAME_PATTERN, name) is None:
        raise argparse.ArgumentTypeError(
            f"{name!r} is not a Lambda function name (1 to 64 letters, digits, hyphens or underscores)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{url!r} is not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{url!r} is not an http:// or https:// URL")
    return name, url


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
    serve.add_argument(
        "--lambda", dest="lambdas", metavar="NAME=URL", type=_lambda_endpoint, action="append", default=[],
        help="stand in for the Lambda function NAME in ECS lifecycle hooks: POST the hook event to URL, read the "
        "hook response from its answer (repeatable)",
    )
    serve.add_argument(
        "--idle-timeout", type=_positive, default=5.0, metavar="SECONDS",
        help="close a connection that sends no request for this long (default 5)",
    )
    serve.add_argument(
        "--header-timeout", type=_positive, default=10.0, metavar="SECONDS",
        help="close a connection whose request line and headers take longer than this (default 10)",
    )
    serve.add_argument(
        "--body-timeout", type=_positive, default=20.0, metavar="SECONDS",
        help="answer RequestTimeout when a request body stops arriving for this long (default 20)",
    )
    serve.add_argument(
        "--workers", type=_workers, default=None, metavar="N",
        help="processes answering requests, over one database (default: one per core, at most 4; "
        "above 1, a background process beside them runs the ECS engine and the data plane)",
    )
    serve.add_argument(
        "--no-dataplane", dest="dataplane", action="store_false",
        help="simulate the data plane: listeners serve nothing, tasks run no process, health is computed",
    )
    serve.add_argument(
        "--dataplane-host", default="127.0.0.1", metavar="HOST",
        help="the loopback address listeners and task processes listen on (default 127.0.0.1)",
    )
    serve.add_argument(
        "--task-command", dest="task_commands", metavar="IMAGE_GLOB=COMMAND", type=_task_command, action="append",
        default=[], help="run COMMAND for tasks of images matching IMAGE_GLOB instead of the built-in app; it gets "
        "the container's environment plus PORT (repeatable, first match wins)",
    )
    serve.add_argument(
        "--guard", choices=["off", "warn", "block"], default="warn",
        help="the deployment guard: what an IAM write does that would break an ECS deployment's roles (warn: a "
        "service event and a log line; block: refused with DeleteConflict; off: nothing, as AWS; default warn)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    from .doctor import add_parser as add_doctor_parser

    add_doctor_parser(commands)
    from .trail import add_parser as add_trail_parser

    add_trail_parser(commands)
    from .explain import add_parser as add_explain_parser

    add_explain_parser(commands)
    demo = commands.add_parser(
        "demo", help="walk through an ECS blue/green deployment with the infrastructure role, end to end",
        description="Create the ECS infrastructure role for load balancers, a user allowed to pass it, an ALB with "
        "blue and green target groups, and a BLUE_GREEN service; deploy, follow the traffic shift, find ECS's calls "
        "in CloudTrail, then break the role's trust policy during a paused deployment and watch it roll back. Uses "
        "only the public API. Without --endpoint-url it starts its own server on a temporary data directory.",
    )
    demo.add_argument("--endpoint-url", help="a running Turnout (default: start one for the demo)")
    demo.add_argument(
        "--time-scale", type=_positive, default=60.0,
        help="the embedded server's --time-scale (default 60; ignored with --endpoint-url)",
    )
    demo.add_argument("--data-dir", type=Path, help="the embedded server's data directory (default: a temporary one)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, getattr(args, "log_level", "warning").upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    if args.command == "serve":
        from ..server import Settings
        from ..serving import serve

        lambdas: dict[str, str] = {}
        for name, url in args.lambdas:
            if name in lambdas:
                parser.error(f"argument --lambda: function {name!r} is given twice")
            lambdas[name] = url
        from ..edge.limits import Limits
        from ..startup import StartupError
        from ..workers import default_count

        limits = Limits(idle_timeout=args.idle_timeout, header_timeout=args.header_timeout,
                        body_timeout=args.body_timeout)
        try:
            serve(Settings(args.host, args.port, args.data_dir, args.time_scale, args.enforce_iam, args.cloudtrail,
                           lambdas, limits, args.workers or default_count(), args.dataplane, args.dataplane_host,
                           tuple(args.task_commands), args.guard))
        except StartupError as exc:
            print(f"turnout serve: {exc}", file=sys.stderr)  # one line, no traceback: a mistake, not a crash
            return 1
        return 0
    if args.command == "demo":
        from .demo import run as run_demo

        return run_demo(args.endpoint_url, args.time_scale, args.data_dir)
    if args.command == "explain":
        from .explain import run as run_explain

        return run_explain(args)
    if args.command == "trail":
        from .trail import run

        return run(args)
    if args.command == "doctor":
        from .doctor import run as run_doctor

        return run_doctor(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
