"""``turnout explain TARGET``: why a request was denied (TARGET: its request id) or a service deployment failed
(TARGET: its ARN), and the smallest change that would allow it.

It reads the server's state directory (``--data-dir``), or asks a running server (``--endpoint-url``:
``GET /_turnout/explain/<target>``, see :mod:`turnout.server`). ``--json`` prints the answer as JSON (the same
document the endpoint serves); otherwise a few lines for a human, ending with the fix as policy JSON to paste.
Exit status: 0 when explained, 1 when there is nothing to explain (unknown id, no state, server unreachable).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ENDPOINT_PATH = "/_turnout/explain/"
TIMEOUT = 30.0


class ExplainError(Exception):
    """Nothing to explain: the message says why (one line)."""


def add_parser(commands: Any) -> None:
    explain = commands.add_parser(
        "explain", help="explain a denied request (by request id) or a failed service deployment (by ARN), with "
        "the fix",
        description="Print why a request was denied: the deciding policy type and statements (policy, Sid, "
        "position), the condition keys it lacked, and the smallest change that would allow it (a statement to add, "
        "or the Deny that blocks it). The request id is the x-amzn-RequestId a client saw (botocore: "
        "ResponseMetadata.RequestId) and the last field of the server's access-log line. Given a service deployment "
        "ARN, find the call of ECS that failed (its AssumeRole of the infrastructure role, an ELB call through its "
        "session, a hook's invoke) and explain it the same way.",
    )
    explain.add_argument("target", metavar="REQUEST_ID_OR_DEPLOYMENT_ARN")
    explain.add_argument("--data-dir", type=Path, default=Path(".turnout"), help="the server's state directory")
    explain.add_argument("--endpoint-url", help="ask this running Turnout instead of reading --data-dir")
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")


def from_data_dir(data_dir: Path, target: str) -> dict[str, Any]:
    from ..deploy.explain import explain
    from ..store.db import Database

    path = data_dir / "turnout.db"
    if not path.exists():
        raise ExplainError(f"no Turnout state in {data_dir}")
    found = explain(Database(path), target)
    if found is None:
        raise ExplainError(_unknown(target, str(data_dir)))
    return found


def _unknown(target: str, where: str) -> str:
    if target.startswith("arn:"):
        return f"no service deployment {target} in {where}"
    return f"no denied request with id {target} in {where}"


def from_endpoint(endpoint: str, target: str) -> dict[str, Any]:
    url = endpoint.rstrip("/") + ENDPOINT_PATH + urllib.parse.quote(target, safe="")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise ExplainError(_unknown(target, endpoint)) from None
        raise ExplainError(f"{endpoint} answered {error.code} {error.reason}") from None
    except (OSError, ValueError) as error:
        raise ExplainError(f"could not reach {endpoint}: {error}") from None


def run(args: argparse.Namespace) -> int:
    try:
        if args.endpoint_url:
            found = from_endpoint(args.endpoint_url, args.target)
        else:
            found = from_data_dir(args.data_dir, args.target)
    except ExplainError as error:
        print(f"turnout explain: {error}", file=sys.stderr)
        return 1
    print(json.dumps(found, indent=2) if args.json else render(found))
    return 0


def render(found: dict[str, Any]) -> str:
    """The explanation for a human."""
    if found.get("kind") == "deployment":
        return _render_deployment(found)
    return _render_request(found)


def _statement(item: dict[str, Any]) -> str:
    if item.get("resourceArn"):
        policy = ""
    else:
        policy = " " + (item.get("policyArn") or f"inline policy {item.get('policyName')}" + (
            f" of {item['entityArn']}" if item.get("entityArn") else ""))
    sid = f" (Sid {item['sid']})" if item.get("sid") else ""
    where = f" at line {item['position']['line']}, column {item['position']['column']}" if "position" in item else ""
    owner = f" of {item['resourceArn']}" if item.get("resourceArn") else ""
    return f"{item['effect']} statement {item['statementIndex']}{sid} of {item['policyType']}{owner}{policy}{where}"


def _render_request(found: dict[str, Any]) -> str:
    from ..authz.remedy import describe_fix

    lines = [found["message"], f"  request {found['requestId']} ({found.get('operation') or found['action']}) "
             f"at {found['deniedAt']}"]
    decided = found.get("decidedBy") or found.get("reason") or "a built-in rule"
    kind = "explicit deny" if found["effect"] == "ExplicitDeny" else "implicit deny (no statement allowed it)"
    lines.append(f"  decided by: {decided}: {kind}")
    considered = found.get("considered") or {}
    for policy_type, outcome in (found.get("policyTypes") or {}).items():
        ids = considered.get(policy_type)
        evaluated = f" ({', '.join(ids) if ids else 'no policies'})" if ids is not None else ""
        lines.append(f"  {policy_type}: {outcome}{evaluated}")
    for item in found.get("decidingStatements") or []:
        lines.append(f"  deciding: {_statement(item)}")
    for item in found.get("nearMisses") or []:
        keys = f", testing {', '.join(item['conditionKeys'])}" if item.get("conditionKeys") else ""
        lines.append(f"  did not apply: {_statement(item)}{keys}")
    if found.get("missingContextKeys"):
        lines.append(f"  condition keys absent from the request: {', '.join(found['missingContextKeys'])}")
    lines.append(describe_fix(found["fix"]))
    return "\n".join(lines)


def _render_deployment(found: dict[str, Any]) -> str:
    lines = [f"service deployment {found['serviceDeploymentArn']}: {found['status']}"]
    if found.get("statusReason"):
        lines.append(f"  statusReason: {found['statusReason']}")
    lines.append(f"  {found['summary']}")
    explanation = found.get("explanation")
    if explanation is not None:
        lines.append("")
        lines.append(_render_request(explanation))
        fix = found.get("fix") or {}
        for arn in fix.get("attach") or []:
            lines.append(f"  then: AttachRolePolicy {arn}")
    others = [r for r in found.get("denials") or [] if explanation is None or r != explanation["requestId"]]
    if others:
        lines.append(f"  later denials of the deployment (its rollback): {', '.join(others)}")
    return "\n".join(lines)
