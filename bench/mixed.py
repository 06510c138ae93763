"""50 clients of a mixed read/write load of several services (issue 11, goal: p99 under 50 ms), then the same mix
with one client calling GetAccountAuthorizationDetails over 1,000 roles in a loop while probes check that
``/_turnout/health`` stays fast (goal: p99 under 10 ms while a heavy call runs).

A fresh ``turnout serve`` (default options, plus ``--server-args``) on a free 127.0.0.1 port. Setup through boto3
as root, not measured: users, roles with inline policies, ECS clusters, an ALB. Every request of the mix is
signed before the window (bench/mixplan.py); the clients run in their own process, one kept-alive connection
each, closed loop (bench/mixgen.py). Results go to bench/results/<time>-mixed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .common import (
    BenchError,
    ServerProcess,
    boto_client,
    exchange,
    machine_info,
    percentile,
    table,
    turnout_source,
    with_server_args,
    write_results,
)
from .getrole import BUSY_PCT, _seconds
from .mixgen import PROBE_LABELS, HeavyCalls, Samples, Window, heavy_loop, start_mix, start_probes
from .mixplan import HEAVY, WRITE_SEQUENCE, Fixture, Plan, build_plan, label, sign, write_params, writes_per_client
from .mixstats import in_window, merge, overlaps, rows_by_label

NAME = "mixed"
GOAL_MIX_P99_MS = 50.0
GOAL_HEALTH_P99_MS = 10.0
PROBE_INTERVAL = 0.02
FIXTURE_SIZE = 20  # users and roles the reads rotate over
CLUSTERS = 3
SETUP_THREADS = 4
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
INLINE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::mix-bucket", "arn:aws:s3:::mix-bucket/*"]},
    {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]})
POLICY_NAME = "mix-inline"


def _count(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=_count(1, 500), default=50, help="concurrent clients (default 50)")
    parser.add_argument("--duration", type=_seconds(1, 300), default=10.0, help="seconds measured per phase "
                        "(default 10)")
    parser.add_argument("--warmup", type=_seconds(0, 60), default=3.0, help="seconds not measured before each "
                        "phase's window (default 3)")
    parser.add_argument("--roles", type=_count(0, 5000), default=1000,
                        help="roles created before phase 2, for GetAccountAuthorizationDetails (default 1000)")
    parser.add_argument("--server-args", default="", metavar="ARGS",
                        help='extra `turnout serve` flags: "--workers 1", =--no-cloudtrail (recorded in the results)')
    parser.add_argument("--turnout-src", type=Path, default=None, metavar="DIR",
                        help="benchmark the Turnout in another checkout (its root or src/), e.g. to compare commits")
    parser.add_argument("--plan-rps", type=_count(100, 100_000), default=6000,
                        help="throughput the signed writes are planned for (default 6000 req/s); when the clients "
                             "run out of signed writes the mix has fewer writes and the run says so")
    parser.add_argument("--skip-heavy", action="store_true", help="phase 1 only")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")


# -- setup (boto3, not measured) ---------------------------------------------------------------------------------


def setup(server: ServerProcess) -> Fixture:
    iam, ecs, ec2, elb = (boto_client(server.port, s) for s in ("iam", "ecs", "ec2", "elbv2"))
    users = tuple(f"mix-user-{i:02d}" for i in range(FIXTURE_SIZE))
    roles = tuple(f"mix-role-{i:02d}" for i in range(FIXTURE_SIZE))
    for user in users:
        iam.create_user(UserName=user, Tags=[{"Key": "team", "Value": "bench"}])
    for role in roles:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=INLINE)
    clusters = tuple(ecs.create_cluster(clusterName=f"mix-cluster-{i}")["cluster"]["clusterName"]
                     for i in range(CLUSTERS))
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    elb.create_load_balancer(Name="mix-alb", Subnets=[s["SubnetId"] for s in subnets[:2]], Type="application")
    return Fixture(users, roles, POLICY_NAME, clusters)


def create_roles(server: ServerProcess, count: int) -> float:
    """``count`` more roles through the API (``SETUP_THREADS`` boto3 clients): seconds taken."""
    started = time.monotonic()
    local = threading.local()

    def one(index: int) -> None:
        if not hasattr(local, "iam"):
            local.iam = boto_client(server.port, "iam")
        local.iam.create_role(RoleName=f"heavy-role-{index:04d}", Path="/heavy/", AssumeRolePolicyDocument=TRUST,
                              Description="a role for GetAccountAuthorizationDetails to list")
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        list(pool.map(one, range(count)))
    return time.monotonic() - started


def check_plan(server: ServerProcess, plan: Plan, fixture: Fixture) -> None:
    """Every distinct read once, and one CreateUser/TagRole/DeleteUser chain: each must answer 200."""
    reads = {index for cycle in plan.cycles for index in cycle if index >= 0}
    checks = [(plan.labels[plan.requests[i][0]], plan.requests[i][1]) for i in sorted(reads)]
    for number in range(3):  # CreateUser, TagRole, DeleteUser of the same user
        service, operation = WRITE_SEQUENCE[number]
        params = write_params(operation, fixture, "mix-check", 0, number)
        checks.append((label(service, operation), sign(server.port, service, operation, params)))
    for name, raw in checks:
        response = exchange(server.port, raw)
        if response.status != 200:
            raise BenchError(f"{name} answered {response.status} before the load: {response.body[:400]!r}\n"
                             f"{server.log_tail()}")


# -- one phase ---------------------------------------------------------------------------------------------------


def run_phase(server: ServerProcess, plan: Plan, args: argparse.Namespace, heavy: bytes | None) -> dict[str, Any]:
    """The mix (and the heavy client when ``heavy``), health probes all along; what was measured."""
    window = Window.after(args.warmup, args.duration)
    mix = start_mix(server.port, plan, window)
    probes = start_probes(server.port, PROBE_INTERVAL, window)
    heavy_calls = HeavyCalls()
    thread = None
    if heavy is not None:
        thread = threading.Thread(target=heavy_loop, args=(server.port, heavy, window, heavy_calls), daemon=True)
        thread.start()
    while time.monotonic() < window.warm_end:
        time.sleep(0.05)
    cpu = server.cpu_window()
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    while time.monotonic() < window.end:
        time.sleep(0.05)
    seconds, server_pct, machine_pct = cpu.close()
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    mixed, probed = mix.result(window), probes.result(window)
    if thread is not None:
        thread.join(window.end - time.monotonic() + 60)
    if server.process is not None and server.process.poll() is not None:
        raise BenchError(f"turnout died under load:\n{server.log_tail()}")
    samples, health = Samples.unpack(mixed["samples"]), Samples.unpack(probed["samples"])
    start_ns, end_ns = window.ns
    chosen = in_window(samples, start_ns, end_ns)
    rows = rows_by_label(samples, plan.labels, chosen, "all mix requests")
    requests = len(chosen)
    client_pct = 100 * (mixed["cpu"] + (self_after.ru_utime + self_after.ru_stime)
                        - (self_before.ru_utime + self_before.ru_stime)) / seconds
    out: dict[str, Any] = {
        "window_s": round(seconds, 3), "requests": requests, "rps": round(requests / args.duration, 1),
        "rows": rows, "socket_errors": mixed["errors"], "writes_exhausted": mixed["exhausted"],
        "server_cpu_pct": round(server_pct, 1),
        "server_cpu_us_per_req": round(server_pct / 100 * args.duration / requests * 1e6, 1) if requests else 0.0,
        "client_cpu_pct": round(client_pct, 1),
        "other_cpu_pct": round(max(0.0, machine_pct - server_pct - client_pct), 1),
        "health": _health_rows(health, start_ns, end_ns, None), "probe_errors": probed["errors"],
    }
    if heavy is not None:
        out.update(_heavy(heavy_calls, samples, plan, health, start_ns, end_ns))
    return out


def run_heavy_alone(server: ServerProcess, args: argparse.Namespace, heavy: bytes) -> dict[str, Any]:
    """The heavy client alone, health probes all along (goal 2 as the issue words it: while a heavy call runs)."""
    window = Window.after(args.warmup, args.duration)
    probes = start_probes(server.port, PROBE_INTERVAL, window)
    calls = HeavyCalls()
    thread = threading.Thread(target=heavy_loop, args=(server.port, heavy, window, calls), daemon=True)
    thread.start()
    while time.monotonic() < window.end:
        time.sleep(0.05)
    probed = probes.result(window)
    thread.join(window.end - time.monotonic() + 60)
    health = Samples.unpack(probed["samples"])
    start_ns, end_ns = window.ns
    spans = [(sent, done) for sent, done, _, _ in calls.calls if done >= start_ns and sent < end_ns]
    busy = merge(spans)
    durations = sorted((done - sent) / 1e6 for sent, done, _, _ in calls.calls)
    covered = sum(min(e, end_ns) - max(s, start_ns) for s, e in busy) / max(1, end_ns - start_ns)
    return {
        "heavy": {"operation": label(*HEAVY), "calls": len(calls.calls), "in_window": len(spans),
                  "p50_ms": round(percentile(durations, 50), 1), "max_ms": round(max(durations, default=0.0), 1),
                  "statuses": sorted({status for _, _, status, _ in calls.calls}), "errors": dict(calls.errors),
                  "window_share": round(covered, 3)},
        "health_during_heavy": _health_rows(health, start_ns, end_ns, busy), "probe_errors": probed["errors"],
    }


def _health_rows(health: Samples, start_ns: int, end_ns: int, busy: list[tuple[int, int]] | None) -> list[Any]:
    chosen = [i for i in in_window(health, start_ns, end_ns)
              if busy is None or overlaps(health.sent[i], health.done[i], busy)]
    return rows_by_label(health, PROBE_LABELS, chosen, "health (both probes)")


def _heavy(calls: HeavyCalls, samples: Samples, plan: Plan, health: Samples, start_ns: int,
           end_ns: int) -> dict[str, Any]:
    """The heavy calls, and the mix and the probes restricted to the requests that overlapped one."""
    spans = [(sent, done) for sent, done, _, _ in calls.calls if done >= start_ns and sent < end_ns]
    busy = merge(spans)
    during = [i for i in in_window(samples, start_ns, end_ns) if overlaps(samples.sent[i], samples.done[i], busy)]
    durations = [(done - sent) / 1e6 for sent, done, _, _ in calls.calls]
    covered = sum(min(e, end_ns) - max(s, start_ns) for s, e in busy) / max(1, end_ns - start_ns)
    return {
        "heavy": {
            "operation": label(*HEAVY), "calls": len(calls.calls), "in_window": len(spans),
            "durations_ms": [round(d, 1) for d in durations],
            "p50_ms": round(percentile(sorted(durations), 50), 1), "max_ms": round(max(durations, default=0.0), 1),
            "statuses": sorted({status for _, _, status, _ in calls.calls}),
            "response_bytes": max((size for _, _, _, size in calls.calls), default=0),
            "errors": dict(calls.errors), "window_share": round(covered, 3),
        },
        "during_heavy": rows_by_label(samples, plan.labels, during, "all mix requests")[-1],
        "health_during_heavy": _health_rows(health, start_ns, end_ns, busy),
    }


# -- report ------------------------------------------------------------------------------------------------------


def _print_rows(rows: list[dict[str, Any]]) -> None:
    print(table(["operation", "calls", "p50 ms", "p99 ms", "max ms", "errors", "statuses"],
                [[r["op"], r["calls"], f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.2f}",
                  r["errors"], " ".join(f"{k}:{v}" for k, v in r["statuses"].items())] for r in rows]))


def _print_phase(title: str, phase: dict[str, Any]) -> None:
    per_req = "us per mix request, the heavy calls' CPU included" if "heavy" in phase else "us/req"
    print(f"\n{title}: {phase['requests']} requests in {phase['window_s']:.1f} s, {phase['rps']:.0f} req/s; "
          f"server CPU {phase['server_cpu_pct']:.0f}% ({phase['server_cpu_us_per_req']:.0f} {per_req}), "
          f"clients {phase['client_cpu_pct']:.0f}%, other {phase['other_cpu_pct']:.0f}% (100% = one core)")
    _print_rows(phase["rows"])
    if phase["socket_errors"]:
        print(f"socket errors: {phase['socket_errors']}")
    if phase["writes_exhausted"]:
        print(f"WARNING: the clients ran out of signed writes {phase['writes_exhausted']} times (reads were sent "
              "instead, so the mix had fewer writes): raise --plan-rps")
    print("health probes over the whole window:")
    _print_rows(phase["health"])
    if "heavy" in phase:
        heavy = phase["heavy"]
        spans = heavy["durations_ms"]
        each = (", ".join(f"{d:.0f}" for d in spans) if len(spans) <= 8 else
                f"p50 {heavy['p50_ms']:.0f}, max {heavy['max_ms']:.0f}")
        errors = f", errors {heavy['errors']}" if heavy["errors"] else ""
        print(f"\n{heavy['operation']}: {heavy['calls']} calls ({heavy['in_window']} overlapping the window, "
              f"covering {heavy['window_share'] * 100:.0f}% of it), each {each} ms, statuses {heavy['statuses']}, "
              f"{heavy['response_bytes']} bytes{errors}")
        print("while a heavy call ran:")
        _print_rows([phase["during_heavy"], *phase["health_during_heavy"]])


def _goals(phase1: dict[str, Any], phase2: dict[str, Any] | None, clients: int,
           alone: dict[str, Any] | None = None) -> dict[str, Any]:
    goals: dict[str, Any] = {}
    mix = phase1["rows"][-1]
    goals["mix_p99"] = {"goal_ms": GOAL_MIX_P99_MS, "p99_ms": mix["p99_ms"], "errors": mix["errors"],
                        "met": mix["p99_ms"] < GOAL_MIX_P99_MS and mix["errors"] == 0}
    print(f"\ngoal 1, {clients} concurrent clients, mixed read/write: p99 < {GOAL_MIX_P99_MS:g} ms: "
          f"{'met' if goals['mix_p99']['met'] else 'MISSED'} (p99 {mix['p99_ms']:.1f} ms at {phase1['rps']:.0f} "
          f"req/s, {mix['errors']} errors)")
    if phase2 is None:
        return goals
    if alone is not None:
        probes = alone["health_during_heavy"][:-1]
        worst = max((r["p99_ms"] for r in probes), default=0.0)
        counted = sum(r["calls"] for r in probes)
        met = counted > 0 and worst < GOAL_HEALTH_P99_MS and all(r["errors"] == 0 for r in probes)
        goals["health_p99_during_heavy_alone"] = {"goal_ms": GOAL_HEALTH_P99_MS, "p99_ms": worst,
                                                  "probes": counted, "met": met}
        print(f"goal 2, /_turnout/health p99 < {GOAL_HEALTH_P99_MS:g} ms while a heavy call runs: "
              f"{'met' if met else 'MISSED'} (worst probe's p99 {worst:.1f} ms over {counted} probes; one "
              f"{alone['heavy']['operation']}: {alone['heavy']['p50_ms']:.0f} ms, covering "
              f"{100 * alone['heavy']['window_share']:.0f}% of the window)")
    probes = phase2["health_during_heavy"][:-1]
    worst = max((r["p99_ms"] for r in probes), default=0.0)
    counted = sum(r["calls"] for r in probes)
    met = counted > 0 and worst < GOAL_HEALTH_P99_MS and all(r["errors"] == 0 for r in probes)
    goals["health_p99_during_heavy"] = {"goal_ms": GOAL_HEALTH_P99_MS, "p99_ms": worst, "probes": counted,
                                        "met": met}
    print(f"goal 2 under the {clients}-client mix too, /_turnout/health p99 < {GOAL_HEALTH_P99_MS:g} ms: "
          f"{'met' if met else 'MISSED'} (worst probe's p99 {worst:.1f} ms over {counted} probes; the mix's p99 "
          f"meanwhile {phase2['during_heavy']['p99_ms']:.0f} ms; one {phase2['heavy']['operation']} over "
          f"{phase2['roles']} roles: {phase2['heavy']['p50_ms']:.0f} ms)")
    return goals


# -- the whole run -----------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    spec, source = turnout_source(args.turnout_src)
    server_args = shlex.split(args.server_args)
    if server_args:
        spec = with_server_args(spec, server_args)
    print(f"Turnout from {source['path']} at {source.get('commit') or 'an unknown commit'}"
          f"{' with uncommitted changes' if source.get('dirty') else ''}; turnout serve "
          f"{shlex.join(server_args) if server_args else '(default options)'}")
    print(f"mixed benchmark: {args.clients} clients, {args.warmup:g} s warmup + {args.duration:g} s measured per "
          f"phase; phase 2 adds GetAccountAuthorizationDetails over {args.roles} roles")
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"note: load average is {load_before:.2f} before the run; other work on this machine skews results")
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    payload: dict[str, Any] = {
        "benchmark": NAME, "started": started, "loadavg_before": load_before,
        "settings": {"clients": args.clients, "warmup_s": args.warmup, "duration_s": args.duration,
                     "roles": args.roles, "turnout_server_args": server_args, "plan_rps": args.plan_rps,
                     "probe_interval_s": PROBE_INTERVAL, "heavy": not args.skip_heavy},
        "machine": machine_info(), "turnout_source": source,
    }
    writes = writes_per_client(args.clients, args.warmup + args.duration, args.plan_rps)
    with tempfile.TemporaryDirectory(prefix="turnout-bench-") as tmp, \
            ServerProcess(spec, Path(tmp) / "turnout") as server:
        payload["ready_ms"] = round(server.wait_ready() * 1000)
        began = time.monotonic()
        try:
            fixture = setup(server)
        except Exception as exc:
            raise BenchError(f"setup failed: {exc}\n{server.log_tail()}") from exc
        payload["setup_s"] = round(time.monotonic() - began, 2)
        began = time.monotonic()
        plan = build_plan(server.port, fixture, args.clients, writes, "mix1")
        signing = time.monotonic() - began
        check_plan(server, plan, fixture)
        print(f"setup {payload['setup_s']:.1f} s; signed {len(plan.requests)} requests in {signing:.1f} s "
              f"({writes} writes per client); every kind answered 200 once", flush=True)
        print("phase 1: the mix...", flush=True)
        phase1 = run_phase(server, plan, args, None)
        payload["phase1"] = phase1
        _print_phase("phase 1, the mix", phase1)
        phase2 = alone = None
        if not args.skip_heavy:
            try:
                took = create_roles(server, args.roles)
            except Exception as exc:
                raise BenchError(f"creating {args.roles} roles failed: {exc}\n{server.log_tail()}") from exc
            print(f"\ncreated {args.roles} roles in {took:.1f} s ({SETUP_THREADS} boto3 threads)", flush=True)
            plan = build_plan(server.port, fixture, args.clients, writes, "mix2")
            heavy = sign(server.port, *HEAVY, {"MaxItems": 1000})
            print("phase 2: the mix, GetAccountAuthorizationDetails (MaxItems 1000) in a loop, health probes...",
                  flush=True)
            phase2 = run_phase(server, plan, args, heavy)
            phase2["roles"] = args.roles
            phase2["roles_created_s"] = round(took, 1)
            payload["phase2"] = phase2
            _print_phase(f"phase 2, the mix and GetAccountAuthorizationDetails over {args.roles} roles", phase2)
            print("\nphase 3: GetAccountAuthorizationDetails in a loop alone, health probes...", flush=True)
            alone = run_heavy_alone(server, args, heavy)
            payload["phase3"] = alone
            print(f"phase 3, GetAccountAuthorizationDetails over {args.roles} roles alone: "
                  f"{alone['heavy']['calls']} calls, each p50 {alone['heavy']['p50_ms']:.0f} ms")
            _print_rows(alone["health_during_heavy"])
        log = server.log_path.read_text(errors="replace")
        payload["log_errors"] = log.count(" ERROR ") + log.count("Traceback")
    busiest = max(p["other_cpu_pct"] for p in (phase1, phase2) if p is not None)
    if busiest > BUSY_PCT:
        print(f"WARNING: other processes used up to {busiest:.0f}% CPU during a measurement: the machine was not "
              "quiet, so these numbers are skewed; run again on an idle machine")
    if payload["log_errors"]:
        print(f"WARNING: the server's log has {payload['log_errors']} errors or tracebacks")
    payload["goals"] = _goals(phase1, phase2, args.clients, alone)
    path = write_results(NAME, payload, args.out or Path(__file__).resolve().parent / "results")
    print(f"\nresults: {path}")
    return 0

