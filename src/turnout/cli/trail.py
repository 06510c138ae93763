"""``turnout trail``: recent CloudTrail events from a running Turnout, through LookupEvents.

Prints a table (time, user, source, event, error), newest first, or with ``--json`` the raw records, one JSON object
per line. Filters are LookupEvents' lookup attributes (one at a time, as the API takes them) and its time range.
Requests are signed with botocore: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN`` from the
environment, else the default account's root credentials ``test``/``test``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
PAGE = 50  # LookupEvents' largest MaxResults

# option -> LookupEvents AttributeKey
ATTRIBUTES = {
    "username": "Username",
    "event_name": "EventName",
    "resource_name": "ResourceName",
    "resource_type": "ResourceType",
    "event_source": "EventSource",
    "access_key_id": "AccessKeyId",
    "read_only": "ReadOnly",
    "event_id": "EventId",
}
_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``2026-05-01T10:00:00Z``), epoch seconds, or an age (``15m``, ``2h``, ``7d``)."""
    value = text.strip()
    relative = _RELATIVE.fullmatch(value)
    if relative:
        return datetime.now(UTC) - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: use ISO 8601 (2026-05-01T10:00:00Z), epoch seconds, or an age like 15m, 2h, 7d"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``trail`` to the ``turnout`` command's subcommands."""
    trail: argparse.ArgumentParser = commands.add_parser(
        "trail", help="print recent CloudTrail events (LookupEvents)",
        description="Print recent CloudTrail events from a running Turnout, newest first.",
    )
    trail.add_argument(
        "--endpoint-url", default=DEFAULT_ENDPOINT, help=f"Turnout's endpoint (default {DEFAULT_ENDPOINT})"
    )
    trail.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        help="the region whose events to look up (default: AWS_REGION, AWS_DEFAULT_REGION or us-east-1)",
    )
    which = trail.add_mutually_exclusive_group()
    which.add_argument("--username", help="events of this user name (a role session's name too)")
    which.add_argument("--event-name", help="events of this API call (CreateRole...)")
    which.add_argument("--resource-name", help="events naming this resource (name or ARN)")
    which.add_argument("--resource-type", help="events naming a resource of this type (AWS::IAM::Role...)")
    which.add_argument("--event-source", help="events of this service (iam.amazonaws.com...)")
    which.add_argument("--access-key-id", help="events of calls signed with this access key")
    which.add_argument("--read-only", choices=["true", "false"], help="only reads (true) or only writes (false)")
    which.add_argument("--event-id", help="the event with this id")
    trail.add_argument("--start-time", type=parse_time, help="ISO 8601, epoch seconds, or an age (15m, 2h, 7d)")
    trail.add_argument("--end-time", type=parse_time, help="ISO 8601, epoch seconds, or an age (15m, 2h, 7d)")
    trail.add_argument("--max", type=_count, default=50, help="print at most N events (default 50)")
    trail.add_argument("--json", action="store_true", help="print the raw records, one JSON object per line")
    trail.set_defaults(log_level="warning")
    return trail


def _client(args: argparse.Namespace) -> Any:
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session()
    return session.create_client(
        "cloudtrail",
        region_name=args.region,
        endpoint_url=args.endpoint_url,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "test",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60),
    )


def _request(args: argparse.Namespace) -> dict[str, Any]:
    request: dict[str, Any] = {}
    for option, key in ATTRIBUTES.items():
        value = getattr(args, option)
        if value is not None:
            request["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    if args.start_time is not None:
        request["StartTime"] = args.start_time
    if args.end_time is not None:
        request["EndTime"] = args.end_time
    return request


def events(client: Any, request: dict[str, Any], limit: int) -> Iterator[dict[str, Any]]:
    """Up to ``limit`` events, newest first, following NextToken (every page asked with the same parameters)."""
    left = limit
    size = min(PAGE, limit)
    token: str | None = None
    while left > 0:
        page = client.lookup_events(**request, MaxResults=size, **({"NextToken": token} if token else {}))
        for event in page.get("Events", [])[:left]:
            yield event
            left -= 1
        token = page.get("NextToken")
        if not token:
            return


def _record(event: dict[str, Any]) -> dict[str, Any]:
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _row(event: dict[str, Any]) -> list[str]:
    record = _record(event)
    when = event.get("EventTime")
    stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if isinstance(when, datetime) else str(when or "")
    error = record.get("errorCode") or ""
    return [stamp, event.get("Username") or "-", event.get("EventSource") or "-", event.get("EventName") or "-",
            str(error) or "-"]


def print_table(rows: list[list[str]], out: TextIO) -> None:
    header = ["TIME (UTC)", "USER", "SOURCE", "EVENT", "ERROR"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        client = _client(args)
        rows: list[list[str]] = []
        for event in events(client, _request(args), args.max):
            if args.json:
                out.write(json.dumps(_record(event), separators=(",", ":")) + "\n")
            else:
                rows.append(_row(event))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        err.write(f"turnout trail: {error.get('Code', 'Error')}: {error.get('Message', str(exc))}\n")
        return 1
    except EndpointConnectionError:
        err.write(f"turnout trail: cannot reach Turnout at {args.endpoint_url} (is `turnout serve` running?)\n")
        return 1
    except (BotoCoreError, ValueError) as exc:
        err.write(f"turnout trail: {exc}\n")
        return 1
    if not args.json:
        if rows:
            print_table(rows, out)
        else:
            out.write("No events found.\n")
    return 0
