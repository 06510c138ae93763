"""ECS blue/green at scale: N services deploying at once on a fast clock; deployments per second, the engine's CPU
per deployment, and API latency meanwhile (goal: p99 under 100 ms). moto alongside for the API latency only.

Turnout (``turnout serve --time-scale N``, default 3000, so that the engine rather than the clock is the limit) on a
temporary data directory. Setup through boto3 as root, not measured: ALBs of ``--per-alb`` services each (a
production listener on 80 and a test listener on 8080; per service a blue and a green target group, health check
every 5 s, healthy after 2, deregistration delay 5 s, a production rule blue 100 / green 0 and a test rule to green),
the infrastructure role with AWS's managed policy, one cluster, two task definition revisions, then ``--services``
BLUE_GREEN services (desiredCount 2, bake time 0), whose first deployments must all succeed.

Measured: UpdateService of every service to revision 2 (``--updaters`` threads), until every deployment is final
(all must be SUCCESSFUL). Meanwhile a side client (``--readers`` threads, closed loop) cycles DescribeServices (10
services), DescribeServiceDeployments (10 current deployments) and ListTasks (one service) and records each call's
latency. Requests are signed with botocore's SigV4 and sent raw on a kept-alive connection per thread (opened when
the phase starts, untimed); the latency runs from sending the request to the last byte of the answer (signing
excluded).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .common import (
    MOTO,
    PROFILED_TURNOUT,
    REPO,
    RESULTS_DIR,
    TURNOUT,
    BenchError,
    ServerProcess,
    git_state,
    machine_info,
    percentile,
    table,
    write_results,
)
from .ecs_fleet import (
    READS,
    WATCH_BATCH,
    Calls,
    Fleet,
    Readers,
    build_fleet,
    check_successful,
    latency_row,
    print_latencies,
    update_all,
    watch,
)
from .profiling import print_hot_spots, save_hot_spots
from .profserve import PROFILE_SIGNAL
from .pyspy import Sampler, py_spy

NAME = "deployments"
GOAL_P99_MS = 100.0
PROFILE_TOP = 25


def _ranged(kind: Callable[[str], Any], low: float, high: float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--services", type=_ranged(int, 1, 500), default=100, help="services deploying (default 100)")
    parser.add_argument("--time-scale", type=_ranged(float, 1, 1e6), default=3000.0,
                        help="turnout serve --time-scale (default 3000: a 5 s health check interval is ~2 ms)")
    parser.add_argument("--per-alb", type=_ranged(int, 1, 50), default=25,
                        help="services per load balancer (2 target groups and 2 rules each; default 25)")
    parser.add_argument("--rounds", type=_ranged(int, 1, 20), default=3,
                        help="measured rounds: all services to revision 2, back to 1, to 2... (default 3)")
    parser.add_argument("--readers", type=_ranged(int, 1, 8), default=1, help="side-client threads (default 1)")
    parser.add_argument("--updaters", type=_ranged(int, 1, 16), default=4,
                        help="threads sending the UpdateService calls (default 4)")
    parser.add_argument("--baseline", type=_ranged(float, 0, 30), default=2.0,
                        help="seconds of side-client load on the idle fleet before the deployments (default 2)")
    parser.add_argument("--timeout", type=_ranged(float, 5, 1800), default=180.0,
                        help="bound on the setup's first deployments, and on the measured phase (default 180 s)")
    parser.add_argument("--skip-moto", action="store_true", help="Turnout alone")
    parser.add_argument("--dataplane", action="store_true",
                        help="run the data plane (a real process per task, real health checks) rather than "
                             "--no-dataplane; needs a lower --time-scale (see bench/README.md)")
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument("--profile", action="store_true",
                         help="run Turnout under cProfile (bench/profserve.py), profiling the measured phase only")
    profile.add_argument("--py-spy", action="store_true",
                         help="sample Turnout with py-spy during the measured phase (needs py-spy and ptrace)")



# -- one server -----------------------------------------------------------------------------------------------------


def _epoch(value: Any) -> float:
    """A timestamp of the JSON protocol (epoch seconds), as a float."""
    return float(value)


def _span(found: dict[str, Any]) -> float:
    """Wall seconds from a deployment's creation to its end, by the server's own (unscaled) timestamps."""
    return _epoch(found["finishedAt"]) - _epoch(found["createdAt"])


def run_turnout(args: argparse.Namespace, workroot: Path) -> dict[str, Any]:
    # The engine at scale, not the machine's process start-up: with the data plane, a round starts 200 task
    # processes at once, which two cores cannot bring up within the 24 simulated hours a stage may take at
    # --time-scale 3000 (29 real seconds): every deployment then rolls back (bench/README.md, deployments).
    extra = ["--time-scale", f"{args.time_scale:g}", *([] if args.dataplane else ["--no-dataplane"])]
    base = PROFILED_TURNOUT if args.profile else TURNOUT
    spec = replace(base, argv=lambda port, wd: [*base.argv(port, wd), *extra])
    out: dict[str, Any] = {}
    with ServerProcess(spec, workroot / "turnout") as server:
        out["ready_ms"] = round(server.wait_ready() * 1000)
        began = time.monotonic()
        try:
            fleet = build_fleet(server, args.services, args.per_alb)
        except Exception as exc:
            raise BenchError(f"turnout: setup failed: {exc}\n{server.log_tail()}") from exc
        built = time.monotonic() - began
        check_successful(watch(server.port, fleet.current, args.timeout), "first deployments")
        out["setup_s"], out["first_deployments_s"] = round(built, 1), round(time.monotonic() - began - built, 1)
        print(f"  setup: {args.services} services and their ELB resources in {built:.1f} s (each service's first "
              f"deployment runs meanwhile); all SUCCESSFUL {out['first_deployments_s']:.1f} s later", flush=True)
        out["solo"] = calibrate(server, fleet, args)
        out["baseline"] = baseline(server, fleet, args, READS)
        out.update(measured_turnout(server, fleet, args, workroot))
        if server.process is not None and server.process.poll() is not None:
            raise BenchError(f"turnout died:\n{server.log_tail()}")
        log = server.log_path.read_text(errors="replace")
        out["log_errors"] = log.count(" ERROR ") + log.count("Traceback")
    if args.profile:
        kept = RESULTS_DIR / f"{time.strftime('%Y%m%dT%H%M%S')}-turnout-deployments.prof"
        out["profile"] = save_hot_spots(server.workdir / "turnout.prof", kept, PROFILE_TOP)
    return out


def calibrate(server: ServerProcess, fleet: Fleet, args: argparse.Namespace) -> dict[str, Any]:
    """One deployment alone (the first service to revision 2, then back): what the clock alone allows."""
    spans: list[float] = []
    for revision in (1, 0):
        arns = update_all(server.port, fleet, revision, 1, Calls(), range(1))
        done = watch(server.port, arns, args.timeout)
        check_successful(done, "solo deployments")
        spans.extend(_span(d) for d in done.values())
    wall = min(spans)
    print(f"  one deployment alone: {wall * 1000:.0f} ms wall ({wall * args.time_scale:.0f} simulated s at this "
          f"time scale, the engine's own work included)", flush=True)
    return {"wall_s": round(wall, 3), "simulated_s": round(wall * args.time_scale, 1)}


def baseline(server: ServerProcess, fleet: Fleet, args: argparse.Namespace, ops: tuple[str, ...]) -> dict[str, Any]:
    """The side client on the idle fleet: latency, and the server's CPU per call (to tell the engine's apart)."""
    if args.baseline <= 0:
        return {"rows": [], "cpu_ms_per_call": 0.0}
    window = server.cpu_window()
    with Readers(server.port, fleet, args.readers, ops) as readers:
        time.sleep(args.baseline)
    cpu_before = window.server_cpu
    seconds, _, _ = window.close()
    rows = readers.rows()
    per_call = 1000 * (server.cpu_seconds() - cpu_before) / max(1, readers.calls.count())
    every = rows[-1]
    print(f"  idle fleet, side client alone for {seconds:.1f} s: {every['calls']} calls, p50 {every['p50_ms']:.2f} ms, "
          f"p99 {every['p99_ms']:.2f} ms, server CPU {per_call:.2f} ms per call", flush=True)
    return {"seconds": round(seconds, 2), "rows": rows, "cpu_ms_per_call": round(per_call, 3)}


def measured_turnout(server: ServerProcess, fleet: Fleet, args: argparse.Namespace, workroot: Path) -> dict[str, Any]:
    """``--rounds`` rounds: every service to revision 2 (then back to 1, then 2...), each until all are final."""
    assert server.process is not None
    n = len(fleet.services)
    if args.profile:
        os.kill(server.process.pid, PROFILE_SIGNAL)
    spy_out = RESULTS_DIR / f"{time.strftime('%Y%m%dT%H%M%S')}-turnout-deployments.py-spy.txt"
    sampler = Sampler(server.process.pid, spy_out, args.timeout * args.rounds) if args.py_spy else None
    if sampler is not None:
        time.sleep(1.0)  # py-spy attaches
    rounds, pooled, updates, watcher = [], Calls(), Calls(), Calls()
    window = server.cpu_window()
    with Readers(server.port, fleet, args.readers, READS) as readers:
        phase_start = time.monotonic()
        for number in range(args.rounds):
            revision = 1 - number % 2
            readers.calls = Calls()
            round_updates = Calls()
            started = time.monotonic()
            arns = update_all(server.port, fleet, revision, args.updaters, round_updates)
            sent = time.monotonic() - started
            done = watch(server.port, arns, args.timeout, watcher)
            seconds = max(d["_seen"] for d in done.values()) - started
            check_successful(done, f"deployments of round {number + 1}")
            spans = sorted(_span(d) for d in done.values())
            side = readers.rows()[-1]
            rounds.append({
                "round": number + 1, "revision": revision + 1, "updates_sent_s": round(sent, 3),
                "all_final_s": round(seconds, 3), "deployments_per_s": round(n / seconds, 2),
                "successful": sum(d["status"] == "SUCCESSFUL" for d in done.values()),
                "deployment_wall_s": {"p50": round(percentile(spans, 50), 3), "max": round(spans[-1], 3)},
                "side": side, "update": latency_row("UpdateService", round_updates.ms["UpdateService"]),
            })
            for op, samples in readers.calls.ms.items():
                pooled.ms[op].extend(samples)
            pooled.errors.extend(readers.calls.errors)
            updates.ms["UpdateService"].extend(round_updates.ms["UpdateService"])
        phase = time.monotonic() - phase_start
        readers.calls = pooled
    _, server_pct, machine_pct = window.close()
    cpu_s = server.cpu_seconds() - window.server_cpu
    hot = sampler.stop() if sampler is not None else None
    total = n * args.rounds
    out = {
        "rounds": rounds, "deployments": total, "phase_s": round(phase, 3),
        "deployments_per_s": round(total / phase, 2),
        "server_cpu_s": round(cpu_s, 3), "server_cpu_pct": round(server_pct), "machine_cpu_pct": round(machine_pct),
        "cpu_ms_per_deployment": round(1000 * cpu_s / total, 1),
        "api_calls": pooled.count() + updates.count() + watcher.count(),
        "rows": readers.rows(), "update_row": latency_row("UpdateService", updates.ms["UpdateService"]),
        "watch_row": latency_row(f"DescribeServiceDeployments (watcher, {WATCH_BATCH} ARNs)",
                                 watcher.ms["DescribeServiceDeployments"], len(watcher.errors)),
        "reader_errors": pooled.errors[:5],
    }
    if hot is not None:
        out["py_spy"] = hot
    return out


def run_moto(args: argparse.Namespace, workroot: Path, turnout: dict[str, Any]) -> dict[str, Any]:
    """The same fleet on moto (no engine: UpdateService only records), then the same rounds of UpdateService with
    the side client (without DescribeServiceDeployments, which moto lacks), each round lasting as long as
    Turnout's did (at least 1 s)."""
    ops = ("DescribeServices", "ListTasks")
    out: dict[str, Any] = {}
    with ServerProcess(MOTO, workroot / "moto") as server:
        server.wait_ready()
        began = time.monotonic()
        try:
            fleet = build_fleet(server, args.services, args.per_alb, managed=False)
        except Exception as exc:
            raise BenchError(f"moto: setup failed: {exc}\n{server.log_tail()}") from exc
        out["setup_s"] = round(time.monotonic() - began, 1)
        print(f"  setup: {args.services} services and their ELB resources in {out['setup_s']:.1f} s", flush=True)
        updates, sent = Calls(), []
        window = server.cpu_window()
        with Readers(server.port, fleet, args.readers, ops) as readers:
            for number, ours in enumerate(turnout["rounds"]):
                started = time.monotonic()
                update_all(server.port, fleet, 1 - number % 2, args.updaters, updates)
                sent.append(time.monotonic() - started)
                time.sleep(max(0.0, min(30.0, max(1.0, ours["all_final_s"])) - (time.monotonic() - started)))
        _, out["server_cpu_pct"], _ = window.close()
        out["updates_sent_s"] = round(sum(sent) / len(sent), 3)
        out["rows"] = readers.rows()
        out["update_row"] = latency_row("UpdateService", updates.ms["UpdateService"])
    return out


# -- the run --------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    n = args.services
    print(f"{NAME}: {n} BLUE_GREEN services (desiredCount 2, bake 0) deploying at once, {args.rounds} round(s), on "
          f"turnout serve --time-scale {args.time_scale:g}; {-(-n // args.per_alb)} ALBs of up to {args.per_alb} "
          f"services; side client: {args.readers} thread(s) cycling {', '.join(READS)}; one server at a time",
          flush=True)
    if args.py_spy and py_spy() is None:
        raise SystemExit("py-spy is neither next to this Python nor on the PATH (pip install py-spy)")
    with tempfile.TemporaryDirectory(prefix="turnout-bench-deployments-") as tmp:
        workroot = Path(tmp)
        print("turnout:", flush=True)
        turnout = run_turnout(args, workroot)
        moto: dict[str, Any] | None = None
        if not args.skip_moto:
            print("moto (API latency only: it runs no deployments):", flush=True)
            try:
                moto = run_moto(args, workroot, turnout)
            except BenchError as exc:  # Turnout's numbers stand alone
                print(f"  moto could not take the same requests, Turnout's numbers alone: {exc}", flush=True)
                moto = {"failed": str(exc)[:2000]}
    met = report(turnout, moto, args)
    path = write_results(NAME, {
        "benchmark": NAME, "settings": dict(vars(args)), "machine": machine_info(), "turnout_source": git_state(REPO),
        "turnout": turnout, "moto": moto, "goal_p99_ms": GOAL_P99_MS, "met": met,
    })
    print(f"\nresults: {path}")
    return 0  # as the other benchmarks: a missed goal is reported (and recorded as "met"), not an error


def report(t: dict[str, Any], moto: dict[str, Any] | None, args: argparse.Namespace) -> bool:
    n, total, base, solo = args.services, t["deployments"], t["baseline"], t["solo"]
    engine_ms = (1000 * t["server_cpu_s"] - base["cpu_ms_per_call"] * t["api_calls"]) / total
    print(f"\nturnout, {n} deployments at once, {args.rounds} round(s) (--time-scale {args.time_scale:g}; one "
          f"deployment alone takes {solo['wall_s'] * 1000:.0f} ms wall):")
    print(table(["round", "to rev", "UpdateService x N s", "all final s", "deployments/s", "SUCCESSFUL",
                 "deployment p50 s", "max s", "side p50 ms", "side p99 ms"],
                [[r["round"], r["revision"], f"{r['updates_sent_s']:.2f}", f"{r['all_final_s']:.2f}",
                  f"{r['deployments_per_s']:.1f}", f"{r['successful']}/{n}", f"{r['deployment_wall_s']['p50']:.2f}",
                  f"{r['deployment_wall_s']['max']:.2f}", f"{r['side']['p50_ms']:.1f}", f"{r['side']['p99_ms']:.1f}"]
                 for r in t["rounds"]]))
    mean_round = sum(r["all_final_s"] for r in t["rounds"]) / len(t["rounds"])
    bound = ("the engine is the limit" if t["server_cpu_pct"] >= 90 else
             "the server is not saturated: the clock may be the limit, raise --time-scale")
    print(f"  deployments completed per second: {t['deployments_per_s']:.1f} ({total} in {t['phase_s']:.2f} s); "
          f"{n} at once take {mean_round / max(solo['wall_s'], 1e-3):.0f}x as long as one alone: {bound}")
    print(f"  server CPU: {t['server_cpu_s']:.2f} s over the phase ({t['server_cpu_pct']}% of one core; machine "
          f"{t['machine_cpu_pct']}% of {os.cpu_count()} cores): {t['cpu_ms_per_deployment']:.1f} ms per deployment, "
          f"~{engine_ms:.1f} ms without the {t['api_calls']} API calls served (at the idle "
          f"{base['cpu_ms_per_call']:.2f} ms each)")
    print(f"  server log: {t['log_errors']} errors")
    if base["rows"]:
        print("\nside-client API latency, idle fleet (baseline):")
        print_latencies(base["rows"])
    print("\nAPI latency during the deployments (all rounds):")
    print_latencies([*t["rows"], t["update_row"], t["watch_row"]])
    p99 = float(t["rows"][-1]["p99_ms"])
    errors = int(t["rows"][-1]["errors"] + t["watch_row"]["errors"])
    met = p99 < GOAL_P99_MS and errors == 0
    print(f"\ngoal: p99 API latency under {GOAL_P99_MS:g} ms while {n} deployments run: "
          f"{'PASS' if met else 'FAIL'} (side-client p99 {p99:.2f} ms over {t['rows'][-1]['calls']} calls, "
          f"{errors} errors)")
    if "py_spy" in t:
        spy = t["py_spy"]
        for title in ("self", "inclusive"):
            print(f"\npy-spy, server during the phase, by {title} samples ({spy['samples']} samples, wall time):")
            print(table(["function (file)", "samples", "%"], spy[title]))
        print("\nwhere the top self-time functions are called from (nearest Turnout caller in another file):")
        print(table(["function (file)", "called from", "samples", "%"], spy["callers"]))
        print(f"raw stacks: {spy['file']}")
    if "profile" in t:
        print_hot_spots(t["profile"], f"the measured phase ({total} deployments, under cProfile: slower)")
    if moto is not None and "failed" not in moto:
        print(f"\nmoto, the same fleet and rounds: {n} UpdateService in {moto['updates_sent_s']:.2f} s per round, "
              f"side client without DescribeServiceDeployments (not implemented in moto) and with no tasks to list "
              f"(moto runs none); server CPU {moto['server_cpu_pct']:.0f}%:")
        print_latencies([*moto["rows"], moto["update_row"]])
        ours = {r["op"]: r for r in [*t["rows"], t["update_row"]]}
        ratios = []
        for row in [*moto["rows"][:-1], moto["update_row"]]:
            mine = ours[row["op"]]
            if mine["p99_ms"] and mine["p50_ms"]:
                ratios.append(f"{row['op']} p50 {row['p50_ms'] / mine['p50_ms']:.2f}x, p99 "
                              f"{row['p99_ms'] / mine['p99_ms']:.2f}x")
        print("latency ratio moto/turnout (above 1: Turnout faster, though it also runs the deployments): "
              + "; ".join(ratios))
    return met
