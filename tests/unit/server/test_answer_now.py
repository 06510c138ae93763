"""``App.answer_now``: a call answered from the connection's callback, now or in its turn on the loop, or handed back
to the ASGI way."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from turnout import server
from turnout.edge.lanes import Lanes
from turnout.edge.turns import SLICE, WAITING
from turnout.server import App, Settings, build_gateway


def _scope() -> tuple[dict[str, Any], bytes]:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("test", "test"), "sts", "us-east-1").add_auth(request)
    headers = [(b"host", b"127.0.0.1:4566"), *((k.lower().encode(), v.encode()) for k, v in request.headers.items())]
    scope = {"type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 5000)}
    return scope, body


@pytest.fixture
def app(tmp_path: Path) -> App:
    found = App(build_gateway(Settings(data_dir=tmp_path, cloudtrail=False, dataplane=False, guard="off")))
    found._lanes = Lanes(long_seconds=60.0)  # a cold first call is never taken for a long one here
    return found


def test_a_call_is_answered_now_within_a_slice_and_waits_for_its_turn_once_the_slice_is_over(app: App) -> None:
    scope, body = _scope()
    later: list[Any] = []

    async def run() -> None:
        answer = app.answer_now(scope, body, later.append)
        assert answer is not None and answer != WAITING
        assert answer[0] == 200 and b"<Account>000000000000</Account>" in answer[2]
        app._turns._started -= 2 * SLICE  # as if the loop had answered calls for longer than a slice
        assert app.answer_now(scope, body, later.append) == WAITING
        assert later == []  # not before the loop has looked at its sockets
        await asyncio.sleep(0)  # the loop runs what it holds: the call's turn
        assert len(later) == 1
        status, _, text = later[0]
        assert status == 200 and b"<Account>000000000000</Account>" in text

    asyncio.run(run())


def test_a_long_call_is_handed_back_for_a_thread(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    scope, body = _scope()
    monkeypatch.setattr(app._lanes, "long", lambda key: key == ("sts", "GetCallerIdentity"))

    async def run() -> None:
        assert app.answer_now(scope, body, pytest.fail) is None

    asyncio.run(run())


def test_a_failure_after_the_call_ran_is_answered_500_in_the_service_shape_not_run_again(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    scope, body = _scope()
    runs: list[str] = []
    finish = app.gateway.finish_http

    def counted(ctx: Any) -> Any:
        runs.append(ctx.request_id)
        return finish(ctx)

    def broken(ctx: Any) -> Any:
        raise RuntimeError("a bug in serialising")

    monkeypatch.setattr(app.gateway, "finish_http", counted)
    monkeypatch.setattr(server, "write", broken)

    async def run() -> None:
        answer = app.answer_now(scope, body, pytest.fail)
        assert answer is not None and answer != WAITING
        status, headers, text = answer
        assert status == 500 and (b"content-type", b"text/xml") in headers
        assert b"<Code>InternalFailure</Code>" in text

    asyncio.run(run())
    assert len(runs) == 1


def busy(seconds: float) -> None:
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def test_an_asgi_call_behind_waiting_calls_waits_for_its_turn_after_them(app: App) -> None:
    """A call going the ASGI way (its body came after its headers, say) does not overtake the calls waiting for their
    turn: it is answered after them, in the same line."""
    scope, body = _scope()
    order: list[str] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        app._turns._begin(time.perf_counter())
        app._turns._started -= 2 * SLICE  # the slice is used up
        for number in range(3):  # each answer takes a slice: one a turn
            assert app.answer_now(dict(scope), body, lambda answer, n=number: (busy(SLICE), order.append(f"n{n}"))) \
                == WAITING
        handled = asyncio.ensure_future(app._handle(dict(scope), receive, send))  # starts in the first turn's round
        await handled
        order.append("asgi")

    asyncio.run(run())
    assert order == ["n0", "n1", "n2", "asgi"]
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert b"<Account>000000000000</Account>" in b"".join(m.get("body", b"") for m in sent)
