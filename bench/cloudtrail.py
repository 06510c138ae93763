"""CloudTrail: LookupEvents latency over 1,000,000 stored events, and what recording costs GetRole throughput.

Three parts (``--parts``, default all):

* ``load``: 1,000,000 synthetic events (``--events``) written straight through the event store
  (``turnout.services.cloudtrail.store.append``, 10,000 per transaction) into a fresh data directory: a mix of
  callers (the root user, IAM users, role sessions including ECS's ``ECSNetworkingWithELB``), of IAM, STS, ELB,
  EC2 and ECS operations, reads and writes, resources, over the last 80 days, mostly in ``000000000000`` /
  ``us-east-1``. Reports events/s and the database size.
* ``lookup``: a real ``turnout serve`` on that data directory; ``LookupEvents`` signed with SigV4 and sent raw
  (one connection per request), ``--lookups`` requests (default 40) per lookup key, each with a value picked
  from the loaded events (frequent and rare ones alike), MaxResults 50: p50/p99 latency per key (goal: p50 under
  50 ms), plus no attribute, a one-hour time range, and the second page of a query (its NextToken). Each answer
  is checked: 200, events that match the key, newest first.
* ``throughput``: getrole's GetRole load (root caller, the same signed request replayed) against a fresh
  ``turnout serve`` and ``turnout serve --no-cloudtrail``, alternating for ``--rounds`` rounds (median round
  reported): the cost of recording is ``1 - req/s on / req/s off`` (goal: under 10%), and the events recorded
  are checked against the requests served (``/_turnout/health``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .common import (
    HOST,
    REGION,
    REPO,
    TURNOUT,
    BenchError,
    ServerProcess,
    SignedRequest,
    exchange,
    git_state,
    machine_info,
    percentile,
    table,
    turnout_argv,
    write_results,
)
from .getrole import BUSY_PCT, _levels, _median_round, _seconds, measure, prepare
from .loadgen import wrk_path

NAME = "cloudtrail"
ACCOUNT = "000000000000"
GOAL_P50_MS = 50.0
GOAL_COST_PCT = 10.0
TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId")
SPREAD_DAYS = 80
CHUNK = 10_000

OPERATIONS = [  # (event source, name, read-only, resource kind or None), weighted towards reads as real traffic is
    ("iam.amazonaws.com", "GetRole", True, "role"), ("iam.amazonaws.com", "GetRole", True, "role"),
    ("iam.amazonaws.com", "ListRoles", True, None), ("iam.amazonaws.com", "CreateRole", False, "role"),
    ("iam.amazonaws.com", "AttachRolePolicy", False, "role"), ("iam.amazonaws.com", "DeleteRole", False, "role"),
    ("iam.amazonaws.com", "GetUser", True, None), ("iam.amazonaws.com", "ListAttachedRolePolicies", True, "role"),
    ("sts.amazonaws.com", "GetCallerIdentity", True, None), ("sts.amazonaws.com", "AssumeRole", False, "role"),
    ("elasticloadbalancing.amazonaws.com", "DescribeTargetGroups", True, None),
    ("elasticloadbalancing.amazonaws.com", "DescribeTargetHealth", True, "targetgroup"),
    ("elasticloadbalancing.amazonaws.com", "ModifyListener", False, "listener"),
    ("elasticloadbalancing.amazonaws.com", "ModifyRule", False, "rule"),
    ("elasticloadbalancing.amazonaws.com", "RegisterTargets", False, "targetgroup"),
    ("ec2.amazonaws.com", "DescribeVpcs", True, None), ("ec2.amazonaws.com", "DescribeSubnets", True, None),
    ("ec2.amazonaws.com", "CreateSecurityGroup", False, "sg"),
    ("ecs.amazonaws.com", "DescribeServices", True, None), ("ecs.amazonaws.com", "UpdateService", False, None),
]


# -- the synthetic history ----------------------------------------------------------------------------------


class History:
    """Deterministic (``--seed``) callers, resources and events."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.users = [f"bench-user-{i:03d}" for i in range(200)]
        self.user_keys = {u: f"AKIA{i:016d}" for i, u in enumerate(self.users)}
        self.sessions = ["ECSNetworkingWithELB", "ecs-service-scheduler",
                         *[f"bench-session-{i:02d}" for i in range(48)]]
        self.session_keys = {s: f"ASIA{i:016d}" for i, s in enumerate(self.sessions)}
        self.roles = [f"bench-role-{i:04d}" for i in range(1000)]
        self.groups = [f"bench-tg-{i:03d}/{i:016x}" for i in range(300)]

    def caller(self) -> tuple[dict[str, Any], str, str]:
        """(userIdentity, Username, AccessKeyId)."""
        pick = self.rng.random()
        if pick < 0.2:
            return ({"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                     "accountId": ACCOUNT, "accessKeyId": "test"}, "root", "test")
        if pick < 0.65:
            user = self.rng.choice(self.users)
            key = self.user_keys[user]
            return ({"type": "IAMUser", "principalId": "AIDA" + key[4:21], "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
                     "accountId": ACCOUNT, "accessKeyId": key, "userName": user}, user, key)
        session = self.rng.choice(self.sessions)
        key = self.session_keys[session]
        role = "ecsInfrastructureRoleForLoadBalancers" if session.startswith("ECS") else "bench-app-role"
        identity = {
            "type": "AssumedRole", "principalId": f"AROAEXAMPLEBENCH0001:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}", "accountId": ACCOUNT, "accessKeyId": key,
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEBENCH0001",
                                                 "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "accountId": ACCOUNT,
                                                 "userName": role},
                               "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"}},
        }
        if session.startswith("ECS"):
            identity["invokedBy"] = "ecs.amazonaws.com"
        return identity, session, key

    def resource(self, kind: str | None, region: str) -> tuple[dict[str, Any], tuple[str, str], dict[str, str]] | None:
        """(requestParameters, (ResourceType, ResourceName), record resource) of one resource."""
        lb = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}"
        if kind == "role":
            name = self.rng.choice(self.roles)
            arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
            return {"roleName": name}, ("AWS::IAM::Role", name), {"accountId": ACCOUNT, "type": "AWS::IAM::Role",
                                                                  "ARN": arn}
        if kind == "targetgroup":
            arn = f"{lb}:targetgroup/{self.rng.choice(self.groups)}"
            kind_type = "AWS::ElasticLoadBalancingV2::TargetGroup"
            return {"targetGroupArn": arn}, (kind_type, arn), {"accountId": ACCOUNT, "type": kind_type, "ARN": arn}
        if kind == "listener":
            arn = f"{lb}:listener/app/bench/0123456789abcdef/{self.rng.randrange(50):016x}"
            kind_type = "AWS::ElasticLoadBalancingV2::Listener"
            return {"listenerArn": arn}, (kind_type, arn), {"accountId": ACCOUNT, "type": kind_type, "ARN": arn}
        if kind == "rule":
            arn = f"{lb}:listener-rule/app/bench/0123456789abcdef/{self.rng.randrange(50):016x}/{self.rng.randrange(9)}"
            kind_type = "AWS::ElasticLoadBalancingV2::ListenerRule"
            return {"ruleArn": arn}, (kind_type, arn), {"accountId": ACCOUNT, "type": kind_type, "ARN": arn}
        if kind == "sg":
            group = f"sg-{self.rng.randrange(1 << 60):017x}"
            arn = f"arn:aws:ec2:{region}:{ACCOUNT}:security-group/{group}"
            return {"groupName": group}, ("AWS::EC2::SecurityGroup", group), {
                "accountId": ACCOUNT, "type": "AWS::EC2::SecurityGroup", "ARN": arn}
        return None

    def drafts(self, count: int, start: int, end: int) -> Any:
        from turnout.services.cloudtrail.records import draft_of, iso_seconds

        step = (end - start) / max(1, count)
        for index in range(count):
            when = int(start + index * step)
            source, name, read, kind = self.rng.choice(OPERATIONS)
            region = "us-east-1" if source in ("iam.amazonaws.com", "sts.amazonaws.com") or self.rng.random() < 0.9 \
                else "us-west-2"
            identity, user, key = self.caller()
            found = self.resource(kind, region)
            params, resources, elements = ({}, (), []) if found is None else (found[0], (found[1],), [found[2]])
            record = {
                "eventVersion": "1.11", "userIdentity": identity,
                "eventTime": iso_seconds(datetime.fromtimestamp(when, UTC)), "eventSource": source,
                "eventName": name, "awsRegion": region, "sourceIPAddress": "ecs.amazonaws.com" if "invokedBy" in
                identity else "127.0.0.1", "userAgent": "aws-cli/2.17.0 Python/3.11.7 Linux/6.1 exe/x86_64",
                "requestParameters": params or None, "responseElements": None if read else {"ok": True},
                "requestID": f"{self.rng.getrandbits(128):032x}", "eventID": "", "readOnly": read,
                "resources": elements, "eventType": "AwsApiCall", "managementEvent": True,
                "recipientAccountId": ACCOUNT, "eventCategory": "Management",
            }
            if not elements:
                del record["resources"]
            yield draft_of(record, account_id=ACCOUNT, region=region, event_time=when, username=user,
                           access_key_id=key, resources=resources)


def load(data_dir: Path, events: int, seed: int) -> dict[str, Any]:
    from turnout.services.cloudtrail import store
    from turnout.store.db import Database

    db = Database(data_dir / "turnout.db")
    now = int(time.time())
    history = History(seed)
    drafts = history.drafts(events, now - SPREAD_DAYS * 86400, now - 60)
    print(f"loading {events:,} events through the store...", flush=True)
    started = time.perf_counter()
    written = 0
    while written < events:
        chunk = [next(drafts) for _ in range(min(CHUNK, events - written))]
        written += store.append(db, chunk)
        if written % 200_000 == 0:
            print(f"  {written:,} events, {time.perf_counter() - started:.0f} s", flush=True)
    seconds = time.perf_counter() - started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = sum(p.stat().st_size for p in data_dir.glob("turnout.db*"))
    print(f"  {written:,} events in {seconds:.1f} s ({written / seconds:,.0f} events/s, generation included); "
          f"database {size / 1e6:,.0f} MB")
    return {"events": written, "seconds": round(seconds, 1), "events_per_s": round(written / seconds),
            "db_bytes": size}


# -- LookupEvents latency -----------------------------------------------------------------------------------


def sign_json(port: int, body: dict[str, Any]) -> SignedRequest:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = f"{HOST}:{port}"
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=f"http://{host}/", data=data, headers={
        "Host": host, "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET})
    SigV4Auth(Credentials("test", "test"), "cloudtrail", REGION).add_auth(request)
    headers = [(str(k), str(v)) for k, v in request.headers.items() if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(data))))
    return SignedRequest("POST", "/", tuple(headers), data)


def _values(data_dir: Path, seed: int, per_key: int) -> dict[str, list[str]]:
    """Lookup values for each key, drawn from the loaded events of account/us-east-1 (frequent and rare)."""
    from turnout.store.db import Database

    db = Database(data_dir / "turnout.db")
    rng = random.Random(seed + 1)
    top = int(db.scalar("SELECT MAX(seq) FROM cloudtrail_events") or 0)
    seqs = [rng.randrange(1, top + 1) for _ in range(per_key * 4)]
    rows = db.all("SELECT event_id, event_name, read_only, username, access_key_id, resources, event_source, region "
                  f"FROM cloudtrail_events WHERE seq IN ({', '.join('?' for _ in seqs)})", seqs)
    db.close()
    rows = [r for r in rows if r["region"] == "us-east-1"]
    out: dict[str, list[str]] = {key: [] for key in KEYS}
    for row in rows:
        resources = json.loads(row["resources"])
        out["EventId"].append(row["event_id"])
        out["EventName"].append(row["event_name"])
        out["ReadOnly"].append("true" if row["read_only"] else "false")
        out["Username"].append(row["username"])
        out["AccessKeyId"].append(row["access_key_id"])
        out["EventSource"].append(row["event_source"])
        if resources:
            out["ResourceType"].append(resources[0][0])
            out["ResourceName"].append(resources[0][1])
    return {key: (values * per_key)[:per_key] for key, values in out.items() if values}


def _timed(port: int, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    raw = sign_json(port, body).raw
    started = time.perf_counter()
    response = exchange(port, raw, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise BenchError(f"LookupEvents {body} answered {response.status}: {response.body[:300]!r}")
    return elapsed, json.loads(response.body)


def _check(key: str | None, value: str | None, answer: dict[str, Any]) -> int:
    events = answer.get("Events", [])
    times = [e["EventTime"] for e in events]
    if times != sorted(times, reverse=True):
        raise BenchError(f"LookupEvents {key}={value}: events not newest first")
    for event in events:
        matched = {
            None: True,
            "EventId": event["EventId"] == value, "EventName": event["EventName"] == value,
            "ReadOnly": event["ReadOnly"] == value, "Username": event.get("Username") == value,
            "AccessKeyId": event.get("AccessKeyId") == value, "EventSource": event["EventSource"] == value,
            "ResourceType": any(r["ResourceType"] == value for r in event["Resources"]),
            "ResourceName": any(r["ResourceName"] == value for r in event["Resources"]),
        }[key]
        if not matched:
            raise BenchError(f"LookupEvents {key}={value} returned a non-matching event {event['EventId']}")
    if not events:
        raise BenchError(f"LookupEvents {key}={value} found nothing")
    return len(events)


def lookups(workdir: Path, per_key: int, seed: int) -> dict[str, Any]:
    values = _values(workdir / "data", seed, per_key)
    results: dict[str, Any] = {}
    with ServerProcess(TURNOUT, workdir) as server:
        ready = server.wait_ready()
        print(f"  turnout ready on the {workdir.name} data in {ready * 1000:.0f} ms; {per_key} lookups per key")
        _timed(server.port, {"MaxResults": 1})  # first use: imports, caches
        cases: list[tuple[str, str | None, list[dict[str, Any]]]] = [
            ("(none)", None, [{} for _ in range(per_key)])]
        for key in KEYS:
            cases.append((key, key, [{"LookupAttributes": [{"AttributeKey": key, "AttributeValue": v}]}
                                     for v in values.get(key, [])]))
        now = time.time()
        rng = random.Random(seed + 2)
        ranges = []
        for _ in range(per_key):
            end = now - rng.uniform(1, SPREAD_DAYS - 1) * 86400
            ranges.append({"StartTime": end - 3600, "EndTime": end})
        cases.append(("(one hour)", None, ranges))
        for label, attribute, bodies in cases:
            samples, found = [], 0
            for body in bodies:
                elapsed, answer = _timed(server.port, {**body, "MaxResults": 50})
                value = body["LookupAttributes"][0]["AttributeValue"] if attribute else None
                found += _check(attribute, value, answer)
                samples.append(elapsed)
            ordered = sorted(samples)
            results[label] = {"requests": len(samples), "p50_ms": round(percentile(ordered, 50), 2),
                              "p99_ms": round(percentile(ordered, 99), 2), "max_ms": round(ordered[-1], 2),
                              "events_per_answer": round(found / max(1, len(samples)), 1)}
        pages = []
        for value in values["EventName"][:per_key]:
            body = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": value}], "MaxResults": 50}
            _, first = _timed(server.port, body)
            if "NextToken" not in first:
                continue
            elapsed, second = _timed(server.port, {**body, "NextToken": first["NextToken"]})
            _check("EventName", value, second)
            if {e["EventId"] for e in first["Events"]} & {e["EventId"] for e in second["Events"]}:
                raise BenchError("the second page repeats events of the first")
            pages.append(elapsed)
        if pages:
            ordered = sorted(pages)
            results["(second page)"] = {"requests": len(pages), "p50_ms": round(percentile(ordered, 50), 2),
                                        "p99_ms": round(percentile(ordered, 99), 2), "max_ms": round(ordered[-1], 2),
                                        "events_per_answer": 50.0}
    rows = [[label, r["requests"], f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.2f}",
             r["events_per_answer"]] for label, r in results.items()]
    print(table(["lookup key", "requests", "p50 ms", "p99 ms", "max ms", "events/answer"], rows))
    worst = max(r["p50_ms"] for r in results.values())
    met = worst < GOAL_P50_MS
    print(f"LookupEvents p50, worst key: {worst:.2f} ms (goal < {GOAL_P50_MS:g} ms for every key: "
          f"{'met' if met else 'NOT met'})")
    return {"keys": results, "worst_p50_ms": worst, "goal_met": met}


# -- recording on / off ---------------------------------------------------------------------------------------


def _no_cloudtrail_argv(port: int, workdir: Path) -> list[str]:
    return [*turnout_argv(port, workdir), "--no-cloudtrail"]


MODES = {
    "on": replace(TURNOUT, name="recording on"),
    "off": replace(TURNOUT, name="recording off", argv=_no_cloudtrail_argv),
}


def _health(server: ServerProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{HOST}:{server.port}/_turnout/health", timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def throughput(workroot: Path, args: argparse.Namespace) -> dict[str, Any]:
    modes: dict[str, Any] = {mode: {"rounds": []} for mode in MODES}
    for round_no in range(args.rounds):
        for mode, spec in MODES.items():
            print(f"{spec.name}{f' (round {round_no + 1} of {args.rounds})' if args.rounds > 1 else ''}...",
                  flush=True)
            with ServerProcess(spec, workroot / f"{spec.slug}-{round_no}") as server:
                prepare(server)
                loads = [measure(server, args, conns, args.warmup) for conns in args.conns]
                time.sleep(0.3)  # one more flush period
                health = _health(server)["cloudtrail"]
            modes[mode]["rounds"].append(loads)
            modes[mode].setdefault("health", []).append(health)
            if mode == "on":
                served = sum(load.requests for load in loads)
                if health["dropped"] or health["recorded"] < served:
                    raise BenchError(f"recording lost events: {health} for {served} GetRole requests measured")
                print(f"  recorded {health['recorded']:,} events (>= {served:,} GetRole requests measured), "
                      f"dropped {health['dropped']}")
    for data in modes.values():
        data["loads"] = [_median_round([r[i].as_dict() for r in data["rounds"]]) for i in range(len(args.conns))]
        data["rounds"] = [[load.as_dict() for load in r] for r in data["rounds"]]
    rows = []
    for mode, data in modes.items():
        for load in data["loads"]:
            rows.append([MODES[mode].name, load["connections"], f"{load['rps']:.1f}", f"{load['p50_ms']:.2f}",
                         f"{load['p99_ms']:.2f}", load["errors"], f"{load['server_cpu_pct']:.0f}%",
                         f"{load['server_cpu_us_per_req']:.0f}", f"{load['other_cpu_pct']:.0f}%"])
    print(f"\nGetRole as root, {args.warmup:g}s warmup + {args.duration:g}s measured per level, median of "
          f"{args.rounds} round(s) (CPU: 100% = one core)")
    print(table(["CloudTrail", "conns", "req/s", "p50 ms", "p99 ms", "errors", "server CPU", "CPU us/req",
                 "other CPU"], rows))
    summary: dict[str, Any] = {"throughput_cost_pct": {}, "cpu_cost_pct": {}}
    busiest = max((load["other_cpu_pct"] for data in modes.values() for load in data["loads"]), default=0.0)
    if busiest > BUSY_PCT:
        print(f"WARNING: other processes used up to {busiest:.0f}% CPU during a measurement: rerun on a quiet machine")
    for on, off in zip(modes["on"]["loads"], modes["off"]["loads"], strict=True):
        conns = str(on["connections"])
        if off["rps"] > 0:
            summary["throughput_cost_pct"][conns] = round(100 * (1 - on["rps"] / off["rps"]), 1)
        if on["server_cpu_us_per_req"] > 0:
            summary["cpu_cost_pct"][conns] = round(
                100 * (on["server_cpu_us_per_req"] - off["server_cpu_us_per_req"]) / on["server_cpu_us_per_req"], 1)
    costs = summary["throughput_cost_pct"]
    summary["goal_met"] = bool(costs) and max(costs.values()) < GOAL_COST_PCT
    print("recording cost, throughput (1 - on/off): " + ", ".join(f"conns={c}: {v:.1f}%" for c, v in costs.items())
          + f"  (goal < {GOAL_COST_PCT:g}%: {'met' if summary['goal_met'] else 'NOT met'})")
    print("recording cost, server CPU per request: "
          + ", ".join(f"conns={c}: {v:.1f}%" for c, v in summary["cpu_cost_pct"].items()))
    return {"modes": modes, "summary": summary}


# -- driver ---------------------------------------------------------------------------------------------------


def _parts(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in parts if p not in ("load", "lookup", "throughput")]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"parts are load, lookup, throughput (not {', '.join(unknown)})")
    return parts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parts", type=_parts, default=["load", "lookup", "throughput"],
                        help="load,lookup,throughput (lookup needs load)")
    parser.add_argument("--events", type=int, default=1_000_000, help="events to load (default 1,000,000)")
    parser.add_argument("--lookups", type=int, default=40, help="LookupEvents requests per key (default 40)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic history")
    parser.add_argument("--conns", type=_levels, default=[16], help="GetRole concurrency levels (default 16)")
    parser.add_argument("--warmup", type=_seconds(0, 60), default=2.0, help="seconds not measured (default 2)")
    parser.add_argument("--duration", type=_seconds(1, 300), default=8.0, help="seconds measured (default 8)")
    parser.add_argument("--rounds", type=int, choices=range(1, 6), default=3, metavar="N",
                        help="recording on and off N times each, alternating (default 3)")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--gen-procs", type=int, choices=[1, 2], default=1)
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")


def run(args: argparse.Namespace) -> int:
    if "lookup" in args.parts and "load" not in args.parts:
        raise SystemExit("--parts lookup needs load (the events are loaded into a temporary directory)")
    generator = "wrk" if args.generator in ("auto", "wrk") and wrk_path() else "python"
    source = git_state(REPO)
    print(f"cloudtrail benchmark: Turnout from {source['path']} at {source.get('commit') or 'an unknown commit'}"
          f"{' with uncommitted changes' if source.get('dirty') else ''}; parts {', '.join(args.parts)}")
    payload: dict[str, Any] = {"benchmark": NAME, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                               "loadavg_before": os.getloadavg()[0], "machine": machine_info(),
                               "turnout_source": source,
                               "settings": {"events": args.events, "lookups_per_key": args.lookups, "seed": args.seed,
                                            "conns": args.conns, "warmup_s": args.warmup,
                                            "duration_s": args.duration, "rounds": args.rounds,
                                            "generator": generator}}
    code = 0
    with tempfile.TemporaryDirectory(prefix="turnout-bench-") as tmp:
        workdir = Path(tmp) / "history"
        if "load" in args.parts:
            payload["load"] = load(workdir / "data", args.events, args.seed)
        if "lookup" in args.parts:
            payload["lookup"] = lookups(workdir, args.lookups, args.seed)
        if "throughput" in args.parts:
            args.generator = generator
            payload["throughput"] = throughput(Path(tmp), args)
    path = write_results(NAME, payload, args.out or Path(__file__).resolve().parent / "results")
    print(f"\nresults: {path}")
    return code
