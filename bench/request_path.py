"""The cost of one signed IAM GetRole inside Turnout, split by step of the gateway's chain (in process, no HTTP).

getrole's request (root ``test``/``test``, signed by botocore) goes ``--requests`` times through a gateway built
as ``turnout serve`` builds it (``server.build_gateway``: IAM enforced, every call recorded by CloudTrail, unless
``--no-enforce-iam`` / ``--no-cloudtrail``). Each part is timed: the chain's steps (route, authenticate,
parse + validate, authorize, dispatch), the recorders, the access-log line, the response's serialisation, and
CloudTrail's durable write of the call's event (an append to the process's journal, as in the server) and the copy
of the journal into the event store with its indexing (every ``--index-every`` events; the server's background
process copies the journals every second, ten times as many at 4,000 requests a second). What is not here is the
HTTP layer (uvicorn, the ASGI app, the event loop): getrole's ``CPU us/req`` minus this total is its share.

Each part is timed in CPU time (``thread_time``, immune to other processes' load) around each call: the timing
adds ~0.5 us a part, so the timed loop's total is above the untimed loop's, which is the number to compare. The
median of ``--rounds`` rounds is reported.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import git_state, machine_info, sign_query, table, write_results
from .getrole import GET_ROLE, ROLE, TRUST_POLICY

NAME = "request_path"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=20_000, help="requests per round (default 20000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported (default 3)")
    parser.add_argument("--index-every", type=int, default=400,
                        help="index CloudTrail's events every N requests (default 400: 0.1 s at 4,000 req/s)")
    parser.add_argument("--no-cloudtrail", dest="cloudtrail", action="store_false", help="calls not recorded")
    parser.add_argument("--no-enforce-iam", dest="enforce_iam", action="store_false", help="no authorization")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")


class _Timed:
    """CPU time (this thread's) spent in each wrapped callable, by label."""

    def __init__(self) -> None:
        self.ns: dict[str, int] = {}

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        clock = time.thread_time_ns
        spent = self.ns
        spent.setdefault(label, 0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += clock() - started

        return timed


def _setup(args: argparse.Namespace, data_dir: Path) -> tuple[Any, Any, Callable[[], Any]]:
    """The gateway, its CloudTrail recorder (or None) and a maker of the signed GetRole's HttpRequest."""
    from turnout import DEFAULT_ACCOUNT
    from turnout.core.context import HttpRequest
    from turnout.core.principal import Principal
    from turnout.server import Settings, build_gateway
    from turnout.services.cloudtrail.journal import DIRECTORY, Journal
    from turnout.services.cloudtrail.recorder import recorder_of

    gateway = build_gateway(Settings(data_dir=data_dir, enforce_iam=args.enforce_iam, cloudtrail=args.cloudtrail))
    recorder = recorder_of(gateway)
    if recorder is not None:  # as in the server: events appended to this process's journal
        recorder.auto_flush = False
        recorder.journal = Journal(data_dir / DIRECTORY)
    created = gateway.invoke("iam", "CreateRole", {"RoleName": ROLE, "AssumeRolePolicyDocument": TRUST_POLICY},
                             Principal.root(DEFAULT_ACCOUNT, "test"))
    if created.error is not None:
        raise SystemExit(f"CreateRole failed: {created.error.code} {created.error.message}")
    signed = sign_query(4566, "iam", GET_ROLE)
    headers: dict[str, list[str]] = {}
    for name, value in signed.headers:
        headers.setdefault(name.lower(), []).append(value)

    def request() -> Any:
        return HttpRequest(signed.method, signed.path, "", {k: list(v) for k, v in headers.items()}, signed.body,
                           "127.0.0.1")

    return gateway, recorder, request


def _round(args: argparse.Namespace, data_dir: Path) -> dict[str, float]:
    from turnout.gateway import authenticate, protocols, routing
    from turnout.gateway import gateway as gateway_module

    gateway, recorder, request = _setup(args, data_dir)
    write = protocols.write

    def one(index: int) -> bytes:
        ctx = gateway.handle_http(request())
        status, _, body = write(ctx)
        if status != 200:
            raise SystemExit(f"GetRole answered {status}: {body[:300]!r}")
        if recorder is not None and index % args.index_every == 0:  # the background process's copy of the journals
            recorder.flush()
        return body

    body = one(1)
    if f"<RoleName>{ROLE}</RoleName>".encode() not in body:
        raise SystemExit(f"GetRole answered for another role: {body[:300]!r}")
    for n in range(2_000):  # warm every cache (the policy cache, CloudTrail's record shapes...)
        one(n)

    started = time.process_time()
    for n in range(args.requests):
        one(n)
    total_us = (time.process_time() - started) / args.requests * 1e6

    timed = _Timed()
    real_steps = gateway.steps
    chain = [timed.wrap("route", routing.route), timed.wrap("authenticate", authenticate.authenticate),
             timed.wrap("parse + validate", gateway._parse), timed.wrap("authorize", gateway._authorize),
             timed.wrap("dispatch (transaction, handler)", gateway._dispatch)]
    gateway.steps = lambda internal: real_steps(internal) if internal else chain
    gateway_module.route = chain[0]  # route_http's own step
    for recorder_ in gateway.recorders:
        recorder_.record = timed.wrap(f"record: {type(recorder_).__name__}", recorder_.record)
    gateway._log = timed.wrap("access log line", gateway._log)
    write = timed.wrap("serialise the response", protocols.write)
    if recorder is not None:
        recorder.journal.append = timed.wrap("CloudTrail: journal append", recorder.journal.append)
        recorder.flush = timed.wrap("CloudTrail: copy + index (amortised)", recorder.flush)
    handle = timed.wrap("whole chain (handle_http)", gateway.handle_http)
    gateway.handle_http = handle
    started_ns = time.thread_time_ns()
    for n in range(args.requests):
        one(n)
    timed_ns = time.thread_time_ns() - started_ns
    result = {label: ns / args.requests / 1000 for label, ns in timed.ns.items()}
    result["CPU total (timed loop)"] = timed_ns / args.requests / 1000
    result["CPU total (untimed loop)"] = total_us
    gateway.db.close()
    return result


def run(args: argparse.Namespace) -> int:
    rounds = []
    for number in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="turnout-request-path-") as tmp:
            rounds.append(_round(args, Path(tmp)))
        print(f"  round {number + 1}: {rounds[-1]['CPU total (untimed loop)']:.1f} us CPU per request", flush=True)
    labels = list(rounds[0])
    median = {label: statistics.median(r[label] for r in rounds) for label in labels}
    whole = median["whole chain (handle_http)"]
    parts = [label for label in labels if label not in ("whole chain (handle_http)", "CPU total (timed loop)",
                                                         "CPU total (untimed loop)")]
    inside = [p for p in parts if not p.startswith(("serialise", "CloudTrail: journal", "CloudTrail: copy"))]
    rows = [[label, f"{median[label]:.1f}"] for label in sorted(parts, key=lambda p: -median[p])]
    rows.append(["(chain: request context, bookkeeping)", f"{whole - sum(median[p] for p in inside):.1f}"])
    rows.append(["CPU total (timed loop)", f"{median['CPU total (timed loop)']:.1f}"])
    rows.append(["CPU total (untimed loop)", f"{median['CPU total (untimed loop)']:.1f}"])
    mode = f"IAM {'enforced' if args.enforce_iam else 'not enforced'}, CloudTrail {'on' if args.cloudtrail else 'off'}"
    print(f"\nSigned IAM GetRole in process ({mode}), median of {args.rounds} rounds of {args.requests} requests:")
    print(table(["part", "us/request"], rows))
    import turnout

    source = Path(turnout.__file__).resolve().parent.parent  # src/ of the Turnout measured (PYTHONPATH decides)
    print(f"Turnout from {source}")
    path = write_results(NAME, {"settings": vars(args) | {"out": str(args.out)}, "machine": machine_info(),
                                "turnout": git_state(source), "rounds": rounds,
                                "median_us": median},
                         *([args.out] if args.out is not None else []))
    print(f"\nresults: {path}")
    return 0
