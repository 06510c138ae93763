"""IAM GetRole throughput, p50/p99 latency and readiness: Turnout (SigV4 verified) side by side with ``bare`` (a
bare uvicorn + httptools ASGI app answering Turnout's captured GetRole bytes without checking anything) and
moto_server.

One server at a time on a free 127.0.0.1 port; the same role is created in each, one GetRole request is signed
with botocore's SigV4 and its exact bytes are replayed by the load generator at each concurrency level.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from .common import (
    BENCH_DIR,
    MOTO,
    PROFILED_TURNOUT,
    BenchError,
    ServerProcess,
    ServerSpec,
    boto_client,
    exchange,
    machine_info,
    median,
    sign_query,
    table,
    turnout_source,
    with_server_args,
    write_results,
)
from .loadgen import LoadResult, run_load, wrk_path
from .profiling import print_hot_spots, save_hot_spots
from .profserve import PROFILE_SIGNAL

NAME = "getrole"
ROLE = "turnout-bench-role"
TRUST_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
GET_ROLE = {"Action": "GetRole", "Version": "2010-05-08", "RoleName": ROLE}
LIST_ROLES = {"Action": "ListRoles", "Version": "2010-05-08"}
IAM_NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"
GOAL_RATIO = 10.0
GOAL_BARE_RATIO = 0.5  # issue 11: signed GetRole at least half the bare app's throughput...
GOAL_BARE_CONNS = 2  # ...with 2 connections (how the issue measured it: 3,924 against 15,687 req/s, 25%)
KNOWN_SERVERS = ("turnout", "bare", "moto")
GOAL_READY_MS = 1000.0
PROFILE_TOP = 25
BUSY_PCT = 15.0  # other processes' CPU above which a measurement is flagged as skewed


def _levels(text: str) -> list[int]:
    levels = [int(part) for part in text.split(",") if part.strip()]
    if not levels or any(not 1 <= n <= 256 for n in levels):
        raise argparse.ArgumentTypeError("a comma-separated list of connection counts, each 1..256")
    return levels


def _seconds(low: float, high: float) -> Any:
    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conns", type=_levels, default=[1, GOAL_BARE_CONNS, 16],
                        help="concurrency levels (default 1,2,16)")
    parser.add_argument("--warmup", type=_seconds(0, 60), default=5.0, help="seconds not measured (default 5)")
    parser.add_argument("--duration", type=_seconds(1, 300), default=10.0, help="seconds measured (default 10)")
    parser.add_argument("--servers", default="turnout,bare,moto",
                        help="which servers, in order, of turnout, bare, moto (default turnout,bare,moto)")
    parser.add_argument("--rounds", type=int, choices=range(1, 6), default=1, metavar="N",
                        help="measure every server N times, alternating; the median round is reported (default 1)")
    parser.add_argument("--ready-runs", type=int, choices=range(1, 11), default=3, metavar="N",
                        help="cold starts for the readiness time, median reported (default 3)")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto",
                        help="auto: wrk when installed, else the raw-socket Python generator")
    parser.add_argument("--gen-procs", type=int, choices=[1, 2], default=1,
                        help="generator processes (wrk threads); 1 leaves the other core to the server (default)")
    parser.add_argument("--profile", action="store_true",
                        help="also run Turnout under cProfile at the highest concurrency and print its hot spots")
    parser.add_argument("--turnout-src", type=Path, default=None, metavar="DIR",
                        help="benchmark the Turnout in another checkout (its root or src/), e.g. to compare commits")
    parser.add_argument("--server-args", default="", metavar="ARGS",
                        help='extra `turnout serve` flags: "--workers 1", =--no-cloudtrail (recorded in the results)')
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")


# -- one server -------------------------------------------------------------------------------------------------


def verify_get_role(server: ServerProcess) -> dict[str, Any]:
    """Send the signed GetRole once and decode the answer: it must be a 200 naming our role."""
    response = exchange(server.port, sign_query(server.port, "iam", GET_ROLE).raw)
    if response.status != 200:
        raise BenchError(f"{server.spec.name}: GetRole answered {response.status}: {response.body[:500]!r}\n"
                         f"{server.log_tail()}")
    try:
        root = ET.fromstring(response.body)
    except ET.ParseError as exc:
        raise BenchError(f"{server.spec.name}: GetRole answer is not XML ({exc}): {response.body[:500]!r}") from None
    name = root.findtext(f"{IAM_NS}GetRoleResult/{IAM_NS}Role/{IAM_NS}RoleName")
    arn = root.findtext(f"{IAM_NS}GetRoleResult/{IAM_NS}Role/{IAM_NS}Arn")
    if name != ROLE:
        raise BenchError(f"{server.spec.name}: GetRole answered for {name!r}, not {ROLE!r}: {response.body[:500]!r}")
    return {"role_name": name, "arn": arn, "response_bytes": len(response.body),
            "keep_alive": response.headers.get("connection", "").lower() != "close"}


def capture_get_role(spec: ServerSpec, workroot: Path) -> dict[str, Any]:
    """Turnout's answer to the signed GetRole (status, headers as sent, body), from a fresh Turnout with the role:
    what the ``bare`` server replays. Written to workroot/bare-response.json."""
    with ServerProcess(spec, workroot / "turnout-capture") as server:
        prepare(server)
        response = exchange(server.port, sign_query(server.port, "iam", GET_ROLE).raw)
    if response.status != 200:
        raise BenchError(f"turnout: GetRole answered {response.status} when capturing it for bare")
    lines = response.head.decode("latin-1").split("\r\n")[1:]
    headers = [[name.strip(), value.strip()] for name, _, value in (line.partition(":") for line in lines)]
    capture = {"status": response.status, "headers": headers, "body_hex": response.body.hex()}
    (workroot / "bare-response.json").write_text(json.dumps(capture))
    return capture


def bare_spec(response_file: Path) -> ServerSpec:
    """bench/bareserve.py answering every request with the captured GetRole answer."""
    def argv(port: int, workdir: Path) -> list[str]:
        return [sys.executable, str(BENCH_DIR / "bareserve.py"), str(response_file), str(port)]
    return ServerSpec("bare", argv, "/")


def verify_bare(server: ServerProcess, captured: dict[str, Any]) -> dict[str, Any]:
    """The bare server's answer to the signed GetRole: Turnout's status, header lines (but ``date``) and body."""
    response = exchange(server.port, sign_query(server.port, "iam", GET_ROLE).raw)
    lines = response.head.decode("latin-1").split("\r\n")[1:]
    got = [[n.strip(), v.strip()] for n, _, v in (line.partition(":") for line in lines) if n.lower() != "date"]
    expected = [h for h in captured["headers"] if h[0].lower() != "date"]
    if (response.status, got, response.body.hex()) != (captured["status"], expected, captured["body_hex"]):
        raise BenchError(f"bare: its answer differs from Turnout's: {response.status} {got} {response.body[:200]!r}")
    return {"role_name": ROLE, "arn": None, "response_bytes": len(response.body),
            "keep_alive": response.headers.get("connection", "").lower() != "close"}


def _signed_raw(port: int, params: dict[str, str]) -> bytes:
    return sign_query(port, "iam", params).raw


def readiness(spec: ServerSpec, workroot: Path, runs: int) -> dict[str, Any]:
    """Cold starts on empty state: ms to the first 200 of the ready path, then of a signed ListRoles."""
    samples = []
    for run in range(runs):
        with ServerProcess(spec, workroot / f"{spec.slug}-ready-{run}") as server:
            ready = server.wait_ready()
            first = server.wait_for(partial(_signed_raw, server.port, LIST_ROLES), "a signed ListRoles")
        samples.append({"ready_ms": round(ready * 1000, 1), "first_iam_ms": round(first * 1000, 1)})
    return {
        "ready_path": spec.ready_path,
        "runs": samples,
        "ready_ms": median([s["ready_ms"] for s in samples]),
        "first_iam_ms": median([s["first_iam_ms"] for s in samples]),
    }


def prepare(server: ServerProcess, captured: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wait for a started server, create the role, check one decoded GetRole (bare: check it answers the bytes
    ``captured`` from Turnout; it has no role to create)."""
    server.wait_ready()
    if server.spec.name == "bare":
        assert captured is not None
        check = verify_bare(server, captured)
        print(f"  bare: answers the signed GetRole with Turnout's captured answer ({check['response_bytes']} bytes, "
              f"connection {'kept alive' if check['keep_alive'] else 'closed'})")
        return check
    try:
        boto_client(server.port, "iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST_POLICY)
    except Exception as exc:
        raise BenchError(f"{server.spec.name}: CreateRole failed: {exc}\n{server.log_tail()}") from exc
    check = verify_get_role(server)
    print(f"  {server.spec.name}: one signed GetRole decoded: 200, RoleName {check['role_name']}, {check['arn']} "
          f"({check['response_bytes']} bytes, connection {'kept alive' if check['keep_alive'] else 'closed'})")
    return check


def measure(server: ServerProcess, args: argparse.Namespace, conns: int, warmup: float) -> LoadResult:
    request = sign_query(server.port, "iam", GET_ROLE)  # signed per measurement: well inside its 15 minutes
    result = run_load(server, request, conns, warmup, args.duration, args.generator, args.gen_procs)
    print(f"  {server.spec.name:<8} conns={conns:<3} {result.rps:9.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
          f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}", flush=True)
    if server.process is not None and server.process.poll() is not None:
        raise BenchError(f"{server.spec.name} died under load:\n{server.log_tail()}")
    if uneven(result):
        print(f"  WARNING: {server.spec.name}'s processes used {result.server_processes_cpu_pct}% CPU: the "
              f"{conns} connections went unevenly to its workers, so this level measures fewer workers", flush=True)
    return result


def uneven(result: LoadResult) -> bool:
    """Whether a server with two workers or more served a level of as many connections mostly on one of them:
    its busiest process used over half a core and its second busiest under a quarter of that (the third, a
    background process, uses a few percent)."""
    cpu = result.server_processes_cpu_pct
    return len(cpu) >= 3 and result.connections >= 2 and cpu[0] > 50 and cpu[1] < cpu[0] / 4


def load_levels(
    spec: ServerSpec, workroot: Path, args: argparse.Namespace, levels: list[int], tag: str = "",
    captured: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A fresh server with the role created; one measurement per concurrency level."""
    with ServerProcess(spec, workroot / f"{spec.slug}-load{tag}") as server:
        check = prepare(server, captured)
        results = [measure(server, args, conns, args.warmup) for conns in levels]
    return {"check": check, "loads": [r.as_dict() for r in results]}


# -- profiling --------------------------------------------------------------------------------------------------


def profile_turnout(spec: ServerSpec, workroot: Path, args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    """Turnout under cProfile (bench/profserve.py), profiled only after a warmup, at the highest concurrency."""
    conns = max(args.conns)
    print(f"profiling Turnout under cProfile at conns={conns} (throughput under the profiler is not comparable)")
    with ServerProcess(spec, workroot / "turnout-profiled") as server:
        prepare(server)
        warm = sign_query(server.port, "iam", GET_ROLE)
        run_load(server, warm, conns, 0, max(1.0, args.warmup), args.generator, args.gen_procs)
        assert server.process is not None
        os.kill(server.process.pid, PROFILE_SIGNAL)  # start profiling now: first-use costs stay out
        result = measure(server, args, conns, 0)
    kept = out_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-turnout-getrole.prof"
    spots = save_hot_spots(server.workdir / "turnout.prof", kept, PROFILE_TOP)
    print_hot_spots(spots, f"{result.requests} GetRole requests at conns={conns}")
    return {"load": result.as_dict(), **spots}


def _median_round(loads: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(loads, key=lambda load: load["rps"])[(len(loads) - 1) // 2]


# -- the whole run ----------------------------------------------------------------------------------------------


def _bare_ratios(turnout: list[dict[str, Any]], bare: list[dict[str, Any]]) -> dict[str, Any]:
    """Turnout's throughput over the bare app's per level (goal: >= 0.5 at 2 connections), and the CPU per
    request of the bare app over Turnout's (the same ratio measured in CPU: steadier on a busy machine)."""
    by_conns = {x["connections"]: x for x in bare}
    ratios: dict[str, float] = {}
    cpu_ratios: dict[str, float] = {}
    for load in turnout:
        other = by_conns.get(load["connections"])
        if other and other["rps"] > 0:
            ratios[str(load["connections"])] = round(load["rps"] / other["rps"], 3)
        if other and load["server_cpu_us_per_req"] > 0:
            cpu_ratios[str(load["connections"])] = round(
                other["server_cpu_us_per_req"] / load["server_cpu_us_per_req"], 3)
    text = ", ".join(f"conns={c}: {r:.2f}" for c, r in ratios.items())
    at_goal = ratios.get(str(GOAL_BARE_CONNS))
    verdict = "not measured (add it to --conns)" if at_goal is None else (
        "met" if at_goal >= GOAL_BARE_RATIO else "MISSED")
    print(f"\nthroughput ratio turnout/bare: {text}")
    at_level = next((load for load in turnout if load["connections"] == GOAL_BARE_CONNS), None)
    lopsided = at_level is not None and uneven(LoadResult(**at_level))
    caveat = "; its connections went unevenly to the workers (see the WARNING above): run it again" if lopsided else ""
    print(f"goal 3, signed GetRole >= {GOAL_BARE_RATIO:g} x the bare app's throughput at "
          f"{GOAL_BARE_CONNS} connections: {verdict}"
          f"{'' if at_goal is None else f' ({at_goal:.2f}, {at_goal * 100:.0f}%)'}{caveat}")
    text = ", ".join(f"conns={c}: {r:.2f}" for c, r in cpu_ratios.items())
    print(f"server CPU per request, bare/turnout: {text}  (the same comparison in CPU: steadier on a busy machine; "
          "at conns=1-2 neither server is saturated)")
    return {"bare_ratios": ratios, "bare_cpu_ratios": cpu_ratios,
            "goal_bare_met": None if at_goal is None else at_goal >= GOAL_BARE_RATIO}


def _report(servers: dict[str, Any], args: argparse.Namespace, generator: str) -> dict[str, Any]:
    rows = []
    for name, data in servers.items():
        for load in data["loads"]:
            rows.append([name, load["connections"], f"{load['rps']:.1f}", f"{load['p50_ms']:.2f}",
                         f"{load['p99_ms']:.2f}", load["errors"], f"{load['server_cpu_pct']:.0f}%",
                         f"{load['server_cpu_us_per_req']:.0f}", f"{load['generator_cpu_pct']:.0f}%",
                         f"{load['other_cpu_pct']:.0f}%"])
    rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    print(f"\nGetRole, {generator} generator, {args.warmup:g}s warmup + {args.duration:g}s measured per level"
          f"{rounds} (CPU: 100% = one core)")
    print(table(["server", "conns", "req/s", "p50 ms", "p99 ms", "errors", "server CPU", "CPU us/req", "gen CPU",
                 "other CPU"], rows))
    summary: dict[str, Any] = {"ratios": {}, "readiness_ms": {}}
    busiest = max((load["other_cpu_pct"] for data in servers.values() for load in data["loads"]), default=0.0)
    summary["max_other_cpu_pct"] = busiest
    if busiest > BUSY_PCT:
        print(f"WARNING: other processes used up to {busiest:.0f}% CPU during a measurement: the machine was not "
              "quiet, so these numbers are skewed; run again on an idle machine")
    if "turnout" in servers and "moto" in servers:
        summary["cpu_ratios"] = {}
        moto = {x["connections"]: x for x in servers["moto"]["loads"]}
        for load in servers["turnout"]["loads"]:
            other = moto.get(load["connections"])
            if other and other["rps"] > 0:
                summary["ratios"][str(load["connections"])] = round(load["rps"] / other["rps"], 2)
            if other and load["server_cpu_us_per_req"] > 0:
                summary["cpu_ratios"][str(load["connections"])] = round(
                    other["server_cpu_us_per_req"] / load["server_cpu_us_per_req"], 2)
        text = ", ".join(f"conns={c}: {r:.1f}x" for c, r in summary["ratios"].items())
        worst = min(summary["ratios"].values(), default=0.0)
        summary["goal_ratio_met"] = worst >= GOAL_RATIO
        print(f"\nthroughput ratio turnout/moto: {text}  (goal >= {GOAL_RATIO:g}x at every level: "
              f"{'met' if summary['goal_ratio_met'] else 'NOT met'})")
        text = ", ".join(f"conns={c}: {r:.1f}x" for c, r in summary["cpu_ratios"].items())
        print(f"server CPU per request, moto/turnout: {text}  (less sensitive to other load on the machine)")
    if "turnout" in servers and "bare" in servers:
        summary.update(_bare_ratios(servers["turnout"]["loads"], servers["bare"]["loads"]))
    ready_rows = []
    for name, data in servers.items():
        ready = data.get("readiness")
        if ready is None:  # bare: not measured
            continue
        summary["readiness_ms"][name] = {"ready": ready["ready_ms"], "first_iam": ready["first_iam_ms"]}
        ready_rows.append([name, f"GET {ready['ready_path']}", f"{ready['ready_ms']:.0f}",
                           f"{ready['first_iam_ms']:.0f}"])
    if ready_rows:
        print(f"\nreadiness, median of {args.ready_runs} cold starts (ms from process start):")
        print(table(["server", "ready check", "ready ms", "first signed IAM call ms"], ready_rows))
    if "turnout" in servers:
        ready_ms = servers["turnout"]["readiness"]["ready_ms"]
        summary["goal_ready_met"] = ready_ms <= GOAL_READY_MS
        print(f"Turnout ready in {ready_ms:.0f} ms (goal <= {GOAL_READY_MS:.0f} ms: "
              f"{'met' if summary['goal_ready_met'] else 'NOT met'})")
    return summary


def run(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN_SERVERS]
    if unknown or not names or len(set(names)) != len(names):
        raise SystemExit(f"--servers: {args.servers!r}; a list of distinct names of {', '.join(KNOWN_SERVERS)}")
    if "moto" in names:
        try:
            import moto  # noqa: F401
        except ImportError:
            raise SystemExit("moto is not installed: pip install -e '.[test,bench]' (make bench does it)") from None
    generator = "wrk" if args.generator in ("auto", "wrk") and wrk_path() else "python"
    if args.generator == "wrk" and generator != "wrk":
        raise SystemExit("--generator wrk: wrk is not installed (apt-get install wrk)")
    out_dir = args.out or Path(__file__).resolve().parent / "results"
    turnout, source = turnout_source(args.turnout_src)
    specs: dict[str, ServerSpec] = {"turnout": turnout, "moto": MOTO}
    server_args = shlex.split(args.server_args)
    if server_args:
        specs["turnout"] = with_server_args(specs["turnout"], server_args)
    print(f"Turnout from {source['path']} at {source.get('commit') or 'an unknown commit'}"
          f"{' with uncommitted changes' if source.get('dirty') else ''}")
    print(f"GetRole benchmark: servers {', '.join(names)}; generator {generator} ({args.gen_procs} proc); "
          f"conns {args.conns}; one server at a time; Turnout verifies SigV4, bare and moto check nothing"
          f"{f'; turnout serve {shlex.join(server_args)}' if server_args else ''}")
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"note: load average is {load_before:.2f} before the run; other work on this machine skews results")
    servers: dict[str, Any] = {}
    profile: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="turnout-bench-") as tmp:
        workroot = Path(tmp)
        captured: dict[str, Any] | None = None
        if "bare" in names:
            print("bare: capturing Turnout's answer to the signed GetRole...", flush=True)
            captured = capture_get_role(specs["turnout"], workroot)
            specs["bare"] = bare_spec(workroot / "bare-response.json")
        for name in names:
            if name == "bare":  # its start-up is uvicorn's, not a server's: not measured
                servers[name] = {"rounds": []}
                continue
            print(f"{name}: readiness ({args.ready_runs} cold starts)...", flush=True)
            servers[name] = {"readiness": readiness(specs[name], workroot, args.ready_runs), "rounds": []}
        for round_no in range(args.rounds):
            for name in names:  # alternating servers round after round, so that slow spells hit both
                print(f"{name}: load{f' (round {round_no + 1} of {args.rounds})' if args.rounds > 1 else ''}...",
                      flush=True)
                data = load_levels(specs[name], workroot, args, args.conns, tag=f"-{round_no}", captured=captured)
                servers[name]["check"] = data["check"]
                servers[name]["rounds"].append(data["loads"])
        for data in servers.values():
            # per level, the round with the median throughput (the only round when --rounds 1)
            data["loads"] = [_median_round([r[i] for r in data["rounds"]]) for i in range(len(args.conns))]
        if args.profile:
            profiled = replace(PROFILED_TURNOUT, env=specs["turnout"].env)
            if server_args:
                profiled = with_server_args(profiled, server_args)
            profile = profile_turnout(profiled, workroot, args, out_dir)
    summary = _report(servers, args, generator)
    payload = {
        "benchmark": NAME,
        "started": started,
        "loadavg_before": load_before,
        "settings": {"conns": args.conns, "warmup_s": args.warmup, "duration_s": args.duration,
                     "generator": generator, "generator_procs": args.gen_procs, "ready_runs": args.ready_runs,
                     "rounds": args.rounds, "turnout_server_args": server_args,
                     "sigv4": {"turnout": "verified", "bare": "not verified (answers captured bytes)",
                               "moto": "not verified (moto's default)"}},
        "bare_response": None if captured is None else {
            "status": captured["status"], "headers": captured["headers"],
            "body_bytes": len(captured["body_hex"]) // 2},
        "machine": machine_info(),
        "turnout_source": source,
        "servers": servers,
        "summary": summary,
        "profile": profile,
    }
    path = write_results(NAME, payload, out_dir)
    print(f"\nresults: {path}")
    return 0
