"""``App.answer_now``: a call answered from the connection's callback, or handed back to the ASGI way."""

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


def test_a_call_is_answered_now_within_a_slice_and_handed_back_once_the_slice_is_over(app: App) -> None:
    scope, body = _scope()

    async def run() -> None:
        app._new_slice()
        answer = app.answer_now(scope, body)
        assert answer is not None and answer[0] == 200 and b"<Account>000000000000</Account>" in answer[2]
        app._slice -= 2 * server.SLICE  # as if the loop had answered calls for longer than a slice
        assert app.answer_now(scope, body) is None  # the ASGI way first lets the loop look at its sockets...
        assert scope[server.YIELD_FIRST] is True  # ...whatever the slice by the time it runs the call
        del scope[server.YIELD_FIRST]
        await asyncio.sleep(0)  # the loop runs what it holds: a new slice begins
        assert app.answer_now(scope, body) is not None

    asyncio.run(run())


def test_a_long_call_is_handed_back_for_a_thread(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    scope, body = _scope()
    monkeypatch.setattr(app._lanes, "long", lambda key: key == ("sts", "GetCallerIdentity"))

    async def run() -> None:
        app._new_slice()
        assert app.answer_now(scope, body) is None

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
        app._new_slice()
        answer = app.answer_now(scope, body)
        assert answer is not None
        status, headers, text = answer
        assert status == 500 and (b"content-type", b"text/xml") in headers
        assert b"<Code>InternalFailure</Code>" in text

    asyncio.run(run())
    assert len(runs) == 1


def test_calls_waiting_for_a_slice_let_the_loop_look_at_its_sockets_after_each_slice(app: App) -> None:
    """Calls that waited for a slice (the ASGI way) are answered a slice's worth per round, not all in one: what the
    loop finds on its sockets meanwhile (a health check) waits for about a slice, not for every queued call."""
    order: list[str] = []

    def busy(seconds: float) -> None:  # a call's own work
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            pass

    async def call(number: int) -> None:
        await app._next_slice()
        if number == 0:  # arrives once the first of them is answered, as the loop reads a socket
            asyncio.get_running_loop().call_soon(order.append, "health")
        busy(server.SLICE / 2)
        order.append(f"call {number}")

    async def run() -> None:
        app._new_slice()
        app._slice -= 2 * server.SLICE  # the loop has answered calls for longer than a slice
        await asyncio.gather(*(call(number) for number in range(20)))

    asyncio.run(run())
    assert len(order) == 21
    assert order.index("health") <= 4, order  # after the slice's calls; before: after all 20
    assert [entry for entry in order if entry != "health"] == [f"call {n}" for n in range(20)]  # in their order
