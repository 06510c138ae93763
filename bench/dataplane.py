"""The data plane (issue 13): a load balancer listener's throughput and latency against a direct connection to the
same ECS task, and failed requests while a listener rule's weights shift between two target groups 100 times.

One ``turnout serve --time-scale 100`` (health checks every 50 ms). Two RunTask tasks of two revisions of one task
definition run the built-in app (``python -m turnout.dataplane.taskapp``) as child processes of the server; each is
registered by its private IP in its own ``ip`` target group (blue, green). One listener's rule forwards to blue 100 /
green 0. The load generator (wrk when installed, else bench/loadgen.py's raw sockets) sends ``GET /`` to the blue
task's local address (direct) and to the listener, alternately at each connection level. Then two closed-loop
keep-alive clients send ``GET /`` through the listener while ModifyRule flips the weights 100/0 <-> 0/100.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import (
    HOST,
    BenchError,
    ServerProcess,
    SignedRequest,
    boto_client,
    git_state,
    machine_info,
    median,
    process_tree_cpu,
    table,
    with_server_args,
    write_results,
)
from .common import TURNOUT as TURNOUT_SPEC
from .loadgen import LoadResult, run_load, wrk_path

NAME = "dataplane"
TIME_SCALE = 100  # turnout serve --time-scale: a 5 s health check interval lasts 50 ms
GOAL_RATIO = 0.5  # goal 1: listener req/s >= 0.5 x direct req/s at every level
GOAL_ADDED_P99_MS = 5.0  # goal 2: listener p99 - direct p99 under 5 ms at 2 connections
GOAL_P99_CONNS = 2
SHIFT_CLIENTS = 2
REQUEST_TIMEOUT = 10.0  # seconds a shift client waits for one answer
SETUP_TIMEOUT = 60.0  # seconds for the tasks to run, be healthy and be served
BUSY_PCT = 15.0  # other processes' CPU above which a measurement is flagged as skewed


def _levels(text: str) -> list[int]:
    levels = [int(part) for part in text.split(",") if part.strip()]
    if not levels or any(not 1 <= n <= 256 for n in levels):
        raise argparse.ArgumentTypeError("a comma-separated list of connection counts, each 1..256")
    return levels


def _bounded(kind: type, low: float, high: float) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conns", type=_levels, default=[GOAL_P99_CONNS, 16],
                        help="concurrency levels (default 2,16)")
    parser.add_argument("--warmup", type=_bounded(float, 0, 60), default=2.0,
                        help="seconds not measured before each measurement (default 2)")
    parser.add_argument("--duration", type=_bounded(float, 1, 300), default=8.0,
                        help="seconds measured per target and level (default 8)")
    parser.add_argument("--rounds", type=_bounded(int, 1, 5), default=1, metavar="N",
                        help="measure direct and listener N times at each level, alternating; the goals use the "
                             "median round's ratio and added p99 (default 1)")
    parser.add_argument("--shifts", type=_bounded(int, 2, 10000), default=100,
                        help="ModifyRule weight flips under load (default 100)")
    parser.add_argument("--shift-pause", type=_bounded(float, 0, 5), default=0.05,
                        help="seconds between two flips, so that each weighting serves some requests (default 0.05)")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto",
                        help="auto: wrk when installed, else the raw-socket Python generator")
    parser.add_argument("--server-args", default="", metavar="ARGS",
                        help="extra `turnout serve` flags (recorded in the results)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")


# -- setup ------------------------------------------------------------------------------------------------------


def _dataplane(server: ServerProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{HOST}:{server.port}/_turnout/dataplane", timeout=5) as response:
        found: dict[str, Any] = json.loads(response.read())
    return found


def _until(what: Any, message: str, server: ServerProcess, timeout: float = SETUP_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = what()
        if last:
            return last
        time.sleep(0.05)
    raise BenchError(f"not within {timeout:.0f}s: {message} (last: {last!r})\n{server.log_tail()}")


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


@dataclass
class Setup:
    listener_arn: str
    rule_arn: str
    groups: dict[str, str]  # blue/green -> target group ARN
    revisions: dict[str, str]  # blue/green -> task definition ARN
    tasks: dict[str, dict[str, Any]]  # blue/green -> the dataplane's task entry
    listener: tuple[str, int]
    setup_s: float = 0.0
    body_bytes: int = 0  # the size of the answer to GET / through the listener


def _forward(groups: dict[str, str], blue_weight: int) -> list[dict[str, Any]]:
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": groups["blue"], "Weight": blue_weight},
        {"TargetGroupArn": groups["green"], "Weight": 100 - blue_weight}]}}]


def build(server: ServerProcess) -> Setup:
    """The ALB, its blue and green groups, a listener whose rule forwards blue 100 / green 0, and two running tasks
    (one per revision) registered by their private IPs: everything served and healthy."""
    began = time.monotonic()
    ec2, elb, ecs = (boto_client(server.port, s) for s in ("ec2", "elbv2", "ecs"))
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    subnet_ids = [s["SubnetId"] for s in subnets[:2]]
    lb = elb.create_load_balancer(Name="bench-dp", Subnets=subnet_ids, Type="application")["LoadBalancers"][0]
    groups: dict[str, str] = {}
    for color in ("blue", "green"):
        groups[color] = elb.create_target_group(
            Name=f"bench-dp-{color}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
            HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
            UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    listener_arn = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                       DefaultActions=fixed)["Listeners"][0]["ListenerArn"]
    rule_arn = elb.create_rule(ListenerArn=listener_arn, Priority=1,
                               Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                               Actions=_forward(groups, 100))["Rules"][0]["RuleArn"]
    cluster = ecs.create_cluster(clusterName="bench-dp")["cluster"]["clusterArn"]
    revisions: dict[str, str] = {}
    task_arns: dict[str, str] = {}
    for color, version in (("blue", "1.27"), ("green", "1.28")):
        revisions[color] = ecs.register_task_definition(
            family="bench-dp", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "web", "image": f"public.ecr.aws/nginx/nginx:{version}",
                                   "essential": True, "portMappings": [{"containerPort": 80}]}],
        )["taskDefinition"]["taskDefinitionArn"]
        started = ecs.run_task(
            cluster=cluster, taskDefinition=revisions[color], launchType="FARGATE", count=1,
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnet_ids, "assignPublicIp": "DISABLED"}})
        if not started.get("tasks"):
            raise BenchError(f"RunTask started no task: {started.get('failures')}")
        task_arns[color] = started["tasks"][0]["taskArn"]

    def running() -> dict[str, dict[str, Any]] | None:
        found = ecs.describe_tasks(cluster=cluster, tasks=list(task_arns.values()))["tasks"]
        if any(t["lastStatus"] == "STOPPED" for t in found):
            raise BenchError(f"a task stopped: {[t.get('stoppedReason') for t in found]}\n{server.log_tail()}")
        if len(found) != 2 or any(t["lastStatus"] != "RUNNING" for t in found):
            return None
        return {t["taskArn"]: t for t in found}
    described = _until(running, "both tasks RUNNING", server)
    for color, arn in task_arns.items():
        ip = next(d["value"] for a in described[arn]["attachments"] for d in a["details"]
                  if d["name"] == "privateIPv4Address")
        elb.register_targets(TargetGroupArn=groups[color], Targets=[{"Id": ip, "Port": 80}])

    def healthy() -> bool:
        return all(
            [d["TargetHealth"]["State"] for d in elb.describe_target_health(TargetGroupArn=g)[
                "TargetHealthDescriptions"]] == ["healthy"] for g in groups.values())
    _until(healthy, "both targets healthy", server)

    def served() -> tuple[dict[str, dict[str, Any]], tuple[str, int]] | None:
        plane = _dataplane(server)
        tasks = {t["taskArn"]: t for t in plane["tasks"]}
        listener = next((i["address"] for i in plane["listeners"] if i["listenerArn"] == listener_arn), None)
        if listener is None or any(arn not in tasks for arn in task_arns.values()):
            return None
        return {color: tasks[arn] for color, arn in task_arns.items()}, _address(listener)
    tasks, listener = _until(served, "listener and tasks in /_turnout/dataplane", server)
    setup = Setup(listener_arn, rule_arn, groups, revisions, tasks, listener)
    for color in ("blue", "green"):  # each task answers as its revision, directly
        answer = _get(_address(tasks[color]["address"]))
        if answer[0] != 200 or answer[1] != revisions[color]:
            raise BenchError(f"the {color} task answered {answer} directly")
    answer = _get(listener)
    if answer[0] != 200 or answer[1] != revisions["blue"]:
        raise BenchError(f"the listener answered {answer}, not blue's revision")
    setup.body_bytes = answer[2]
    setup.setup_s = time.monotonic() - began
    return setup


def _get(address: tuple[str, int]) -> tuple[int, str | None, int]:
    """One GET / on a new connection: (status, the answering task definition ARN or None, body bytes)."""
    connection = http.client.HTTPConnection(*address, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    try:
        revision = json.loads(body).get("taskDefinitionArn")
    except (ValueError, AttributeError):
        revision = None
    return response.status, revision, len(body)


# -- throughput -------------------------------------------------------------------------------------------------


def _at_port(server: ServerProcess, port: int) -> ServerProcess:
    """``server`` as the load generator sees it, but reached on ``port``: its CPU is still the server's process
    tree (the server, its workers and the task processes it started)."""
    view = copy.copy(server)
    view.port = port
    return view


def measure(server: ServerProcess, setup: Setup, target: str, conns: int, args: argparse.Namespace) -> dict[str, Any]:
    address = setup.listener if target == "listener" else _address(setup.tasks["blue"]["address"])
    request = SignedRequest("GET", "/", (("Host", f"{address[0]}:{address[1]}"),), b"")
    pid = int(setup.tasks["blue"]["pid"])
    before, began = process_tree_cpu(pid), time.monotonic()
    result: LoadResult = run_load(_at_port(server, address[1]), request, conns, args.warmup, args.duration,
                                  args.generator)
    # the task's own CPU, averaged over the whole run_load call (warmup and measurement both: a steady load)
    task_pct = 100 * (process_tree_cpu(pid) - before) / (time.monotonic() - began)
    row = {"target": target, **result.as_dict(), "task_cpu_pct": round(task_pct, 1)}
    print(f"  {target:<8} conns={conns:<3} {result.rps:9.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
          f"p99 {result.p99_ms:6.2f} ms  errors {result.errors}", flush=True)
    if server.process is not None and server.process.poll() is not None:
        raise BenchError(f"turnout died under load:\n{server.log_tail()}")
    return row


# -- shifts -----------------------------------------------------------------------------------------------------


@dataclass
class ShiftClients:
    """Closed-loop keep-alive clients (http.client) sending GET / through the listener until stopped, counting
    answers per revision and failures (no answer, or a status >= 500)."""

    address: tuple[str, int]
    count: int
    answers: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> ShiftClients:
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(self.count)]
        for thread in self.threads:
            thread.start()
        return self

    def _loop(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while not self.stop.is_set():
            if connection is None:
                connection = http.client.HTTPConnection(*self.address, timeout=REQUEST_TIMEOUT)
            current = connection
            outcome: str
            try:
                current.request("GET", "/")
                response = current.getresponse()
                body = response.read()
                if response.status >= 500:
                    outcome = f"!http-{response.status}"
                else:
                    try:
                        outcome = str(json.loads(body).get("taskDefinitionArn"))
                    except (ValueError, AttributeError):
                        outcome = f"other-{response.status}"
                if response.will_close:
                    current.close()
                    connection = None
            except (OSError, http.client.HTTPException) as exc:
                outcome = f"!{type(exc).__name__}"
                current.close()
                connection = None
            with self.lock:
                self.sent += 1
                if outcome.startswith("!"):
                    self.failures[outcome[1:]] += 1
                else:
                    self.answers[outcome] += 1
        if connection is not None:
            connection.close()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT + 5)


def shift(server: ServerProcess, setup: Setup, args: argparse.Namespace) -> dict[str, Any]:
    elb = boto_client(server.port, "elbv2")
    clients = ShiftClients(setup.listener, SHIFT_CLIENTS).start()
    time.sleep(0.5)  # the clients are going
    sent_before = clients.sent
    began = time.monotonic()
    call_ms: list[float] = []
    try:
        for number in range(args.shifts):
            blue_weight = 0 if number % 2 == 0 else 100  # 100/0 -> 0/100 first
            called = time.monotonic()
            elb.modify_rule(RuleArn=setup.rule_arn, Actions=_forward(setup.groups, blue_weight))
            call_ms.append((time.monotonic() - called) * 1000)
            if args.shift_pause:
                time.sleep(args.shift_pause)
        elapsed = time.monotonic() - began
        time.sleep(0.5)  # requests after the last shift
    finally:
        clients.finish()
    names = {rev: color for color, rev in setup.revisions.items()}
    by_color = {names.get(rev, rev): n for rev, n in clients.answers.items()}
    call_ms.sort()
    result = {
        "shifts": args.shifts, "pause_s": args.shift_pause, "seconds": round(elapsed, 3),
        "shifts_per_s": round(args.shifts / elapsed, 1) if elapsed else 0.0,
        "modify_rule_p50_ms": round(call_ms[len(call_ms) // 2], 2),
        "modify_rule_max_ms": round(call_ms[-1], 2),
        "clients": SHIFT_CLIENTS, "requests": clients.sent, "requests_during_shifts": clients.sent - sent_before,
        "answers": by_color, "failed": sum(clients.failures.values()), "failure_detail": dict(clients.failures),
    }
    result["both_revisions"] = all(by_color.get(color, 0) > 0 for color in ("blue", "green"))
    return result


# -- the run ----------------------------------------------------------------------------------------------------


def _report(loads: list[dict[str, Any]], shifts: dict[str, Any], args: argparse.Namespace,
            generator: str) -> dict[str, Any]:
    by_round = args.rounds > 1
    rows = [[*([x["round"]] if by_round else []), x["target"], x["connections"], f"{x['rps']:.1f}",
             f"{x['p50_ms']:.2f}", f"{x['p99_ms']:.2f}", x["errors"], f"{x['server_cpu_pct']:.0f}%",
             f"{x['task_cpu_pct']:.0f}%", f"{x['generator_cpu_pct']:.0f}%", f"{x['other_cpu_pct']:.0f}%"]
            for x in loads]
    print(f"\nGET / answered by one ECS task (the built-in app), {generator} generator, {args.warmup:g}s warmup + "
          f"{args.duration:g}s measured per row (CPU: 100% = one core; server CPU is turnout's whole process tree, "
          "the task process included; task CPU is the task alone, over warmup + measurement together)")
    print(table([*(["round"] if by_round else []), "target", "conns", "req/s", "p50 ms", "p99 ms", "errors",
                 "server CPU", "task CPU", "gen CPU", "other CPU"], rows))
    summary: dict[str, Any] = {"ratios": {}, "added_p99_ms": {}}
    busiest = max((x["other_cpu_pct"] for x in loads), default=0.0)
    if busiest > BUSY_PCT:
        print(f"WARNING: other processes used up to {busiest:.0f}% CPU during a measurement: the numbers are skewed")
    # per level, each round's (listener / direct req/s, listener p99 - direct p99); the medians are judged
    pairs: dict[int, dict[int, dict[str, dict[str, Any]]]] = {}
    for x in loads:
        pairs.setdefault(x["connections"], {}).setdefault(x["round"], {})[x["target"]] = x
    for conns, rounds in pairs.items():
        ratios = [r["listener"]["rps"] / r["direct"]["rps"] for r in rounds.values() if r["direct"]["rps"] > 0]
        added_p99 = [r["listener"]["p99_ms"] - r["direct"]["p99_ms"] for r in rounds.values()]
        if ratios:
            summary["ratios"][str(conns)] = round(median(ratios), 3)
        summary["added_p99_ms"][str(conns)] = round(median(added_p99), 2)
    errors = sum(x["errors"] for x in loads)
    text = ", ".join(f"conns={c}: {r:.2f}" for c, r in summary["ratios"].items())
    worst = min(summary["ratios"].values(), default=0.0)
    summary["goal_ratio_met"] = worst >= GOAL_RATIO and errors == 0
    print(f"\nthroughput ratio listener/direct{' (median round)' if args.rounds > 1 else ''}: {text}")
    print(f"goal 1, listener >= {GOAL_RATIO:g} x direct at every level (and no errors): "
          f"{'met' if summary['goal_ratio_met'] else 'MISSED'} (worst {worst:.2f}, {errors} errors)")
    added = summary["added_p99_ms"].get(str(GOAL_P99_CONNS))
    summary["goal_p99_met"] = None if added is None else added < GOAL_ADDED_P99_MS
    print("added p99 latency (listener p99 - direct p99): "
          + ", ".join(f"conns={c}: {a:.2f} ms" for c, a in summary["added_p99_ms"].items()))
    print(f"goal 2, added p99 at {GOAL_P99_CONNS} connections < {GOAL_ADDED_P99_MS:g} ms: "
          + ("not measured (add it to --conns)" if added is None else
             f"{'met' if summary['goal_p99_met'] else 'MISSED'} ({added:.2f} ms)"))
    if any(a < 0 for a in summary["added_p99_ms"].values()):
        print("  (a negative difference: the direct run's p99 was the worse one, so the machine's noise is larger "
              "than the listener's cost here; --rounds 3 on a quiet machine gives a steadier figure)")
    print(f"\n{shifts['shifts']} weight shifts (ModifyRule 100/0 <-> 0/100, {shifts['pause_s']:g}s apart) in "
          f"{shifts['seconds']:.2f} s ({shifts['shifts_per_s']:.1f} shifts/s; ModifyRule p50 "
          f"{shifts['modify_rule_p50_ms']:.1f} ms, max {shifts['modify_rule_max_ms']:.1f} ms) under "
          f"{shifts['clients']} keep-alive clients: {shifts['requests']} requests "
          f"({shifts['requests_during_shifts']} while shifting), answers {shifts['answers']}, "
          f"failed {shifts['failed']} {shifts['failure_detail'] or ''}")
    summary["goal_shifts_met"] = shifts["failed"] == 0 and shifts["both_revisions"]
    print(f"goal 3, 0 failed requests during {shifts['shifts']} shifts, answers from both revisions: "
          f"{'met' if summary['goal_shifts_met'] else 'MISSED'} ({shifts['failed']} failed, "
          f"{'both' if shifts['both_revisions'] else 'NOT both'} revisions answered)")
    return summary


def run(args: argparse.Namespace) -> int:
    import shlex

    generator = "wrk" if args.generator in ("auto", "wrk") and wrk_path() else "python"
    if args.generator == "wrk" and generator != "wrk":
        raise SystemExit("--generator wrk: wrk is not installed (apt-get install wrk)")
    server_args = ["--time-scale", str(TIME_SCALE), *shlex.split(args.server_args)]
    spec = with_server_args(TURNOUT_SPEC, server_args)
    source = git_state(Path(__file__).resolve().parent.parent)
    print(f"Turnout from {source['path']} at {source.get('commit') or 'an unknown commit'}"
          f"{' with uncommitted changes' if source.get('dirty') else ''}")
    print(f"data plane benchmark: turnout serve {shlex.join(server_args)}; generator {generator}; conns {args.conns}; "
          f"{args.shifts} shifts", flush=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"note: load average is {load_before:.2f} before the run; other work on this machine skews results")
    loads: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="turnout-bench-") as tmp, ServerProcess(spec, Path(tmp)) as server:
        server.wait_ready()
        setup = build(server)
        print(f"setup: 2 RunTask tasks running and healthy, listener on {setup.listener[0]}:{setup.listener[1]}, "
              f"blue task on {setup.tasks['blue']['address']} (pid {setup.tasks['blue']['pid']}), "
              f"in {setup.setup_s:.1f} s; GET / answers {setup.body_bytes} bytes of JSON", flush=True)
        for round_no in range(args.rounds):
            for conns in args.conns:
                for target in ("direct", "listener"):
                    loads.append({"round": round_no + 1, **measure(server, setup, target, conns, args)})
        print(f"shifting the weights {args.shifts} times under load...", flush=True)
        shifts = shift(server, setup, args)
    summary = _report(loads, shifts, args, generator)
    payload = {
        "benchmark": NAME, "started": started, "loadavg_before": load_before,
        "settings": {"conns": args.conns, "warmup_s": args.warmup, "duration_s": args.duration,
                     "rounds": args.rounds, "shifts": args.shifts, "shift_pause_s": args.shift_pause,
                     "generator": generator,
                     "turnout_server_args": server_args, "request": "GET / (the built-in task app's JSON answer)"},
        "machine": machine_info(), "turnout_source": source,
        "response_bytes": setup.body_bytes, "loads": loads, "shifts": shifts, "summary": summary,
    }
    out_dir = args.out or Path(__file__).resolve().parent / "results"
    path = write_results(NAME, payload, out_dir)
    print(f"\nresults: {path}")
    return 0
