"""Schema-driven fuzzing of every implemented operation through a real server (issue 11, "Tests to add").

For each operation a Turnout provider serves, Hypothesis draws requests from the operation's botocore input
shape (:mod:`tests.e2e.fuzz_support`: valid, boundary, wrong-typed, hostile, deeply nested and huge values), sends
them signed by the account's root (so they get past authorization into the providers) to a server of the
module's own, and asserts that no answer is a 5xx and that botocore's parser for the protocol understands each
one (an error names its code). The one 5xx allowed is Turnout's own 501 NotImplemented naming a parameter it does
not serve (an EC2 IPv6 member): a documented refusal, not a failure. The server must still be healthy at the end.

In CI the run is bounded and reproducible: a fixed seed and ``TURNOUT_FUZZ_EXAMPLES`` (default 8) examples per
operation. A longer run: ``TURNOUT_FUZZ_EXAMPLES=200 TURNOUT_FUZZ_SEED=$RANDOM pytest tests/e2e/test_fuzz.py``
(``TURNOUT_FUZZ_SHRINK=1`` to have Hypothesis shrink a failing request to a minimal one).
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from hypothesis import strategies as st

from tests.conftest import Server
from tests.e2e.fuzz_support import Strategies
from tests.e2e.raw_http import Answer, operation_model, send
from turnout.core.clock import ManualClock
from turnout.gateway.gateway import Gateway
from turnout.services.registry import register_all
from turnout.store.db import Database
from turnout.wire.models import SERVICES

EXAMPLES = int(os.environ.get("TURNOUT_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("TURNOUT_FUZZ_SEED", "20261206"))
# Shrinking re-sends large requests many times: off unless asked for (TURNOUT_FUZZ_SHRINK=1) when a failure needs
# a minimal example.
PHASES = tuple(Phase) if os.environ.get("TURNOUT_FUZZ_SHRINK") else (Phase.explicit, Phase.reuse, Phase.generate)
REGIONLESS = {"iam"}


def implemented() -> list[tuple[str, str]]:
    """(service, operation) of every operation a provider serves (the others answer NotImplemented)."""
    gateway = Gateway(db=Database(":memory:"), clock=ManualClock())
    register_all(gateway)
    return sorted(
        (name, operation)
        for name, provider in gateway.providers.items()
        for operation in SERVICES[name].model.operation_names
        if provider.handler(operation) is not None
    )


OPERATIONS = implemented()
_STRATEGIES = {name: Strategies(spec.protocol) for name, spec in SERVICES.items()}
_REQUESTS: dict[tuple[str, str], st.SearchStrategy[dict[str, Any]]] = {}


def requests_for(service: str, operation: str) -> st.SearchStrategy[dict[str, Any]]:
    key = (service, operation)
    if key not in _REQUESTS:
        _REQUESTS[key] = _STRATEGIES[service].request(operation_model(service, operation).input_shape)
    return _REQUESTS[key]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the module's own: the fuzz creates and deletes at random."""
    server = Server(tmp_path_factory.mktemp("fuzz") / "data").start()
    yield server
    server.stop()


def _send(server: Server, service: str, operation: str, request: dict[str, Any], escaped: bool) -> Answer:
    if SERVICES[service].protocol == "json":
        # As botocore writes JSON (ASCII, with \uXXXX escapes: a lone surrogate as \ud800), or as raw UTF-8, where
        # a lone surrogate is written as its three (invalid) bytes.
        text = json.dumps(request, ensure_ascii=escaped)
        return send(server, service, operation, body=text.encode("utf-8", "surrogatepass"))
    try:
        from tests.e2e.raw_http import serialize

        serialize(service, operation, request)
    except Exception:  # a value botocore's serializer cannot write: not a request any client could send
        reject()
    return send(server, service, operation, request)


def _check(server: Server, service: str, operation: str, request: dict[str, Any], answer: Answer) -> None:
    shown = repr(request)[:600]
    if answer.status == 501 and answer.code == "NotImplemented":
        # Turnout's deliberate answer to a parameter it does not serve (EC2's IPv6 members, for example): named
        # in the message, never a failure of the server. Every other 5xx is one.
        assert "not implemented by Turnout" in str(answer.parsed["Error"].get("Message")), answer.body[:400]
        return
    assert answer.status < 500, f"{service}.{operation} answered {answer.status} {answer.body[:400]!r} to {shown}"
    if answer.status >= 300:
        assert answer.code, f"{service}.{operation}: botocore found no error code in {answer.body[:400]!r}"


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}.{o}" for s, o in OPERATIONS])
def test_no_input_gets_a_5xx(fuzz_server: Server, service: str, operation: str) -> None:
    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=PHASES,
              suppress_health_check=list(HealthCheck))
    @given(request=requests_for(service, operation), escaped=st.booleans())
    def run(request: dict[str, Any], escaped: bool) -> None:
        answer = _send(fuzz_server, service, operation, request, escaped)
        _check(fuzz_server, service, operation, request, answer)

    run()


def test_the_server_is_healthy_after_the_fuzz(fuzz_server: Server, tmp_path: Path) -> None:
    with urllib.request.urlopen(fuzz_server.endpoint + "/_turnout/health", timeout=10) as response:
        health = json.loads(response.read())
    assert response.status == 200 and health["status"] == "ready"
    assert health["cloudtrail"]["dropped"] == 0
    assert "Traceback" not in fuzz_server.log()
