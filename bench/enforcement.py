"""End-to-end IAM GetRole throughput through a real Turnout with IAM enforcement on, and off (--no-enforce-iam).

The caller is an IAM user, as in real use, not the root user: created with root test/test, with the AWS managed
IAMReadOnlyAccess attached, an inline policy with conditions (an Allow on the benchmark's roles from us-east-1, a
Deny of every IAM action from outside the loopback network), and an access key of its own that signs the GetRole.
The request, the load generator and the measurement are getrole's; one server at a time, enforcement on and off
alternating round after round (the median round is reported).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import common
from .common import (
    REPO,
    TURNOUT,
    BenchError,
    ServerProcess,
    boto_client,
    exchange,
    git_state,
    machine_info,
    sign_query,
    table,
    turnout_argv,
    write_results,
)
from .getrole import BUSY_PCT, ROLE, TRUST_POLICY, _levels, _median_round, _seconds, measure, verify_get_role
from .loadgen import wrk_path

NAME = "enforcement"
USER = "turnout-bench-user"
READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
INLINE_NAME = "turnout-bench-guardrails"
GOAL_COST_PCT = 20.0
# A call the user's policies do not allow, on a role that does not exist: 403 AccessDenied when IAM is enforced
# (authorization comes before the operation), 404 NoSuchEntity when it is not. Proves which mode a server is in.
PROBE = {"Action": "DeleteRole", "Version": "2010-05-08", "RoleName": "turnout-bench-absent"}


def no_enforce_argv(port: int, workdir: Path) -> list[str]:
    return [*turnout_argv(port, workdir), "--no-enforce-iam"]


MODES = {
    "on": (replace(TURNOUT, name="enforce on"), 403),
    "off": (replace(TURNOUT, name="enforce off", argv=no_enforce_argv), 404),
}


def inline_policy(account: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadBenchRolesFromUsEast1", "Effect": "Allow", "Action": ["iam:GetRole", "iam:ListRoleTags"],
         "Resource": f"arn:aws:iam::{account}:role/turnout-bench-*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
        {"Sid": "DenyOffLoopback", "Effect": "Deny", "Action": "iam:*", "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}},
    ]})


@contextmanager
def signing_as(key: str, secret: str) -> Iterator[None]:
    """Make ``common.sign_query`` (which signs as the root user test/test) sign with the user's key meanwhile, so
    that getrole's check and measurement run unchanged."""
    saved = common.ACCESS_KEY, common.SECRET_KEY
    common.ACCESS_KEY, common.SECRET_KEY = key, secret
    try:
        yield
    finally:
        common.ACCESS_KEY, common.SECRET_KEY = saved


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conns", type=_levels, default=[16], help="concurrency levels (default 16: capacity)")
    parser.add_argument("--warmup", type=_seconds(0, 60), default=2.0, help="seconds not measured (default 2)")
    parser.add_argument("--duration", type=_seconds(1, 300), default=8.0, help="seconds measured (default 8)")
    parser.add_argument("--rounds", type=int, choices=range(1, 6), default=3, metavar="N",
                        help="measure on and off N times each, alternating; the median round is reported (default 3)")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto",
                        help="auto: wrk when installed, else the raw-socket Python generator")
    parser.add_argument("--gen-procs", type=int, choices=[1, 2], default=1,
                        help="generator processes (wrk threads); 1 leaves the other core to the server (default)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")


def prepare(server: ServerProcess, denied_status: int) -> tuple[str, str, dict[str, Any]]:
    """Role, user, policies and access key created as root; the user's GetRole decoded, and its mode proven."""
    server.wait_ready()
    iam = boto_client(server.port, "iam")
    try:
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST_POLICY)
        user = iam.create_user(UserName=USER)["User"]
        iam.attach_user_policy(UserName=USER, PolicyArn=READ_ONLY)
        account = user["Arn"].split(":")[4]
        iam.put_user_policy(UserName=USER, PolicyName=INLINE_NAME, PolicyDocument=inline_policy(account))
        key = iam.create_access_key(UserName=USER)["AccessKey"]
    except Exception as exc:
        raise BenchError(f"{server.spec.name}: setting up the user failed: {exc}\n{server.log_tail()}") from exc
    key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    with signing_as(key_id, secret):
        check = verify_get_role(server)
        probe = exchange(server.port, sign_query(server.port, "iam", PROBE).raw)
    if probe.status != denied_status:
        raise BenchError(f"{server.spec.name}: the user's DeleteRole of a missing role answered {probe.status}, not "
                         f"{denied_status}: is enforcement {'on' if denied_status == 403 else 'off'}? "
                         f"{probe.body[:300]!r}")
    print(f"  {server.spec.name}: GetRole signed by {user['Arn']} ({key_id}) decoded: 200, {check['arn']}; "
          f"its DeleteRole of a missing role: {probe.status}")
    return key_id, secret, {**check, "user": user["Arn"], "probe_status": probe.status}


def one_round(mode: str, workroot: Path, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    spec, denied_status = MODES[mode]
    with ServerProcess(spec, workroot / f"{spec.slug}-{tag}") as server:
        key_id, secret, check = prepare(server, denied_status)
        with signing_as(key_id, secret):
            loads = [measure(server, args, conns, args.warmup).as_dict() for conns in args.conns]
    return {"check": check, "loads": loads}


def _report(modes: dict[str, Any], args: argparse.Namespace, generator: str) -> dict[str, Any]:
    rows = []
    for mode, data in modes.items():
        for load in data["loads"]:
            rows.append([f"enforce {mode}", load["connections"], f"{load['rps']:.1f}", f"{load['p50_ms']:.2f}",
                         f"{load['p99_ms']:.2f}", load["errors"], f"{load['server_cpu_pct']:.0f}%",
                         f"{load['server_cpu_us_per_req']:.0f}", f"{load['other_cpu_pct']:.0f}%"])
    print(f"\nGetRole signed by an IAM user, {generator} generator, {args.warmup:g}s warmup + {args.duration:g}s "
          f"measured per level, median of {args.rounds} round(s) (CPU: 100% = one core)")
    print(table(["IAM", "conns", "req/s", "p50 ms", "p99 ms", "errors", "server CPU", "CPU us/req", "other CPU"],
                rows))
    summary: dict[str, Any] = {"throughput_cost_pct": {}, "cpu_cost_pct": {}}
    busiest = max((load["other_cpu_pct"] for data in modes.values() for load in data["loads"]), default=0.0)
    summary["max_other_cpu_pct"] = busiest
    if busiest > BUSY_PCT:
        print(f"WARNING: other processes used up to {busiest:.0f}% CPU during a measurement: the machine was not "
              "quiet, so these numbers are skewed; run again on an idle machine")
    if "on" not in modes or "off" not in modes:
        return summary
    for on, off in zip(modes["on"]["loads"], modes["off"]["loads"], strict=True):
        conns = str(on["connections"])
        if off["rps"] > 0:
            summary["throughput_cost_pct"][conns] = round(100 * (1 - on["rps"] / off["rps"]), 1)
        if on["server_cpu_us_per_req"] > 0:
            summary["cpu_cost_pct"][conns] = round(
                100 * (on["server_cpu_us_per_req"] - off["server_cpu_us_per_req"]) / on["server_cpu_us_per_req"], 1)
    costs = summary["throughput_cost_pct"]
    summary["goal_met"] = bool(costs) and max(costs.values()) < GOAL_COST_PCT
    print("\nenforcement cost, throughput (1 - on/off): "
          + ", ".join(f"conns={c}: {v:.1f}%" for c, v in costs.items())
          + f"  (goal < {GOAL_COST_PCT:g}% at every level: {'met' if summary['goal_met'] else 'NOT met'})")
    print("enforcement cost, server CPU per request (share of an enforced request's CPU): "
          + ", ".join(f"conns={c}: {v:.1f}%" for c, v in summary["cpu_cost_pct"].items())
          + "  (less sensitive to other load on the machine)")
    return summary


def run(args: argparse.Namespace) -> int:
    generator = "wrk" if args.generator in ("auto", "wrk") and wrk_path() else "python"
    if args.generator == "wrk" and generator != "wrk":
        raise SystemExit("--generator wrk: wrk is not installed (apt-get install wrk)")
    source = git_state(REPO)
    print(f"enforcement benchmark: Turnout from {source['path']} at {source.get('commit') or 'an unknown commit'}"
          f"{' with uncommitted changes' if source.get('dirty') else ''}; GetRole signed by an IAM user with "
          f"IAMReadOnlyAccess and an inline policy with conditions; generator {generator}; conns {args.conns}; "
          f"{args.rounds} round(s) of enforce on, then off")
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"note: load average is {load_before:.2f} before the run; other work on this machine skews results")
    modes: dict[str, Any] = {mode: {"rounds": []} for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="turnout-bench-") as tmp:
        for round_no in range(args.rounds):
            for mode in MODES:
                print(f"enforce {mode}{f' (round {round_no + 1} of {args.rounds})' if args.rounds > 1 else ''}...",
                      flush=True)
                data = one_round(mode, Path(tmp), args, str(round_no))
                modes[mode]["check"] = data["check"]
                modes[mode]["rounds"].append(data["loads"])
    for data in modes.values():
        data["loads"] = [_median_round([r[i] for r in data["rounds"]]) for i in range(len(args.conns))]
    summary = _report(modes, args, generator)
    payload = {
        "benchmark": NAME,
        "started": started,
        "loadavg_before": load_before,
        "settings": {"conns": args.conns, "warmup_s": args.warmup, "duration_s": args.duration,
                     "generator": generator, "generator_procs": args.gen_procs, "rounds": args.rounds,
                     "caller": "IAM user", "policies": [READ_ONLY, json.loads(inline_policy("ACCOUNT"))]},
        "machine": machine_info(),
        "turnout_source": source,
        "modes": modes,
        "summary": summary,
    }
    path = write_results(NAME, payload, args.out or Path(__file__).resolve().parent / "results")
    print(f"\nresults: {path}")
    return 0
